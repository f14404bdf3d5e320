//! The error type of every fallible call.

/// What is wrong with the arguments of a loss call.
///
/// Validation happens once, at the public boundary, before any output is written; the
/// kernels themselves are infallible. The one exception is [`Error::NonFinite`], found
/// after the fact at no cost on the normal path (see the crate's numerics policy): a
/// gradient written in write mode is then reset to zeros, and one in accumulate mode is
/// left exactly as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Two slices that must have the same length do not: `name` has `found` elements
    /// where `expected` were needed.
    LengthMismatch {
        /// The argument whose length is wrong.
        name: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        found: usize,
    },
    /// The input is empty where the loss needs at least one element.
    Empty,
    /// A hyper-parameter is outside its domain; names the field and the rule.
    InvalidParameter {
        /// The field, e.g. `"delta"`.
        name: &'static str,
        /// The rule it breaks, e.g. `"must be finite and > 0"`.
        rule: &'static str,
    },
    /// A per-element input is outside the loss's domain (a negative variance, a negative
    /// Poisson target, …); names the input and the first offending index.
    InvalidInput {
        /// The argument, e.g. `"var"`.
        name: &'static str,
        /// Index of the first element that breaks the rule.
        index: usize,
    },
    /// A class label is outside `0..classes` (and not the ignore index); gives the row.
    LabelOutOfRange {
        /// The row whose label is out of range.
        row: usize,
    },
    /// The workspace is shorter than the loss's `workspace_len` returned.
    WorkspaceTooSmall {
        /// The length needed.
        needed: usize,
    },
    /// An input holds NaN or an infinity where the loss accepts none; names the input and
    /// the first such index.
    NonFinite {
        /// The argument, e.g. `"pred"`.
        name: &'static str,
        /// Index of the first non-finite element.
        index: usize,
    },
    /// The requested backend cannot run on this CPU.
    BackendUnavailable,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Error::LengthMismatch {
                name,
                expected,
                found,
            } => write!(f, "`{name}` has {found} elements, expected {expected}"),
            Error::Empty => f.write_str("the input is empty"),
            Error::InvalidParameter { name, rule } => {
                write!(f, "parameter `{name}` {rule}")
            }
            Error::InvalidInput { name, index } => {
                write!(f, "`{name}[{index}]` is outside the loss's domain")
            }
            Error::LabelOutOfRange { row } => write!(f, "the label of row {row} is out of range"),
            Error::WorkspaceTooSmall { needed } => {
                write!(f, "the workspace is too small: {needed} elements needed")
            }
            Error::NonFinite { name, index } => {
                write!(f, "`{name}[{index}]` is NaN or infinite")
            }
            Error::BackendUnavailable => {
                f.write_str("the requested backend cannot run on this CPU")
            }
        }
    }
}

impl core::error::Error for Error {}
