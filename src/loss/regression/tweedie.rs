//! Tweedie regression on log-predictions (XGBoost `reg:tweedie`): see [`Tweedie`].

use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{exp, ln, mul_exp, mul_expm1mx};
use crate::simd::{Float, Vector};
use crate::{Error, Result};

/// Tweedie regression with a log link (XGBoost `reg:tweedie`, LightGBM `tweedie`,
/// scikit-learn `HalfTweedieLoss`), for a variance power `1 < ρ < 2`: compound
/// Poisson–gamma targets (many exact zeros and a skewed positive part: insurance claims,
/// rainfall, sales).
///
/// The prediction is `s = ln μ` and the target `y ≥ 0`. With `a = ρ − 1` and `b = 2 − ρ`
/// (both in `(0, 1)`, `a + b = 1`), `A = y·e^(−a s) = y μ^(1−ρ)` and `B = e^(b s) = μ^(2−ρ)`:
///
/// ```text
/// negative log-likelihood (deviance = false), up to terms in y alone:
/// ℓ = A/a + B/b                      ∂ℓ/∂s = B − A          ∂²ℓ/∂s² = a·A + b·B
///
/// unit deviance (deviance = true), 0 at μ = y:
/// d = 2·(A/a + B/b − y^b/(a·b))      ∂d/∂s = 2·(B − A)      ∂²d/∂s² = 2·(a·A + b·B)
///   = 2·(ℓ(s) − ℓ(ln y))
/// ```
///
/// In the usual notation (`1 − ρ = −a`, `2 − ρ = b`):
/// `ℓ = −y·e^((1−ρ)s)/(1−ρ) + e^((2−ρ)s)/(2−ρ)` and
/// `d = 2·(y^(2−ρ)/((1−ρ)(2−ρ)) − y·μ^(1−ρ)/(1−ρ) + μ^(2−ρ)/(2−ρ))`.
///
/// # Equivalences
///
/// * **XGBoost** `objective="reg:tweedie"`, `tweedie_variance_power=ρ`: its gradient and
///   Hessian are exactly `∂ℓ/∂s` and `∂²ℓ/∂s²` (times the sample weight), on the raw margin
///   `s`; its `tweedie-nloglik@ρ` metric is the weighted mean of `ℓ` (`Reduction::Divisor`
///   with the sum of the weights). XGBoost rejects a negative label, as losskit does.
/// * **LightGBM** `objective="tweedie"`, `tweedie_variance_power=ρ`: the same gradient and
///   Hessian (LightGBM also accepts `ρ = 1`, which is the Poisson loss here:
///   [`PoissonNll`](super::PoissonNll)).
/// * **scikit-learn**: `mean_tweedie_deviance(y, μ, power=ρ)` is the mean of `d`
///   (`Reduction::Mean`; with `sample_weight` it divides by the weights' sum:
///   `Reduction::Divisor(Σw)`). The private `sklearn._loss.HalfTweedieLoss(power=ρ)`, which
///   `TweedieRegressor(power=ρ, link="log")` minimises, is `ℓ` (`d/2` less its terms in `y`
///   alone), with the same gradient and Hessian.
/// * **PyTorch** has no Tweedie loss.
///
/// # Numerics
///
/// `A` is computed as one product `y·e^(−a s)` (`mul_exp`), finite wherever it is (a tiny
/// `y` with a very negative `s`), exactly 0 at `y = 0`. `A` and `B` are never both infinite,
/// so `ℓ`, the gradient and the Hessian are never NaN for finite inputs. The deviance is
/// evaluated without the cancellation of its three terms near `μ = y`: with `u = s − ln y`
/// and `C = y^b`, `d/2 = C·E(b u)/b + C·E(−a u)/a`, `E(x) = e^x − 1 − x ≥ 0`, each term
/// through `mul_expm1mx` (`C·e^(b u) = B`, `C·e^(−a u) = A`), so it is accurate to a few
/// ulps relative to itself (beyond the rounding of `u`), exactly 0 at `u = 0`, and `2B/b`
/// exactly at `y = 0`.
///
/// A negative target is [`InvalidInput`](crate::Error::InvalidInput) on `target`.
///
/// Defaults as XGBoost's `reg:tweedie`: `power = 1.5`, the likelihood.
///
/// ```
/// use losskit::prelude::*;
/// let l = Tweedie::default(); // power 1.5, the negative log-likelihood
/// // s = 0 (μ = 1), y = 1: ℓ = 1/0.5 + 1/0.5, ∂ℓ/∂s = 1 − 1
/// let mut g = [9.0f64];
/// let v = l.value_and_grad(&[0.0f64], &[1.0], None, Reduction::Sum, &mut g)?;
/// assert_eq!((v, g[0]), (4.0, 0.0));
/// // The deviance is 0 at μ = y.
/// let d = Tweedie { power: 1.5, deviance: true };
/// assert_eq!(d.value(&[0.0f64], &[1.0], None, Reduction::Sum)?, 0.0);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tweedie {
    /// The variance power `ρ` (XGBoost's and LightGBM's `tweedie_variance_power`,
    /// scikit-learn's `power`): finite, strictly between 1 and 2 (default 1.5).
    pub power: f64,
    /// `false` (default): the negative log-likelihood `ℓ` (XGBoost's and LightGBM's
    /// objective, scikit-learn's `HalfTweedieLoss`); `true`: the unit deviance
    /// `d = 2·(ℓ(s) − ℓ(ln y))` (scikit-learn's `mean_tweedie_deviance`), whose gradient and
    /// Hessian are twice `ℓ`'s.
    pub deviance: bool,
}

