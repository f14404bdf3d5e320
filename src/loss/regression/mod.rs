//! Regression losses (pointwise shape).

mod mse;

pub use mse::Mse;
