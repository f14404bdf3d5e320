//! Margin losses of a score `x` against a label `y ∈ {−1, +1}`: hinge, squared hinge,
//! smoothed hinge and modified Huber.
//!
//! All are functions of the margin `z = y·x` (exact, as `y = ±1`) through `v = 1 − z`, so
//! `∂ℓ/∂x = y·∂ℓ/∂z` and `∂²ℓ/∂x² = ∂²ℓ/∂z²`:
//!
//! ```text
//!                  ℓ(z)                                   ∂ℓ/∂z                 ∂²ℓ/∂z²
//! Hinge            max(0, 1 − z)                          −1 (z < 1), 0         0
//! SquaredHinge     max(0, 1 − z)²                         −2 max(0, 1 − z)      2 (z < 1), 0
//! SmoothHinge      ½ − z          (z ≤ 0)                 −1                    0
//!                  ½ (1 − z)²     (0 < z < 1)             −(1 − z)              1
//!                  0              (z ≥ 1)                 0                     0
//! ModifiedHuber    −4z            (z < −1)                −4                    0
//!                  max(0, 1 − z)² (z ≥ −1)                −2 max(0, 1 − z)      2 (−1 ≤ z < 1), 0
//! ```
//!
//! At the hinge's kink `z = 1` the subgradient 0 is used (the crate's rule for kinks);
//! the other three are differentiable and their Hessians are the second derivatives away
//! from the breakpoints, with each breakpoint taking the branch the table gives it.
//! The values are evaluated without a branch: with `v⁺ = max(1 − z, 0)` and `c` its clamp to
//! the quadratic zone, smoothed hinge is `c·(v⁺ − c/2)`, `c = min(v⁺, 1)`, and modified
//! Huber `c·(2v⁺ − c)`, `c = min(v⁺, 2)` (no `0·∞` for any finite score).
//!
//! A label other than ±1 is [`InvalidInput`](crate::Error::InvalidInput) on `target`.
//!
//! References: Rennie & Srebro, "Loss Functions for Preference Levels", 2005 (smoothed
//! hinge); Zhang, "Solving large scale linear prediction problems using stochastic gradient
//! descent algorithms", ICML 2004, as in scikit-learn's `SGDClassifier(loss="modified_huber")`.

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::{Float, Vector};

/// `v = 1 − y·x`.
#[inline(always)]
fn slack<V: Vector>(x: V, y: V) -> V {
    x.splat(<V::Elem as Float>::ONE).sub(y.mul(x))
}

#[inline(always)]
fn k<V: Vector>(like: V, c: f64) -> V {
    like.splat(<V::Elem as Float>::from_f64(c))
}

macro_rules! sign_domain {
    () => {
        const HAS_DOMAIN: bool = true;
        #[inline(always)]
        fn domain<V: Vector>(&self, _x: V, y: V, _a: V) -> V {
            super::sign_label(y)
        }
    };
}

/// Hinge loss `max(0, 1 − y·x)` for labels `y ∈ {−1, +1}` (the SVM loss; scikit-learn
/// `hinge`, Keras `Hinge`).
///
/// ```
/// use losskit::prelude::*;
/// let mut grad = [0.0f32; 3];
/// let v = Hinge.value_and_grad(&[0.5, 2.0, 1.0], &[1.0, 1.0, 1.0], None, Reduction::Sum, &mut grad)?;
/// assert_eq!(v, 0.5);
/// assert_eq!(grad, [-1.0, 0.0, 0.0]); // subgradient 0 at the kink z = 1
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Hinge;

impl Pointwise for Hinge {
    crate::shape::pointwise::compiled_once!(Hinge);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, _a: V) -> Terms<V> {
        let zero = k(x, 0.0);
        let v = slack(x, y);
        let grad = V::select(zero.lt(v), y.neg(), zero);
        Terms {
            value: v.max(zero),
            grad,
            grad_aux: grad,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, _y: V, _a: V) -> V {
        k(x, 0.0)
    }
    sign_domain!();
}

