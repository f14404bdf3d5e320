//! Barron's general robust loss (J. T. Barron, "A General and Adaptive Robust Loss
//! Function", CVPR 2019), with shape `α` and scale `c > 0`.
//!
//! For `x = (p − t)/c`, `z = x²`, `b = |α − 2|`, and with `u = z/b`, `L = log1p(u)`,
//! `w = u/(1 + u)`, `s = α/2`, `m = (α − 2)/2`:
//!
//! ```text
//! ρ          = b/α · ((z/b + 1)^(α/2) − 1)                       the paper's definition
//!            = ½ b L · E(s L)                  E(y) = expm1(y)/y, E(0) = 1      (α < 1, α > 3)
//!            = (z e^(mL) + b expm1(mL)) / α                                     (1 ≤ α ≤ 3)
//! ∂ρ/∂p      = x/c · e^(mL)                    = (p − t)/c² · (1 + u)^m
//! ∂²ρ/∂p²    = 1/c² · e^(mL) · (1 + (α − 2) w) = 1/c² · e^(mL) · (1/(1 + u) + (α − 1) w)
//! ∂ρ/∂α      = ¼ b ∫₀^L e^(sλ) (λ − 1 + e^(−λ)) dλ  =  ¼ b L³ · exp[0, mL, sL, sL]  ≥ 0
//! ```
//!
//! `exp[…]` is the divided difference of `exp` at those nodes (`E(y) = exp[0, y]`). The
//! members of the family are evaluated by their own formulas:
//!
//! ```text
//! α = −∞   Welsch      ρ = −expm1(−z/2)         ∂ρ/∂p = x/c · e^(−z/2)   ∂ρ/∂α = 0
//! α = 0    Cauchy      ρ = log1p(z/2)           ∂ρ/∂p = (1/c) / (1/x + x/2)
//! α = 1    Charbonnier ρ = z / (√(1 + z) + 1)   ∂ρ/∂p = x/c / √(1 + z)
//! α = 2    L2          ρ = z/2                  ∂ρ/∂p = x/c               ∂ρ/∂α = +∞ (x ≠ 0)
//! ```
//!
//! **Why these forms.** The definition cancels catastrophically near `α = 0` (`b/α` times a
//! difference of nearly equal powers) and near `α = 2` (`b → 0` against a power of
//! `z/b → ∞`). `½ b L E(sL)` is the `expm1`/`log1p` form of Barron's reference code with the
//! division by `α` folded into `E`, so it is exact through `α = 0` (where `s L = 0`); the
//! second form factors `b·(1 + u) = b + z` out of the power, so it has no `z/b` and no
//! `b/α`: near `α = 2` it is `z/2` plus terms of order `α − 2`. Neither clamps `α` near 0
//! or 2 (the reference code clamps `|α|` and `|α − 2|` to `f32::EPSILON`, and is inexact
//! within that of 0 and 2). The Hessian's second form has no cancellation for `α ≥ 1` (the
//! first cancels for large `u` near `α = 1`); for `α < 1` its zero is the Hessian's own.
//!
//! The gradient with respect to `α` is a third divided difference, which every closed form
//! evaluates with cancellation when its nodes are close. When all nodes are within 1 of 0
//! (`t = T L < 1`, `T = max(|s|, |m|)`) it is the Taylor series of `L³·exp[0, mL, sL, sL]`
//! in `t` (coefficients from `α` once per call; 19 terms in f64, 11 in f32). Otherwise, with
//! `v = mL`, `y = sL` and `E'(y) = exp[0, y, y] = ((y − 1) e^y + 1)/y²`:
//!
//! ```text
//! 1 ≤ α ≤ 3        [(z + b) e^v (L − w)/2 + sign(α − 2) expm1(v) − ρ] / α
//! −2 < α < 1       ¼ b (L² E'(y) + L (E(v) − E(y)))              (removes the node v first)
//! α ≤ −2, α > 3    ¼ b L³ (e^v E'(L) − (e^v E(L) − E(v))/y) / y    (removes the node 0 first)
//! ```
//!
//! each the recursion whose differences are of well-separated nodes in its range. The
//! derivative is finite everywhere except at `α = 2`, where it has a logarithmic pole
//! (`∂ρ/∂α ≈ z/4 · ln(1/|α − 2|)`): there it is `+∞` for `x ≠ 0`, the true value. (The
//! reference code's autodiff gives 0 at `α = 0` and `α = 2`, its special cases.)
//!
//! Accuracy, measured against the mpmath vectors (`tests/data/barron.json`: every member,
//! `α` 1e-8 and 1e-3 from 0 and 2, `α` from −1e12 to 1e10, residuals from 1e-30 to 2e30),
//! as relative errors: f64 values and `∂ρ/∂α` within 1.5e-14, gradients within 1.1e-13;
//! f32 values and `∂ρ/∂α` within 4.2e-6, gradients within 1.7e-5. The largest are where the
//! result is an exponential with a large argument, whose rounding it carries that many
//! times over: `ρ ≈ e^62` at `α = 50`, `e^(−z/2)` with `z/2 ≈ 265` for Welsch-like shapes at
//! `x = 23`, and in f32 `e^(mL)` with `|mL| ≈ 140` at residuals beyond 1e20 (below 1e10 the
//! f32 gradients are within 5e-6).
//!
//! Overflow: `z` and `u` are never formed where they would overflow (`L = 2 log1p(√u)` for
//! large `u`, `z e^(mL) = (x e^(mL/2))²`), and where `u` is below the float range (large
//! `|α|`, tiny `x`) `½ b L = ½ z · L/u` keeps the value `½ z`. Where `x` itself overflows (a
//! residual `p − t` beyond the float range, or `(p − t)/c`), `ln|x|` is taken from
//! `p·2⁻⁶⁴ − t·2⁻⁶⁴` and each formula is evaluated with it in the exponent (a branch the
//! common path does not take), so every result is the one at the true residual: finite
//! wherever that is (for example `ρ` for `α < 1` and `∂ρ/∂p` for `α < 2` at
//! `p = f32::MAX, t = −f32::MAX`), `+∞` where it is beyond the float range.

