//! Integer class labels.

/// An integer type usable as a class label: `u8`, `u16`, `u32`, `u64`, `usize`, `i32`, `i64`.
///
/// Signed types can express PyTorch's ignore convention (`-100`, see
/// [`CrossEntropy::ignore_index`](crate::loss::softmax::CrossEntropy::ignore_index)).
/// A label is valid when it is the ignore index or in `0..classes`; anything else is
/// [`Error::LabelOutOfRange`](crate::Error::LabelOutOfRange) naming the row.
pub trait Label: Copy + Send + Sync + private::Sealed {
    /// The label as an `i128` (every supported type converts exactly).
    fn to_i128(self) -> i128;
}

mod private {
    pub trait Sealed {}
}

macro_rules! label_impls {
    ($($t:ty),*) => {$(
        impl private::Sealed for $t {}
        impl Label for $t {
            #[inline(always)]
            fn to_i128(self) -> i128 {
                self as i128
            }
        }
    )*};
}

label_impls!(u8, u16, u32, u64, usize, i32, i64);

/// What a row's label says: a class, or that the row is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Class(usize),
    Ignored,
}

/// Classifies `label` against `classes` and the optional ignore index.
#[inline]
pub(crate) fn classify<L: Label>(
    label: L,
    classes: usize,
    ignore_index: Option<i64>,
) -> Option<Target> {
    let l = label.to_i128();
    if ignore_index.is_some_and(|ig| ig as i128 == l) {
        Some(Target::Ignored)
    } else if l >= 0 && l < classes as i128 {
        Some(Target::Class(l as usize))
    } else {
        None
    }
}
