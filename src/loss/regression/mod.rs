//! Regression losses (pointwise shape): each is `ℓ(pred[i], target[i])`, reduced by sum or
//! mean, with optional per-element weights.

mod barron;
mod expectile;
mod gamma;
mod gaussian_nll;
mod huber;
mod log_cosh;
mod mae;
mod mse;
mod poisson_nll;
mod pseudo_huber;
mod quantile;
mod smooth_l1;
mod tweedie;

pub use barron::Barron;
pub use expectile::Expectile;
pub use gamma::Gamma;
pub use gaussian_nll::GaussianNll;
pub use huber::Huber;
pub use log_cosh::LogCosh;
pub use mae::Mae;
pub use mse::Mse;
pub use poisson_nll::PoissonNll;
pub use pseudo_huber::PseudoHuber;
pub use quantile::Quantile;
pub use smooth_l1::SmoothL1;
pub use tweedie::Tweedie;