use crate::reduction::{Out, Reduction};
use crate::shape::pointwise::{
    self, Inputs, On, Outcome, Outputs, Pointwise, PointwiseLoss, Terms, verb,
};
use crate::simd::math::{exp, expm1, ln, log1p};
use crate::simd::{Backend, Float, Vector};
use crate::{Error, Result};

/// Barron's general robust loss `ρ(p − t, α, c)`: L2 at `α = 2`, Charbonnier (pseudo-Huber)
/// at `α = 1`, Cauchy at `α = 0`, Geman–McClure at `α = −2`, Welsch at `α = −∞`, and every
/// shape between.
///
/// `alpha` is finite (`|α| ≤ 2⁶⁴`) or `f64::NEG_INFINITY`; `scale` is the width `c` of the
/// quadratic bowl around 0. The verbs of [`PointwiseLoss`] give the loss, its gradient and
/// Hessian diagonal with respect to `pred`; [`grad_alpha`](Barron::grad_alpha),
/// [`grad_alpha_elementwise`](Barron::grad_alpha_elementwise) and
/// [`value_and_grads`](Barron::value_and_grads) give the gradient with respect to the shared
/// `α`, for the adaptive loss. The gradient with respect to the scale needs no pass of its
/// own: `ρ` depends on `(p − t)/c`, so `∂L/∂c = −(1/c) Σ (pᵢ − tᵢ) ∂L/∂pᵢ`. (The paper's
/// adaptive loss also adds `ln c` and the log-partition `ln Z(α)` of its distribution; those
/// are not part of `ρ`.)
///
/// ```
/// use losskit::prelude::*;
/// let pred = [0.5f64, -3.0, 20.0];
/// let target = [0.0f64; 3];
/// // α = 1 is the Charbonnier loss √((x/c)² + 1) − 1.
/// let l = Barron { alpha: 1.0, scale: 1.0 };
/// let v = l.value(&pred, &target, None, Reduction::Sum)?;
/// let want: f64 = pred.iter().map(|x| (x * x + 1.0f64).sqrt() - 1.0).sum();
/// assert!((v - want).abs() < 1e-14 * want);
///
/// // One step of the adaptive loss: the loss, ∂L/∂pred and ∂L/∂α in one call.
/// let mut alpha = 1.0;
/// let mut grad = [0.0f64; 3];
/// let l = Barron { alpha, scale: 1.0 };
/// let (loss, d_alpha) = l.value_and_grads(&pred, &target, None, Reduction::Mean, &mut grad)?;
/// assert_eq!(loss, l.value(&pred, &target, None, Reduction::Mean)?);
/// assert!(d_alpha > 0.0); // ρ grows with α: gradient descent makes the loss more robust
/// alpha -= 0.01 * d_alpha;
/// assert!(alpha < 1.0);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Barron {
    /// The shape `α`: `f64::NEG_INFINITY` (Welsch), or finite with `|α| ≤ 2⁶⁴` (beyond, the
    /// loss is Welsch's to f64 precision, or overflows). Lower is more robust. NaN and `+∞`
    /// (whose limit `e^(x²/2) − 1` is not a robust loss) are rejected. Default 1
    /// (Charbonnier, the middle of the adaptive loss's range `(0, 2)`).
    pub alpha: f64,
    /// The scale `c`: the loss is quadratic for `|p − t| ≲ c`. In `[2⁻⁶³, 2⁶³]`, so that `1/c`
    /// and `1/c²` are normal f32 numbers. Default 1.
    pub scale: f64,
}

impl Default for Barron {
    fn default() -> Self {
        Barron {
            alpha: 1.0,
            scale: 1.0,
        }
    }
}

/// The largest finite `|α|` (`2⁶⁴`): the constants of the lane formulas (`|α − 2|/2`,
/// `1/√|α − 2|`, …) stay normal f32 numbers, and beyond it the loss is Welsch's (`α = −∞`)
/// to f64 precision (the exponent `(α/2) log1p(x²/|α − 2|)` is `−x²/2` to within
/// `(2 + x²/2)/|α|` relative) or overflows for all but the smallest residuals.
const ALPHA_MAX: f64 = 18446744073709551616.0;

/// The smallest and largest `scale` (`2⁻⁶³`, `2⁶³`).
const SCALE_MIN: f64 = 1.0 / 9223372036854775808.0;
const SCALE_MAX: f64 = 9223372036854775808.0;

impl Barron {
    /// The checks of [`Pointwise::check`].
    fn check_params(&self) -> Result<()> {
        if !(self.alpha == f64::NEG_INFINITY || libm::fabs(self.alpha) <= ALPHA_MAX) {
            return Err(Error::InvalidParameter {
                name: "alpha",
                rule: "must be -inf or finite with |alpha| <= 2^64",
            });
        }
        if !(SCALE_MIN..=SCALE_MAX).contains(&self.scale) {
            return Err(Error::InvalidParameter {
                name: "scale",
                rule: "must be in [2^-63, 2^63]",
            });
        }
        Ok(())
    }

