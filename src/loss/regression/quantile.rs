//! Quantile (pinball) loss.
//!
//! For `r = t − p` (target minus prediction) and quantile level `τ ∈ [0, 1]`:
//!
//! ```text
//! ℓ          = τ r               if r ≥ 0,      (τ − 1) r    otherwise    (= max(τ r, (τ − 1) r))
//! ∂ℓ/∂p      = −τ                if r > 0,      1 − τ        if r < 0,     0 at r = 0
//! ∂²ℓ/∂p²    = 0                 (almost everywhere)
//! ```
//!
//! Minimising it estimates the τ-quantile of the target (Koenker & Bassett, 1978). At the
//! kink the subgradient 0 is used (numerics policy); LightGBM's objective takes `1 − τ` there.

use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};
use crate::{Error, Result};

/// Pinball loss for quantile level `tau`.
///
/// ```
/// use losskit::prelude::*;
/// let q = Quantile { tau: 0.9 };
/// // Under-predicting by 1 costs 0.9, over-predicting by 1 costs 0.1.
/// assert_eq!(q.value(&[0.0f64], &[1.0], None, Reduction::Sum)?, 0.9);
/// assert_eq!(q.value(&[1.0f64], &[0.0], None, Reduction::Sum)?, 0.09999999999999998);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantile {
    /// The quantile level, in `[0, 1]` (default 0.5: half the absolute error).
    pub tau: f64,
}

impl Default for Quantile {
    fn default() -> Self {
        Quantile { tau: 0.5 }
    }
}

/// Checks a level that must lie in `[0, 1]`.
pub(crate) fn unit_interval(name: &'static str, x: f64) -> Result<()> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            rule: "must be in [0, 1]",
        })
    }
}

impl Pointwise for Quantile {
    crate::shape::pointwise::compiled_once!(Quantile);
    fn check(&self) -> Result<()> {
        unit_interval("tau", self.tau)
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let tau = p.splat(<V::Elem as Float>::from_f64(self.tau));
        let tau_m1 = p.splat(<V::Elem as Float>::from_f64(self.tau - 1.0));
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let r = t.sub(p);
        let c = V::select(zero.le(r), tau, tau_m1);
        Terms {
            value: scaled_residual(c, t, p, r),
            // −c, and the subgradient 0 at the kink.
            grad: V::select(r.eq(zero), zero, c.neg()),
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, _t: V, _a: V) -> V {
        p.splat(<V::Elem as Float>::ZERO)
    }
}

/// `c·r` for the residual `r = t − p` (computed by the caller), also where `r` overflowed
/// the precision: there `c·t − c·p` (no cancellation: `t` and `p` have opposite signs), finite
/// where it fits (a small `c`), and 0 for `c = 0` instead of `0·∞ = NaN`. Shared by the
/// losses whose term is an asymmetric weight times the residual (quantile, expectile).
#[inline(always)]
pub(super) fn scaled_residual<V: Vector>(c: V, t: V, p: V, r: V) -> V {
    let inf = p.splat(<V::Elem as Float>::from_f64(f64::INFINITY));
    V::select(r.abs().lt(inf), c.mul(r), c.mul(t).sub(c.mul(p)))
}
