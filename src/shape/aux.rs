//! The public trait of the pointwise shape with a third per-element input (`aux`, e.g. the
//! Gaussian NLL's variance): [`AuxPointwiseLoss`]. Same argument order as every shape
//! (inputs, options, outputs last); no per-element weights.

use crate::shape::pointwise::{On, Outputs, verb};
use crate::simd::Float;
use crate::{Backend, Error, Out, Reduction, Result};

pub(crate) mod kernel {
    use super::*;

    /// What an auxiliary-input loss implements: one entry for every verb, with the backend
    /// explicit. Sealed (in a private module).
    pub trait AuxKernel: Copy {
        /// Runs `VERB` on `backend` over `(pred, target, aux)` into `out`.
        #[allow(private_interfaces)]
        fn run<F: Float, const VERB: u8>(
            &self,
            backend: Backend,
            inputs: (&[F], &[F], &[F]),
            out: Outputs<'_, F>,
            reduction: Reduction,
        ) -> Result<F>;
    }
}
use kernel::AuxKernel;

impl<L: AuxKernel> AuxKernel for On<L> {
    #[allow(private_interfaces)]
    #[inline]
    fn run<F: Float, const VERB: u8>(
        &self,
        _default: Backend,
        inputs: (&[F], &[F], &[F]),
        out: Outputs<'_, F>,
        reduction: Reduction,
    ) -> Result<F> {
        self.loss()
            .run::<F, VERB>(self.pinned_backend(), inputs, out, reduction)
    }
}

/// Checks the output lengths and packs them for the driver.
fn outputs<'g, F: Float>(
    n: usize,
    main: (&'static str, Out<'g, F>),
    aux: Option<Out<'g, F>>,
) -> Result<Outputs<'g, F>> {
    let check = |name, len: usize| {
        if len == n {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                name,
                expected: n,
                found: len,
            })
        }
    };
    check(main.0, main.1.buf.len())?;
    let mut o = Outputs::main(main.1);
    if let Some(a) = aux {
        check("grad_aux", a.buf.len())?;
        o.add_aux = a.add;
        o.aux = a.buf;
    }
    Ok(o)
}

/// The verbs of a pointwise loss with a third per-element input `aux` (the Gaussian NLL's
/// variance): `ℓ(pred[i], target[i], aux[i])`, reduced as the two-input losses (no
/// weights). Gradients are of the reduced value, written or added (`Out::add`).
pub trait AuxPointwiseLoss: AuxKernel {
    crate::simd::fold_inline! {
    /// The reduced loss.
    ///
    /// # Errors
    /// Length mismatch, empty input, invalid parameters, non-finite inputs or inputs outside
    /// the loss's domain (see each loss).
    fn value<F: Float>(&self, pred: &[F], target: &[F], aux: &[F], reduction: Reduction) -> Result<F> {
        self.run::<F, { verb::VALUE }>(Backend::active(), (pred, target, aux), Outputs::none(), reduction)
    }
    }

    crate::simd::fold_inline! {
    /// The per-element losses, written to `out`.
    ///
    /// # Errors
    /// As [`value`](Self::value), and `out` of the wrong length.
    fn value_elementwise<F: Float>(&self, pred: &[F], target: &[F], aux: &[F], out: &mut [F]) -> Result<()> {
        let o = outputs(pred.len(), ("out", Out::write(out)), None)?;
        self.run::<F, { verb::ELEMENTWISE }>(Backend::active(), (pred, target, aux), o, Reduction::Sum)
            .map(|_| ())
    }
    }

    crate::simd::fold_inline! {
    /// The gradients with respect to `pred` and, when given, `aux` (`grad_aux`), written or
    /// added.
    ///
    /// # Errors
    /// As [`value`](Self::value), and outputs of the wrong length.
    fn grad<'g, F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        aux: &[F],
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
        grad_aux: Option<Out<'g, F>>,
    ) -> Result<()> {
        let o = outputs(pred.len(), ("grad", grad.into()), grad_aux)?;
        self.run::<F, { verb::GRAD }>(Backend::active(), (pred, target, aux), o, reduction)
            .map(|_| ())
    }
    }

    crate::simd::fold_inline! {
    /// The reduced loss and both gradients in one pass.
    ///
    /// # Errors
    /// As [`grad`](Self::grad).
    fn value_and_grad<'g, F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        aux: &[F],
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
        grad_aux: Option<Out<'g, F>>,
    ) -> Result<F> {
        let o = outputs(pred.len(), ("grad", grad.into()), grad_aux)?;
        self.run::<F, { verb::VALUE_AND_GRAD }>(Backend::active(), (pred, target, aux), o, reduction)
    }
    }

    crate::simd::fold_inline! {
    /// The diagonal of the Hessian of the reduced loss with respect to `pred`, written or
    /// added into `hess`.
    ///
    /// # Errors
    /// As [`value`](Self::value), and `hess` of the wrong length.
    fn hessian_diag<'h, F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        aux: &[F],
        reduction: Reduction,
        hess: impl Into<Out<'h, F>>,
    ) -> Result<()> {
        let o = outputs(pred.len(), ("hess", hess.into()), None)?;
        self.run::<F, { verb::HESSIAN }>(Backend::active(), (pred, target, aux), o, reduction)
            .map(|_| ())
    }
    }
}

impl<K: AuxKernel> AuxPointwiseLoss for K {}
