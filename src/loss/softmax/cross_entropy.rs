//! Softmax cross-entropy: integer labels ([`CrossEntropy`]) and soft targets
//! ([`SoftCrossEntropy`]).

use super::{Extra, Labelled, in_range, labelled, split, to_f, xmul};
use crate::label::Label;
use crate::shape::pointwise::On;
use crate::shape::row_checks::mean_scale;
use crate::shape::row_softmax::{Coef, LN_SUM_REST_BELOW, Logits, RowStats, Rule, Tau, Verb};
use crate::shape::rows::kernel::RowKernel;
use crate::shape::rows::{Loss, RowElementwise, RowHessianDiag, RowHvp, RowInPlace};
use crate::simd::Float;
use crate::{Backend, Error, Out, Reduction, Result};

/// Softmax cross-entropy with integer labels: PyTorch's `CrossEntropyLoss` with `weight`,
/// `ignore_index` and `label_smoothing`, plus the z-loss of PaLM and the logit soft-capping
/// of Gemma 2.
///
/// For a row with logits `x` (`C` classes), label `y` and class weights `w` (all 1 without
/// them), with `zⱼ = xⱼ` (or `c·tanh(xⱼ/c)` when soft-capped, `−∞` kept),
/// `pⱼ = softmax(z)ⱼ`, `lse = log Σ exp zⱼ` and smoothing `ε`:
///
/// ```text
/// ℓ  = (1 − ε)·w_y·(lse − z_y)  +  (ε/C)·Σⱼ wⱼ·(lse − zⱼ)  +  z_loss·lse²
/// ∂ℓ/∂zⱼ = A·pⱼ − (1 − ε)·w_y·[j = y] − (ε/C)·wⱼ + 2·z_loss·lse·pⱼ,   A = (1 − ε)·w_y + (ε/C)·Σ wⱼ
/// ```
///
/// `Mean` divides the cross-entropy terms by `Σ w_y` over the rows that are not ignored (as
/// PyTorch, including the smoothing term) and the z-loss by the number of those rows (as
/// Liger-Kernel); a batch whose rows are all ignored (or weigh 0) has value 0 and gradient 0
/// where PyTorch returns NaN. An ignored row contributes 0 and gets a zero gradient row.
///
/// Its verbs are those of [`RowLoss`](crate::RowLoss) with `&[L]` labels (any [`Label`]
/// integer), and [`RowElementwise`], [`RowInPlace`] (the gradient overwrites the logits, as
/// Liger-Kernel), [`RowHessianDiag`] and [`RowHvp`] (neither with soft-capping:
/// [`Error::InvalidParameter`]):
///
/// ```text
/// ∂²ℓ/∂zⱼ² = A·pⱼ(1 − pⱼ) + 2·z_loss·(pⱼ² + lse·pⱼ(1 − pⱼ))       (XGBoost's multi:softprob, without its factor 2)
/// H·v      = A·(p ⊙ v − p·(p·v)) + 2·z_loss·(p·(p·v) + lse·(p ⊙ v − p·(p·v)))
/// ```
///
/// `−∞` logits are masks: their probability is exactly 0. Where a target puts weight on one
/// (the label, or smoothing over all classes) the value is `+∞` and the gradient its finite
/// limit `p − target`; [`CrossEntropy::smooth_unmasked_only`] spreads `ε` over the unmasked
/// classes instead.
///
/// A mask stays a mask under soft-capping: `z = −∞` where `x = −∞`, so its probability is
/// exactly 0 and its gradient entry exactly 0 (the limit of `∂ℓ/∂zⱼ·(1 − tanh²(xⱼ/c))`, the
/// second factor tending to 0), also at a label on a mask (whose value is `+∞` as without
/// capping), and mask-aware smoothing leaves it out. This differs from composing
/// `c·tanh(x/c)` and a softmax naively (the soft-capping of Gemma 2 in PyTorch or JAX), which
/// turns a `−∞` logit into `−c`, a class of probability `e^(−c)/Σ exp zᵢ > 0`: a mask is
/// there to exclude its class, and a cap meant to bound large logits should not undo it.
///
/// ```
/// use losskit::prelude::*;
/// let logits = [2.0f32, 0.5, -1.0, /* row 2 */ 0.0, 0.0, 3.0];
/// let ce = CrossEntropy::default();
/// let mut grad = [0.0f32; 6];
/// let loss = ce.value_and_grad(&logits, 3, &[0u32, 2], Reduction::Mean, &mut grad)?;
/// assert!((loss - 0.168_117).abs() < 1e-5);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CrossEntropy<'w, F: Float> {
    /// PyTorch's `weight`: one weight per class, 0 or in `[2⁻⁶⁴, 2⁶⁴]`
    /// (numerics rule 10; default none: all 1).
    pub class_weights: Option<&'w [F]>,
    /// Rows whose label equals this are ignored (default `Some(-100)`, PyTorch's).
    pub ignore_index: Option<i64>,
    /// `ε` in `[0, 1]` (default 0): the target is `(1 − ε)·onehot + ε/C`.
    pub label_smoothing: f64,
    /// Spread `ε` over the classes whose logit is finite only (default false: over all `C`
    /// classes as PyTorch, so a masked class under smoothing makes the value `+∞`).
    pub smooth_unmasked_only: bool,
    /// The z-loss coefficient, in `[0, f32::MAX]` (default 0; PaLM uses 1e-4).
    pub z_loss: f64,
    /// Soft-capping `c ∈ [f32::MIN_POSITIVE, f32::MAX]`: logits become `c·tanh(x/c)`
    /// (default none). A `−∞` logit stays `−∞`, a mask (probability 0, gradient 0), where
    /// the naive `c·tanh(−∞/c) = −c` would give it a nonzero probability.
    pub softcap: Option<f64>,
}

