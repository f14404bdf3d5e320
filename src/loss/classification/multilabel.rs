//! Multi-label losses on a `rows × classes` matrix of logits, with per-class tensors
//! broadcast over the rows as PyTorch broadcasts a `[C]` tensor against `[N, C]`.
//!
//! For a logit `x`, a target `y ∈ [0, 1]`, the class's positive weight `w₊ = pos_weight[c]`
//! and weight `w_c = class_weights[c]`, each element is binary cross-entropy on logits
//! ([`BceWithLogits`](super::BceWithLogits), same formulas and the same accuracy):
//!
//! ```text
//! ℓ(x, y)    = −w_c·( w₊·y·ln σ(x) + (1 − y)·ln σ(−x) )
//! ∂ℓ/∂x      = w_c·( (1 + (w₊ − 1)·y)·σ(x) − w₊·y )
//! ∂²ℓ/∂x²    = w_c·(1 + (w₊ − 1)·y)·σ(x)·σ(−x)
//! ```
//!
//! [`MultiLabelBceWithLogits`] reduces over all `N·C` elements (PyTorch's
//! `BCEWithLogitsLoss(weight=w, pos_weight=p)` with `[C]` tensors); [`MultiLabelSoftMargin`]
//! averages over the classes of a row first (PyTorch's `MultiLabelSoftMarginLoss(weight=w)`),
//! so its per-sample loss is `(1/C)·Σ_c ℓ(x_c, y_c)` and its reductions run over rows.
//!
//! Each row is one pass of the pointwise driver; the rows' sums are added in order in f64,
//! so results are deterministic and independent of the backend's width.

use crate::error::{Error, Result};
use crate::loss::softmax::Extra;
use crate::reduction::{Out, Reduction};
use crate::shape::pointwise::{Inputs, Outputs, Pointwise, Terms, execute_broadcast, verb};
use crate::shape::row_checks::{check_class_weights, check_len, check_per_class};
use crate::shape::row_softmax::{Logits, Verb};
use crate::shape::rows::kernel::RowKernel;
use crate::shape::rows::{Loss, RowElementwise, RowHessianDiag};
use crate::simd::{Backend, Float, Vector};

use super::BceWithLogits;
use super::bce_with_logits::{hess, terms};

/// [`BceWithLogits`] whose positive weight is a per-element input (the `aux` stream).
#[derive(Clone, Copy, Debug)]
struct PosWeighted;

impl Pointwise for PosWeighted {
    crate::shape::pointwise::compiled_once!(PosWeighted);
    const AUX: bool = true;
    const AUX_NAME: &'static str = "pos_weight";
    fn check(&self) -> Result<()> {
        Ok(())
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, x: V, y: V, pw: V) -> Terms<V> {
        terms(x, y, pw)
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, x: V, y: V, pw: V) -> V {
        hess(x, y, pw)
    }
    const HAS_DOMAIN: bool = true;
    #[inline(always)]
    fn domain<V: Vector>(&self, _x: V, y: V, _pw: V) -> V {
        super::unit_target(y)
    }
}

/// The shape of a multi-label call: `rows` from `logits.len() / classes`.
fn rows_of(logits: usize, targets: usize, classes: usize) -> Result<usize> {
    if classes == 0 || logits == 0 {
        return Err(Error::Empty);
    }
    // Whole rows only: a ragged tail names the next whole length.
    let rows = logits.div_ceil(classes);
    check_len("logits", logits, rows * classes)?;
    check_len("target", targets, logits)?;
    Ok(rows)
}

/// One multi-label call: validated shape and per-class tensors.
#[derive(Clone, Copy)]
struct Call<'a, F> {
    logits: &'a [F],
    targets: &'a [F],
    classes: usize,
    pos_weight: Option<&'a [F]>,
    class_weights: Option<&'a [F]>,
    backend: Backend,
}

impl<'a, F: Float> Call<'a, F> {
    fn new(
        logits: &'a [F],
        classes: usize,
        targets: &'a [F],
        pos_weight: Option<&'a [F]>,
        class_weights: Option<&'a [F]>,
        backend: Backend,
    ) -> Result<(Self, usize)> {
        let rows = rows_of(logits.len(), targets.len(), classes)?;
        check_per_class("pos_weight", pos_weight, classes)?;
        check_class_weights(class_weights, classes)?;
        let call = Call {
            logits,
            targets,
            classes,
            pos_weight,
            class_weights,
            backend,
        };
        Ok((call, rows))
    }

