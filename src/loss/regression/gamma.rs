//! Gamma regression on log-predictions (XGBoost `reg:gamma`): see [`Gamma`].

use crate::Result;
use crate::shape::pointwise::{Pointwise, Terms};
use crate::simd::math::{ln, mul_exp, mul_expm1mx};
use crate::simd::{Float, Vector};

/// Gamma regression with a log link (XGBoost `reg:gamma`, LightGBM `gamma`, scikit-learn
/// `HalfGammaLoss` and `mean_gamma_deviance`): positive, right-skewed targets whose spread
/// grows with their mean (claim severities, durations, costs).
///
/// The prediction is `s = ln μ` and the target `y > 0`. With `A = y·e^(−s) = y/μ`:
///
/// ```text
/// negative log-likelihood (deviance = false), up to terms in y alone:
/// ℓ = A + s                          ∂ℓ/∂s = 1 − A          ∂²ℓ/∂s² = A
///
/// unit deviance (deviance = true), 0 at μ = y:
/// d = 2·(ln(μ/y) + y/μ − 1)          ∂d/∂s = 2·(1 − A)      ∂²d/∂s² = 2·A
///   = 2·(ℓ(s) − ℓ(ln y))
/// ```
///
/// # Equivalences
///
/// * **XGBoost** `objective="reg:gamma"`: its gradient is exactly `∂ℓ/∂s` (times the
///   sample weight) on the raw margin `s`, and it rejects labels `≤ 0`, as losskit does. Its
///   Hessian is `∂²ℓ/∂s² = y·e^(−s)` where it computes it exactly (`regression_obj.cu`); its
///   newest sources damp it to `(2·y·e^(−s) + 1)/3`, which is not the second derivative.
///   Its `gamma-nloglik` metric (dispersion 1) is the weighted mean of `ℓ`, and
///   `gamma-deviance` the weighted mean of `d` evaluated with a small constant (`kRtEps`)
///   added to both `y` and `μ`.
/// * **LightGBM** `objective="gamma"`: the same gradient and Hessian without weights (with
///   weights its source computes the gradient `1 − w·y·e^(−s)`, not `w·(1 − y·e^(−s))`;
///   losskit weights the whole term). LightGBM checks the labels as for its Poisson
///   objective, so it also accepts `y = 0`, where the gamma likelihood is undefined.
/// * **scikit-learn**: `mean_gamma_deviance(y, μ)` is the mean of `d` (`Reduction::Mean`;
///   with `sample_weight`, `Reduction::Divisor(Σw)`), and equals `mean_tweedie_deviance`
///   with `power=2`. The private `sklearn._loss.HalfGammaLoss`, which `GammaRegressor` and
///   `HistGradientBoostingRegressor(loss="gamma")` minimise, is `ℓ` (`d/2` less its terms in
///   `y` alone), with the same gradient and Hessian.
/// * **PyTorch** has no gamma loss.
///
/// # Numerics
///
/// `A` is computed as one product `y·e^(−s)` (`mul_exp`): finite wherever it is (a tiny `y`
/// with a very negative `s`) and without a subnormal `e^(−s)`'s lost digits. The value,
/// gradient and Hessian are never NaN for finite inputs (`A + s` is `+∞` where `A`
/// overflows). The deviance is `2·E(−v)`, `E(x) = e^x − 1 − x ≥ 0` and `v = s − ln y`,
/// evaluated through `mul_expm1mx` (with `e^(−v) = A`): no cancellation near `μ = y`
/// (accurate to a few ulps relative to itself beyond the rounding of `v`, exactly 0 at
/// `v = 0`), and where `μ ≪ y` from `A` itself, so that `e^(−v)` is not taken of a rounded
/// `v`.
///
/// A target `y ≤ 0` is [`InvalidInput`](crate::Error::InvalidInput) on `target`.
///
/// ```
/// use losskit::prelude::*;
/// let l = Gamma::default(); // the negative log-likelihood
/// // s = 0 (μ = 1), y = 2: ℓ = 2 + 0, ∂ℓ/∂s = 1 − 2
/// let mut g = [9.0f64];
/// let v = l.value_and_grad(&[0.0f64], &[2.0], None, Reduction::Sum, &mut g)?;
/// assert_eq!((v, g[0]), (2.0, -1.0));
/// // The deviance is 0 at μ = y; a target of 0 is outside the domain.
/// let d = Gamma { deviance: true };
/// assert_eq!(d.value(&[0.0f64], &[1.0], None, Reduction::Sum)?, 0.0);
/// assert!(matches!(d.value(&[0.0f64], &[0.0], None, Reduction::Sum),
///                  Err(Error::InvalidInput { name: "target", index: 0 })));
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Gamma {
    /// `false` (default): the negative log-likelihood `ℓ` (XGBoost's and LightGBM's
    /// objective, scikit-learn's `HalfGammaLoss`); `true`: the unit deviance
    /// `d = 2·(ℓ(s) − ℓ(ln y))` (scikit-learn's `mean_gamma_deviance`), whose gradient and
    /// Hessian are twice `ℓ`'s.
    pub deviance: bool,
}

impl Pointwise for Gamma {
    crate::shape::pointwise::compiled_once!(Gamma);
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, _a: V) -> Terms<V> {
        let one = p.splat(<V::Elem as Float>::ONE);
        let big_a = mul_exp(t, p.neg());
        let grad = one.sub(big_a);
        if !self.deviance {
            return Terms {
                value: big_a.add(p),
                grad,
                grad_aux: p,
            };
        }
        // d/2 = E(−v) with e^(−v) = A (C = 1).
        let half = mul_expm1mx(one, ln(t).sub(p), big_a);
        Terms {
            value: half.add(half),
            grad: grad.add(grad),
            grad_aux: p,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let h = mul_exp(t, p.neg());
        if self.deviance { h.add(h) } else { h }
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, t: V, _a: V) -> V {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let nan = p.splat(<V::Elem as Float>::from_f64(f64::NAN));
        V::select(zero.lt(t), zero, nan)
    }
}
