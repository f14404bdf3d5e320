//! Losses over `rows × classes` logits (row-major): softmax cross-entropy with integer
//! labels or soft targets, Poly-1, NLL, softmax focal, distillation, multiclass
//! hinges, and the row utilities `logsumexp`, `softmax`, `log_softmax`.
//!
//! Every loss here implements [`RowLoss`](crate::RowLoss) (and the capability traits of the
//! verbs it has) and [`Loss`](crate::Loss) (`on(backend)`).
//!
//! Every verb validates its arguments first and writes nothing on such an error. A row
//! with a NaN or `+∞` logit gives [`Error::NonFinite`](crate::Error::NonFinite) (its flat
//! index); `−∞` logits are masks (probability exactly 0); a row whose logits are all `−∞`
//! is [`Error::InvalidInput`](crate::Error::InvalidInput). On such an error a gradient in
//! write mode is reset to zeros, one in accumulate mode and an in-place buffer are left
//! exactly as they were (those modes check every row before writing).

/// The kernel entry of a labelled row loss (`&[L]` labels), its `value_elementwise`, and
/// `on`: over the loss's private `call`, which takes the same arguments.
macro_rules! labelled_kernel {
    ($ty:ident) => {
        impl<'t, F: crate::simd::Float, L: crate::label::Label>
            crate::shape::rows::kernel::RowKernel<F, &'t [L]> for $ty<'_, F>
        {
            crate::simd::fold_inline! {
            #[allow(private_interfaces)]
            fn run(
                &self,
                backend: crate::Backend,
                verb: crate::shape::row_softmax::Verb,
                x: crate::shape::row_softmax::Logits<'_, F>,
                classes: usize,
                labels: &'t [L],
                reduction: crate::Reduction,
                extra: crate::loss::softmax::Extra<'_, F>,
            ) -> crate::Result<f64> {
                self.call(backend, verb, x, classes, labels, reduction, extra)
            }
            }
        }
        impl<F: crate::simd::Float, L: crate::label::Label>
            crate::shape::rows::RowElementwise<F, &[L]> for $ty<'_, F>
        {
        }
        impl<F: crate::simd::Float> crate::shape::rows::Loss for $ty<'_, F> {}
    };
}

mod cross_entropy;
mod distillation;
mod focal;
mod margin;
mod nll;
mod poly1;
mod utilities;

pub use cross_entropy::{CrossEntropy, RowOutputs, SoftCrossEntropy};
pub use distillation::{Distillation, Teacher};
pub use focal::SoftmaxFocal;
pub use margin::{MultiMargin, MulticlassHinge};
pub use nll::Nll;
pub use poly1::Poly1;
pub use utilities::{RowOps, log_softmax, logsumexp, softmax};

use crate::label::{Label, classify};
use crate::shape::row_checks::{
    LabelTotals, check_class_weights, check_labels, check_len, check_shape,
};
use crate::shape::row_softmax::{self, Job, Logits, Rule, Tau, Verb};
use crate::simd::Float;
use crate::{Backend, Out, Result};

/// Extra outputs of a call (empty slices when not requested).
pub(crate) struct Extra<'a, F> {
    pub per_row: &'a mut [F],
    pub lse: &'a mut [F],
    pub argmax: &'a mut [u32],
    pub vec: &'a [F],
}

impl<F> Extra<'_, F> {
    pub(crate) fn none() -> Self {
        Extra {
            per_row: &mut [],
            lse: &mut [],
            argmax: &mut [],
            vec: &[],
        }
    }
}

/// What a row loss passes to [`labelled`].
pub(crate) struct Labelled<'a, F, L> {
    pub backend: Backend,
    pub rows: usize,
    pub classes: usize,
    /// Integer labels, one per row (None: dense targets in the τ stream).
    pub labels: Option<&'a [L]>,
    pub ignore_index: Option<i64>,
    pub class_weights: Option<&'a [F]>,
    pub cap: Option<F>,
}