impl<F: Float> Default for CrossEntropy<'_, F> {
    fn default() -> Self {
        CrossEntropy {
            class_weights: None,
            ignore_index: Some(-100),
            label_smoothing: 0.0,
            smooth_unmasked_only: false,
            z_loss: 0.0,
            softcap: None,
        }
    }
}

/// Optional per-row outputs of [`CrossEntropy::value_and_grad_with`].
#[derive(Debug, Default)]
pub struct RowOutputs<'a, F> {
    /// `lse` of each row (of the soft-capped logits when capping), e.g. for a separate
    /// z-loss or for inference.
    pub lse: Option<&'a mut [F]>,
    /// The predicted class of each row (the first index of the largest logit); compare
    /// with the labels for token accuracy.
    pub predicted: Option<&'a mut [u32]>,
}

labelled_kernel!(CrossEntropy);

impl<F: Float, L: Label> RowInPlace<F, &[L]> for CrossEntropy<'_, F> {}
impl<F: Float, L: Label> RowHessianDiag<F, &[L]> for CrossEntropy<'_, F> {}
impl<F: Float, L: Label> RowHvp<F, &[L]> for CrossEntropy<'_, F> {}

/// One row of PyTorch's class-weighted, label-smoothed cross-entropy, unscaled: the value and
/// the coefficients of its gradient `total·pⱼ − smooth·wⱼ − on_label·[j = y]`. Shared by the
/// rules built on cross-entropy ([`CrossEntropy`], [`Poly1`](super::Poly1)), each its own
/// [`Rule`], so that none pays for another's terms.
#[derive(Clone, Copy)]
pub(super) struct CeRow {
    /// `ln S` (`lse = max + ln S`).
    pub ln_sum: f64,
    /// `(1 − ε)·w_y`, the label's share.
    pub on_label: f64,
    /// `ε/C` (`C` the unmasked classes under mask-aware smoothing), each class's share.
    pub smooth: f64,
    /// `A = (1 − ε)·w_y + (ε/C)·Σ wⱼ`, the coefficient of `pⱼ`.
    pub total: f64,
    /// `(1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ wⱼ·(lse − zⱼ)`, in shifted log space.
    pub value: f64,
}

impl CeRow {
    /// The row with label smoothing `eps`.
    #[inline]
    pub(super) fn new(eps: f64, st: &RowStats) -> Self {
        let smooth = if eps > 0.0 { eps / st.unmasked } else { 0.0 };
        let on_label = (1.0 - eps) * st.wy;
        let total = on_label + smooth * st.tau;
        // One logarithm per row (a software routine on FPUs without f64).
        let ln_sum = st.ln_sum();
        let value = total * ln_sum - xmul(on_label, st.zy) - st.times_dot(smooth);
        CeRow {
            ln_sum,
            on_label,
            smooth,
            total,
            value,
        }
    }
}

/// The per-row formula of [`CrossEntropy`].
#[derive(Clone, Copy)]
struct CeRule {
    eps: f64,
    z_loss: f64,
}

