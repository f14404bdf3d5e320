//! The losses, by family. Each file holds formulas only: no unsafe, no cfg, no intrinsics.

pub mod classification;
pub mod regression;
pub mod softmax;