    /// The constants of the loss's lane formulas, computed once per call.
    fn kernel(&self) -> Kernel {
        let alpha = self.alpha;
        let inv_c = 1.0 / self.scale;
        let member = if alpha == f64::NEG_INFINITY {
            Member::Welsch
        } else if alpha == 0.0 {
            Member::Cauchy
        } else if alpha == 1.0 {
            Member::Charbonnier
        } else if alpha == 2.0 {
            Member::L2
        } else if (1.0..=3.0).contains(&alpha) {
            Member::NearL2
        } else {
            Member::General
        };
        let b = libm::fabs(alpha - 2.0);
        Kernel {
            member,
            b,
            s: 0.5 * alpha,
            m: 0.5 * (alpha - 2.0),
            alpha_m1: alpha - 1.0,
            inv_alpha: 1.0 / alpha,
            inv_sqrt_b: 1.0 / libm::sqrt(b),
            inv_c,
            inv_c2: inv_c * inv_c,
            ln_b: libm::log(b),
            ln_inv_c: -libm::log(self.scale),
        }
    }

    /// The constants of the α-derivative's lane formulas, computed once per call.
    fn alpha_kernel<const W: bool>(&self) -> AlphaKernel<W> {
        let alpha = self.alpha;
        let k = self.kernel();
        let form = if alpha == f64::NEG_INFINITY {
            Form::Welsch
        } else if alpha == 2.0 {
            Form::Pole
        } else if (1.0..=3.0).contains(&alpha) {
            Form::NearL2
        } else if -2.0 < alpha && alpha < 1.0 {
            Form::Middle
        } else {
            Form::Far
        };
        let t = libm::fmax(libm::fabs(k.s), libm::fabs(k.m));
        AlphaKernel {
            form,
            k,
            t,
            // The series serves the finite α other than 2.
            series: if matches!(form, Form::Welsch | Form::Pole) {
                [0.0; SERIES_TERMS]
            } else {
                alpha_series(k.s, t)
            },
            sigma: if alpha > 2.0 { 1.0 } else { -1.0 },
        }
    }
}

/// Which member of the family the value, gradient and Hessian formulas are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    /// `α = −∞`.
    Welsch,
    /// `α = 0`.
    Cauchy,
    /// `α = 1`.
    Charbonnier,
    /// `α = 2`.
    L2,
    /// `1 ≤ α ≤ 3` otherwise: the form without `b/α`.
    NearL2,
    /// Every other finite `α`: `½ b L E(sL)`.
    General,
}

/// The lane formulas of the loss, with the constants that depend on `α` and `c` only.
#[derive(Clone, Copy, Debug)]
struct Kernel {
    member: Member,
    /// `|α − 2|`.
    b: f64,
    /// `α/2`.
    s: f64,
    /// `(α − 2)/2`.
    m: f64,
    /// `α − 1`.
    alpha_m1: f64,
    /// `1/α`.
    inv_alpha: f64,
    /// `1/√b`.
    inv_sqrt_b: f64,
    /// `1/c`.
    inv_c: f64,
    /// `1/c²`.
    inv_c2: f64,
    /// `ln b`.
    ln_b: f64,
    /// `ln(1/c)`.
    ln_inv_c: f64,
}

/// A vector of `like`'s backend with every lane `c` (rounded to the element type).
#[inline(always)]
fn k<V: Vector>(like: V, c: f64) -> V {
    like.splat(<V::Elem as Float>::from_f64(c))
}

/// `true` for f32 lanes (a constant after monomorphisation).
#[inline(always)]
fn is_f32<V: Vector>() -> bool {
    <V::Elem as Float>::MANTISSA_DIGITS == 24
}

/// `E(y) = expm1(y)/y`, 1 at `y = 0` (the first divided difference `exp[0, y]`): accurate
/// for every `y`, `+∞` where `e^y` overflows, `−1/y` for very negative `y`.
#[inline(always)]
fn exprel<V: Vector>(y: V) -> V {
    let zero = k(y, 0.0);
    V::select(y.eq(zero), k(y, 1.0), expm1(y).div(y))
}

/// `E'(y) = Σₙ (n + 1) yⁿ / (n + 2)!` for `|y| ≤ 1`, highest first: 19 terms reach 2⁻⁵³
/// relative (the sum is ≥ E'(−1) ≈ 0.26), 12 reach 2⁻²⁴.
const EXPREL_PRIME: [f64; 19] = {
    let mut c = [0.0; 19];
    let mut fact = 2.0; // (n + 2)!
    let mut n = 0;
    while n < 19 {
        c[18 - n] = (n + 1) as f64 / fact;
        fact *= (n + 3) as f64;
        n += 1;
    }
    c
};

/// Horner's rule over `c` (highest coefficient first).
#[inline(always)]
fn horner<V: Vector>(x: V, c: &[f64]) -> V {
    let mut acc = k(x, c[0]);
    for &ci in &c[1..] {
        acc = acc.mul_add(x, k(x, ci));
    }
    acc
}

