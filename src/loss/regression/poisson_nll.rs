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
//! overflow threshold). With `full`, Stirling's term `t ln t − t + ½ ln(2π t)` is added
//! where `t > 1` (it does not depend on `p`), as PyTorch, with `½ ln 2π` added apart (`2πt`
//! overflows f32 near the range's end); with `log_input` the sum is formed as
//! `t·(ln t − p − 1) + e^p + ½ ln t + ½ ln 2π`, without it as `p + t·(ln t − ln q − 1) +
//! ½ ln t + ½ ln 2π` (`q = p + ε`), so that `t ln t` and `t p` (or `t ln q`) do not overflow
//! separately where their difference fits, and give `+∞`, not NaN, where it does not. The
//! Hessian without `log_input` is formed as `(t/q)/q`, as `q²` overflows first. Where the
//! rate `q = p + ε` itself overflows f32 (both near `f32::MAX`), it is carried halved:
//! `ln q = ln(½p + ½ε) + ln 2` and `t/q = ½t / (½p + ½ε)`. And `ln q` keeps the rounding
//! error `e` of `p + ε` (`ln q + e/q`): where one is far below the other, the rounded sum
//! drops it, and a large count multiplies what `ln q` lost (`t = 1e30`, `p = 1e-8`, `ε = 1`:
//! `t·ln q` is `1e22`, where PyTorch's f32 gives 0). Otherwise matches
//! `torch.nn.PoissonNLLLoss(log_input=True, full=False, eps=1e-8)`. A negative count `t < 0`
//! is [`InvalidInput`](crate::Error::InvalidInput) on `target`, and a negative rate
//! (`log_input = false`, `p < 0`) on `pred`; PyTorch computes on (and returns NaN or
//! meaningless values).

use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{exp, ln};
use crate::simd::{Float, Vector};
use crate::{Error, Result};

/// `½ ln 2π`, Stirling's constant term (a literal: `f64::ln` needs `std`).
const HALF_LN_TWO_PI: f64 = 0.918_938_533_204_672_8;

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
    /// Added to `λ` inside the log when `log_input` is false (default `1e-8`); 0 or in
    /// `[f32::MIN_POSITIVE, f32::MAX]` (numerics rule 10: a subnormal `ε` rounds in f32 by up
    /// to half its size, so `ln(0 + ε)` would differ between the precisions).
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

/// The rate `q = p + ε` of the form without `log_input`, as `q·s` and `s`: `s = 1`, or `s = ½`
/// where `p + ε` overflows the precision (`p` and `ε` both near the end of f32's range; the
/// halves cannot overflow, and halving is exact there). With `s = 1` the ratios below are
/// bit-identical to the plain ones. The sum's rounding error is kept (TwoSum) for `ln q`:
/// where `p ≪ ε` (or `ε ≪ p`) the rounded `q` loses the smaller one, and a large count
/// multiplies what `ln q` then lost (`t·ln(1 + 1e-8)` at `t = 1e30` is −1e22 in truth, 0 from
/// `ln 1`; PyTorch gives 0).
struct Rate<V> {
    scaled: V,
    factor: V,
    /// `ln(1/s)`: 0 or `ln 2`.
    ln_unscale: V,
    /// `(p·s + ε·s) − q·s` exactly.
    err: V,
}

impl<V: Vector> Rate<V> {
    #[inline(always)]
    fn new(p: V, eps: f64) -> Self {
        let eps = p.splat(<V::Elem as Float>::from_f64(eps));
        let one = p.splat(<V::Elem as Float>::ONE);
        let half = p.splat(<V::Elem as Float>::from_f64(0.5));
        let fits = p
            .add(eps)
            .lt(p.splat(<V::Elem as Float>::from_f64(f64::INFINITY)));
        let factor = V::select(fits, one, half);
        let (a, b) = (p.mul(factor), eps.mul(factor));
        let scaled = a.add(b);
        // Knuth's TwoSum: the exact error of `a + b` without knowing which is larger.
        let b_part = scaled.sub(a);
        let err = a.sub(scaled.sub(b_part)).add(b.sub(b_part));
        Rate {
            scaled,
            err,
            factor,
            ln_unscale: V::select(
                fits,
                p.splat(<V::Elem as Float>::ZERO),
                p.splat(<V::Elem as Float>::from_f64(core::f64::consts::LN_2)),
            ),
        }
    }
    /// `ln q`, as `ln(q·s) + err/(q·s) − ln s` (`ln(x + e) = ln x + e/x` to second order,
    /// `|e/x| ≤ 2⁻²⁴`); the correction is 0 where `q = 0` (`0/0`) or `err = 0`.
    #[inline(always)]
    fn ln(&self) -> V {
        let zero = self.err.splat(<V::Elem as Float>::ZERO);
        let fix = V::select(self.err.eq(zero), zero, self.err.div(self.scaled));
        ln(self.scaled).add(fix.add(self.ln_unscale))
    }
    /// `x / q` as `(x·s) / (q·s)`.
    #[inline(always)]
    fn ratio(&self, x: V) -> V {
        x.mul(self.factor).div(self.scaled)
    }
}

