//! The naive f64 oracle: one function per loss, written from the formula in the simplest
//! scalar way, sharing no code with the kernels (`cfg(test)` or feature `reference`).
//!
//! Each returns the per-element value `ℓ`; tests take derivatives of these by central
//! finite differences, so the oracle never repeats a kernel's closed-form gradient.

pub mod regression;
pub mod softmax;
