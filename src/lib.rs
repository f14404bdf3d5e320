#![doc = include_str!("../docs/crate.md")]
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

#[cfg(any(feature = "std", test))]
extern crate std;

mod error;
mod label;
pub mod loss;
mod reduction;
pub mod registry;
mod shape;
mod simd;

#[cfg(any(test, feature = "reference"))]
pub mod reference;

#[doc = include_str!("../docs/accuracy.md")]
pub mod accuracy {}

pub use error::{Error, Result};
pub use label::Label;
pub use reduction::{Out, Reduction};
pub use shape::aux::AuxPointwiseLoss;
pub use shape::pointwise::{On, PointwiseLoss};
pub use shape::rows::{Loss, RowElementwise, RowHessianDiag, RowHvp, RowInPlace, RowLoss};
pub use simd::{Backend, Float};

/// Everything a caller needs in one import: `use losskit::prelude::*;`.
pub mod prelude {
    pub use crate::loss::classification::*;
    pub use crate::loss::regression::*;
    pub use crate::loss::softmax::*;
    pub use crate::{
        AuxPointwiseLoss, Backend, Error, Float, Label, Loss, On, Out, PointwiseLoss, Reduction,
        Result, RowElementwise, RowHessianDiag, RowHvp, RowInPlace, RowLoss,
    };
}