impl Pointwise for PoissonNll {
    crate::shape::pointwise::compiled_once!(PoissonNll);
    fn check(&self) -> Result<()> {
        // 0 or a normal f32 number (numerics policy 10): a larger ε is ∞ in f32, and every
        // term −∞; a subnormal one is rounded by up to half of itself (1e-45 is 1.4e-45 in
        // f32), which `ln(p + ε)` at `p = 0` shows as a different value.
        if self.eps == 0.0
            || (f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&self.eps)
        {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "eps",
                rule: "must be 0 or in [f32::MIN_POSITIVE, f32::MAX]",
            })
        }
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let one = p.splat(<V::Elem as Float>::ONE);
        let half = p.splat(<V::Elem as Float>::from_f64(0.5));
        let half_ln_two_pi = p.splat(<V::Elem as Float>::from_f64(HALF_LN_TWO_PI));
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let (value, grad) = if self.log_input {
            let e = exp(p);
            let plain = t.neg().mul_add(p, e);
            let value = if self.full {
                // e^p − t·p + t ln t − t + ½ ln(2πt) as t·(ln t − p − 1) + e^p + ½ ln t +
                // ½ ln 2π: `t ln t` and `t p` overflow f32 together (t near the range's end)
                // where their difference does not (∞ − ∞ = NaN), so ln t − p is formed
                // first; and 2πt overflows f32 for t > 5.4e37, so ln 2π is added apart.
                let ln_t = ln(t);
                let stirling = t
                    .mul(ln_t.sub(p).sub(one))
                    .add(e)
                    .add(half.mul(ln_t).add(half_ln_two_pi));
                V::select(one.lt(t), stirling, plain)
            } else {
                plain
            };
            // Where e^p overflows it dominates t·p for any count-like t: the value is +∞
            // (never ∞ − ∞).
            let inf = p.splat(<V::Elem as Float>::from_f64(f64::INFINITY));
            (V::select(e.lt(inf), value, inf), e.sub(t))
        } else {
            // A zero count contributes nothing, also at a rate of 0 with ε = 0 (the xlogy
            // convention: 0·ln 0 = 0 and 0/0 → 0, the limits as t → 0; not NaN).
            let q = Rate::new(p, self.eps);
            let no_count = t.eq(zero);
            let ln_q = q.ln();
            let plain = p.sub(V::select(no_count, zero, t.mul(ln_q)));
            let value = if self.full {
                // p − t ln q + t ln t − t + ½ ln(2πt) as p + t·(ln t − ln q − 1) + ½ ln t +
                // ½ ln 2π, for the log-input form's reason: `t ln q` and `t ln t` overflow
                // f32 together (t = 3.4e38, q = 7) where their difference may not, and
                // where it does too the value is +∞, not ∞ − ∞ = NaN.
                let ln_t = ln(t);
                let stirling = p
                    .add(t.mul(ln_t.sub(ln_q).sub(one)))
                    .add(half.mul(ln_t).add(half_ln_two_pi));
                V::select(one.lt(t), stirling, plain)
            } else {
                plain
            };
            (value, one.sub(V::select(no_count, zero, q.ratio(t))))
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
            // (t/q)/q: q² overflows f32 (q beyond 1.8e19) where t/q² does not.
            let q = Rate::new(p, self.eps);
            let zero = p.splat(<V::Elem as Float>::ZERO);
            V::select(t.eq(zero), zero, q.ratio(q.ratio(t)))
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
