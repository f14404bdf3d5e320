//! Pseudo-Huber loss (Charbonnier; XGBoost `reg:pseudohubererror`).
//!
//! For `r = p − t`, slope `δ > 0`, `q = |r| / δ` and `s = √(1 + q²)`:
//!
//! ```text
//! ℓ          = δ² (s − 1)          computed as |r| · (|r| / (s + 1))   (no cancellation, no overflow)
//! ∂ℓ/∂p      = r / s
//! ∂²ℓ/∂p²    = 1 / s³
//! ```
//!
//! A smooth Huber: quadratic `½ r²` near 0, linear `δ |r|` far out, and its Hessian is
//! exact and positive, which is why gradient boosting uses it (XGBoost's `huber_slope` is δ).
//! For `q > 2^27` (f64: `2^60`), `s` is taken as `q`, which is `s` correctly rounded there,
//! so `q²` never overflows, and the value and gradient are `δ|r|` and `±δ`: a residual that
//! overflowed to ±∞ gives ±∞ and ±δ, never NaN. The value is `|r|·(|r|/(s + 1))`, not
//! `δ|r|·q/(s + 1)`: that product overflows where `δ` is large (`δ = f32::MAX`, `|r| = 100`:
//! `δ|r| = ∞` for a value of 5000), and `q` is subnormal, with few bits, for a small
//! residual beside a large `δ`. `|r|/(s + 1)` is at most `min(|r|/2, δ)`, so each factor is
//! bounded and the product overflows only where the value does.

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};

/// Pseudo-Huber loss with slope `delta`.
///
/// ```
/// use losskit::prelude::*;
/// let h = PseudoHuber { delta: 1.0 };
/// let v = h.value(&[1.0f64], &[0.0], None, Reduction::Sum)?;
/// assert!((v - (2f64.sqrt() - 1.0)).abs() < 1e-15);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PseudoHuber {
    /// Scale where the loss turns from quadratic to linear, in `[f32::MIN_POSITIVE,
    /// f32::MAX]` (default 1).
    pub delta: f64,
}

impl Default for PseudoHuber {
    fn default() -> Self {
        PseudoHuber { delta: 1.0 }
    }
}

impl PseudoHuber {
    /// `(r, q, s, moderate)` per lane; `moderate` marks `q` below the threshold where
    /// `s = q`.
    #[inline(always)]
    fn parts<V: Vector>(&self, p: V, t: V) -> (V, V, V, V::Mask) {
        let inv_delta = p.splat(<V::Elem as Float>::from_f64(1.0 / self.delta));
        let big = if <V::Elem as Float>::MANTISSA_DIGITS == 24 {
            134217728.0 // 2^27
        } else {
            1152921504606846976.0 // 2^60
        };
        let one = p.splat(<V::Elem as Float>::ONE);
        let r = p.sub(t);
        let q = r.abs().mul(inv_delta);
        let moderate = q.lt(p.splat(<V::Elem as Float>::from_f64(big)));
        let s = V::select(moderate, q.mul_add(q, one).sqrt(), q);
        (r, q, s, moderate)
    }
}

impl Pointwise for PseudoHuber {
    crate::shape::pointwise::compiled_once!(PseudoHuber);
    fn check(&self) -> Result<()> {
        super::huber::normal_positive("delta", self.delta)
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let delta = p.splat(<V::Elem as Float>::from_f64(self.delta));
        let one = p.splat(<V::Elem as Float>::ONE);
        let (r, _, s, moderate) = self.parts(p, t);
        // Far out, the value is δ|r| and r / s is ±δ to rounding; selecting them keeps a
        // residual that overflowed to ±∞ from giving ∞/∞.
        let ra = r.abs();
        Terms {
            value: V::select(moderate, ra.mul(ra.div(s.add(one))), delta.mul(ra)),
            grad: V::select(moderate, r.div(s), delta.copysign(r)),
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let (_, _, s, _) = self.parts(p, t);
        let inv = p.splat(<V::Elem as Float>::ONE).div(s);
        inv.mul(inv).mul(inv)
    }
}
