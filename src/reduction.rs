//! How per-element losses are reduced, and how gradients are written.

use crate::simd::Float;

/// How the per-element losses `ℓᵢ` (already multiplied by their weights) become one number.
///
/// The gradient is the derivative of the reduced value, so `Mean` also divides each
/// gradient element by `N`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Reduction {
    /// `Σ ℓᵢ`.
    Sum,
    /// `Σ ℓᵢ / N` with `N` the number of elements, as PyTorch's `reduction="mean"` (a
    /// per-element weight does not change `N`).
    #[default]
    Mean,
    /// `Σ ℓᵢ / d` with a caller-given divisor `d`: the mean over a global batch split into
    /// micro-batches or across workers, each call adding its share. `d` must be in
    /// `[2⁻¹²⁶, 2¹²⁶]` (`f32::MIN_POSITIVE` and its reciprocal): below that `1/d` overflows
    /// f32, and every gradient scaled by it would be `±∞` or NaN (`0 · ∞`); above it `1/d`
    /// is subnormal or 0 in f32, and a derivative that overflowed f32 times it is NaN where
    /// the true product is tiny. Such a divisor is rejected instead, in both precisions.
    Divisor(f64),
}

/// The smallest divisor accepted: f32's smallest normal number, whose reciprocal (2¹²⁶) is
/// finite in every precision, so that a gradient scaled by `1/d` is finite wherever its
/// true value is.
const MIN_DIVISOR: f64 = f32::MIN_POSITIVE as f64;
/// The largest divisor accepted (2¹²⁶), whose reciprocal is f32's smallest normal number.
const MAX_DIVISOR: f64 = 1.0 / MIN_DIVISOR;

impl Reduction {
    /// The factor that multiplies the sum for `n` elements: `1`, `1/n` or `1/d`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) when a divisor is outside
    /// `[2⁻¹²⁶, 2¹²⁶]` (see [`Reduction::Divisor`]).
    pub fn scale(self, n: usize) -> crate::Result<f64> {
        match self {
            Reduction::Sum => Ok(1.0),
            Reduction::Mean => Ok(if n == 0 { 0.0 } else { 1.0 / n as f64 }),
            Reduction::Divisor(d) if (MIN_DIVISOR..=MAX_DIVISOR).contains(&d) => Ok(1.0 / d),
            Reduction::Divisor(_) => Err(crate::Error::InvalidParameter {
                name: "reduction",
                rule: "divisor must be in [2^-126, 2^126]",
            }),
        }
    }

    /// [`Reduction::scale`] computed in `F`: `1`, `1/n` with `n` rounded to `F` first
    /// (within an ulp of `1/n`, exact rounding for `n ≤ 2²⁴` in f32), or `1/d` rounded to
    /// `F`. What the pointwise driver uses where f64 arithmetic is software (a constant
    /// `Sum` or `Mean` then links no f64 routine).
    #[inline(always)]
    pub(crate) fn scale_in<F: Float>(self, n: usize) -> crate::Result<F> {
        match self {
            Reduction::Sum => Ok(F::ONE),
            Reduction::Mean => Ok(if n == 0 {
                F::ZERO
            } else {
                F::ONE / F::from_usize(n)
            }),
            Reduction::Divisor(_) => self.scale(n).map(F::from_f64),
        }
    }
}

/// Where a gradient (or Hessian diagonal) goes: written over the buffer, or added to it.
///
/// `&mut [F]`, `&mut [F; N]` and `&mut Vec<F>` convert into [`Out::write`], so plain buffers
/// can be passed directly.
/// [`Out::add`] accumulates (`g[i] += ∂L/∂xᵢ`), so gradient accumulation over micro-batches
/// and sums of several losses need no extra pass and no temporary.
#[derive(Debug)]
pub struct Out<'a, F> {
    pub(crate) buf: &'a mut [F],
    pub(crate) add: bool,
}

impl<'a, F: Float> Out<'a, F> {
    /// Overwrite `buf` with the result.
    pub fn write(buf: &'a mut [F]) -> Self {
        Out { buf, add: false }
    }
    /// Add the result into `buf`.
    pub fn add(buf: &'a mut [F]) -> Self {
        Out { buf, add: true }
    }
}

/// Any mutable buffer of `F` (a slice, an array, a `Vec<F>`) is written over.
impl<'a, F: Float, B: AsMut<[F]> + ?Sized> From<&'a mut B> for Out<'a, F> {
    fn from(buf: &'a mut B) -> Self {
        Out::write(buf.as_mut())
    }
}
