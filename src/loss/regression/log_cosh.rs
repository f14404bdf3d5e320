//! Log-cosh loss.
//!
//! For `r = p − t`, with one `u = expm1(|r|)` per element (`e^|r| = 1 + u`):
//!
//! ```text
//! ℓ          = log cosh r
//!            = log1p(u² / (2 (1 + u)))              for |r| < 8   (cosh r − 1 = u² / (2 e^|r|))
//!            = |r| − ln 2 + log1p(1 / (1 + u)²)     for |r| ≥ 8   (= |r| − ln 2 + log1p(e^−2|r|))
//! ∂ℓ/∂p      = tanh r  = sign(r) · w / (w + 2),     w = u (u + 2) = e^2|r| − 1   (1 when w = ∞)
//! ∂²ℓ/∂p²    = sech² r = 4 e / (1 + e)²,            e = 1 / (1 + u)² = e^−2|r|
//! ```
//!
//! Both forms are free of cancellation: the first is accurate to a few ulp down to
//! subnormal `r` (where naive `|r| + softplus(−2|r|) − ln 2` returns 0; optax's `log_cosh`
//! loses all digits below `r ≈ 1e-8`), the second never overflows (no `cosh`, no `e^|r|`
//! squared), so `|r|` up to `f32::MAX` gives `|r| − ln 2` (torchmetrics#3488, Keras PR#8524).

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{expm1, log1p};
use crate::simd::{Float, Vector};

/// Log-cosh loss `log(cosh(pred − target))`: quadratic near 0, linear far out, smooth.
///
/// Equivalent to Keras `LogCosh` and optax `log_cosh`, without their overflow and
/// small-residual cancellation.
///
/// ```
/// use losskit::prelude::*;
/// let v = LogCosh.value(&[1.0f64], &[0.0], None, Reduction::Sum)?;
/// assert!((v - 1f64.cosh().ln()).abs() < 1e-15);
/// // No overflow where cosh would overflow:
/// let big = LogCosh.value(&[f32::MAX], &[0.0], None, Reduction::Sum)?;
/// assert_eq!(big, f32::MAX);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LogCosh;

impl Pointwise for LogCosh {
    crate::shape::pointwise::compiled_once!(LogCosh);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let one = p.splat(<V::Elem as Float>::ONE);
        let two = one.add(one);
        let r = p.sub(t);
        let abs = r.abs();
        let u = expm1(abs);
        let e1 = one.add(u);
        let near = abs.lt(p.splat(<V::Elem as Float>::from_f64(8.0)));
        let arg = V::select(near, u.mul(u).div(two.mul(e1)), one.div(e1.mul(e1)));
        let l = log1p(arg);
        let ln2 = p.splat(<V::Elem as Float>::from_f64(core::f64::consts::LN_2));
        let w = u.mul(u.add(two));
        let inf = p.splat(<V::Elem as Float>::from_f64(f64::INFINITY));
        let tanh_abs = V::select(w.lt(inf), w.div(w.add(two)), one);
        Terms {
            value: V::select(near, l, abs.sub(ln2).add(l)),
            grad: tanh_abs.copysign(r),
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let one = p.splat(<V::Elem as Float>::ONE);
        let e1 = one.add(expm1(p.sub(t).abs()));
        let e = one.div(e1.mul(e1));
        let d = one.add(e);
        p.splat(<V::Elem as Float>::from_f64(4.0))
            .mul(e)
            .div(d.mul(d))
    }
}
