//! Pointwise classification losses: each is `ℓ(pred[i], target[i])`, reduced by sum or
//! mean, with optional per-element weights (PyTorch's `weight`: it multiplies each term and
//! leaves the mean's divisor `N` alone).
//!
//! Two kinds of targets:
//!
//! * `{0, 1}` labels or soft targets in `[0, 1]`: [`Bce`] (on probabilities),
//!   [`BceWithLogits`] and [`SigmoidFocal`] (on logits). A target outside `[0, 1]` is
//!   [`InvalidInput`](crate::Error::InvalidInput) on `target`.
//! * Log-probabilities against target probabilities: [`KlDiv`] (PyTorch's `KLDivLoss`; a
//!   negative target is [`InvalidInput`](crate::Error::InvalidInput)).
//! * `±1` labels with a real score `x` and the margin `z = y·x`: [`SoftMargin`], [`Hinge`],
//!   [`SquaredHinge`], [`SmoothHinge`], [`ModifiedHuber`]. Any other label value is
//!   [`InvalidInput`](crate::Error::InvalidInput) on `target`.
//!
//! Multi-label classification on a `rows × classes` matrix with per-class `pos_weight` and
//! weights broadcast over the rows: [`MultiLabelBceWithLogits`] (PyTorch's
//! `BCEWithLogitsLoss` with `[C]` tensors) and [`MultiLabelSoftMargin`].
//!
//! As everywhere in the crate, NaN and ±∞ inputs (also `±inf` logits) are
//! [`NonFinite`](crate::Error::NonFinite).

mod bce;
mod bce_with_logits;
mod focal;
mod hinge;
mod kl_div;
mod multilabel;
mod soft_margin;

pub use bce::Bce;
pub use bce_with_logits::BceWithLogits;
pub use focal::SigmoidFocal;
pub use hinge::{Hinge, ModifiedHuber, SmoothHinge, SquaredHinge};
pub use kl_div::KlDiv;
pub use multilabel::{MultiLabelBceWithLogits, MultiLabelSoftMargin};
pub use soft_margin::SoftMargin;

use crate::simd::{Float, Vector};

/// The lanes where `x` is outside `[0, 1]`.
#[inline(always)]
fn outside_unit<V: Vector>(x: V) -> V::Mask {
    let zero = x.splat(<V::Elem as Float>::ZERO);
    let one = x.splat(<V::Elem as Float>::ONE);
    V::mask_or(x.lt(zero), one.lt(x))
}

/// The domain probe of a `[0, 1]` target: NaN where `t ∉ [0, 1]`, 0 elsewhere.
#[inline(always)]
fn unit_target<V: Vector>(t: V) -> V {
    let zero = t.splat(<V::Elem as Float>::ZERO);
    V::select(
        outside_unit(t),
        t.splat(<V::Elem as Float>::from_f64(f64::NAN)),
        zero,
    )
}

/// The domain probe of a `±1` label: NaN where `t ∉ {−1, +1}`, 0 elsewhere.
#[inline(always)]
fn sign_label<V: Vector>(t: V) -> V {
    let zero = t.splat(<V::Elem as Float>::ZERO);
    let one = t.splat(<V::Elem as Float>::ONE);
    V::select(
        t.abs().eq(one),
        zero,
        t.splat(<V::Elem as Float>::from_f64(f64::NAN)),
    )
}

/// Checks a parameter that must be in `[0, f32::MAX]`: ≥ 0, and finite in both precisions
/// (numerics rule 10; a `pos_weight` of 1e39 would be `∞` in f32, and `0·∞` a NaN).
fn non_negative(name: &'static str, x: f64) -> crate::Result<()> {
    if (0.0..=f64::from(f32::MAX)).contains(&x) {
        Ok(())
    } else {
        Err(crate::Error::InvalidParameter {
            name,
            rule: "must be in [0, f32::MAX]",
        })
    }
}
