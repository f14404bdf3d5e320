//! Logistic loss with `±1` labels (PyTorch `SoftMarginLoss`, `soft_margin_loss`).
//!
//! For a score `x` and a label `y ∈ {−1, +1}`, with the margin `z = y·x`:
//!
//! ```text
//! ℓ          = ln(1 + e^−z) = softplus(−z)
//! ∂ℓ/∂x      = −y·σ(−z)
//! ∂²ℓ/∂x²    = σ(z)·σ(−z)
//! ```
//!
//! Evaluated as `max(−z, 0) + ln(1 + e^−|z|)` (no overflow; PyTorch's `log(1 + exp(−z))`
//! overflows to `+∞` from `z ≈ −89` in f32), with `σ(−z)` from the same `e^−|z|`. It equals
//! [`BceWithLogits`](super::BceWithLogits) with the target `(1 + y)/2`. A label other than
//! ±1 is [`InvalidInput`](crate::Error::InvalidInput) (PyTorch evaluates any label).

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::logistic_parts;
use crate::simd::{Float, Vector};

/// Logistic loss `ln(1 + e^(−y·x))` of scores `x` against labels `y ∈ {−1, +1}`;
/// `torch.nn.SoftMarginLoss`.
///
/// ```
/// use losskit::prelude::*;
/// let mut grad = [0.0f64; 2];
/// let v = SoftMargin.value_and_grad(&[0.0, 0.0], &[1.0, -1.0], None, Reduction::Sum, &mut grad)?;
/// assert!((v - 2.0 * 2f64.ln()).abs() < 1e-15);
/// assert_eq!(grad, [-0.5, 0.5]);
/// assert!(SoftMargin.value(&[1.0f32], &[0.0], None, Reduction::Sum).is_err());
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SoftMargin;

impl Pointwise for SoftMargin {
    crate::shape::pointwise::compiled_once!(SoftMargin);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, _a: V) -> Terms<V> {
        let zero = x.splat(<V::Elem as Float>::ZERO);
        let one = x.splat(<V::Elem as Float>::ONE);
        let z = y.mul(x);
        let (e, l) = logistic_parts(z);
        let d = one.div(one.add(e));
        // σ(−z) = 1/(1 + e) for z < 0, e/(1 + e) otherwise.
        let s = V::select(z.lt(zero), d, e.mul(d));
        Terms {
            value: z.neg().max(zero).add(l),
            grad: y.mul(s).neg(),
            grad_aux: s,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, y: V, _a: V) -> V {
        let one = x.splat(<V::Elem as Float>::ONE);
        let (e, _) = logistic_parts(y.mul(x));
        let d = one.div(one.add(e));
        e.mul(d).mul(d)
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, _x: V, y: V, _a: V) -> V {
        super::sign_label(y)
    }
}
