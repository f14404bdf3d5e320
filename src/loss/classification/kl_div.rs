//! Kullback–Leibler divergence (PyTorch `KLDivLoss`), a pointwise loss on log-probabilities.

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{exp, ln};
use crate::simd::{Float, Vector};

/// KL divergence `KL(target ‖ input)` with `pred` the log-probabilities `x` of the input
/// distribution (PyTorch's `kl_div(input, target)`), per element:
///
/// ```text
/// ℓ = t·(log t − x)      (t = 0 contributes 0: xlogy),   ∂ℓ/∂x = −t
/// ℓ = eᵗ·(t − x)         with log_target (t holds log-probabilities), ∂ℓ/∂x = −eᵗ
/// ```
///
/// With `log_target`, a term is 0 where `eᵗ` underflowed (`t − x` may then have overflowed,
/// `0·∞`) or where `t = x` (`∞·0` where `eᵗ` overflowed); PyTorch gives NaN there.
///
/// PyTorch's `reduction="batchmean"` is [`Reduction::Divisor`](crate::Reduction::Divisor)
/// with the number of rows; `Mean` divides by the number of elements as PyTorch's `mean`.
/// A negative target (without `log_target`) is [`Error::InvalidInput`](crate::Error::InvalidInput);
/// infinite inputs are [`Error::NonFinite`](crate::Error::NonFinite) (a `−∞` log-probability
/// is not accepted: clamp it, or use [`SoftCrossEntropy`](crate::loss::softmax::SoftCrossEntropy) on logits,
/// which handles masks). The Hessian diagonal is 0 (the loss is linear in `x`).
///
/// ```
/// use losskit::prelude::*;
/// let kl = KlDiv::default();
/// let (log_q, p) = ([0.5f64.ln(), 0.5f64.ln()], [0.25, 0.75]);
/// let v = kl.value(&log_q, &p, None, Reduction::Sum)?;
/// assert!((v - (0.25 * (0.5f64).ln() + 0.75 * (1.5f64).ln())).abs() < 1e-12);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct KlDiv {
    /// The target holds log-probabilities (default false).
    pub log_target: bool,
}

impl Pointwise for KlDiv {
    crate::shape::pointwise::compiled_once!(KlDiv);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let (value, grad) = if self.log_target {
            // e^t·(t − p), 0 where e^t underflowed (t − p may then have overflowed: 0·∞) or
            // where t = p (e^t may have overflowed: ∞·0); the true value is 0 or below the
            // precision's range there.
            let et = exp(t);
            let d = t.sub(p);
            let none = V::mask_or(et.eq(zero), d.eq(zero));
            (V::select(none, zero, et.mul(d)), et.neg())
        } else {
            // xlogy: t = 0 gives exactly 0 (ln 0 = −∞ is never multiplied).
            let v = t.mul(ln(t).sub(p));
            (V::select(t.eq(zero), zero, v), t.neg())
        };
        Terms {
            value,
            grad,
            grad_aux: zero,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, _t: V, _a: V) -> V {
        p.splat(<V::Elem as Float>::ZERO)
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        if self.log_target {
            zero
        } else {
            V::select(
                t.lt(zero),
                p.splat(<V::Elem as Float>::from_f64(f64::NAN)),
                zero,
            )
        }
    }
}
