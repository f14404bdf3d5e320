//! The public traits of the `rows × classes` shape: [`RowLoss`] (every row loss) and the
//! capability traits of the verbs some have ([`RowElementwise`], [`RowInPlace`],
//! [`RowHessianDiag`], [`RowHvp`]), and [`Loss::on`] to pin one to a backend.
//!
//! Argument order, as every shape: the scores (`rows × classes`, row-major), the shape
//! (`classes`), what the rows are scored against (`T`: labels `&[L]`, soft targets `&[F]`,
//! a [`Teacher`](crate::loss::softmax::Teacher), multi-label targets `&[F]`), the options
//! (`Reduction`), the outputs last (`impl Into<Out>`: a slice, a `Vec`, or [`Out::add`]).
//!
//! Each loss implements one crate-private method, `run`, that takes the backend as an
//! argument; the verbs here call it with [`Backend::active`], and [`On`] (a loss pinned by
//! [`Loss::on`]) with its pinned backend. The label type `L` of `&[L]` is any [`Label`]
//! integer: `T` is a trait parameter, inferred from the argument.
//!
//! [`Label`]: crate::Label

use crate::loss::softmax::Extra;
use crate::shape::pointwise::On;
use crate::shape::row_softmax::{Logits, Verb};
use crate::simd::Float;
use crate::{Backend, Error, Out, Reduction, Result};

pub(crate) mod kernel {
    use super::*;

    /// What a row loss implements: one entry for every verb, with the backend explicit.
    /// Sealed (in a private module): the row losses are the crate's.
    pub trait RowKernel<F: Float, T: Copy>: Copy {
        /// Runs `verb` on `backend` over `x` (read, split into an output, or in place) with
        /// the per-row outputs of `extra`; returns the (reduced) value in f64.
        #[allow(private_interfaces)]
        #[allow(clippy::too_many_arguments)]
        fn run(
            &self,
            backend: Backend,
            verb: Verb,
            x: Logits<'_, F>,
            classes: usize,
            targets: T,
            reduction: Reduction,
            extra: Extra<'_, F>,
        ) -> Result<f64>;
    }
}
use kernel::RowKernel;

/// Pinning a loss to a backend. Implemented by every row loss; the pointwise losses have
/// the same method in [`PointwiseLoss`](crate::PointwiseLoss).
pub trait Loss: Copy {
    /// This loss pinned to `backend` (for tests, benches and reproducibility across
    /// machines): [`On`] has the same verbs.
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] when this CPU cannot run it (checked now, not at the
    /// first call).
    fn on(self, backend: Backend) -> Result<On<Self>> {
        if backend.is_available() {
            Ok(On::new(self, backend))
        } else {
            Err(Error::BackendUnavailable)
        }
    }
}

impl<F: Float, T: Copy, L: RowKernel<F, T>> RowKernel<F, T> for On<L> {
    #[allow(private_interfaces)]
    #[inline]
    fn run(
        &self,
        _default: Backend,
        verb: Verb,
        x: Logits<'_, F>,
        classes: usize,
        targets: T,
        reduction: Reduction,
        extra: Extra<'_, F>,
    ) -> Result<f64> {
        self.loss().run(
            self.pinned_backend(),
            verb,
            x,
            classes,
            targets,
            reduction,
            extra,
        )
    }
}

/// The verbs every row loss has: `rows × classes` scores `x` (row-major) against per-row
/// targets `T`. Import it (or the [`prelude`](crate::prelude)) to call them.
///
/// Every verb validates its arguments first and writes nothing on such an error. A row
/// with a NaN or `+∞` score gives [`Error::NonFinite`] (its flat index); for the softmax
/// losses `−∞` logits are masks (probability exactly 0) and a row whose logits are all `−∞`
/// is [`Error::InvalidInput`]. On such a data error a gradient in write mode is reset to
/// zeros; one in accumulate mode and an in-place buffer are left exactly as they were
/// (those modes check every row before writing).
pub trait RowLoss<F: Float, T: Copy>: RowKernel<F, T> {
    crate::simd::fold_inline! {
    /// The reduced loss.
    ///
    /// # Errors
    /// Shapes ([`Error::Empty`], [`Error::LengthMismatch`]), parameters, targets (e.g.
    /// [`Error::LabelOutOfRange`]), class weights, and the scores (see the trait docs).
    fn value(&self, x: &[F], classes: usize, targets: T, reduction: Reduction) -> Result<F> {
        let v = self.run(
            Backend::active(),
            Verb::Value,
            Logits::Read(x),
            classes,
            targets,
            reduction,
            Extra::none(),
        )?;
        Ok(F::from_f64(v))
    }
    }