/// `E'(y)` by its series, for `|y| ≤ 1`.
#[inline(always)]
fn exprel_prime_series<V: Vector>(y: V) -> V {
    let c = if is_f32::<V>() {
        &EXPREL_PRIME[7..]
    } else {
        &EXPREL_PRIME[..]
    };
    horner(y, c)
}

/// `E'(y) = exp[0, y, y] = ((y − 1) e^y + 1)/y²`: the series for `|y| < 1`, where the
/// closed form cancels, and the closed form (cancelling at most a factor 3) beyond.
#[inline(always)]
fn exprel_prime<V: Vector>(y: V) -> V {
    let one = k(y, 1.0);
    let closed = y.sub(one).mul_add(exp(y), one).div(y.mul(y));
    V::select(y.abs().lt(one), exprel_prime_series(y), closed)
}

/// What every general formula needs of `a = |x| ≥ 0`.
#[derive(Clone, Copy)]
struct Parts<V: Vector> {
    /// `L = log1p(u)`, `u = a²/b`.
    l: V,
    /// `u` (finite where `moderate`).
    u: V,
    /// `w = u/(1 + u)`.
    w: V,
    /// `1/(1 + u)`.
    iu: V,
    /// `q = a/√b` below the threshold where `u = q²` is formed.
    moderate: V::Mask,
}

/// The [`Parts`] of `a`. Where `q = a/√b` is large, `L = 2 log1p(q)` (`ln(1 + q²) −
/// 2 ln(1 + q) < 2/q` is below rounding there) and `w = 1`, so that `u = q²` is only used
/// where it is finite; where `q` itself overflows (`b < 1`, `a` near the top of the range),
/// `L = 2 log1p(a) − ln b` (`a ≥ 2^30` there too). One `log1p` in every case.
#[inline(always)]
fn parts<V: Vector>(kern: &Kernel, a: V) -> Parts<V> {
    let one = k(a, 1.0);
    // f32: 2/q ≤ 2^-29 against L ≥ 41; f64: 2^-59 against L ≥ 83. q² stays finite below.
    let big = if is_f32::<V>() {
        1073741824.0 // 2^30
    } else {
        1152921504606846976.0 // 2^60
    };
    let q = a.mul(k(a, kern.inv_sqrt_b));
    let moderate = q.lt(k(a, big));
    let q_over = q.eq(k(a, f64::INFINITY));
    let u = q.mul(q);
    let arg = V::select(moderate, u, V::select(q_over, a, q));
    let l = log1p(arg)
        .mul(V::select(moderate, one, k(a, 2.0)))
        .sub(V::select(q_over, k(a, kern.ln_b), k(a, 0.0)));
    let iu = one.div(one.add(u));
    Parts {
        l,
        u,
        w: V::select(moderate, u.mul(iu), one),
        iu,
        moderate,
    }
}

/// `√(1 + a²)`, taken as `a` where that is the correctly rounded value (so `a²` never
/// overflows), as in the pseudo-Huber loss.
#[inline(always)]
fn hypot1<V: Vector>(a: V) -> (V, V::Mask) {
    let big = if is_f32::<V>() {
        134217728.0 // 2^27
    } else {
        1152921504606846976.0 // 2^60
    };
    let moderate = a.lt(k(a, big));
    (
        V::select(moderate, a.mul_add(a, k(a, 1.0)).sqrt(), a),
        moderate,
    )
}

impl Kernel {
    /// `(r, a, huge)` for `a = |r|/c`; `huge` marks the lanes where `a` overflowed (a
    /// residual `p − t` beyond the float range, or `|r|/c`), which [`Kernel::huge`] serves.
    #[inline(always)]
    fn residual<V: Vector>(&self, p: V, t: V) -> (V, V, V::Mask) {
        let r = p.sub(t);
        let a = r.abs().mul(k(p, self.inv_c));
        (r, a, a.eq(k(p, f64::INFINITY)))
    }

    /// For the lanes whose `a = |x|` overflowed: `(ln a, L)` with
    /// `ln a = ln|p·2⁻⁶⁴ − t·2⁻⁶⁴| + ln(2⁶⁴/c)` (the scaled difference is finite, as
    /// `1/c ≤ 2⁶³`) and `L = log1p(a²/b) = 2 ln a − ln b` (they differ by `b/a²`, far below
    /// rounding there). Every formula is then written with `ln a` in the exponent, so that
    /// the result is the loss at the true residual: finite wherever that is.
    #[inline(always)]
    fn huge<V: Vector>(&self, p: V, t: V) -> (V, V) {
        let k64 = k(p, 1.0 / 18446744073709551616.0);
        let la = ln(p.mul(k64).sub(t.mul(k64)).abs())
            .add(k(p, self.ln_inv_c + 64.0 * core::f64::consts::LN_2));
        (la, la.add(la).sub(k(p, self.ln_b)))
    }