    /// Runs `VERB` with element scale `scale` into `out` (per element, or empty).
    fn run<const VERB: u8>(
        self,
        out: Outputs<'_, F>,
        scale: f64,
        row_sum: impl FnMut(usize, f64),
    ) -> Result<f64> {
        let inp = Inputs {
            p: self.logits,
            t: self.targets,
            a: self.pos_weight.unwrap_or(&[]),
            w: self.class_weights,
        };
        // On the call's backend (the caller's choice: the best, or the one a pinned loss
        // checked when it was pinned). Without a per-class `pos_weight`, the scalar kernel
        // (no third stream).
        let backend = self.backend;
        if self.pos_weight.is_some() {
            execute_broadcast::<F, _, VERB>(
                backend,
                &PosWeighted,
                inp,
                self.classes,
                out,
                scale,
                row_sum,
            )
        } else {
            let loss = BceWithLogits::default();
            execute_broadcast::<F, _, VERB>(backend, &loss, inp, self.classes, out, scale, row_sum)
        }
    }
}

/// Binary cross-entropy on logits for multi-label classification, with a per-class
/// positive weight and a per-class weight broadcast over the rows:
/// `torch.nn.BCEWithLogitsLoss(weight=w, pos_weight=p)` with `w` and `p` of shape `[C]`.
///
/// Per element, with `c = 1 + (w₊_c − 1)·y`:
///
/// ```text
/// ℓ          = −w_c·( w₊_c·y·ln σ(x) + (1 − y)·ln σ(−x) )
/// ∂ℓ/∂x      = w_c·( c·σ(x) − w₊_c·y )
/// ∂²ℓ/∂x²    = w_c·c·σ(x)·σ(−x)
/// ```
///
/// [`Reduction::Mean`] divides by `rows · classes`. Evaluated as [`BceWithLogits`] (the
/// same kernel, the same accuracy at extreme logits); each row is one pass of the pointwise
/// driver and the rows' sums are added in order in f64.
///
/// ```
/// use losskit::prelude::*;
/// // Two rows, three classes; the rare third class weighs its positives by 4.
/// let logits = [1.0f64, -2.0, 0.5, /* row 2 */ -1.0, 0.0, 3.0];
/// let targets = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
/// let l = MultiLabelBceWithLogits { pos_weight: Some(&[1.0, 1.0, 4.0][..]), ..Default::default() };
/// let mut grad = [0.0; 6];
/// let v = l.value_and_grad(&logits, 3, &targets[..], Reduction::Mean, &mut grad)?;
/// let sp = |z: f64| (1.0 + z.exp()).ln(); // softplus
/// let want = (sp(-1.0) + sp(-2.0) + 4.0 * sp(-0.5) + sp(-1.0) + sp(0.0) + 4.0 * sp(-3.0)) / 6.0;
/// assert!((v - want).abs() < 1e-15);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiLabelBceWithLogits<'w, F: Float> {
    /// PyTorch's `pos_weight` of shape `[C]`: one finite weight ≥ 0 per class for the
    /// positive term (default none: all 1).
    pub pos_weight: Option<&'w [F]>,
    /// PyTorch's `weight` of shape `[C]`: one weight per class, 0 or in `[2⁻⁶⁴, 2⁶⁴]`
    /// (numerics rule 10), multiplying each element's loss; it does not change the mean's
    /// divisor (default none).
    pub class_weights: Option<&'w [F]>,
}

impl<F: Float> Default for MultiLabelBceWithLogits<'_, F> {
    fn default() -> Self {
        MultiLabelBceWithLogits {
            pos_weight: None,
            class_weights: None,
        }
    }
}

/// PyTorch's `MultiLabelSoftMarginLoss(weight=w)`: per row, the mean over the classes of
/// binary cross-entropy on logits, `ℓₙ = −(1/C)·Σ_c w_c·( y·ln σ(x) + (1 − y)·ln σ(−x) )`;
/// reductions run over rows ([`Reduction::Mean`] divides by `rows`).
///
/// Its [`value_elementwise`](crate::RowElementwise::value_elementwise) writes one loss per
/// row. A per-class
/// `pos_weight` (which PyTorch's class lacks) is accepted as in [`MultiLabelBceWithLogits`].
///
/// ```
/// use losskit::prelude::*;
/// let logits = [0.0f64, 2.0, /* row 2 */ -1.0, 1.0];
/// let targets = [1.0, 1.0, 0.0, 1.0];
/// let mut per_row = [0.0; 2];
/// MultiLabelSoftMargin::default().value_elementwise(&logits, 2, &targets[..], &mut per_row)?;
/// let sp = |z: f64| (1.0 + z.exp()).ln(); // softplus
/// assert!((per_row[0] - (sp(0.0) + sp(-2.0)) / 2.0).abs() < 1e-15);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiLabelSoftMargin<'w, F: Float> {
    /// PyTorch's `weight` of shape `[C]` (default none: all 1).
    pub class_weights: Option<&'w [F]>,
    /// A per-class positive weight, as [`MultiLabelBceWithLogits::pos_weight`] (default
    /// none).
    pub pos_weight: Option<&'w [F]>,
}

