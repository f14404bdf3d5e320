//! Poisson negative log-likelihood (PyTorch `PoissonNLLLoss`).
//!
//! With `log_input` (the prediction is `log λ`):
//!
//! ```text
//! ℓ          = e^p − t p            ∂ℓ/∂p = e^p − t            ∂²ℓ/∂p² = e^p
//! ```
//!
//! Without (the prediction is the rate `λ ≥ 0`):
//!
//! ```text
//! ℓ          = p − t ln(p + ε)      ∂ℓ/∂p = 1 − t / (p + ε)    ∂²ℓ/∂p² = t / (p + ε)²
//! ```
//!
//! where a zero count `t = 0` makes the `t` terms 0 (xlogy), also at `p + ε = 0`: the value
//! is `p`, the gradient 1 and the Hessian 0 there (PyTorch gives NaN at `p = ε = 0`).
//!
//! Where `e^p` overflows the value is `+∞` (it dominates `t p` unless `t` is itself near the
//! overflow threshold). With `full`, Stirling's term `t ln t − t + ½ ln(2π t)` is added where `t > 1` (it does not
//! depend on `p`), as PyTorch. Matches `torch.nn.PoissonNLLLoss(log_input=True, full=False,
//! eps=1e-8)`. A negative count `t < 0` is [`InvalidInput`](crate::Error::InvalidInput) on
//! `target`, and a negative rate (`log_input = false`, `p < 0`) on `pred`; PyTorch computes
//! on (and returns NaN or meaningless values).

use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{exp, ln};
use crate::simd::{Float, Vector};
use crate::{Error, Result};

/// Poisson NLL; defaults as `torch.nn.PoissonNLLLoss()`.
///
/// ```
/// use losskit::prelude::*;
/// let l = PoissonNll::default(); // log_input = true
/// let v = l.value(&[0.0f64], &[3.0], None, Reduction::Sum)?;
/// assert_eq!(v, 1.0); // e^0 − 3·0
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoissonNll {
    /// The prediction is `log λ` (default `true`); otherwise it is `λ` itself.
    pub log_input: bool,
    /// Add Stirling's approximation of `ln(t!)` (default `false`).
    pub full: bool,
    /// Added to `λ` inside the log when `log_input` is false (default `1e-8`); finite, ≥ 0.
    pub eps: f64,
}

impl Default for PoissonNll {
    fn default() -> Self {
        PoissonNll {
            log_input: true,
            full: false,
            eps: 1e-8,
        }
    }
}

impl Pointwise for PoissonNll {
    crate::shape::pointwise::compiled_once!(PoissonNll);
    fn check(&self) -> Result<()> {
        if self.eps.is_finite() && self.eps >= 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "eps",
                rule: "must be finite and >= 0",
            })
        }
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let one = p.splat(<V::Elem as Float>::ONE);
        let (value, grad) = if self.log_input {
            let e = exp(p);
            // Where e^p overflows it dominates t·p for any count-like t: the value is +∞
            // (never ∞ − ∞).
            let inf = p.splat(<V::Elem as Float>::from_f64(f64::INFINITY));
            (V::select(e.lt(inf), t.neg().mul_add(p, e), inf), e.sub(t))
        } else {
            // A zero count contributes nothing, also at a rate of 0 with ε = 0 (the xlogy
            // convention: 0·ln 0 = 0 and 0/0 → 0, the limits as t → 0; not NaN).
            let q = p.add(p.splat(<V::Elem as Float>::from_f64(self.eps)));
            let zero = p.splat(<V::Elem as Float>::ZERO);
            let no_count = t.eq(zero);
            (
                p.sub(V::select(no_count, zero, t.mul(ln(q)))),
                one.sub(V::select(no_count, zero, t.div(q))),
            )
        };
        let value = if self.full {
            let half = p.splat(<V::Elem as Float>::from_f64(0.5));
            let two_pi = p.splat(<V::Elem as Float>::from_f64(core::f64::consts::TAU));
            let stirling = t.mul(ln(t)).sub(t).add(half.mul(ln(two_pi.mul(t))));
            let zero = p.splat(<V::Elem as Float>::ZERO);
            value.add(V::select(one.lt(t), stirling, zero))
        } else {
            value
        };
        Terms {
            value,
            grad,
            grad_aux: p,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        if self.log_input {
            exp(p)
        } else {
            let q = p.add(p.splat(<V::Elem as Float>::from_f64(self.eps)));
            let zero = p.splat(<V::Elem as Float>::ZERO);
            V::select(t.eq(zero), zero, t.div(q.mul(q)))
        }
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let nan = p.splat(<V::Elem as Float>::from_f64(f64::NAN));
        let mut bad = t.lt(zero);
        if !self.log_input {
            bad = V::mask_or(bad, p.lt(zero));
        }
        V::select(bad, nan, zero)
    }
    #[inline]
    fn domain_input<V: Vector>(&self, _p: V, t: V, _a: V) -> &'static str {
        if V::mask_any(t.lt(t.splat(<V::Elem as Float>::ZERO))) {
            "target"
        } else {
            "pred"
        }
    }
}
