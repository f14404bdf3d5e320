//! Gaussian negative log-likelihood (PyTorch `GaussianNLLLoss`).
//!
//! For mean `p`, target `t` and variance `σ²`, with `v = max(σ², ε)`:
//!
//! ```text
//! ℓ          = ½ (ln v + (p − t)² / v)   [+ ½ ln 2π if full]
//! ∂ℓ/∂p      = (p − t) / v
//! ∂ℓ/∂σ²     = ½ (1 / v − (p − t)² / v²)
//! ∂²ℓ/∂p²    = 1 / v
//! ```
//!
//! As in PyTorch the clamp is not differentiated (it runs under `no_grad` there): the
//! variance gradient is the formula above at the clamped `v`, also where `σ² < ε`. A
//! negative variance is [`InvalidInput`](crate::Error::InvalidInput) on `var` (PyTorch
//! raises `ValueError`). The variance is per element (for a homoscedastic model, fill the
//! slice with the one variance).
//!
//! Computed as `½ ln v + r·(½ r/v)` with `r/v` formed first, so that the square of a large
//! residual over a large variance does not overflow where the value fits, and a zero
//! residual over a tiny variance gives 0, not `0 · ∞`; `∂ℓ/∂σ²` likewise, as
//! `½/v − (½ r/v)·(r/v)`, whose square is halved before it can overflow.
//! A residual `p − t` that overflows (both finite, opposite signs near the range's end) is
//! formed from halves. `ε` must lie in f32's normal range `[2⁻¹²⁶, f32::MAX]` (PyTorch
//! rounds it to the tensor's precision, where a smaller one clamps at 0 and gives `−∞`).

use crate::reduction::Reduction;
use crate::shape::aux::kernel::AuxKernel;
use crate::shape::pointwise::{self, Inputs, Outputs, Pointwise, Terms};
use crate::shape::rows::Loss;
use crate::simd::math::ln;
use crate::simd::{Backend, Float, Vector};
use crate::{Error, Result};

/// Gaussian NLL with learned per-element variance; defaults as
/// `torch.nn.GaussianNLLLoss(full=False, eps=1e-6)`.
///
/// ```
/// use losskit::prelude::*;
/// let l = GaussianNll::default();
/// let (mut gp, mut gv) = ([0.0f64; 1], [0.0f64; 1]);
/// let v = l.value_and_grad(&[1.0], &[0.0], &[2.0], Reduction::Sum, &mut gp, Some(Out::write(&mut gv)))?;
/// assert!((v - 0.5 * (2f64.ln() + 0.5)).abs() < 1e-15);
/// assert_eq!(gp, [0.5]);
/// assert_eq!(gv, [0.5 * (0.5 - 0.25)]);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianNll {
    /// Add the constant `½ ln 2π` (default `false`).
    pub full: bool,
    /// Lower clamp of the variance (default `1e-6`); in `[f32::MIN_POSITIVE, f32::MAX]`, so
    /// that it is a positive normal number in every precision.
    pub eps: f64,
}

impl Default for GaussianNll {
    fn default() -> Self {
        GaussianNll {
            full: false,
            eps: 1e-6,
        }
    }
}

/// The lane formulas, with the variance as the driver's auxiliary input.
#[derive(Clone, Copy, Debug)]
struct Kernel(GaussianNll);

impl Pointwise for Kernel {
    crate::shape::pointwise::compiled_once!(Kernel);
    const AUX: bool = true;
    const AUX_NAME: &'static str = "var";

    fn check(&self) -> Result<()> {
        let eps = self.0.eps;
        if (f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&eps) {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "eps",
                rule: "must be in [f32::MIN_POSITIVE, f32::MAX]",
            })
        }
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, var: V) -> Terms<V> {
        let half = p.splat(<V::Elem as Float>::from_f64(0.5));
        let two = p.splat(<V::Elem as Float>::from_f64(2.0));
        let one = p.splat(<V::Elem as Float>::ONE);
        let v = var.max(p.splat(<V::Elem as Float>::from_f64(self.0.eps)));
        let inv_v = one.div(v);
        let r = p.sub(t);
        // `r − r` is NaN exactly when `p − t` overflowed (or an input is not finite, which
        // the driver reports): then `r/v = 2·(½p − ½t)/v` and `½r = ½p − ½t`, exact halves.
        let overflowed = r.sub(r).is_nan();
        let half_r_wide = p.mul(half).sub(t.mul(half));
        let rv = V::select(overflowed, half_r_wide.mul(inv_v).mul(two), r.mul(inv_v));
        let quad = V::select(overflowed, half_r_wide, r.mul(half)).mul(rv);
        let mut value = half.mul(ln(v)).add(quad);
        if self.0.full {
            let c = 0.5 * libm::log(core::f64::consts::TAU);
            value = value.add(p.splat(<V::Elem as Float>::from_f64(c)));
        }
        Terms {
            value,
            grad: rv,
            // `½/v − (½·r/v)·(r/v)`: `(r/v)²` alone overflows where half of it fits.
            grad_aux: half.mul(inv_v).sub(half.mul(rv).mul(rv)),
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, _t: V, var: V) -> V {
        let v = var.max(p.splat(<V::Elem as Float>::from_f64(self.0.eps)));
        p.splat(<V::Elem as Float>::ONE).div(v)
    }
    #[inline]
    fn domain_input<V: Vector>(&self, _p: V, _t: V, _a: V) -> &'static str {
        "var"
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, _t: V, var: V) -> V {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        let nan = p.splat(<V::Elem as Float>::from_f64(f64::NAN));
        V::select(var.lt(zero), nan, zero)
    }
}

/// Runs one verb of the Gaussian NLL on `backend`.
fn run<F: Float, const VERB: u8>(
    loss: GaussianNll,
    backend: Backend,
    (pred, target, var): (&[F], &[F], &[F]),
    out: Outputs<'_, F>,
    reduction: Reduction,
) -> Result<F> {
    let k = Kernel(loss);
    pointwise::validate(
        &k,
        pred,
        target,
        var,
        None,
        &[
            (
                "out",
                if out.main.is_empty() {
                    pred.len()
                } else {
                    out.main.len()
                },
            ),
            (
                "grad_var",
                if out.aux.is_empty() {
                    pred.len()
                } else {
                    out.aux.len()
                },
            ),
        ],
    )?;
    let inp = Inputs {
        p: pred,
        t: target,
        a: var,
        w: None,
    };
    pointwise::execute::<F, Kernel, VERB>(backend, &k, inp, out, reduction)
}

impl AuxKernel for GaussianNll {
    #[allow(private_interfaces)]
    #[inline]
    fn run<F: Float, const VERB: u8>(
        &self,
        backend: Backend,
        inputs: (&[F], &[F], &[F]),
        out: Outputs<'_, F>,
        reduction: Reduction,
    ) -> Result<F> {
        run::<F, VERB>(*self, backend, inputs, out, reduction)
    }
}

impl Loss for GaussianNll {}