impl Rule for CeRule {
    #[inline]
    fn rest_below(&self) -> f64 {
        LN_SUM_REST_BELOW
    }
    #[inline]
    fn row(&self, st: &RowStats, _label: Option<usize>, [s_ce, s_z]: [f64; 2]) -> Coef {
        let CeRow {
            ln_sum,
            on_label,
            smooth,
            total,
            value: ce,
        } = CeRow::new(self.eps, st);
        let lse = st.max + ln_sum;
        let z = self.z_loss * lse * lse;
        Coef {
            value: xmul(s_ce, ce) + xmul(s_z, z),
            a: s_ce * total + s_z * 2.0 * self.z_loss * lse,
            b: s_ce * smooth,
            d: s_ce * on_label,
            h_pq: s_ce * total + s_z * 2.0 * self.z_loss * lse,
            h_pp: s_z * 2.0 * self.z_loss,
        }
    }
}

impl<'w, F: Float> CrossEntropy<'w, F> {
    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field.
    pub fn check(&self) -> Result<()> {
        in_range(
            "label_smoothing",
            self.label_smoothing,
            0.0,
            1.0,
            "must be in [0, 1]",
        )?;
        in_range(
            "z_loss",
            self.z_loss,
            0.0,
            f64::from(f32::MAX),
            "must be in [0, f32::MAX]",
        )?;
        if let Some(c) = self.softcap {
            // A normal f32 number, so that the cap and `1/c` are finite and non-zero in
            // either precision (a cap that rounds to 0 in f32 would make every logit NaN).
            in_range(
                "softcap",
                c,
                f64::from(f32::MIN_POSITIVE),
                f64::from(f32::MAX),
                "must be in [f32::MIN_POSITIVE, f32::MAX]",
            )?;
        }
        Ok(())
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
        if self.softcap.is_some() && matches!(verb, Verb::Hessian | Verb::Hvp) {
            return Err(Error::InvalidParameter {
                name: "softcap",
                rule: "hessian_diag and hvp are not available with soft-capping",
            });
        }
        let eps = self.label_smoothing;
        labelled(
            Labelled {
                backend,
                rows: labels.len(),
                classes,
                labels: Some(labels),
                ignore_index: self.ignore_index,
                class_weights: self.class_weights,
                cap: self.softcap.map(F::from_f64),
            },
            &CeRule {
                eps,
                z_loss: self.z_loss,
            },
            verb,
            logits,
            Tau::labelled(eps > 0.0, self.class_weights, self.smooth_unmasked_only),
            |t| {
                Ok([
                    mean_scale(reduction, t.weight)?,
                    mean_scale(reduction, t.count as f64)?,
                ])
            },
            extra,
        )
    }
    }

    crate::simd::fold_inline! {
    /// [`value_and_grad`](crate::RowLoss::value_and_grad) that also writes the requested
    /// per-row outputs (`lse`, predicted class). On the best backend; pinned, through
    /// [`On::value_and_grad_with`].
    ///
    /// # Errors
    /// As [`grad`](crate::RowLoss::grad), and per-row outputs not `labels.len()` long.
    pub fn value_and_grad_with<'g, L: Label>(
        &self,
        logits: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
        outputs: RowOutputs<'_, F>,
    ) -> Result<F>
    where
        F: 'g,
    {
        self.with_outputs(Backend::active(), (logits, classes, labels, reduction), grad.into(), outputs)
    }
    }

    crate::simd::fold_inline! {
    fn with_outputs<L: Label>(
        &self,
        backend: Backend,
        (logits, classes, labels, reduction): (&[F], usize, &[L], Reduction),
        grad: Out<'_, F>,
        outputs: RowOutputs<'_, F>,
    ) -> Result<F> {
        let extra = Extra {
            lse: outputs.lse.unwrap_or(&mut []),
            argmax: outputs.predicted.unwrap_or(&mut []),
            ..Extra::none()
        };
        let r = self.call(
            backend,
            Verb::ValueAndGrad,
            split(logits, grad),
            classes,
            labels,
            reduction,
            extra,
        )?;
        Ok(to_f(r))
    }
    }
}

impl<'w, F: Float> On<CrossEntropy<'w, F>> {
    /// [`CrossEntropy::value_and_grad_with`] on the pinned backend.
    ///
    /// # Errors
    /// As [`CrossEntropy::value_and_grad_with`].
    pub fn value_and_grad_with<'g, L: Label>(
        &self,
        logits: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
        outputs: RowOutputs<'_, F>,
    ) -> Result<F>
    where
        F: 'g,
    {
        self.loss().with_outputs(
            self.pinned_backend(),
            (logits, classes, labels, reduction),
            grad.into(),
            outputs,
        )
    }
}