crate::simd::fold_inline! {
/// Validates a call of a labelled row loss, then runs `rule` on it. `scales` turns the
/// batch's label totals into the reduction factors of the main and auxiliary terms.
///
/// Inlined down to the driver, so that the options a call site fixes (no smoothing, no
/// weights, write mode, …) select the passes before any is referenced.
pub(crate) fn labelled<F: Float, L: Label>(
    call: Labelled<'_, F, L>,
    rule: &dyn Rule,
    verb: Verb,
    logits: Logits<'_, F>,
    tau: Tau<'_, F>,
    scales: impl FnOnce(LabelTotals) -> Result<[f64; 2]>,
    extra: Extra<'_, F>,
) -> Result<f64> {
    let (rows, classes) = (call.rows, call.classes);
    let x_len = match &logits {
        Logits::Read(x) | Logits::Split(x, _) => x.len(),
        Logits::InPlace(g) => g.len(),
    };
    check_shape(x_len, rows, classes)?;
    if let Logits::Split(_, out) = &logits {
        check_len("grad", out.buf.len(), x_len)?;
    }
    check_extra(&extra, verb, rows, x_len)?;
    check_class_weights(call.class_weights, classes)?;
    let totals = match call.labels {
        Some(labels) => {
            check_len("labels", labels.len(), rows)?;
            check_labels(labels, classes, call.ignore_index, call.class_weights)?
        }
        None => LabelTotals {
            count: rows,
            weight: rows as f64,
        },
    };
    if let Some(t) = tau.targets {
        check_len("target", t.len(), x_len)?;
    }
    let scale = scales(totals)?;
    let (labels, ignore) = (call.labels, call.ignore_index);
    let target = move |r: usize| labels.and_then(|l| classify(l[r], classes, ignore));
    let job = Job {
        rule,
        verb,
        rows,
        classes,
        target: &target,
        scale,
        cap: call.cap,
        tau,
        add: false,
        per_row: extra.per_row,
        lse: extra.lse,
        argmax: extra.argmax,
        vec: extra.vec,
    };
    row_softmax::execute(call.backend, job, logits)
}
}

/// Checks the lengths of the per-row outputs and of the Hessian–vector product's vector.
pub(crate) fn check_extra<F>(
    extra: &Extra<'_, F>,
    verb: Verb,
    rows: usize,
    n: usize,
) -> Result<()> {
    if verb == Verb::Elementwise {
        check_len("out", extra.per_row.len(), rows)?;
    }
    if !extra.lse.is_empty() {
        check_len("lse", extra.lse.len(), rows)?;
    }
    if !extra.argmax.is_empty() {
        check_len("predicted", extra.argmax.len(), rows)?;
    }
    if verb == Verb::Hvp {
        check_len("v", extra.vec.len(), n)?;
    }
    Ok(())
}

/// The output of a gradient-like verb.
pub(crate) fn split<'a, F: Float>(logits: &'a [F], out: Out<'a, F>) -> Logits<'a, F> {
    Logits::Split(logits, out)
}

/// Turns a verb's f64 result into the caller's precision.
#[inline]
pub(crate) fn to_f<F: Float>(x: f64) -> F {
    F::from_f64(x)
}

/// Checks a hyper-parameter in `[lo, hi]`.
pub(crate) fn in_range(
    name: &'static str,
    x: f64,
    lo: f64,
    hi: f64,
    rule: &'static str,
) -> Result<()> {
    if x >= lo && x <= hi {
        Ok(())
    } else {
        Err(crate::Error::InvalidParameter { name, rule })
    }
}

/// The factor a row's gradient coefficients are carried scaled by when one overflows the
/// precision (2⁻¹²⁸: a coefficient of at most 2²⁵², a weight or `T` up to 2¹²⁶ over a
/// divisor down to 2⁻¹²⁶, then fits f32), its inverse, and the half of it each entry is
/// multiplied back by twice (2⁶⁴, an f32 number where 2¹²⁸ is not): exact where the entry
/// fits, `±∞` only where it does not.
pub(crate) const COEF_SCALE: f64 = 2.938_735_877_055_719e-39;
pub(crate) const COEF_UNSCALE: f64 = 3.402_823_669_209_385e38;
pub(crate) const COEF_UNSCALE_HALF: f64 = 18_446_744_073_709_551_616.0;

/// `coef · x` with `0 · ±∞ = 0` (the xlogy convention).
#[inline]
pub(crate) fn xmul(coef: f64, x: f64) -> f64 {
    if coef == 0.0 { 0.0 } else { coef * x }
}