    crate::simd::fold_inline! {
    /// The gradient of the reduced loss with respect to `x`, written or added into `grad`
    /// (as long as `x`).
    ///
    /// # Errors
    /// As [`value`](Self::value), and `grad` of the wrong length.
    fn grad<'g>(
        &self,
        x: &[F],
        classes: usize,
        targets: T,
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
    ) -> Result<()>
    where
        F: 'g,
    {
        self.run(
            Backend::active(),
            Verb::Grad,
            Logits::Split(x, grad.into()),
            classes,
            targets,
            reduction,
            Extra::none(),
        )
        .map(|_| ())
    }
    }

    crate::simd::fold_inline! {
    /// The reduced loss and its gradient in one pass over the data.
    ///
    /// # Errors
    /// As [`grad`](Self::grad).
    fn value_and_grad<'g>(
        &self,
        x: &[F],
        classes: usize,
        targets: T,
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
    ) -> Result<F>
    where
        F: 'g,
    {
        let v = self.run(
            Backend::active(),
            Verb::ValueAndGrad,
            Logits::Split(x, grad.into()),
            classes,
            targets,
            reduction,
            Extra::none(),
        )?;
        Ok(F::from_f64(v))
    }
    }
}

impl<F: Float, T: Copy, K: RowKernel<F, T>> RowLoss<F, T> for K {}

/// `value_elementwise`: the loss of each row (or of each element, for a per-element
/// multi-label loss), PyTorch's `reduction="none"`.
pub trait RowElementwise<F: Float, T: Copy>: RowLoss<F, T> {
    crate::simd::fold_inline! {
    /// The unreduced losses into `out` (one per row: `rows` values; a per-element loss
    /// `rows × classes`), 0 for ignored rows.
    ///
    /// # Errors
    /// As [`RowLoss::value`], and `out` of the wrong length.
    fn value_elementwise(&self, x: &[F], classes: usize, targets: T, out: &mut [F]) -> Result<()> {
        let extra = Extra {
            per_row: out,
            ..Extra::none()
        };
        self.run(
            Backend::active(),
            Verb::Elementwise,
            Logits::Read(x),
            classes,
            targets,
            Reduction::Sum,
            extra,
        )
        .map(|_| ())
    }
    }
}

/// `value_and_grad_in_place`: the gradient overwrites the scores (no second buffer).
pub trait RowInPlace<F: Float, T: Copy>: RowLoss<F, T> {
    crate::simd::fold_inline! {
    /// The reduced loss, overwriting `x` with its gradient; bit-identical to
    /// [`RowLoss::value_and_grad`]. Every row is checked before anything is overwritten: on
    /// an error `x` is unchanged.
    ///
    /// # Errors
    /// As [`RowLoss::value`].
    fn value_and_grad_in_place(
        &self,
        x: &mut [F],
        classes: usize,
        targets: T,
        reduction: Reduction,
    ) -> Result<F> {
        let v = self.run(
            Backend::active(),
            Verb::ValueAndGrad,
            Logits::InPlace(x),
            classes,
            targets,
            reduction,
            Extra::none(),
        )?;
        Ok(F::from_f64(v))
    }
    }
}

/// `hessian_diag`: the diagonal of the Hessian of the reduced loss with respect to `x`.
pub trait RowHessianDiag<F: Float, T: Copy>: RowLoss<F, T> {
    crate::simd::fold_inline! {
    /// `∂²L/∂xᵢ²` for every score, written or added into `hess` (as long as `x`); see each
    /// loss for its formula.
    ///
    /// # Errors
    /// As [`RowLoss::grad`] (for `hess`).
    fn hessian_diag<'h>(
        &self,
        x: &[F],
        classes: usize,
        targets: T,
        reduction: Reduction,
        hess: impl Into<Out<'h, F>>,
    ) -> Result<()>
    where
        F: 'h,
    {
        self.run(
            Backend::active(),
            Verb::Hessian,
            Logits::Split(x, hess.into()),
            classes,
            targets,
            reduction,
            Extra::none(),
        )
        .map(|_| ())
    }
    }
}

/// `hvp`: the Hessian–vector product of the reduced loss, row by row.
pub trait RowHvp<F: Float, T: Copy>: RowLoss<F, T> {
    crate::simd::fold_inline! {
    /// `H·v` written or added into `out` (`v` and `out` as long as `x`).
    ///
    /// # Errors
    /// As [`RowLoss::grad`], and `v` or `out` of the wrong length.
    fn hvp<'o>(
        &self,
        x: &[F],
        classes: usize,
        targets: T,
        reduction: Reduction,
        v: &[F],
        out: impl Into<Out<'o, F>>,
    ) -> Result<()>
    where
        F: 'o,
    {
        let extra = Extra {
            vec: v,
            ..Extra::none()
        };
        self.run(
            Backend::active(),
            Verb::Hvp,
            Logits::Split(x, out.into()),
            classes,
            targets,
            reduction,
            extra,
        )
        .map(|_| ())
    }
    }
}

impl<F: Float, T: Copy, L: RowElementwise<F, T>> RowElementwise<F, T> for On<L> {}
impl<F: Float, T: Copy, L: RowInPlace<F, T>> RowInPlace<F, T> for On<L> {}
impl<F: Float, T: Copy, L: RowHessianDiag<F, T>> RowHessianDiag<F, T> for On<L> {}
impl<F: Float, T: Copy, L: RowHvp<F, T>> RowHvp<F, T> for On<L> {}
