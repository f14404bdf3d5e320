//! Sigmoid focal loss (Lin et al., "Focal Loss for Dense Object Detection", 2017), with
//! torchvision's `sigmoid_focal_loss` semantics.
//!
//! For a logit `x`, a target `y ∈ [0, 1]`, `p = σ(x)` and the cross-entropy
//! `ce = BCEWithLogits(x, y)`:
//!
//! ```text
//! 1 − p_t    = q = y·σ(−x) + (1 − y)·σ(x)        (= 1 − (p·y + (1 − p)(1 − y)))
//! α_t        = α·y + (1 − α)(1 − y)   if α ≥ 0,   1 otherwise
//! ℓ          = α_t · q^γ · ce
//! ∂ℓ/∂x      = α_t · q^γ · ( γ·(1 − 2y)·r·ce + (p − y) ),         r = p(1 − p)/q
//! ∂²ℓ/∂x²    = α_t · q^γ · ( γ·ce·((γ − 1)(1 − 2y)²r² + (1 − 2y)(1 − 2p)·r)
//!                            + 2γ·(1 − 2y)·r·(p − y) + p(1 − p) )
//! ```
//!
//! `r = 1/(y/p + (1 − y)/(1 − p)) ≤ 1` replaces `q^(γ−1)·p(1 − p)`, which is `0^(γ−1)·0` at
//! `q = 0` (`p_t = 1`): the gradient and Hessian are finite for every `γ ≥ 0`, also
//! `0 < γ < 1` and `γ = 0` (where autograd of `pow` gives NaN: kornia#918, optax#1267).
//!
//! Evaluation: one `e = e^−|x|`, `L = ln(1 + e)` and `d = 1/(1 + e)` give, with
//! `(a, b) = (1 − y, y)` for `x ≥ 0` and `(y, 1 − y)` for `x < 0`,
//!
//! ```text
//! ce = a·|x| + L        q = u·d,  u = a + b·e        p − y = ±(a − b·e)·d        r = e·d/u
//! ```
//!
//! (all sums of non-negative terms: nothing cancels, `1 − p` is never rounded). `q^γ` is
//! `1`, `q`, `q²` for `γ = 0, 1, 2`, and otherwise `exp(γ·(ln u − L))`, in log space, so a
//! tiny `q` keeps its relative accuracy. Soft targets are allowed as in torchvision; a
//! target outside `[0, 1]` is [`InvalidInput`](crate::Error::InvalidInput) (torchvision
//! evaluates the formula, NaN for non-integer `γ` when `q < 0`). torchvision's default
//! reduction is `"none"`; here every reduction is a verb argument.

use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{exp, ln, logistic_parts};
use crate::simd::{Float, Vector};
use crate::{Error, Result};

/// Sigmoid focal loss of logits against targets in `[0, 1]`;
/// `torchvision.ops.sigmoid_focal_loss(alpha=0.25, gamma=2)`. `alpha` is in `[0, 1]`, or
/// exactly [`SigmoidFocal::UNBALANCED`] (−1, torchvision's `alpha=-1`), which turns the class
/// balancing off; any other value is an error (torchvision takes every negative `alpha` as
/// "off", so a mistyped −0.25 silently drops the balancing).
///
/// ```
/// use losskit::prelude::*;
/// let l = SigmoidFocal::default(); // α = 0.25, γ = 2
/// // At x = 0: p = ½, q = ½, ce = ln 2, so ℓ = α·¼·ln 2 for a positive.
/// let v = l.value(&[0.0f64], &[1.0], None, Reduction::Sum)?;
/// assert!((v - 0.25 * 0.25 * 2f64.ln()).abs() < 1e-15);
/// // γ = 0 without balancing is BCE with logits.
/// let bce = SigmoidFocal { alpha: SigmoidFocal::UNBALANCED, gamma: 0.0 };
/// let mut g = [0.0f64; 1];
/// bce.grad(&[2.0], &[1.0], None, Reduction::Sum, &mut g)?;
/// assert!((g[0] + 1.0 / (1.0 + 2f64.exp())).abs() < 1e-16);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SigmoidFocal {
    /// Weight of the positive class, `0 ≤ α ≤ 1`; the negative class gets `1 − α`.
    /// [`SigmoidFocal::UNBALANCED`] disables the weighting (default 0.25).
    pub alpha: f64,
    /// Focusing exponent `γ`, in `[0, f32::MAX]` (default 2).
    pub gamma: f64,
}

impl SigmoidFocal {
    /// The `alpha` that turns the class balancing off (−1, as torchvision's `alpha=-1`): both
    /// classes weigh 1.
    pub const UNBALANCED: f64 = -1.0;
}

impl Default for SigmoidFocal {
    fn default() -> Self {
        SigmoidFocal {
            alpha: 0.25,
            gamma: 2.0,
        }
    }
}

/// The shared quantities of one vector (see the module docs).
struct Parts<V: Vector> {
    /// `x < 0`.
    neg: V::Mask,
    e: V,
    d: V,
    a: V,
    b: V,
    /// `ce = a·|x| + L`.
    ce: V,
    /// `α_t · q^γ`.
    scale: V,
    /// `e/u` (0 where `u = 0`, which happens only with `e = 0`).
    e_over_u: V,
}

