//! Huber loss (PyTorch `HuberLoss`).
//!
//! For `r = p − t` and threshold `δ > 0`:
//!
//! ```text
//! ℓ          = ½ r²               if |r| < δ,    δ (|r| − ½ δ)   otherwise
//! ∂ℓ/∂p      = clamp(r, −δ, δ)
//! ∂²ℓ/∂p²    = 1 if |r| < δ,  0 otherwise
//! ```
//!
//! Reference: P. J. Huber, "Robust Estimation of a Location Parameter", 1964. The branch
//! test is PyTorch's `|r| < δ` (Keras uses `≤`; the value and gradient agree, the Hessian at
//! exactly `|r| = δ` is 0 here as in PyTorch). Where `p − t` overflows the precision (`p`
//! and `t` of opposite signs near its end) the value `δ(|r| − ½δ)` may still fit (`δ < 1`):
//! there it is formed from the exact halves `½p − ½t` (PyTorch gives `+∞`).

use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};
use crate::{Error, Result};

/// Huber loss with threshold `delta`; `torch.nn.HuberLoss(delta=1.0)`.
///
/// ```
/// use losskit::prelude::*;
/// let h = Huber { delta: 1.0 };
/// assert_eq!(h.value(&[0.5f32, 3.0], &[0.0, 0.0], None, Reduction::Sum)?, 0.125 + 2.5);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear, in `[f32::MIN_POSITIVE, f32::MAX]`
    /// (default 1).
    pub delta: f64,
}

impl Default for Huber {
    fn default() -> Self {
        Huber { delta: 1.0 }
    }
}

/// Checks a threshold that must be finite and > 0.
/// A scale parameter that must be a normal f32 number, `[2⁻¹²⁶, f32::MAX]`: rounded to either
/// precision it stays positive, finite and invertible (a `δ` of 1e-40 or 1e300 would
/// round to a subnormal or to `∞` in f32, and the formulas divide by it or square it).
pub(crate) fn normal_positive(name: &'static str, x: f64) -> Result<()> {
    if (f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&x) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            rule: "must be in [f32::MIN_POSITIVE, f32::MAX]",
        })
    }
}

/// `x` finite and > 0.
pub(crate) fn positive(name: &'static str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            rule: "must be finite and > 0",
        })
    }
}

impl Pointwise for Huber {
    crate::shape::pointwise::compiled_once!(Huber);
    fn check(&self) -> Result<()> {
        normal_positive("delta", self.delta)
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let delta = p.splat(<V::Elem as Float>::from_f64(self.delta));
        let half = p.splat(<V::Elem as Float>::from_f64(0.5));
        let r = p.sub(t);
        // c = clamp(r, −δ, δ) is the gradient, and c·(r − c/2) is the value on both branches
        // (½r² inside, δ(|r| − ½δ) outside): no compare, no select (optax's formulation).
        let c = r.max(delta.neg()).min(delta);
        // Where r overflows the precision (p and t of opposite signs near its end) the value
        // δ(|r| − ½δ) may still fit (δ < 1): from the exact halves h = ½p − ½t it is
        // 2c·(h − ¼c). A select on the rare lanes; elsewhere the plain form, bit for bit.
        let inf = p.splat(<V::Elem as Float>::from_f64(f64::INFINITY));
        let quarter = p.splat(<V::Elem as Float>::from_f64(0.25));
        let h = half.mul(p).sub(half.mul(t));
        let value = V::select(
            r.abs().lt(inf),
            c.mul(r.sub(half.mul(c))),
            c.add(c).mul(h.sub(quarter.mul(c))),
        );
        Terms {
            value,
            grad: c,
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let delta = p.splat(<V::Elem as Float>::from_f64(self.delta));
        let zero = p.splat(<V::Elem as Float>::ZERO);
        V::select(
            p.sub(t).abs().lt(delta),
            p.splat(<V::Elem as Float>::ONE),
            zero,
        )
    }
}
