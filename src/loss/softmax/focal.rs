//! Softmax focal loss (Lin et al. 2017, multiclass form).

use super::{Extra, Labelled, in_range, labelled, xmul};
use crate::label::Label;
use crate::shape::row_checks::mean_scale;
use crate::shape::row_softmax::{Coef, Logits, REST_BELOW, RowStats, Rule, Tau, Verb};
use crate::simd::Float;
use crate::{Backend, Reduction, Result};

/// Softmax focal loss with integer labels: for a row with `p_t = softmax(x)_y`,
///
/// ```text
/// ℓ = −α_y·(1 − p_t)^γ·log p_t
/// ∂ℓ/∂xⱼ = K·(pⱼ − [j = y]),   K = α_y·(1 − p_t)^γ·(1 − γ·p_t·log p_t / (1 − p_t))
/// ```
///
/// `(1 − p_t)` is computed as `−expm1(log p_t)` and `log p_t` in shifted log space, and
/// when the label holds the row's largest logit and `p_t > 2/3`, as the other classes'
/// share `Σ_{j≠y} exp(xⱼ − m) / S` (summed apart from the label's 1, which would round it
/// away: PyTorch's `(1 − p)^γ` gives exactly 0 for such a row once `1 − p_t < 2⁻⁵³`), so the
/// factor is accurate when `p_t` is near 1 and the gradient stays finite for `γ < 1` at
/// `p_t = 1` (its limit there is 0 for `γ > 0`, `α_y` for `γ = 0`). `α` is an optional
/// per-class balance (MONAI/kornia use a scalar α for class 0 and 1 − α for the others: pass
/// that as a vector). `Mean` divides by the number of rows that are not ignored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftmaxFocal<'w, F: Float> {
    /// The focusing exponent `γ`, in `[0, f32::MAX]` (default 2).
    pub gamma: f64,
    /// Per-class balance `α_c ≥ 0` (default none: all 1).
    pub alpha: Option<&'w [F]>,
    /// Rows whose label equals this are ignored (default `Some(-100)`).
    pub ignore_index: Option<i64>,
}

impl<F: Float> Default for SoftmaxFocal<'_, F> {
    fn default() -> Self {
        SoftmaxFocal {
            gamma: 2.0,
            alpha: None,
            ignore_index: Some(-100),
        }
    }
}

#[derive(Clone, Copy)]
struct FocalRule {
    gamma: f64,
}

impl Rule for FocalRule {
    #[inline]
    fn rest_below(&self) -> f64 {
        REST_BELOW
    }
    #[inline]
    fn row(&self, st: &RowStats, _label: Option<usize>, [s, _]: [f64; 2]) -> Coef {
        // A confident row (the label holds the largest logit, the others' share is small):
        // p_t = 1/S and 1 − p_t = rest/S from the other classes' share itself, which `S`
        // rounds away (in f64 `S = 1` once it is below 2⁻⁵³, and the loss would be 0).
        let (log_pt, pt, q) = match st.rest {
            Some(rest) => {
                let sum = 1.0 + rest;
                (-st.ln_sum(), 1.0 / sum, rest / sum)
            }
            None => {
                let log_pt = st.zy - st.ln_sum();
                (log_pt, libm::exp(log_pt), -libm::expm1(log_pt))
            }
        };
        let qg = if self.gamma == 0.0 {
            1.0
        } else {
            libm::pow(q, self.gamma)
        };
        let alpha = st.wy;
        // γ·p_t·log p_t/(1 − p_t): its limit is −γ at p_t = 1, and 0 at p_t = 0.
        let ratio = if pt == 0.0 {
            0.0
        } else if q > 0.0 {
            self.gamma * pt * (log_pt / q)
        } else {
            -self.gamma
        };
        let k = alpha * qg * (1.0 - ratio);
        Coef {
            value: xmul(s, -xmul(alpha * qg, log_pt)),
            a: s * k,
            b: 0.0,
            d: s * k,
            h_pq: 0.0,
            h_pp: 0.0,
        }
    }
}

impl<'w, F: Float> SoftmaxFocal<'w, F> {
    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming the field.
    pub fn check(&self) -> Result<()> {
        in_range(
            "gamma",
            self.gamma,
            0.0,
            f64::from(f32::MAX),
            "must be in [0, f32::MAX]",
        )
    }

    crate::simd::fold_inline! {
    #[allow(clippy::too_many_arguments)]
    fn call<L: Label>(
        &self,
        backend: Backend,
        verb: Verb,
        logits: Logits<'_, F>,
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        extra: Extra<'_, F>,
    ) -> Result<f64> {
        self.check()?;
        labelled(
            Labelled {
                backend,
                rows: labels.len(),
                classes,
                labels: Some(labels),
                ignore_index: self.ignore_index,
                class_weights: self.alpha,
                cap: None,
            },
            &FocalRule { gamma: self.gamma },
            verb,
            logits,
            Tau::labelled(false, self.alpha, false),
            |t| Ok([mean_scale(reduction, t.count as f64)?, 0.0]),
            extra,
        )
    }
    }
}

labelled_kernel!(SoftmaxFocal);
