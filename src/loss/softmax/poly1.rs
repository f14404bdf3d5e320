//! Poly-1 loss (Leng et al., "PolyLoss: A Polynomial Expansion Perspective of
//! Classification Loss Functions", ICLR 2022): cross-entropy plus `ε·(1 − p_t)`.
//!
//! Cross-entropy is `−log p_t = Σ_{k≥1} (1 − p_t)^k / k`; Poly-1 perturbs the leading
//! coefficient of that expansion from 1 to `1 + ε`, the paper's one-parameter variant. The
//! paper's code with label smoothing takes `p_t = Σ_c y'_c·p_c` with the smoothed target
//! `y' = (1 − α)·onehot + α/C`, which here is `(1 − α)·p_y + α/C` (the probabilities sum
//! to 1), so the smoothing adds a constant to the ε term and nothing to its gradient.

use super::cross_entropy::CeRow;
use super::{Extra, Labelled, in_range, labelled, xmul};
use crate::label::Label;
use crate::shape::row_checks::mean_scale;
use crate::shape::row_softmax::{Coef, Logits, REST_BELOW, RowStats, Rule, Tau, Verb};
use crate::shape::rows::RowInPlace;
use crate::simd::Float;
use crate::{Backend, Reduction, Result};

/// Poly-1 loss with integer labels: PyTorch's `CrossEntropyLoss` (class weights,
/// `ignore_index`, label smoothing) plus `ε·w_y·(1 − p_t)`.
///
/// For a row with logits `z` (`C` classes), label `y`, class weights `w` (all 1 without
/// them), smoothing `α` and `U = C` (the unmasked classes with
/// [`Poly1::smooth_unmasked_only`]), `p = softmax(z)`, `lse = log Σ exp zⱼ`:
///
/// ```text
/// ℓ       = CE + ε·w_y·(1 − p_t)
/// CE      = (1 − α)·w_y·(lse − z_y) + (α/U)·Σⱼ wⱼ·(lse − zⱼ)          (CrossEntropy's)
/// p_t     = Σ_c y'_c·p_c = (1 − α)·p_y + α/U,     y' = (1 − α)·onehot(y) + α/U
/// 1 − p_t = (1 − α)·(1 − p_y) + α·(1 − 1/U),      1 − p_y = Σ_{j≠y} pⱼ
/// ∂ℓ/∂zⱼ  = (A + K)·pⱼ − (α/U)·wⱼ − ((1 − α)·w_y + K)·[j = y]
///           A = (1 − α)·w_y + (α/U)·Σ wⱼ,   K = ε·w_y·(1 − α)·p_y
/// ```
///
/// **Weights.** The ε term carries the row's class weight `w_y`, so that without smoothing
/// the whole row is `w_y·(−log p_y + ε·(1 − p_y))` and `Mean`, which divides by `Σ w_y` over
/// the rows that are not ignored (as `CrossEntropyLoss`), is the `w_y`-weighted average of
/// the unweighted Poly-1 rows. (The common PyTorch recipe,
/// `cross_entropy(weight=w, reduction="none") + ε·(1 − p_t)` then `.mean()`, leaves the ε
/// term unweighted and divides by the row count instead: it agrees with this only without
/// weights.) Under smoothing the cross-entropy spreads `α` with each class's own weight,
/// as PyTorch does, while the ε term keeps the one weight of its row, `w_y`; with
/// non-uniform weights and `ε < 0` such a row can then be slightly negative.
///
/// **ε** is finite and `≥ −1`, the paper's domain: `−log p + ε·(1 − p)` decreases in
/// `p ∈ (0, 1]` exactly when `ε ≥ −1` (its derivative is `−1/p − ε`), so a smaller ε would
/// reward lowering a confident `p_t`. `ε = 0` is [`CrossEntropy`](super::CrossEntropy)
/// (bit for bit); the paper's code suggests `ε = 1` for a first try.
///
/// **Accuracy.** With `m = maxⱼ zⱼ` and `S = Σ exp(zⱼ − m)` (the sums cross-entropy
/// already has), `1 − p_y` is `(S − 1)/S` when the label holds the row's largest logit
/// (`exp(z_y − m) = 1`: the other classes' share, never `1 − p_y` from a rounded `p_y`) and
/// `1 − exp(z_y − m)/S` otherwise (then `p_y ≤ ½`), so the ε term has no cancellation as
/// `p_t → 1` and is as accurate as the cross-entropy term beside it (both come from `S`); as
/// `p_t → 0` it tends to `1 − α/U` exactly. Rows like `[1e8, 1e8]` or `[3e38, 3e38]` give
/// `ln 2 + ε/2`. The ε term costs a division per row, and an `exp` where the label is not
/// the row's largest logit.
///
/// `−∞` logits are masks (probability 0), as for cross-entropy: a label on a mask (or
/// smoothing over all classes with a masked one) makes the value `+∞` with a finite
/// gradient. An ignored row contributes 0 and gets a zero gradient row; a mean over rows
/// that are all ignored (or weigh 0) is 0 with a zero gradient (PyTorch: NaN). There is no
/// z-loss, soft-capping, `hessian_diag` or `hvp` (cross-entropy's extensions). Its verbs are
/// those of [`RowLoss`](crate::RowLoss) with `&[L]` labels, [`RowElementwise`](crate::RowElementwise)
/// and [`RowInPlace`] (the gradient overwrites the logits; bit-identical to
/// `value_and_grad`; every row is checked before anything is overwritten).
///
/// ```
/// use losskit::prelude::*;
/// let logits = [2.0f32, 0.5, -1.0, /* row 2 */ 0.0, 0.0, 3.0];
/// let poly = Poly1 { epsilon: 1.0, ..Poly1::default() };
/// let mut grad = [0.0f32; 6];
/// let loss = poly.value_and_grad(&logits, 3, &[0u32, 2], Reduction::Mean, &mut grad)?;
/// // Cross-entropy 0.168117 plus the mean of 1 − p_y over the two rows.
/// assert!((loss - 0.320_597).abs() < 1e-5);
/// # Ok::<(), losskit::Error>(())
/// ```
#[doc(alias = "PolyLoss")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Poly1<'w, F: Float> {
    /// `ε`, the weight of `1 − p_t`: in `[−1, f32::MAX]` (default 1, the paper's first try).
    pub epsilon: f64,
    /// PyTorch's `weight`: one weight per class, 0 or in `[2⁻⁶⁴, 2⁶⁴]`
    /// (numerics rule 10; default none: all 1).
    pub class_weights: Option<&'w [F]>,
    /// Rows whose label equals this are ignored (default `Some(-100)`, PyTorch's).
    pub ignore_index: Option<i64>,
    /// `α` in `[0, 1]` (default 0): the target is `(1 − α)·onehot + α/C`.
    pub label_smoothing: f64,
    /// Spread `α` over the classes whose logit is finite only (default false: over all `C`
    /// classes as PyTorch, so a masked class under smoothing makes the value `+∞`).
    pub smooth_unmasked_only: bool,
}

