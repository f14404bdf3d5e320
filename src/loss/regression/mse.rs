//! Mean squared error (PyTorch `MSELoss`).
//!
//! ```text
//! ℓ(p, t)    = (p − t)²
//! ∂ℓ/∂p      = 2 (p − t)
//! ∂²ℓ/∂p²    = 2
//! ```

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};

/// Squared error `(pred − target)²`; `torch.nn.MSELoss` (reduction `mean` by default).
///
/// ```
/// use losskit::prelude::*;
/// let (pred, target) = ([1.0f32, 2.0, 4.0], [1.0f32, 0.0, 1.0]);
/// let mut grad = [0.0f32; 3];
/// let v = Mse.value_and_grad(&pred, &target, None, Reduction::Mean, &mut grad)?;
/// assert_eq!(v, 13.0 / 3.0);
/// assert_eq!(grad, [0.0, 4.0 / 3.0, 2.0]);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mse;

impl Pointwise for Mse {
    crate::shape::pointwise::compiled_once!(Mse);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let r = p.sub(t);
        Terms {
            value: r.mul(r),
            grad: r.add(r),
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, _t: V, _a: V) -> V {
        p.splat(<V::Elem as Float>::from_f64(2.0))
    }
}
