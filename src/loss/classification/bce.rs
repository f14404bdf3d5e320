//! Binary cross-entropy on probabilities (PyTorch `BCELoss`, `binary_cross_entropy`).
//!
//! For a probability `p ∈ [0, 1]` and a target `y ∈ [0, 1]` (a label or a soft target),
//! with `P = max(p, 10⁻¹²)` and `Q = max(1 − p, 10⁻¹²)`:
//!
//! ```text
//! ℓ          = −( y · max(ln p, −100) + (1 − y) · max(ln(1 − p), −100) )
//! ∂ℓ/∂p      = −y / P + (1 − y) / Q
//! ∂²ℓ/∂p²    =  y / P² + (1 − y) / Q²
//! ```
//!
//! The value clamps each log at −100 as PyTorch does (so `p = 0, y = 1` gives 100, not ∞),
//! and `ln(1 − p)` is evaluated as `log1p(−p)`. The clamp is not differentiated (PyTorch's
//! backward ignores it too): the gradient is the derivative of the unclamped loss with each
//! denominator kept ≥ 10⁻¹², term by term, and the Hessian is the derivative of that
//! gradient with the same guard (at most `10²⁴`, finite also in f32).
//!
//! Difference from PyTorch: PyTorch's backward is the combined `(p − y)/max(p(1 − p), 10⁻¹²)`,
//! which agrees away from the boundaries but gives 0 at `p = 0, y = 0` (and at `p = 1,
//! y = 1`) where the derivative of `−ln(1 − p)` is 1: here those give 1 and −1. At `p = 0,
//! y = 1` both give `−10¹²`. A `p` or `y` outside `[0, 1]` is
//! [`InvalidInput`](crate::Error::InvalidInput) naming `pred` or `target` (PyTorch raises for
//! `p` only).

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{ln, log1p};
use crate::simd::{Float, Vector};

/// Binary cross-entropy of probabilities `pred ∈ [0, 1]` against targets in `[0, 1]`;
/// `torch.nn.BCELoss` (per-element `weight` is the verbs' `weight`).
///
/// ```
/// use losskit::prelude::*;
/// let (p, y) = ([0.25f64, 0.5], [1.0f64, 0.0]);
/// let mut grad = [0.0f64; 2];
/// let v = Bce.value_and_grad(&p, &y, None, Reduction::Sum, &mut grad)?;
/// assert!((v - (4f64.ln() + 2f64.ln())).abs() < 1e-15);
/// assert_eq!(grad, [-4.0, 2.0]);
/// // The log clamp: a confident wrong prediction costs 100, not infinity.
/// assert_eq!(Bce.value(&[0.0f32], &[1.0], None, Reduction::Sum)?, 100.0);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bce;

/// PyTorch's floor of each log term.
const LOG_FLOOR: f64 = -100.0;
/// PyTorch's floor of the gradient's denominators.
const EPS: f64 = 1e-12;

impl Pointwise for Bce {
    crate::shape::pointwise::compiled_once!(Bce);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, y: V, _a: V) -> Terms<V> {
        let one = p.splat(<V::Elem as Float>::ONE);
        let floor = p.splat(<V::Elem as Float>::from_f64(LOG_FLOOR));
        let eps = p.splat(<V::Elem as Float>::from_f64(EPS));
        let ny = one.sub(y);
        let lp = ln(p).max(floor);
        let lq = log1p(p.neg()).max(floor);
        let value = y.mul(lp).add(ny.mul(lq)).neg();
        // −y/P + (1 − y)/Q with one division: ((1 − y)·P − y·Q) / (P·Q), where P·Q ≥ 10⁻¹²/2
        // (P and Q are not both small).
        let pp = p.max(eps);
        let qq = one.sub(p).max(eps);
        let grad = ny.mul(pp).sub(y.mul(qq)).div(pp.mul(qq));
        Terms {
            value,
            grad,
            grad_aux: grad,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, y: V, _a: V) -> V {
        let one = p.splat(<V::Elem as Float>::ONE);
        let eps = p.splat(<V::Elem as Float>::from_f64(EPS));
        let pp = p.max(eps);
        let qq = one.sub(p).max(eps);
        y.div(pp.mul(pp)).add(one.sub(y).div(qq.mul(qq)))
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, y: V, _a: V) -> V {
        let nan = p.splat(<V::Elem as Float>::from_f64(f64::NAN));
        let zero = p.splat(<V::Elem as Float>::ZERO);
        V::select(
            V::mask_or(super::outside_unit(p), super::outside_unit(y)),
            nan,
            zero,
        )
    }
    #[inline]
    fn domain_input<V: Vector>(&self, p: V, _y: V, _a: V) -> &'static str {
        if V::mask_any(super::outside_unit(p)) {
            "pred"
        } else {
            "target"
        }
    }
}