impl<F: Float> Default for Poly1<'_, F> {
    fn default() -> Self {
        Poly1 {
            epsilon: 1.0,
            class_weights: None,
            ignore_index: Some(-100),
            label_smoothing: 0.0,
            smooth_unmasked_only: false,
        }
    }
}

labelled_kernel!(Poly1);

impl<F: Float, L: Label> RowInPlace<F, &[L]> for Poly1<'_, F> {}

/// The per-row formula of [`Poly1`]: cross-entropy's row plus the ε term. Its own rule, so
/// that plain cross-entropy computes none of it.
#[derive(Clone, Copy)]
struct Poly1Rule {
    /// Label smoothing `α`.
    alpha: f64,
    epsilon: f64,
}

impl Rule for Poly1Rule {
    #[inline]
    fn rest_below(&self) -> f64 {
        REST_BELOW
    }
    #[inline]
    fn row(&self, st: &RowStats, _label: Option<usize>, [s, _]: [f64; 2]) -> Coef {
        let ce = CeRow::new(self.alpha, st);
        // 1 − p_y without cancellation, and no transcendental for a label on the row's max
        // (the common, confident case): there exp(z_y − m) = 1 and 1 − p_y = (S − 1)/S, the
        // other classes' share. Otherwise p_y ≤ ½ (S ≥ 1 + e_y) and 1 − p_y loses nothing; a
        // masked label has p_y = 0 exactly.
        let (p_y, q) = if let Some(rest) = st.rest {
            // S − 1 summed apart from the label's 1 (which rounds a small share away).
            let sum = 1.0 + rest;
            (1.0 / sum, rest / sum)
        } else if st.zy == 0.0 {
            let inv = 1.0 / st.sum;
            (inv, (st.sum - 1.0) * inv)
        } else {
            let p = libm::exp(st.zy) / st.sum;
            (p, 1.0 - p)
        };
        // 1 − p_t as two non-negative terms: the label's and the smoothing's constant.
        let smooth_rest = if self.alpha > 0.0 {
            self.alpha * (1.0 - 1.0 / st.unmasked)
        } else {
            0.0
        };
        let one_minus_pt = (1.0 - self.alpha) * q + smooth_rest;
        // Products ordered so that each factor is bounded (w_y·(1 − p_t) ≤ w_y), and `xmul`
        // where a factor is exactly 0: an ε·w_y beyond f64's range gives ±∞, never NaN.
        let term = self.epsilon * (st.wy * one_minus_pt);
        let k = xmul((1.0 - self.alpha) * st.wy * p_y, s * self.epsilon);
        Coef {
            value: xmul(s, ce.value + term),
            a: s * ce.total + k,
            b: s * ce.smooth,
            d: s * ce.on_label + k,
            h_pq: 0.0,
            h_pp: 0.0,
        }
    }
}

impl<'w, F: Float> Poly1<'w, F> {
    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] naming the field: `epsilon` outside
    /// `[−1, f32::MAX]`, `label_smoothing` outside `[0, 1]`.
    pub fn check(&self) -> Result<()> {
        in_range(
            "epsilon",
            self.epsilon,
            -1.0,
            f64::from(f32::MAX),
            "must be in [-1, f32::MAX]",
        )?;
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
        let alpha = self.label_smoothing;
        labelled(
            Labelled {
                backend,
                rows: labels.len(),
                classes,
                labels: Some(labels),
                ignore_index: self.ignore_index,
                class_weights: self.class_weights,
                cap: None,
            },
            &Poly1Rule {
                alpha,
                epsilon: self.epsilon,
            },
            verb,
            logits,
            Tau::labelled(alpha > 0.0, self.class_weights, self.smooth_unmasked_only),
            |t| Ok([mean_scale(reduction, t.weight)?, 0.0]),
            extra,
        )
    }
    }
}
