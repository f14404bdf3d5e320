//! Binary cross-entropy on logits (PyTorch `BCEWithLogitsLoss`,
//! `binary_cross_entropy_with_logits`).
//!
//! For a logit `x`, a target `y ∈ [0, 1]` and the positive-class weight `w₊ = pos_weight`,
//! with `c = 1 + (w₊ − 1)·y` (formed as `w₊·y + (1 − y)`, exact at `y = 1`):
//!
//! ```text
//! ℓ          = −( w₊·y·ln σ(x) + (1 − y)·ln σ(−x) )
//!            = (1 − y)·x + c·softplus(−x)
//! ∂ℓ/∂x      = c·σ(x) − w₊·y
//! ∂²ℓ/∂x²    = c·σ(x)·σ(−x)
//! ```
//!
//! Evaluated with one `e = e^−|x|`, `L = ln(1 + e)` and `s = σ(−|x|) = e/(1 + e)`:
//!
//! ```text
//! a          = −w₊·y  if x < 0,   1 − y  otherwise
//! ℓ          = a·x + c·L               (both terms ≥ 0: no cancellation)
//! ∂ℓ/∂x      = a + c·s  if x < 0,  a − c·s  otherwise
//! ∂²ℓ/∂x²    = c·s/(1 + e)
//! ```
//!
//! PyTorch's `(1 − y)·x + c·(max(−x, 0) + L)` cancels for `x ≪ 0` and `y = 0` (at `x = −20`
//! it keeps six digits of the true `≈ 2·10⁻⁹`); the form above is accurate to a few ulp
//! everywhere, finite for every finite `x` whose true result is finite (`x = ±10³⁸`,
//! `±f32::MAX`), and `+∞` only where the true value overflows (`w₊·y·|x|` beyond the
//! range). `σ(x)` is never rounded to 1 before a subtraction, so the gradient at `x = 40,
//! y = 1` is `−σ(−40) ≈ −4·10⁻¹⁸`, where PyTorch returns 0.
//!
//! Differences from PyTorch: infinite logits are [`NonFinite`](crate::Error::NonFinite) as
//! every input of this crate (PyTorch gives NaN at `x = −∞` and at `x = +∞, y = 1`);
//! targets outside `[0, 1]` are [`InvalidInput`](crate::Error::InvalidInput) (PyTorch
//! evaluates the formula for any target); `pos_weight` is one scalar for every element
//! (PyTorch broadcasts a tensor against the input, usually one weight per class).

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::logistic_parts;
use crate::simd::{Float, Vector};

/// Binary cross-entropy of logits against targets in `[0, 1]`, with an optional weight of
/// the positive term; `torch.nn.BCEWithLogitsLoss(pos_weight=…)` with a scalar
/// `pos_weight` (per-element `weight` is the verbs' `weight`).
///
/// ```
/// use losskit::prelude::*;
/// let l = BceWithLogits::default();
/// let mut grad = [0.0f64; 2];
/// let v = l.value_and_grad(&[0.0, 0.0], &[1.0, 0.0], None, Reduction::Mean, &mut grad)?;
/// assert!((v - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(grad, [-0.25, 0.25]);
/// // Weighting the positive term by 3 (PyTorch's pos_weight).
/// let l = BceWithLogits { pos_weight: 3.0 };
/// let v = l.value(&[0.0f64], &[1.0], None, Reduction::Sum)?;
/// assert!((v - 3.0 * 2f64.ln()).abs() < 1e-15);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BceWithLogits {
    /// Weight of the positive term `−y·ln σ(x)`; in `[0, f32::MAX]` (default 1, PyTorch's
    /// `pos_weight=None`).
    pub pos_weight: f64,
}

impl Default for BceWithLogits {
    fn default() -> Self {
        BceWithLogits { pos_weight: 1.0 }
    }
}

impl Pointwise for BceWithLogits {
    crate::shape::pointwise::compiled_once!(BceWithLogits);
    fn check(&self) -> Result<()> {
        super::non_negative("pos_weight", self.pos_weight)
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, _a: V) -> Terms<V> {
        terms(x, y, x.splat(<V::Elem as Float>::from_f64(self.pos_weight)))
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, y: V, _a: V) -> V {
        hess(x, y, x.splat(<V::Elem as Float>::from_f64(self.pos_weight)))
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, _x: V, y: V, _a: V) -> V {
        super::unit_target(y)
    }
}

/// Value and derivatives at logits `x`, targets `y` and positive weights `pw` (the formulas
/// of the module docs; shared by the scalar and the per-class `pos_weight`).
/// `grad_aux` is `∂ℓ/∂w₊ = y·softplus(−x)`.
#[inline(always)]
pub(super) fn terms<V: Vector>(x: V, y: V, pw: V) -> Terms<V> {
    let zero = x.splat(<V::Elem as Float>::ZERO);
    let one = x.splat(<V::Elem as Float>::ONE);
    let (e, l) = logistic_parts(x);
    let s = e.div(one.add(e));
    let c = positive_factor(y, pw);
    let neg = x.lt(zero);
    let a = V::select(neg, pw.mul(y).neg(), one.sub(y));
    let cs = c.mul(s);
    Terms {
        value: a.mul_add(x, c.mul(l)),
        grad: a.add(V::select(neg, cs, cs.neg())),
        // softplus(−x) = L − min(x, 0).
        grad_aux: y.mul(l.sub(V::select(neg, x, zero))),
    }
}

/// `∂²ℓ/∂x² = (1 + (w₊ − 1)·y)·σ(x)·σ(−x)`.
#[inline(always)]
pub(super) fn hess<V: Vector>(x: V, y: V, pw: V) -> V {
    let one = x.splat(<V::Elem as Float>::ONE);
    let (e, _) = logistic_parts(x);
    let d = one.div(one.add(e));
    positive_factor(y, pw).mul(e.mul(d).mul(d))
}

/// `c = 1 + (w₊ − 1)·y`, formed as `w₊·y + (1 − y)`: at `y = 1` it is `w₊` exactly, where
/// `(w₊ − 1)·y + 1` rounds a tiny `w₊` (say 1e-20 in f32) to 0 (numerics policy 8).
#[inline(always)]
fn positive_factor<V: Vector>(y: V, pw: V) -> V {
    pw.mul_add(y, y.splat(<V::Elem as Float>::ONE).sub(y))
}