/// Softmax cross-entropy with soft (probability) targets: PyTorch's `CrossEntropyLoss` when
/// the target has the logits' shape, with class weights and label smoothing.
///
/// For a row with targets `t`, smoothed to `t'ⱼ = (1 − ε)·tⱼ + ε/C`, and class weights `w`:
///
/// ```text
/// ℓ = −Σⱼ wⱼ·t'ⱼ·log pⱼ = Σⱼ wⱼ t'ⱼ·(lse − xⱼ),     ∂ℓ/∂xⱼ = (Σₖ wₖ t'ₖ)·pⱼ − wⱼ t'ⱼ
/// ```
///
/// `Mean` divides by the number of rows (not by a weight sum), as PyTorch. A target of 0
/// contributes 0 also where the logit is `−∞` (xlogy); a positive target on a `−∞` logit
/// makes the value `+∞` with the finite gradient limit (a positive `wⱼ t'ⱼ`, also where that
/// product is below the precision's range). Targets are probabilities: each in
/// `[0, 1]` ([`Error::NonFinite`] for NaN or `±∞`, [`Error::InvalidInput`] for a finite value
/// outside; PyTorch accepts a negative target, which makes the loss unbounded below). A
/// row's targets need not sum to 1.
///
/// Its verbs are those of [`RowLoss`](crate::RowLoss) with `&[F]` targets of the logits'
/// shape, and [`RowElementwise`], [`RowInPlace`] and [`RowHessianDiag`]
/// (`∂²ℓ/∂xⱼ² = (Σₖ wₖ t'ₖ)·pⱼ(1 − pⱼ)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftCrossEntropy<'w, F: Float> {
    /// One weight per class, 0 or in `[2⁻⁶⁴, 2⁶⁴]` (numerics rule 10;
    /// default none: all 1).
    pub class_weights: Option<&'w [F]>,
    /// `ε` in `[0, 1]` (default 0).
    pub label_smoothing: f64,
}

impl<F: Float> Default for SoftCrossEntropy<'_, F> {
    fn default() -> Self {
        SoftCrossEntropy {
            class_weights: None,
            label_smoothing: 0.0,
        }
    }
}

/// The per-row formula of [`SoftCrossEntropy`] (τ carries `w ⊙ t'`).
#[derive(Clone, Copy)]
struct DenseRule;

impl Rule for DenseRule {
    #[inline]
    fn rest_below(&self) -> f64 {
        LN_SUM_REST_BELOW
    }
    #[inline]
    fn row(&self, st: &RowStats, _label: Option<usize>, [s, _]: [f64; 2]) -> Coef {
        Coef {
            value: xmul(s, st.tau * st.ln_sum() - st.dot),
            a: s * st.tau,
            b: s,
            d: 0.0,
            h_pq: s * st.tau,
            h_pp: 0.0,
        }
    }
}

impl<'w, F: Float> SoftCrossEntropy<'w, F> {
    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field.
    pub fn check(&self) -> Result<()> {
        in_range(
            "label_smoothing",
            self.label_smoothing,
            0.0,
            1.0,
            "must be in [0, 1]",
        )
    }

    crate::simd::fold_inline! {
    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        backend: Backend,
        verb: Verb,
        logits: Logits<'_, F>,
        classes: usize,
        targets: &[F],
        reduction: Reduction,
        extra: Extra<'_, F>,
    ) -> Result<f64> {
        self.check()?;
        let eps = self.label_smoothing;
        let rows = targets.len().checked_div(classes).unwrap_or(0);
        labelled::<F, u32>(
            Labelled {
                backend,
                rows,
                classes,
                labels: None,
                ignore_index: None,
                class_weights: self.class_weights,
                cap: None,
            },
            &DenseRule,
            verb,
            logits,
            Tau::dense(targets, eps, classes, self.class_weights),
            |t| Ok([mean_scale(reduction, t.count as f64)?, 0.0]),
            extra,
        )
    }
    }
}

impl<'t, F: Float> RowKernel<F, &'t [F]> for SoftCrossEntropy<'_, F> {
    crate::simd::fold_inline! {
    #[allow(private_interfaces)]
    fn run(
        &self,
        backend: Backend,
        verb: Verb,
        x: Logits<'_, F>,
        classes: usize,
        targets: &'t [F],
        reduction: Reduction,
        extra: Extra<'_, F>,
    ) -> Result<f64> {
        self.call(backend, verb, x, classes, targets, reduction, extra)
    }
    }
}

impl<F: Float> RowElementwise<F, &[F]> for SoftCrossEntropy<'_, F> {}
impl<F: Float> RowInPlace<F, &[F]> for SoftCrossEntropy<'_, F> {}
impl<F: Float> RowHessianDiag<F, &[F]> for SoftCrossEntropy<'_, F> {}
impl<F: Float> Loss for SoftCrossEntropy<'_, F> {}
