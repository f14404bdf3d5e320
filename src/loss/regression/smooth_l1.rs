//! Smooth L1 loss (PyTorch `SmoothL1Loss`).
//!
//! For `r = p − t` and `β ≥ 0`:
//!
//! ```text
//! ℓ          = ½ r² / β          if |r| < β,    |r| − ½ β   otherwise
//! ∂ℓ/∂p      = r / β             if |r| < β,    sign(r)     otherwise
//! ∂²ℓ/∂p²    = 1 / β             if |r| < β,    0           otherwise
//! ```
//!
//! `β = 0` is exactly L1 (as PyTorch, which dispatches to `l1_loss` there: the quadratic
//! branch is never taken, so no `0/0` is formed — pytorch/pytorch#96813). Smooth L1 is Huber
//! divided by `β`.
//!
//! The quadratic branch is computed as `½·r·u` with `u = r/β ∈ (−1, 1)`: as `½·r²/β` (PyTorch's
//! form), `r²` underflows for a small `β` where the loss is a normal number (f32, `β = 1e-30`,
//! `r = 1e-31`: 0 instead of `5e-33`); and `u` is formed so that a subnormal `β`, whose `1/β`
//! overflows, still gives a finite `u`. Where `r` overflows the precision, the linear
//! branch `|r| − ½β` may still fit (`β` near the range's end): there it is `2·(|½p − ½t| −
//! ¼β)`, from exact halves (PyTorch gives `+∞`).

use super::huber::positive;
use super::mae::sign;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};
use crate::{Error, Result};

/// Smooth L1 loss with threshold `beta`; `torch.nn.SmoothL1Loss(beta=1.0)`.
///
/// ```
/// use losskit::prelude::*;
/// let s = SmoothL1 { beta: 0.0 }; // β = 0 is L1
/// assert_eq!(s.value(&[0.5f64, -3.0], &[0.0, 0.0], None, Reduction::Sum)?, 3.5);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothL1 {
    /// Where the loss turns from quadratic to linear. Finite and ≥ 0 (default 1).
    pub beta: f64,
}

impl Default for SmoothL1 {
    fn default() -> Self {
        SmoothL1 { beta: 1.0 }
    }
}

/// `(pre, inv)` with `r·pre·inv = r/β` in precision `F`: `(1, 1/β)`, or where `1/β` overflows
/// `F` (a subnormal `β`) `(2⁶⁴, 2⁻⁶⁴/β)`: both finite for every `β > 0`, and `r·2⁶⁴`
/// exact for every `|r| < β`. The quadratic branch is `½·r·(r/β)`, not `½·r²/β`: `r²` underflows
/// for a tiny `β` (in f32, `β = 1e-30` and `r = 1e-31` give `r² = 0` where the loss is
/// `5e-33`), while `r/β` is in `(−1, 1)` and `½·r·(r/β)` is as small as the loss only.
#[inline(always)]
fn ratio_factors<F: Float>(beta: f64) -> (F, F) {
    let inv = F::from_f64(1.0 / beta);
    if inv.is_finite() || beta == 0.0 {
        (F::ONE, inv)
    } else {
        const TWO_64: f64 = 18_446_744_073_709_551_616.0;
        (F::from_f64(TWO_64), F::from_f64((1.0 / TWO_64) / beta))
    }
}

impl Pointwise for SmoothL1 {
    crate::shape::pointwise::compiled_once!(SmoothL1);
    fn check(&self) -> Result<()> {
        if self.beta == 0.0 {
            return Ok(());
        }
        positive("beta", self.beta).map_err(|_| Error::InvalidParameter {
            name: "beta",
            rule: "must be finite and >= 0",
        })
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let beta = p.splat(<V::Elem as Float>::from_f64(self.beta));
        let half = p.splat(<V::Elem as Float>::from_f64(0.5));
        let r = p.sub(t);
        let abs = r.abs();
        let quadratic = abs.lt(beta);
        // u = r/β, in (−1, 1) where it is used (|r| < β, which never holds for β = 0).
        let (pre, inv) = ratio_factors::<V::Elem>(self.beta);
        let u = r.mul(p.splat(pre)).mul(p.splat(inv));
        // Where r overflows the precision, |r| − ½β may still fit (β near its end): from the
        // exact halves h = ½p − ½t it is 2·(|h| − ¼β).
        let inf = p.splat(<V::Elem as Float>::from_f64(f64::INFINITY));
        let quarter = p.splat(<V::Elem as Float>::from_f64(0.25));
        let two = p.splat(<V::Elem as Float>::from_f64(2.0));
        let linear = V::select(
            abs.lt(inf),
            abs.sub(half.mul(beta)),
            two.mul(half.mul(p).sub(half.mul(t)).abs().sub(quarter.mul(beta))),
        );
        Terms {
            value: V::select(quadratic, half.mul(r).mul(u), linear),
            grad: V::select(quadratic, u, sign(r)),
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let beta = p.splat(<V::Elem as Float>::from_f64(self.beta));
        let inv_beta = p.splat(<V::Elem as Float>::from_f64(1.0 / self.beta));
        V::select(
            p.sub(t).abs().lt(beta),
            inv_beta,
            p.splat(<V::Elem as Float>::ZERO),
        )
    }
}