    /// `(ρ, |∂ρ/∂p|)` for finite `a`.
    #[inline(always)]
    fn value_grad<V: Vector>(&self, a: V) -> (V, V) {
        let one = k(a, 1.0);
        let half = k(a, 0.5);
        let inv_c = k(a, self.inv_c);
        match self.member {
            Member::L2 => (half.mul(a).mul(a), a.mul(inv_c)),
            Member::Welsch => {
                let hz = half.mul(a).mul(a);
                // x e^(−z/2) as (x e^(−z/4)) e^(−z/4): no 0·∞ where e^(−z/2) underflows.
                let h = exp(half.mul(hz).neg());
                (expm1(hz.neg()).neg(), a.mul(h).mul(h).mul(inv_c))
            }
            Member::Cauchy => {
                let pp = parts(self, a);
                // a/(1 + a²/2): as 1/(1/a + a/2) from a = 1 up, without forming a² (which
                // overflows f32 beyond 1.8e19); below 1 as it is, since 1/a overflows f32 for
                // a subnormal a (below 2.9e-39 the gradient ≈ a was 0).
                let plain = inv_c.mul(a).div(half.mul(a).mul_add(a, one));
                let far = inv_c.div(one.div(a).add(half.mul(a)));
                (pp.l, V::select(a.lt(one), plain, far))
            }
            Member::Charbonnier => {
                let (sq, moderate) = hypot1(a);
                // Far out a/(√(1 + a²) + 1) and a/√(1 + a²) are 1 to rounding.
                (
                    a.mul(V::select(moderate, a.div(sq.add(one)), one)),
                    V::select(moderate, a.div(sq), one).mul(inv_c),
                )
            }
            Member::NearL2 => {
                let pp = parts(self, a);
                let v = pp.l.mul(k(a, self.m));
                let h = exp(half.mul(v));
                let ah = a.mul(h);
                // z e^v + b expm1(v), with z e^v = (a e^(v/2))² finite wherever ρ is.
                let value = ah
                    .mul_add(ah, k(a, self.b).mul(expm1(v)))
                    .mul(k(a, self.inv_alpha));
                (value, ah.mul(h).mul(inv_c))
            }
            Member::General => {
                let pp = parts(self, a);
                let e = exprel(pp.l.mul(k(a, self.s)));
                // ½ b L = ½ z · L/u: the second where u is formed, so that a tiny u (below
                // the float range for large b) still gives ½ z, not 0.
                let ratio = V::select(pp.u.eq(k(a, 0.0)), one, pp.l.div(pp.u));
                let bl = V::select(pp.moderate, a.mul(a).mul(ratio), k(a, self.b).mul(pp.l));
                let h = exp(half.mul(pp.l.mul(k(a, self.m))));
                (half.mul(bl).mul(e), a.mul(h).mul(h).mul(inv_c))
            }
        }
    }

    /// `(ρ, |∂ρ/∂p|)` at the lanes [`Kernel::huge`] serves (`a²` beyond the float range:
    /// Welsch is 1 with gradient 0, Charbonnier `a` with `1/c`).
    #[inline(always)]
    fn value_grad_huge<V: Vector>(&self, p: V, t: V) -> (V, V) {
        let (la, l) = self.huge(p, t);
        let one = k(p, 1.0);
        let half = k(p, 0.5);
        let ln_inv_c = k(p, self.ln_inv_c);
        match self.member {
            Member::L2 => (half.mul(exp(la.add(la))), exp(la.add(ln_inv_c))),
            Member::Welsch => (one, k(p, 0.0)),
            // a/(1 + a²/2) = 2/a to rounding.
            Member::Cauchy => (l, k(p, 2.0 * self.inv_c).mul(exp(la.neg()))),
            Member::Charbonnier => (exp(la), k(p, self.inv_c)),
            Member::NearL2 => {
                let v = l.mul(k(p, self.m));
                let value = exp(la.add(la).add(v))
                    .add(k(p, self.b).mul(expm1(v)))
                    .mul(k(p, self.inv_alpha));
                (value, exp(la.add(v).add(ln_inv_c)))
            }
            Member::General => {
                let v = l.mul(k(p, self.m));
                let e = exprel(l.mul(k(p, self.s)));
                (
                    k(p, 0.5 * self.b).mul(l).mul(e),
                    exp(la.add(v).add(ln_inv_c)),
                )
            }
        }
    }

    /// `∂²ρ/∂p²` for finite `a`.
    #[inline(always)]
    fn hess_finite<V: Vector>(&self, a: V) -> V {
        let one = k(a, 1.0);
        let half = k(a, 0.5);
        let inv_c2 = k(a, self.inv_c2);
        let zero = k(a, 0.0);
        match self.member {
            Member::L2 => inv_c2,
            Member::Welsch => {
                let e = exp(half.mul(a).mul(a).neg());
                // e (1 − z) with 1 − z = (1 − a)(1 + a), exact but for one rounding also
                // next to the zero at a = 1, and e = 0 (z beyond the exponent range) giving
                // 0, not 0·∞.
                let f = one.sub(a).mul(one.add(a));
                V::select(e.eq(zero), zero, inv_c2.mul(e).mul(f))
            }
            Member::Cauchy => {
                // (1 − z/2)/(1 + z/2)² = q (2q − 1) with q = 1/(1 + z/2). Beyond |a| = 2³²
                // (where a² overflows f32 from 1.8e19, while −2/a² is still in its subnormal
                // range up to 1.9e22) it is −2/z to rounding, formed as (−2/a)·(1/a).
                let q = one.div(half.mul(a).mul_add(a, one));
                let b = one.div(a);
                V::select(
                    a.abs().lt(k(a, 4_294_967_296.0)),
                    inv_c2.mul(q).mul(q.add(q).sub(one)),
                    inv_c2.mul(k(a, -2.0).mul(b)).mul(b),
                )
            }
            Member::Charbonnier => {
                let (sq, _) = hypot1(a);
                let i = one.div(sq);
                inv_c2.mul(i).mul(i).mul(i)
            }
            Member::NearL2 | Member::General => {
                let pp = parts(self, a);
                let h = exp(half.mul(pp.l.mul(k(a, self.m))));
                // 1 + (α − 2) w = 1/(1 + u) + (α − 1) w: two terms of one sign for α ≥ 1
                // (1 − w would cancel for large u near α = 1); for α < 1 the zero of
                // 1 + (α − 1) u is the Hessian's own.
                inv_c2
                    .mul(h)
                    .mul(h)
                    .mul(k(a, self.alpha_m1).mul_add(pp.w, pp.iu))
            }
        }
    }

