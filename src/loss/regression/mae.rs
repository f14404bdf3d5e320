//! Mean absolute error (PyTorch `L1Loss`).
//!
//! ```text
//! ℓ(p, t)    = |p − t|
//! ∂ℓ/∂p      = sign(p − t)        (0 at p = t: the subgradient of the numerics policy)
//! ∂²ℓ/∂p²    = 0                  (almost everywhere)
//! ```

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};

/// Absolute error `|pred − target|`; `torch.nn.L1Loss`.
///
/// PyTorch's gradient at `pred == target` is also 0.
///
/// ```
/// use losskit::prelude::*;
/// let v = Mae.value(&[1.0f64, -2.0], &[0.0, 0.0], None, Reduction::Sum)?;
/// assert_eq!(v, 3.0);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mae;

/// `sign(r)` with `sign(0) = 0`.
#[inline(always)]
pub(crate) fn sign<V: Vector>(r: V) -> V {
    let zero = r.splat(<V::Elem as Float>::ZERO);
    let one = r.splat(<V::Elem as Float>::ONE);
    V::select(zero.lt(r), one, V::select(r.lt(zero), one.neg(), zero))
}

impl Pointwise for Mae {
    crate::shape::pointwise::compiled_once!(Mae);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let r = p.sub(t);
        Terms {
            value: r.abs(),
            grad: sign(r),
            grad_aux: r,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, _t: V, _a: V) -> V {
        p.splat(<V::Elem as Float>::ZERO)
    }
}
