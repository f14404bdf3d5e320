//! Negative log-likelihood on log-probabilities (PyTorch `NLLLoss`).

use super::{Extra, to_f};
use crate::label::{Label, Target, classify};
use crate::shape::row_checks::{
    check_class_weights, check_labels, check_len, check_shape, data_error_zeroes, mean_scale,
};
use crate::shape::row_softmax::{Logits, Verb};
use crate::shape::row_sweep::first_bad;
use crate::simd::Float;
use crate::{Backend, Error, Out, Reduction, Result};

/// Negative log-likelihood: for a row of log-probabilities `x` with label `y` and class
/// weights `w`,
///
/// ```text
/// ℓ = −w_y·x_y,    ∂ℓ/∂xⱼ = −w_y·[j = y]
/// ```
///
/// `Mean` divides by `Σ w_y` over the rows that are not ignored (PyTorch); all ignored ⇒ 0.
/// Log-probabilities may be `−∞` (probability 0: the value is then `+∞`); NaN or `+∞` is
/// [`Error::NonFinite`]. Its verbs are those of [`RowLoss`](crate::RowLoss) with `&[L]`
/// labels, and [`RowElementwise`](crate::RowElementwise). It is scalar: one term per row,
/// on every backend.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nll<'w, F: Float> {
    /// One weight per class, 0 or in `[2⁻⁶⁴, 2⁶⁴]` (numerics rule 10;
    /// default none: all 1).
    pub class_weights: Option<&'w [F]>,
    /// Rows whose label equals this are ignored (default `Some(-100)`).
    pub ignore_index: Option<i64>,
}

impl<F: Float> Default for Nll<'_, F> {
    fn default() -> Self {
        Nll {
            class_weights: None,
            ignore_index: Some(-100),
        }
    }
}

impl<'w, F: Float> Nll<'w, F> {
    /// Validates and returns the reduction factor.
    fn prepare<L: Label>(
        &self,
        log_probs: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
    ) -> Result<f64> {
        check_shape(log_probs.len(), labels.len(), classes)?;
        check_class_weights(self.class_weights, classes)?;
        let totals = check_labels(labels, classes, self.ignore_index, self.class_weights)?;
        // The reduction is a parameter: checked before the data, as every loss does.
        let scale = mean_scale(reduction, totals.weight)?;
        if let Some(i) = first_bad(log_probs) {
            return Err(Error::NonFinite {
                name: "log_probs",
                index: i,
            });
        }
        Ok(scale)
    }

    /// `(row, −w_y·x_y)` of every row that is not ignored, and `w_y`.
    fn terms<'a, L: Label>(
        &'a self,
        log_probs: &'a [F],
        classes: usize,
        labels: &'a [L],
    ) -> impl Iterator<Item = (usize, usize, f64, f64)> + 'a {
        labels.iter().enumerate().filter_map(move |(r, &l)| {
            match classify(l, classes, self.ignore_index) {
                Some(Target::Class(y)) => {
                    let w = self.class_weights.map_or(1.0, |w| w[y].to_f64());
                    let x = log_probs[r * classes + y].to_f64();
                    Some((r, y, super::xmul(-w, x), w))
                }
                _ => None,
            }
        })
    }

    /// Runs a verb (the NLL has `value`, `value_elementwise`, `grad`, `value_and_grad`).
    #[allow(clippy::too_many_arguments)]
    fn call<L: Label>(
        &self,
        _backend: Backend,
        verb: Verb,
        x: Logits<'_, F>,
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        extra: Extra<'_, F>,
    ) -> Result<f64> {
        match (verb, x) {
            (Verb::Value, Logits::Read(lp)) => {
                let s = self.prepare(lp, classes, labels, reduction)?;
                // From +0 as `value_and_grad` sums (`Iterator::sum` starts at −0, so all
                // rows ignored would give −0 here and +0 there).
                let sum = self.terms(lp, classes, labels).fold(0.0, |a, t| a + t.2);
                Ok(super::xmul(s, sum))
            }
            (Verb::Elementwise, Logits::Read(lp)) => {
                let out = extra.per_row;
                check_len("out", out.len(), labels.len())?;
                data_error_zeroes(out, self.prepare(lp, classes, labels, Reduction::Sum))?;
                out.fill(F::ZERO);
                for (r, _, v, _) in self.terms(lp, classes, labels) {
                    out[r] = to_f(v);
                }
                Ok(0.0)
            }
            (Verb::Grad | Verb::ValueAndGrad, Logits::Split(lp, out)) => {
                self.value_and_grad(lp, classes, labels, reduction, out)
            }
            // No capability trait of the NLL reaches another verb.
            _ => Err(Error::InvalidParameter {
                name: "verb",
                rule: "the NLL has value, value_elementwise, grad and value_and_grad only",
            }),
        }
    }

    /// The reduced loss and its gradient, written or added into `out`.
    fn value_and_grad<L: Label>(
        &self,
        log_probs: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        out: Out<'_, F>,
    ) -> Result<f64> {
        check_len("grad", out.buf.len(), log_probs.len())?;
        let checked = self.prepare(log_probs, classes, labels, reduction);
        let s = if out.add {
            checked?
        } else {
            data_error_zeroes(out.buf, checked)?
        };
        if !out.add {
            out.buf.fill(F::ZERO);
        }
        let mut sum = 0.0;
        for (r, y, v, w) in self.terms(log_probs, classes, labels) {
            sum += v;
            let g = &mut out.buf[r * classes + y];
            *g = to_f(g.to_f64() - w * s);
        }
        Ok(super::xmul(s, sum))
    }
}

labelled_kernel!(Nll);
