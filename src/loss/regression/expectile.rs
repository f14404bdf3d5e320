//! Expectile loss (asymmetric least squares; XGBoost `reg:expectileerror`).
//!
//! For `r = t − p` and level `τ ∈ [0, 1]`:
//!
//! ```text
//! ℓ          = |τ − 1{r < 0}| · r²
//! ∂ℓ/∂p      = −2 |τ − 1{r < 0}| · r
//! ∂²ℓ/∂p²    = 2 |τ − 1{r < 0}|
//! ```
//!
//! Minimising it estimates the τ-expectile of the target (Newey & Powell, 1987); τ = ½ is
//! half the squared error. Smooth, so gradient boosting gets a true Hessian.

use super::quantile::{scaled_residual, unit_interval};
use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};

/// Expectile loss for level `tau`.
///
/// ```
/// use losskit::prelude::*;
/// let e = Expectile { tau: 0.8 };
/// assert_eq!(e.value(&[0.0f64], &[2.0], None, Reduction::Sum)?, 0.8 * 4.0);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Expectile {
    /// The expectile level, in `[0, 1]` (default 0.5).
    pub tau: f64,
}

impl Default for Expectile {
    fn default() -> Self {
        Expectile { tau: 0.5 }
    }
}

impl Expectile {
    /// The asymmetric weight `|τ − 1{r < 0}|` per lane.
    #[inline(always)]
    fn side<V: Vector>(&self, r: V) -> V {
        let zero = r.splat(<V::Elem as Float>::ZERO);
        V::select(
            r.lt(zero),
            r.splat(<V::Elem as Float>::from_f64(1.0 - self.tau)),
            r.splat(<V::Elem as Float>::from_f64(self.tau)),
        )
    }
}

impl Pointwise for Expectile {
    crate::shape::pointwise::compiled_once!(Expectile);
    fn check(&self) -> Result<()> {
        unit_interval("tau", self.tau)
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let r = t.sub(p);
        let w = self.side(r);
        // w·r also where r overflowed (finite where it fits: a tiny τ); a zero weight
        // (τ = 0 or 1) contributes exactly +0.
        let wr = V::select(w.eq(zero), zero, scaled_residual(w, t, p, r));
        Terms {
            value: wr.mul(r),
            grad: wr.add(wr).neg(),
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let w = self.side(t.sub(p));
        w.add(w)
    }
}
