//! Negative log-likelihood on log-probabilities (PyTorch `NLLLoss`).

use super::to_f;
use crate::label::{Label, Target, classify};
use crate::shape::row_checks::{
    check_class_weights, check_labels, check_len, check_shape, data_error_zeroes, mean_scale,
};
use crate::shape::row_sweep::first_bad;
use crate::simd::Float;
use crate::{Error, Out, Reduction, Result};

/// Negative log-likelihood: for a row of log-probabilities `x` with label `y` and class
/// weights `w`,
///
/// ```text
/// ℓ = −w_y·x_y,    ∂ℓ/∂xⱼ = −w_y·[j = y]
/// ```
///
/// `Mean` divides by `Σ w_y` over the rows that are not ignored (PyTorch); all ignored ⇒ 0.
/// Log-probabilities may be `−∞` (probability 0: the value is then `+∞`); NaN or `+∞` is
/// [`Error::NonFinite`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nll<'w, F: Float> {
    /// One finite weight ≥ 0 per class (default none: all 1).
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
        if let Some(i) = first_bad(log_probs) {
            return Err(Error::NonFinite {
                name: "log_probs",
                index: i,
            });
        }
        mean_scale(reduction, totals.weight)
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

    /// The reduced loss.
    ///
    /// # Errors
    /// Shapes, labels, class weights, non-finite log-probabilities.
    pub fn value<L: Label>(
        &self,
        log_probs: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
    ) -> Result<F> {
        let s = self.prepare(log_probs, classes, labels, reduction)?;
        let sum: f64 = self.terms(log_probs, classes, labels).map(|t| t.2).sum();
        Ok(to_f(super::xmul(s, sum)))
    }

    /// The loss of each row into `out` (0 for ignored rows).
    ///
    /// # Errors
    /// As [`Nll::value`], and `out` of the wrong length.
    pub fn value_elementwise<L: Label>(
        &self,
        log_probs: &[F],
        classes: usize,
        labels: &[L],
        out: &mut [F],
    ) -> Result<()> {
        check_len("out", out.len(), labels.len())?;
        data_error_zeroes(
            out,
            self.prepare(log_probs, classes, labels, Reduction::Sum),
        )?;
        out.fill(F::ZERO);
        for (r, _, v, _) in self.terms(log_probs, classes, labels) {
            out[r] = to_f(v);
        }
        Ok(())
    }

    /// The gradient, written or added into `grad` (as long as `log_probs`).
    ///
    /// # Errors
    /// As [`Nll::value`], and `grad` of the wrong length.
    pub fn grad<'g, L: Label>(
        &self,
        log_probs: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
    ) -> Result<()>
    where
        F: 'g,
    {
        self.value_and_grad(log_probs, classes, labels, reduction, grad)
            .map(|_| ())
    }

    /// The reduced loss and its gradient.
    ///
    /// # Errors
    /// As [`Nll::grad`].
    pub fn value_and_grad<'g, L: Label>(
        &self,
        log_probs: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
    ) -> Result<F>
    where
        F: 'g,
    {
        let out = grad.into();
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
        Ok(to_f(super::xmul(s, sum)))
    }
}