    /// `∂²ρ/∂p²` at the lanes [`Kernel::huge`] serves.
    #[inline(always)]
    fn hess_huge<V: Vector>(&self, p: V, t: V) -> V {
        let (la, l) = self.huge(p, t);
        let inv_c2 = k(p, self.inv_c2);
        match self.member {
            Member::L2 => inv_c2,
            Member::Welsch => k(p, 0.0),
            // (1 − z/2)/(1 + z/2)² = −2/z to rounding.
            Member::Cauchy => k(p, -2.0 * self.inv_c2).mul(exp(la.add(la).neg())),
            Member::Charbonnier => inv_c2.mul(exp(la.add(la).add(la).neg())),
            // w = 1, 1/(1 + u) = 0.
            Member::NearL2 | Member::General => {
                exp(l.mul(k(p, self.m)).add(k(p, 2.0 * self.ln_inv_c))).mul(k(p, self.alpha_m1))
            }
        }
    }
}

impl Pointwise for Kernel {
    crate::shape::pointwise::compiled_once!(Kernel);
    fn check(&self) -> Result<()> {
        // The parameters were checked by `Barron::check` before the constants were made.
        Ok(())
    }

    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let (r, a, huge) = self.residual(p, t);
        let (mut value, mut grad) = self.value_grad(a);
        // Rare (an overflowed residual): a branch, so the common path pays one test.
        if V::mask_any(huge) {
            let (hv, hg) = self.value_grad_huge(p, t);
            value = V::select(huge, hv, value);
            grad = V::select(huge, hg, grad);
        }
        Terms {
            value,
            grad: grad.copysign(r),
            grad_aux: r,
        }
    }

    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let (_, a, huge) = self.residual(p, t);
        let h = self.hess_finite(a);
        if V::mask_any(huge) {
            V::select(huge, self.hess_huge(p, t), h)
        } else {
            h
        }
    }
}

/// Which divided-difference recursion evaluates `∂ρ/∂α` outside the series' range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `α = −∞`: `∂ρ/∂α = 0`.
    Welsch,
    /// `α = 2`: `+∞` where `x ≠ 0`.
    Pole,
    /// `1 ≤ α ≤ 3`: `[(z + b) e^v (L − w)/2 + σ expm1(v) − ρ]/α`, `v = mL`, `σ = sign(α − 2)`.
    NearL2,
    /// `−2 < α < 1`: `¼ b (L² E'(sL) + L (E(mL) − E(sL)))`.
    Middle,
    /// `α ≤ −2`, `α > 3`: `¼ b L³ (e^v E'(L) − (e^v E(L) − E(v))/y)/y`, `y = sL`, `v = mL`.
    Far,
}

/// Terms of the series of `∂ρ/∂α` kept in f64 (f32 keeps the first 11).
const SERIES_TERMS: usize = 19;

/// The coefficients `d_k = c_k / ((k + 2)! Tᵏ⁻¹)`, `k = 1..=19`, highest first, of
/// `L³·exp[0, mL, sL, sL] = L³ Σ d_k tᵏ⁻¹`, `t = T L`, where
/// `c_k = (k + 1) sᵏ + (s − 1)ᵏ⁺¹ − sᵏ⁺¹ = Σ_{j<k} C(k+1, j) sʲ (−1)^(k+1−j)`.
/// Scaled by `T = max(|s|, |s − 1|) ≥ ½`, no power of `s` overflows for any finite `α`, and
/// `|d_k|` falls from `d_1 = 1/6` to below `2⁻⁵⁵` at `k = 19` (`2⁻²⁷` at `k = 11`) for every
/// `α`, while the sum is at least `e⁻¹/6` for `t < 1`.
fn alpha_series(s: f64, t: f64) -> [f64; SERIES_TERMS] {
    let sigma = s / t; // |σ| ≤ 1
    let inv_t = 1.0 / t;
    let mut d = [0.0; SERIES_TERMS];
    let mut fact = 6.0; // (k + 2)!
    for kk in 1..=SERIES_TERMS {
        // Σ_{j<k} C(k+1, j) (s/T)ʲ T^(j−(k−1)) (−1)^(k+1−j)
        let mut sum = 0.0;
        let mut binom = 1.0; // C(k+1, j)
        for j in 0..kk {
            let sign = if (kk + 1 - j) % 2 == 0 { 1.0 } else { -1.0 };
            sum +=
                sign * binom * libm::pow(sigma, j as f64) * libm::pow(inv_t, (kk - 1 - j) as f64);
            binom = binom * (kk + 1 - j) as f64 / (j + 1) as f64;
        }
        d[SERIES_TERMS - kk] = sum / fact;
        fact *= (kk + 3) as f64;
    }
    d
}