impl<F: Float> Default for MultiLabelSoftMargin<'_, F> {
    fn default() -> Self {
        MultiLabelSoftMargin {
            class_weights: None,
            pos_weight: None,
        }
    }
}

/// The kernel entry of a multi-label loss (`&[F]` targets of the logits' shape), its
/// capability traits and `on`; `$per_row` is whether the losses are averaged per row (soft
/// margin) or reduced over every element.
macro_rules! multilabel_kernel {
    ($ty:ident, $per_row:expr) => {
        impl<'w, F: Float> $ty<'w, F> {
            /// The scale of each element's term: `1/(rows·classes)` for the mean, and for
            /// a per-row average `1/classes` times the reduction's row scale.
            fn scale(&self, rows: usize, classes: usize, reduction: Reduction) -> Result<f64> {
                if $per_row {
                    Ok(reduction.scale(rows)? / classes as f64)
                } else {
                    reduction.scale(rows * classes)
                }
            }
        }

        impl<'t, F: Float> RowKernel<F, &'t [F]> for $ty<'_, F> {
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
                let logits = match &x {
                    Logits::Read(l) | Logits::Split(l, _) => *l,
                    Logits::InPlace(_) => &[],
                };
                let (call, rows) = Call::new(
                    logits,
                    classes,
                    targets,
                    self.pos_weight,
                    self.class_weights,
                    backend,
                )?;
                match (verb, x) {
                    (Verb::Value, _) => {
                        let scale = self.scale(rows, classes, reduction)?;
                        call.run::<{ verb::VALUE }>(Outputs::none(), scale, |_, _| {})
                    }
                    (Verb::Elementwise, _) => self.elementwise(call, rows, extra.per_row),
                    (Verb::Grad | Verb::ValueAndGrad | Verb::Hessian, Logits::Split(l, g)) => {
                        let name = if verb == Verb::Hessian {
                            "hess"
                        } else {
                            "grad"
                        };
                        check_len(name, g.buf.len(), l.len())?;
                        let scale = self.scale(rows, classes, reduction)?;
                        let out = Outputs::main(g);
                        match verb {
                            Verb::Grad => call.run::<{ verb::GRAD }>(out, scale, |_, _| {}),
                            Verb::Hessian => call.run::<{ verb::HESSIAN }>(out, scale, |_, _| {}),
                            _ => call.run::<{ verb::VALUE_AND_GRAD }>(out, scale, |_, _| {}),
                        }
                    }
                    // No capability trait of a multi-label loss reaches another verb.
                    _ => Err(Error::InvalidParameter {
                        name: "verb",
                        rule: "multi-label losses have no in-place verb and no hvp",
                    }),
                }
            }
        }

        impl<F: Float> RowElementwise<F, &[F]> for $ty<'_, F> {}
        impl<F: Float> RowHessianDiag<F, &[F]> for $ty<'_, F> {}
        impl<F: Float> Loss for $ty<'_, F> {}
    };
}

multilabel_kernel!(MultiLabelBceWithLogits, false);
multilabel_kernel!(MultiLabelSoftMargin, true);

impl<F: Float> MultiLabelBceWithLogits<'_, F> {
    /// `value_elementwise`: the per-element losses `w_c·ℓ` (PyTorch's
    /// `reduction="none"`), `rows · classes` of them.
    fn elementwise(&self, call: Call<'_, F>, _rows: usize, out: &mut [F]) -> Result<f64> {
        check_len("out", out.len(), call.logits.len())?;
        call.run::<{ verb::ELEMENTWISE }>(Outputs::main(Out::write(out)), 1.0, |_, _| {})
    }
}

impl<F: Float> MultiLabelSoftMargin<'_, F> {
    /// `value_elementwise`: the per-row losses `(1/C)·Σ_c w_c·ℓ` (PyTorch's
    /// `reduction="none"`), `rows` of them; on an invalid input `out` is reset to zeros.
    fn elementwise(&self, call: Call<'_, F>, rows: usize, out: &mut [F]) -> Result<f64> {
        check_len("out", out.len(), rows)?;
        let classes = call.classes;
        let inv = 1.0 / classes as f64;
        let r = call.run::<{ verb::VALUE }>(Outputs::none(), inv, |r, s| {
            out[r] = F::from_f64(s * inv);
        });
        if r.is_err() {
            out.fill(F::ZERO);
        }
        r
    }
}