impl Default for Tweedie {
    fn default() -> Self {
        Tweedie {
            power: 1.5,
            deviance: false,
        }
    }
}

impl Pointwise for Tweedie {
    crate::shape::pointwise::compiled_once!(Tweedie);
    fn check(&self) -> Result<()> {
        if self.power > 1.0 && self.power < 2.0 {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "power",
                rule: "must be strictly between 1 and 2",
            })
        }
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let c = |x: f64| p.splat(<V::Elem as Float>::from_f64(x));
        // a = ρ − 1 and b = 2 − ρ are exact in f64 (ρ ∈ (1, 2)), rounded once to the lanes.
        let (a, b) = (self.power - 1.0, 2.0 - self.power);
        let big_a = mul_exp(t, p.mul(c(-a)));
        let big_b = exp(p.mul(c(b)));
        let grad = big_b.sub(big_a);
        if !self.deviance {
            let value = big_a.mul(c(1.0 / a)).add(big_b.mul(c(1.0 / b)));
            return Terms {
                value,
                grad,
                grad_aux: p,
            };
        }
        let ly = ln(t);
        // u = ln(μ/y); +∞ at y = 0, clamped so that the terms below see a finite x (then
        // C = 0 and the value is exactly 2B/b). f32::MAX is finite in both precisions; for
        // y > 0 the clamp binds only where s is so large that B is already +∞.
        let u = p.sub(ly).min(c(f32::MAX as f64));
        let big_c = exp(ly.mul(c(b)));
        let pos = mul_expm1mx(big_c, u.mul(c(b)), big_b).mul(c(2.0 / b));
        let neg = mul_expm1mx(big_c, u.mul(c(-a)), big_a).mul(c(2.0 / a));
        Terms {
            value: pos.add(neg),
            grad: grad.add(grad),
            grad_aux: p,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let c = |x: f64| p.splat(<V::Elem as Float>::from_f64(x));
        let (a, b) = (self.power - 1.0, 2.0 - self.power);
        let big_a = mul_exp(t, p.mul(c(-a)));
        let big_b = exp(p.mul(c(b)));
        let h = big_a.mul(c(a)).add(big_b.mul(c(b)));
        if self.deviance { h.add(h) } else { h }
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let nan = p.splat(<V::Elem as Float>::from_f64(f64::NAN));
        V::select(t.lt(zero), nan, zero)
    }
}