/// Squared hinge loss `max(0, 1 − y·x)²` for labels `y ∈ {−1, +1}` (scikit-learn
/// `squared_hinge`, Keras `SquaredHinge`).
///
/// ```
/// use losskit::prelude::*;
/// let mut grad = [0.0f64; 2];
/// let v = SquaredHinge.value_and_grad(&[-1.0, 3.0], &[1.0, -1.0], None, Reduction::Sum, &mut grad)?;
/// assert_eq!(v, 4.0 + 16.0);
/// assert_eq!(grad, [-4.0, 8.0]);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SquaredHinge;

impl Pointwise for SquaredHinge {
    crate::shape::pointwise::compiled_once!(SquaredHinge);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, _a: V) -> Terms<V> {
        let c = slack(x, y).max(k(x, 0.0));
        let grad = k(x, -2.0).mul(y).mul(c);
        Terms {
            value: c.mul(c),
            grad,
            grad_aux: grad,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, y: V, _a: V) -> V {
        V::select(k(x, 0.0).lt(slack(x, y)), k(x, 2.0), k(x, 0.0))
    }
    sign_domain!();
}

/// Quadratically smoothed hinge (Rennie & Srebro 2005) for labels `y ∈ {−1, +1}`, with
/// `z = y·x`: `½ − z` for `z ≤ 0`, `½(1 − z)²` for `0 < z < 1`, 0 for `z ≥ 1`.
///
/// ```
/// use losskit::prelude::*;
/// let mut grad = [0.0f64; 3];
/// let v = SmoothHinge.value_and_grad(&[-2.0, 0.5, 1.5], &[1.0; 3], None, Reduction::Sum, &mut grad)?;
/// assert_eq!(v, 2.5 + 0.125);
/// assert_eq!(grad, [-1.0, -0.5, 0.0]);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SmoothHinge;

impl Pointwise for SmoothHinge {
    crate::shape::pointwise::compiled_once!(SmoothHinge);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, _a: V) -> Terms<V> {
        let vp = slack(x, y).max(k(x, 0.0));
        let c = vp.min(k(x, 1.0));
        let grad = y.mul(c).neg();
        Terms {
            value: c.mul(k(x, -0.5).mul_add(c, vp)),
            grad,
            grad_aux: grad,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, y: V, _a: V) -> V {
        // The zone 0 < z < 1 tested on the exact margin z: `1 − z` rounds a tiny z away.
        let z = y.mul(x);
        let inside = V::mask_and(k(x, 0.0).lt(z), z.lt(k(x, 1.0)));
        V::select(inside, k(x, 1.0), k(x, 0.0))
    }
    sign_domain!();
}

/// Modified Huber loss (scikit-learn `SGDClassifier(loss="modified_huber")`) for labels
/// `y ∈ {−1, +1}`, with `z = y·x`: `−4z` for `z < −1`, `max(0, 1 − z)²` otherwise.
///
/// ```
/// use losskit::prelude::*;
/// let mut grad = [0.0f64; 3];
/// let v = ModifiedHuber.value_and_grad(&[-3.0, 0.0, 2.0], &[1.0; 3], None, Reduction::Sum, &mut grad)?;
/// assert_eq!(v, 12.0 + 1.0);
/// assert_eq!(grad, [-4.0, -2.0, 0.0]);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ModifiedHuber;

impl Pointwise for ModifiedHuber {
    crate::shape::pointwise::compiled_once!(ModifiedHuber);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, _a: V) -> Terms<V> {
        let vp = slack(x, y).max(k(x, 0.0));
        let c = vp.min(k(x, 2.0));
        let grad = k(x, -2.0).mul(y).mul(c);
        Terms {
            value: c.mul(vp.add(vp).sub(c)),
            grad,
            grad_aux: grad,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, y: V, _a: V) -> V {
        // The zone −1 ≤ z < 1 tested on the exact margin z: `1 − z` rounds near z = −1.
        let z = y.mul(x);
        let inside = V::mask_and(k(x, -1.0).le(z), z.lt(k(x, 1.0)));
        V::select(inside, k(x, 2.0), k(x, 0.0))
    }
    sign_domain!();
}