impl SigmoidFocal {
    #[inline(always)]
    fn parts<V: Vector>(&self, x: V, y: V) -> Parts<V> {
        let zero = x.splat(<V::Elem as Float>::ZERO);
        let one = x.splat(<V::Elem as Float>::ONE);
        let (e, l) = logistic_parts(x);
        let neg = x.lt(zero);
        let ny = one.sub(y);
        let a = V::select(neg, y, ny);
        let b = V::select(neg, ny, y);
        let u = b.mul_add(e, a);
        // One division for both 1/(1 + e) and e/u: inv = 1/((1 + e)·u), with u kept ≥ the
        // smallest normal so that inv is finite (u < that only when e is subnormal or 0).
        let ug = u.max(x.splat(<V::Elem as Float>::from_f64(min_positive::<V>())));
        let onee = one.add(e);
        let inv = one.div(onee.mul(ug));
        let d = ug.mul(inv);
        let e_over_u = e.mul(onee).mul(inv);
        let ce = a.mul_add(x.abs(), l);
        let g = self.gamma;
        let qg = if g == 0.0 {
            one
        } else if g == 1.0 {
            u.mul(d)
        } else if g == 2.0 {
            let q = u.mul(d);
            q.mul(q)
        } else {
            // ln q = ln u − L; u = 0 gives ln u = −∞ and q^γ = 0 (γ > 0 here), selected:
            // a γ below f32's range is 0 in f32 (γ = 1e-300), and 0·(−∞) would be NaN.
            let zero = x.splat(<V::Elem as Float>::ZERO);
            let q_gamma = exp(x.splat(<V::Elem as Float>::from_f64(g)).mul(ln(u).sub(l)));
            V::select(u.eq(zero), zero, q_gamma)
        };
        let scale = if self.alpha >= 0.0 {
            // α_t = α·y + (1 − α)·(1 − y): at y = 1 it is α exactly, where the shorter
            // (2α − 1)·y + (1 − α) cancels a tiny α to 0 (1e-38 in f32; numerics policy 8).
            let one = x.splat(<V::Elem as Float>::ONE);
            let at = y.mul_add(
                x.splat(<V::Elem as Float>::from_f64(self.alpha)),
                one.sub(y)
                    .mul(x.splat(<V::Elem as Float>::from_f64(1.0 - self.alpha))),
            );
            at.mul(qg)
        } else {
            qg
        };
        Parts {
            neg,
            e,
            d,
            a,
            b,
            ce,
            scale,
            e_over_u,
        }
    }
}

/// The smallest positive normal number of the lane type.
#[inline(always)]
fn min_positive<V: Vector>() -> f64 {
    if <V::Elem as Float>::MANTISSA_DIGITS == 24 {
        f32::MIN_POSITIVE as f64
    } else {
        f64::MIN_POSITIVE
    }
}

impl Pointwise for SigmoidFocal {
    crate::shape::pointwise::compiled_once!(SigmoidFocal);
    fn check(&self) -> Result<()> {
        if !((0.0..=1.0).contains(&self.alpha) || self.alpha == Self::UNBALANCED) {
            return Err(Error::InvalidParameter {
                name: "alpha",
                rule: "must be in [0, 1], or -1 (SigmoidFocal::UNBALANCED) to disable the weighting",
            });
        }
        super::non_negative("gamma", self.gamma)
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, _a: V) -> Terms<V> {
        let s = self.parts(x, y);
        let abe = s.b.neg().mul_add(s.e, s.a);
        // (a − b·e) + γ·(a − b)·(ce·e/u): ce·e/u first, so that ce near f32::MAX meets e = 0.
        let focus = s.ce.mul(s.e_over_u).mul(s.a.sub(s.b));
        let inner = focus.mul_add(x.splat(<V::Elem as Float>::from_f64(self.gamma)), abe);
        let g = s.scale.mul(s.d).mul(inner);
        let grad = V::select(s.neg, g.neg(), g);
        Terms {
            value: s.scale.mul(s.ce),
            grad,
            grad_aux: grad,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, y: V, _a: V) -> V {
        let one = x.splat(<V::Elem as Float>::ONE);
        let gamma = x.splat(<V::Elem as Float>::from_f64(self.gamma));
        let gm1 = x.splat(<V::Elem as Float>::from_f64(self.gamma - 1.0));
        let s = self.parts(x, y);
        let ab = s.a.sub(s.b);
        let abe = s.b.neg().mul_add(s.e, s.a);
        let r = s.e_over_u.mul(s.d);
        // γ·ce·r·((γ − 1)(a − b)²·r − (a − b)(1 − e)·d)
        let t1 = gm1
            .mul(ab)
            .mul(ab)
            .mul(r)
            .sub(ab.mul(one.sub(s.e)).mul(s.d));
        let t1 = s.ce.mul(r).mul(gamma).mul(t1);
        // 2γ·(a − b)(a − b·e)·d·r + e·d²
        let t2 = gamma.add(gamma).mul(ab).mul(abe).mul(s.d).mul(r);
        let t3 = s.e.mul(s.d).mul(s.d);
        s.scale.mul(t1.add(t2).add(t3))
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, _x: V, y: V, _a: V) -> V {
        super::unit_target(y)
    }
}
