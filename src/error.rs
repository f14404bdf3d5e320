//! The error type of every fallible call.

/// What is wrong with the arguments of a loss call.
///
/// Shapes, lengths, parameters, labels and per-class tensors are validated at the public
/// boundary, before any output is written. Per-element inputs are checked as the kernels
/// read them: a NaN, an infinity or a value outside the loss's domain
/// ([`Error::NonFinite`], [`Error::InvalidInput`]) is found at almost no cost on the normal
/// path (a probe in the pointwise driver, the max pass of the row drivers), and then a
/// gradient or per-element output written in write mode is reset to zeros, while one in
/// accumulate mode (and logits overwritten in place) is left exactly as it was: those modes
/// check every input before their first write.
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
