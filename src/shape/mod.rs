//! Shape drivers: memory traversal, tails, accumulation and dispatch, shared by all losses.
//!
//! | shape | inputs | losses |
//! |---|---|---|
//! | `pointwise` | `pred[i], target[i] [, aux[i]] [, weight[i]]` | MSE, MAE, Huber, smooth L1, quantile, log-cosh, Poisson/Gaussian NLL, pseudo-Huber, expectile |

pub(crate) mod accumulate;
pub(crate) mod aux;
pub(crate) mod dispatch;
pub mod pointwise;
pub(crate) mod row_checks;
pub(crate) mod row_softmax;
pub(crate) mod row_sweep;
pub(crate) mod rows;
