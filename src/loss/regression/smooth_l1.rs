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
        // 1/β is only used where |r| < β, which never holds for β = 0.
        let inv_beta = p.splat(<V::Elem as Float>::from_f64(1.0 / self.beta));
        let half = p.splat(<V::Elem as Float>::from_f64(0.5));
        let r = p.sub(t);
        let abs = r.abs();
        let quadratic = abs.lt(beta);
        Terms {
            value: V::select(
                quadratic,
                half.mul(r).mul(r).mul(inv_beta),
                abs.sub(half.mul(beta)),
            ),
            grad: V::select(quadratic, r.mul(inv_beta), sign(r)),
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