/// The lane formulas of `w · ∂ρ/∂α` (per element, `w` the weight or 1). With `W`, the
/// weights are the driver's auxiliary input, so that a zero weight gives exactly 0 where
/// `∂ρ/∂α = +∞` (at `α = 2`) instead of `0·∞`.
#[derive(Clone, Copy, Debug)]
struct AlphaKernel<const W: bool> {
    form: Form,
    k: Kernel,
    /// `T = max(|s|, |m|)`: the series runs for `T L < 1`.
    t: f64,
    series: [f64; SERIES_TERMS],
    /// `sign(α − 2)`.
    sigma: f64,
}

impl<const W: bool> AlphaKernel<W> {
    /// The closed form of `∂ρ/∂α` for this `α`'s [`Form`] (not `Welsch`, `Pole`), given
    /// `L`, `w` and `x = a` (or, with `huge`, `x = ln a`, `w = 1`).
    #[inline(always)]
    fn closed<V: Vector>(&self, l: V, w: V, x: V, huge: bool) -> V {
        let kern = &self.k;
        let one = k(l, 1.0);
        let half = k(l, 0.5);
        let quarter_b = k(l, 0.25 * kern.b);
        let v = l.mul(k(l, kern.m));
        match self.form {
            Form::NearL2 => {
                let h = exp(half.mul(v));
                let em = expm1(v);
                let b = k(l, kern.b);
                // z e^v = (a e^(v/2))², or e^(2 ln a + v).
                let zev = if huge {
                    exp(x.add(x).add(v))
                } else {
                    let ah = x.mul(h);
                    ah.mul(ah)
                };
                let inv_alpha = k(l, kern.inv_alpha);
                let rho = b.mul_add(em, zev).mul(inv_alpha);
                let first = b.mul(h).mul_add(h, zev).mul(half.mul(l.sub(w)));
                first.add(k(l, self.sigma).mul(em)).sub(rho).mul(inv_alpha)
            }
            Form::Middle => {
                let y = l.mul(k(l, kern.s));
                let ll = l.mul(l);
                quarter_b.mul(ll.mul_add(exprel_prime(y), l.mul(exprel(v).sub(exprel(y)))))
            }
            _ => {
                let y = l.mul(k(l, kern.s));
                let ey = exp(y);
                let ev = exp(v);
                let small = l.lt(one);
                // e^v E(L) and e^v E'(L): for L < 1 as products (the series of E'), for
                // L ≥ 1 from e^y = e^(v + L) and e^v, so that neither e^L alone nor 0·∞
                // appears.
                let ev_e = V::select(small, ev.mul(exprel(l)), ey.sub(ev).div(l));
                let ev_ep = V::select(
                    small,
                    ev.mul(exprel_prime_series(l)),
                    l.sub(one).mul_add(ey, ev).div(l.mul(l)),
                );
                // ¼ b L³ (e^v E'(L) − (e^v E(L) − E(v))/y)/y, with ¼ b L³/y (bounded: b/s ≤ 4
                // here) formed first, so that no factor underflows where the result does not
                // (for large |α| the bracket is ≈ 1/(v y)).
                let scale = quarter_b.mul(l).mul(l).mul(l.div(y));
                scale.mul(ev_ep.sub(ev_e.sub(exprel(v)).div(y)))
            }
        }
    }

    /// `∂ρ/∂α` at each lane.
    #[inline(always)]
    fn d_alpha<V: Vector>(&self, p: V, t: V) -> V {
        let kern = &self.k;
        let (_, a, huge) = kern.residual(p, t);
        let zero = k(p, 0.0);
        let one = k(p, 1.0);
        let inf = k(p, f64::INFINITY);
        match self.form {
            Form::Welsch => return zero,
            Form::Pole => return V::select(a.eq(zero), zero, inf),
            Form::NearL2 | Form::Middle | Form::Far => {}
        }
        let pp = parts(kern, a);
        let l = pp.l;
        // The series, for all nodes within 1 of 0.
        let tl = l.mul(k(p, self.t));
        let terms = if is_f32::<V>() {
            &self.series[SERIES_TERMS - 11..]
        } else {
            &self.series[..]
        };
        let series = k(p, 0.25 * kern.b)
            .mul(l)
            .mul(l)
            .mul(l.mul(horner(tl, terms)));
        let mut d = V::select(tl.lt(one), series, self.closed(l, pp.w, a, false));
        // Rare (an overflowed residual): a branch, so the common path pays one test.
        if V::mask_any(huge) {
            let (la, lh) = kern.huge(p, t);
            d = V::select(huge, self.closed(lh, one, la, true), d);
        }
        // ∂ρ/∂α ≥ 0: a NaN here is ∞ − ∞ of an overflowed result.
        V::select(d.is_nan(), inf, d)
    }
}

impl<const W: bool> Pointwise for AlphaKernel<W> {
    const AUX: bool = W;
    const AUX_NAME: &'static str = "weight";

    fn check(&self) -> Result<()> {
        // The parameters were checked by `Barron::check` before the constants were made.
        Ok(())
    }

    /// Every output of this kernel is the per-element `w · ∂ρ/∂α`: the value verbs sum it,
    /// the gradient verbs write it scaled by the reduction.
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, w: V) -> Terms<V> {
        let d = self.hess(p, t, w);
        Terms {
            value: d,
            grad: d,
            grad_aux: d,
        }
    }

    /// The same per-element `w · ∂ρ/∂α` (no verb of this kernel asks for a Hessian).
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, w: V) -> V {
        let d = self.d_alpha(p, t);
        if W {
            let zero = k(p, 0.0);
            V::select(w.eq(zero), zero, w.mul(d))
        } else {
            d
        }
    }
}

impl Pointwise for Barron {
    fn check(&self) -> Result<()> {
        self.check_params()
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, a: V) -> Terms<V> {
        self.kernel().eval(p, t, a)
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, a: V) -> V {
        self.kernel().hess(p, t, a)
    }
    /// Runs the kernel with its constants computed once (logarithms, reciprocals and the
    /// choice of formula), not once per vector.
    #[inline]
    #[allow(private_interfaces)]
    fn pass<F: Float, const VERB: u8>(
        &self,
        backend: Backend,
        inp: Inputs<'_, F>,
        out: Outputs<'_, F>,
        scale: F,
    ) -> Result<Outcome<F>> {
        self.kernel().pass::<F, VERB>(backend, inp, out, scale)
    }
}

/// Runs one verb of `w · ∂ρ/∂α` on `backend` (weights as the kernel's auxiliary input).
fn alpha_pass<F: Float, const VERB: u8>(
    loss: &Barron,
    backend: Backend,
    (pred, target, weight): (&[F], &[F], Option<&[F]>),
    out: Outputs<'_, F>,
    reduction: Reduction,
) -> Result<F> {
    loss.check_params()?;
    let outs: &[(&'static str, usize)] = if VERB == verb::VALUE {
        &[]
    } else {
        &[("out", out.main.len())]
    };
    match weight {
        Some(w) => {
            let k = loss.alpha_kernel::<true>();
            pointwise::validate(&k, pred, target, w, None, outs)?;
            let inp = Inputs {
                p: pred,
                t: target,
                a: w,
                w: None,
            };
            pointwise::execute::<F, AlphaKernel<true>, VERB>(backend, &k, inp, out, reduction)
        }
        None => {
            let k = loss.alpha_kernel::<false>();
            pointwise::validate(&k, pred, target, &[], None, outs)?;
            let inp = Inputs {
                p: pred,
                t: target,
                a: &[],
                w: None,
            };
            pointwise::execute::<F, AlphaKernel<false>, VERB>(backend, &k, inp, out, reduction)
        }
    }
}

macro_rules! alpha_verbs {
    ($ty:ty, $loss:expr, $backend:expr) => {
        impl $ty {
            /// The gradient of the reduced loss with respect to the shared shape `α`,
            /// `∂L/∂α = scale · Σ wᵢ ∂ρᵢ/∂α` (`scale` from the reduction, as for
            /// [`value`](PointwiseLoss::value)). Always ≥ 0 for non-negative weights; `+∞` at
            /// `α = 2` when a residual with a non-zero weight is not 0 (the true derivative has
            /// a logarithmic pole there), 0 for Welsch (`α = −∞`). An element with weight 0
            /// contributes exactly 0.
            ///
            /// # Errors
            /// As [`value`](PointwiseLoss::value).
            pub fn grad_alpha<F: Float>(
                &self,
                pred: &[F],
                target: &[F],
                weight: Option<&[F]>,
                reduction: Reduction,
            ) -> Result<F> {
                alpha_pass::<F, { verb::VALUE }>(
                    &$loss(self),
                    $backend(self),
                    (pred, target, weight),
                    Outputs::none(),
                    reduction,
                )
            }

            /// Each element's share of [`grad_alpha`](Self::grad_alpha),
            /// `scale · wᵢ ∂ρᵢ/∂α`, written or added into `out` (for a custom reduction, or
            /// a per-group `α`); returns their sum, `∂L/∂α`, from the same pass.
            ///
            /// # Errors
            /// As [`grad`](PointwiseLoss::grad), with `out` in place of `grad`.
            pub fn grad_alpha_elementwise<'g, F: Float>(
                &self,
                pred: &[F],
                target: &[F],
                weight: Option<&[F]>,
                reduction: Reduction,
                out: impl Into<Out<'g, F>>,
            ) -> Result<F> {
                alpha_pass::<F, { verb::VALUE_AND_GRAD }>(
                    &$loss(self),
                    $backend(self),
                    (pred, target, weight),
                    Outputs::main(out.into()),
                    reduction,
                )
            }

            /// What one step of the adaptive loss needs: the reduced loss and `∂L/∂α`,
            /// returned as `(L, ∂L/∂α)`, with `∂L/∂pred` written or added into `grad`. Two
            /// passes over the inputs ([`value_and_grad`](PointwiseLoss::value_and_grad),
            /// then [`grad_alpha`](Self::grad_alpha)); `L` and `grad` are bit-identical to
            /// `value_and_grad`'s.
            ///
            /// # Errors
            /// As [`value_and_grad`](PointwiseLoss::value_and_grad); on an error nothing
            /// else is computed.
            pub fn value_and_grads<'g, F: Float>(
                &self,
                pred: &[F],
                target: &[F],
                weight: Option<&[F]>,
                reduction: Reduction,
                grad: impl Into<Out<'g, F>>,
            ) -> Result<(F, F)> {
                let v = PointwiseLoss::value_and_grad(self, pred, target, weight, reduction, grad)?;
                let d = self.grad_alpha(pred, target, weight, reduction)?;
                Ok((v, d))
            }
        }
    };
}

alpha_verbs!(Barron, |l: &Barron| *l, |_: &Barron| Backend::active());
alpha_verbs!(On<Barron>, |l: &On<Barron>| *l.loss(), |l: &On<Barron>| l
    .pinned_backend());
