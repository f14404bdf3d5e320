//! The one checked path behind every exported function.
//!
//! Order of checks, all before any slice is formed or anything is written:
//! 1. pointers ([`Args`]): NULL (allowed for an array of length 0 and for an optional
//!    array), alignment, byte size ≤ `isize::MAX`, and no overlap of an output with any
//!    other argument;
//! 2. options ([`reduction`], [`mode`], [`flag`]) and the loss's parameters (its `check`);
//! 3. lengths and emptiness, then the pass itself (losskit's own validation).

use crate::losskit_status as Status;
use core::mem::size_of;
use losskit::{Error, Float, Out, PointwiseLoss, Reduction};

/// A C-side result: `Err` carries the status to return.
pub(crate) type Result<T> = core::result::Result<T, Status>;

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::LengthMismatch { .. } => Status::LengthMismatch,
            Error::Empty => Status::Empty,
            Error::InvalidParameter { .. } => Status::InvalidParameter,
            Error::InvalidInput { .. } => Status::InvalidInput,
            Error::LabelOutOfRange { .. } => Status::LabelOutOfRange,
            Error::NonFinite { .. } => Status::NonFinite,
            // BackendUnavailable cannot happen (the C API never pins a backend).
            _ => Status::Internal,
        }
    }
}

/// Collapses a checked call into its status.
#[inline]
fn status(r: Result<()>) -> Status {
    match r {
        Ok(()) => Status::Ok,
        Err(s) => s,
    }
}

/// A 0/1 flag from C.
#[inline]
pub(crate) fn flag(x: i32) -> Result<bool> {
    match x {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Status::InvalidParameter),
    }
}

/// A small non-negative `int32_t` from C (an exponent); out of `u8` range is invalid.
#[inline]
pub(crate) fn byte(x: i32) -> Result<u8> {
    u8::try_from(x).map_err(|_| Status::InvalidParameter)
}

/// A [`crate::losskit_reduction`] code and its divisor.
#[inline]
fn reduction(code: i32, divisor: f64) -> Result<Reduction> {
    match code {
        0 => Ok(Reduction::Mean),
        1 => Ok(Reduction::Sum),
        // The divisor's domain (in [2⁻¹²⁶, 2¹²⁶]) is checked by losskit.
        2 => Ok(Reduction::Divisor(divisor)),
        _ => Err(Status::InvalidParameter),
    }
}

/// A [`crate::losskit_grad_mode`] code applied to a buffer.
#[inline]
fn mode<F: Float>(code: i32, buf: &mut [F]) -> Result<Out<'_, F>> {
    match code {
        0 => Ok(Out::write(buf)),
        1 => Ok(Out::add(buf)),
        _ => Err(Status::InvalidParameter),
    }
}

/// The byte range an argument covers; `out` marks a written one.
#[derive(Clone, Copy)]
struct Region {
    start: usize,
    bytes: usize,
    out: bool,
}

/// The pointer arguments of one call, checked one by one as they are added, then together
/// for overlap by [`Args::check`]. The builder takes `&mut self`: passing the region table
/// by value through each step cost a stack copy per step (about 1 KB of stack per C call
/// on a Cortex-M4F).
struct Args {
    regions: [Region; 8],
    n: usize,
}

impl Args {
    fn new() -> Self {
        Args {
            regions: [Region {
                start: 0,
                bytes: 0,
                out: false,
            }; 8],
            n: 0,
        }
    }

    /// Adds a pointer to `len` elements of `T`. `optional`: NULL means absent.
    fn add<T>(&mut self, p: *const T, len: usize, optional: bool, out: bool) -> Result<&mut Self> {
        if p.is_null() {
            return if optional || len == 0 {
                Ok(self)
            } else {
                Err(Status::NullPointer)
            };
        }
        if !p.is_aligned() {
            return Err(Status::Misaligned);
        }
        let bytes = len
            .checked_mul(size_of::<T>())
            .filter(|&b| b <= isize::MAX as usize)
            .ok_or(Status::InvalidParameter)?;
        let start = p as usize;
        if start.checked_add(bytes).is_none() {
            return Err(Status::InvalidParameter);
        }
        let slot = self.regions.get_mut(self.n).ok_or(Status::Internal)?;
        *slot = Region { start, bytes, out };
        self.n += 1;
        Ok(self)
    }
    /// A required input array (NULL only when `len == 0`).
    fn input<T>(&mut self, p: *const T, len: usize) -> Result<&mut Self> {
        self.add(p, len, false, false)
    }
    /// An optional input array (NULL = absent).
    fn optional_input<T>(&mut self, p: *const T, len: usize) -> Result<&mut Self> {
        self.add(p, len, true, false)
    }
    /// A required output array (NULL only when `len == 0`).
    fn output<T>(&mut self, p: *mut T, len: usize) -> Result<&mut Self> {
        self.add(p.cast_const(), len, false, true)
    }
    /// An optional output array (NULL = not computed).
    fn optional_output<T>(&mut self, p: *mut T, len: usize) -> Result<&mut Self> {
        self.add(p.cast_const(), len, true, true)
    }
    /// A required scalar output.
    fn scalar<T>(&mut self, p: *mut T) -> Result<&mut Self> {
        if p.is_null() {
            return Err(Status::NullPointer);
        }
        self.add(p.cast_const(), 1, false, true)
    }

    /// No output overlaps any other argument (inputs may overlap each other).
    fn check(&self) -> Result<()> {
        let regions = self.regions.get(..self.n).ok_or(Status::Internal)?;
        for (i, a) in regions.iter().enumerate() {
            for b in regions.iter().skip(i + 1) {
                let overlap = a.bytes > 0
                    && b.bytes > 0
                    && a.start < b.start + b.bytes
                    && b.start < a.start + a.bytes;
                if overlap && (a.out || b.out) {
                    return Err(Status::Aliasing);
                }
            }
        }
        Ok(())
    }
}

/// The slice behind a checked input pointer.
///
/// # Safety
/// `p` passed [`Args`] for `len` elements, and (the C caller's contract) is valid for reads
/// of `len` elements that nobody writes during the call.
#[inline]
unsafe fn input<'a, T>(p: *const T, len: usize) -> &'a [T] {
    if len == 0 || p.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL, aligned, size ≤ isize::MAX (checked); valid (caller).
        unsafe { core::slice::from_raw_parts(p, len) }
    }
}

/// The slice behind an optional checked input pointer (`None` for NULL).
///
/// # Safety
/// As [`input`].
#[inline]
unsafe fn optional_input<'a, T>(p: *const T, len: usize) -> Option<&'a [T]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: forwarded.
        Some(unsafe { input(p, len) })
    }
}

/// The slice behind a checked output pointer.
///
/// # Safety
/// `p` passed [`Args`] for `len` elements (so it overlaps no other argument), and is valid
/// for reads and writes of `len` elements that nobody else accesses during the call.
#[inline]
unsafe fn output<'a, T>(p: *mut T, len: usize) -> &'a mut [T] {
    if len == 0 || p.is_null() {
        &mut []
    } else {
        // SAFETY: non-NULL, aligned, size ≤ isize::MAX, not aliased (checked); valid (caller).
        unsafe { core::slice::from_raw_parts_mut(p, len) }
    }
}

/// The verbs of every two-input pointwise loss (`PointwiseLoss`). Each takes the loss as a
/// constructor that validates the C parameters (flags), so that pointers are checked first.
pub(crate) mod pointwise {
    use super::*;

    /// `*value_out = L(pred, target, weight)`.
    ///
    /// # Safety
    /// The C contract: each non-NULL pointer is valid for `len` elements (`value_out` for
    /// one), inputs readable and outputs writable, for the whole call.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn value<F: Float, L: PointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        weight: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        value_out: *mut F,
    ) -> Status {
        status((|| {
            Args::new()
                .input(pred, len)?
                .input(target, len)?
                .optional_input(weight, len)?
                .scalar(value_out)?
                .check()?;
            let (loss, reduction) = (loss()?, super::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (p, t, w) = unsafe {
                (
                    input(pred, len),
                    input(target, len),
                    optional_input(weight, len),
                )
            };
            let v = loss.value(p, t, w, reduction)?;
            // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
            unsafe { value_out.write(v) };
            Ok(())
        })())
    }

    /// `out[i] = wᵢ ℓᵢ`.
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn value_elementwise<F: Float, L: PointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        weight: *const F,
        len: usize,
        out: *mut F,
    ) -> Status {
        status((|| {
            Args::new()
                .input(pred, len)?
                .input(target, len)?
                .optional_input(weight, len)?
                .output(out, len)?
                .check()?;
            let loss = loss()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (p, t, w, o) = unsafe {
                (
                    input(pred, len),
                    input(target, len),
                    optional_input(weight, len),
                    output(out, len),
                )
            };
            Ok(loss.value_elementwise(p, t, w, o)?)
        })())
    }

    /// The shared body of `grad`, `value_and_grad` (`value_out` given) and `hessian_diag`
    /// (`hess`: the Hessian diagonal goes to `grad`).
    ///
    /// # Safety
    /// As [`value`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    unsafe fn derivative<F: Float, L: PointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        (pred, target, weight, len): (*const F, *const F, *const F, usize),
        (reduction, divisor, grad_mode): (i32, f64, i32),
        grad: *mut F,
        value_out: Option<*mut F>,
        hess: bool,
    ) -> Status {
        status((|| {
            let mut args = Args::new();
            args.input(pred, len)?
                .input(target, len)?
                .optional_input(weight, len)?
                .output(grad, len)?;
            if let Some(v) = value_out {
                args.scalar(v)?;
            }
            args.check()?;
            let (loss, reduction) = (loss()?, super::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (p, t, w, g) = unsafe {
                (
                    input(pred, len),
                    input(target, len),
                    optional_input(weight, len),
                    output(grad, len),
                )
            };
            let g = mode(grad_mode, g)?;
            match value_out {
                Some(out) => {
                    let v = loss.value_and_grad(p, t, w, reduction, g)?;
                    // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
                    unsafe { out.write(v) };
                }
                None if hess => loss.hessian_diag(p, t, w, reduction, g)?,
                None => loss.grad(p, t, w, reduction, g)?,
            }
            Ok(())
        })())
    }

    /// `grad (=|+=) ∂L/∂pred`.
    ///
    /// # Safety
    /// As [`value`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn grad<F: Float, L: PointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        weight: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                (pred, target, weight, len),
                (reduction, divisor, grad_mode),
                grad,
                None,
                false,
            )
        }
    }

    /// `*value_out = L` and `grad (=|+=) ∂L/∂pred` in one pass.
    ///
    /// # Safety
    /// As [`value`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn value_and_grad<F: Float, L: PointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        weight: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
        value_out: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                (pred, target, weight, len),
                (reduction, divisor, grad_mode),
                grad,
                Some(value_out),
                false,
            )
        }
    }

    /// `hess (=|+=) ∂²L/∂predᵢ²`.
    ///
    /// # Safety
    /// As [`value`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn hessian_diag<F: Float, L: PointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        weight: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        hess: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                (pred, target, weight, len),
                (reduction, divisor, grad_mode),
                hess,
                None,
                true,
            )
        }
    }
}

/// Pointwise losses with a third per-element input (`aux`, e.g. the Gaussian NLL's
/// variance) and its gradient; no per-element weights.
pub(crate) mod aux {
    use super::*;
    use losskit::AuxPointwiseLoss;

    /// `*value_out = L(pred, target, aux)`.
    ///
    /// # Safety
    /// As [`pointwise::value`](super::pointwise::value).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn value<F: Float, L: AuxPointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        aux: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        value_out: *mut F,
    ) -> Status {
        status((|| {
            Args::new()
                .input(pred, len)?
                .input(target, len)?
                .input(aux, len)?
                .scalar(value_out)?
                .check()?;
            let (loss, reduction) = (loss()?, super::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (p, t, a) = unsafe { (input(pred, len), input(target, len), input(aux, len)) };
            let v = loss.value(p, t, a, reduction)?;
            // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
            unsafe { value_out.write(v) };
            Ok(())
        })())
    }

    /// `out[i] = ℓᵢ`.
    ///
    /// # Safety
    /// As [`pointwise::value`](super::pointwise::value).
    #[inline]
    pub(crate) unsafe fn value_elementwise<F: Float, L: AuxPointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        aux: *const F,
        len: usize,
        out: *mut F,
    ) -> Status {
        status((|| {
            Args::new()
                .input(pred, len)?
                .input(target, len)?
                .input(aux, len)?
                .output(out, len)?
                .check()?;
            let loss = loss()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (p, t, a, o) = unsafe {
                (
                    input(pred, len),
                    input(target, len),
                    input(aux, len),
                    output(out, len),
                )
            };
            Ok(loss.value_elementwise(p, t, a, o)?)
        })())
    }

    /// The shared body of `grad`, `value_and_grad` (`value_out` given) and `hessian_diag`
    /// (`hess`; `grad_aux` is then NULL).
    ///
    /// # Safety
    /// As [`pointwise::value`](super::pointwise::value).
    #[inline]
    unsafe fn derivative<F: Float, L: AuxPointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        (pred, target, aux, len): (*const F, *const F, *const F, usize),
        (reduction, divisor, grad_mode): (i32, f64, i32),
        (grad, grad_aux): (*mut F, *mut F),
        value_out: Option<*mut F>,
        hess: bool,
    ) -> Status {
        status((|| {
            let mut args = Args::new();
            args.input(pred, len)?
                .input(target, len)?
                .input(aux, len)?
                .output(grad, len)?
                .optional_output(grad_aux, len)?;
            if let Some(v) = value_out {
                args.scalar(v)?;
            }
            args.check()?;
            let (loss, reduction) = (loss()?, super::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (p, t, a, g) = unsafe {
                (
                    input(pred, len),
                    input(target, len),
                    input(aux, len),
                    output(grad, len),
                )
            };
            let g = mode(grad_mode, g)?;
            let ga = if grad_aux.is_null() {
                None
            } else {
                // SAFETY: as above (an optional output, present).
                Some(mode(grad_mode, unsafe { output(grad_aux, len) })?)
            };
            match value_out {
                Some(out) => {
                    let v = loss.value_and_grad(p, t, a, reduction, g, ga)?;
                    // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
                    unsafe { out.write(v) };
                }
                None if hess => loss.hessian_diag(p, t, a, reduction, g)?,
                None => loss.grad(p, t, a, reduction, g, ga)?,
            }
            Ok(())
        })())
    }

    /// `grad (=|+=) ∂L/∂pred`, and `grad_aux (=|+=) ∂L/∂aux` unless NULL.
    ///
    /// # Safety
    /// As [`pointwise::value`](super::pointwise::value).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn grad<F: Float, L: AuxPointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        aux: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
        grad_aux: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                (pred, target, aux, len),
                (reduction, divisor, grad_mode),
                (grad, grad_aux),
                None,
                false,
            )
        }
    }

    /// `*value_out = L` and both gradients in one pass.
    ///
    /// # Safety
    /// As [`pointwise::value`](super::pointwise::value).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn value_and_grad<F: Float, L: AuxPointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        aux: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
        grad_aux: *mut F,
        value_out: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                (pred, target, aux, len),
                (reduction, divisor, grad_mode),
                (grad, grad_aux),
                Some(value_out),
                false,
            )
        }
    }

    /// `hess (=|+=) ∂²L/∂predᵢ²`.
    ///
    /// # Safety
    /// As [`pointwise::value`](super::pointwise::value).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn hessian_diag<F: Float, L: AuxPointwiseLoss>(
        loss: impl FnOnce() -> Result<L>,
        pred: *const F,
        target: *const F,
        aux: *const F,
        len: usize,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        hess: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                (pred, target, aux, len),
                (reduction, divisor, grad_mode),
                (hess, core::ptr::null_mut()),
                None,
                true,
            )
        }
    }
}

/// The row losses (`rows × classes` scores, row-major) and the row utilities.
pub(crate) mod rows {
    use super::*;
    use losskit::loss::softmax::Teacher;
    use losskit::{RowElementwise, RowHessianDiag, RowHvp, RowInPlace, RowLoss};

    /// The pointer arguments every verb of a row loss shares, as the C caller passed them.
    pub(crate) struct In<F> {
        /// The scores (logits or log-probabilities), `rows × classes`.
        pub x: *const F,
        /// Target probabilities or teacher logits (`rows × classes`), if the loss has them.
        pub x2: Option<*const F>,
        /// Labels (`rows`), if the loss has them.
        pub labels: Option<*const i64>,
        /// Per-class weights (`classes`), NULL for none.
        pub weights: *const F,
        pub rows: usize,
        pub classes: usize,
    }

    /// The inputs of one call, as slices (empty where the loss has no such input).
    pub(crate) struct Data<'a, F> {
        pub x: &'a [F],
        pub x2: &'a [F],
        pub labels: &'a [i64],
        pub classes: usize,
    }

    impl<F> In<F> {
        /// `rows × classes`, or `INVALID_PARAMETER` if it overflows.
        fn len(&self) -> Result<usize> {
            self.rows
                .checked_mul(self.classes)
                .ok_or(Status::InvalidParameter)
        }

        /// Checks the input pointers (`x` as an output when it is overwritten in place) and
        /// returns them for the outputs to be added.
        fn args(&self, x_out: bool) -> Result<Args> {
            let n = self.len()?;
            let mut a = Args::new();
            a.add(self.x, n, false, x_out)?;
            if let Some(p) = self.x2 {
                a.input(p, n)?;
            }
            if let Some(p) = self.labels {
                a.input(p, self.rows)?;
            }
            a.optional_input(self.weights, self.classes)?;
            Ok(a)
        }

        /// The slices behind the checked pointers (`x` empty unless `with_x`: it is then
        /// the in-place output), and the optional weights.
        ///
        /// # Safety
        /// [`In::args`] passed, and the C contract: each non-NULL pointer is valid for reads
        /// of its length, not written by anyone else during the call.
        unsafe fn data<'a>(&self, with_x: bool) -> Result<(Data<'a, F>, Option<&'a [F]>)> {
            let n = self.len()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            unsafe {
                Ok((
                    Data {
                        x: if with_x { input(self.x, n) } else { &[] },
                        x2: self.x2.map_or(&[][..], |p| input(p, n)),
                        labels: self.labels.map_or(&[][..], |p| input(p, self.rows)),
                        classes: self.classes,
                    },
                    optional_input(self.weights, self.classes),
                ))
            }
        }
    }

    /// The reduction, with its divisor checked now (losskit checks it only after the data).
    pub(crate) fn reduction(code: i32, divisor: f64) -> Result<Reduction> {
        let r = super::reduction(code, divisor)?;
        r.scale(1)?;
        Ok(r)
    }

    /// What the rows of a loss with labels are scored against.
    pub(crate) fn labels<'a, F>(d: &Data<'a, F>) -> &'a [i64] {
        d.labels
    }

    /// What the rows of a loss with target probabilities are scored against.
    pub(crate) fn target_probs<'a, F>(d: &Data<'a, F>) -> &'a [F] {
        d.x2
    }

    /// What the rows of the distillation loss are scored against.
    pub(crate) fn teacher<'a, F>(d: &Data<'a, F>) -> Teacher<'a, F, i64> {
        Teacher {
            logits: d.x2,
            labels: d.labels,
        }
    }

    /// `*value_out = L`.
    ///
    /// # Safety
    /// The C contract: each non-NULL pointer is valid for its length (`value_out` for one),
    /// inputs readable and outputs writable, for the whole call.
    #[inline]
    pub(crate) unsafe fn value<'a, F: Float + 'a, T: Copy, L: RowLoss<F, T>>(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        reduction: i32,
        divisor: f64,
        value_out: *mut F,
    ) -> Status {
        status((|| {
            d.args(false)?.scalar(value_out)?.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (data, w) = unsafe { d.data(true)? };
            let (loss, reduction) = (loss(w)?, self::reduction(reduction, divisor)?);
            let v = loss.value(data.x, data.classes, targets(&data), reduction)?;
            // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
            unsafe { value_out.write(v) };
            Ok(())
        })())
    }

    /// `out[r] = ℓ_r` (`rows` values).
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn value_elementwise<'a, F: Float + 'a, T: Copy, L: RowElementwise<F, T>>(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        out: *mut F,
    ) -> Status {
        status((|| {
            d.args(false)?.output(out, d.rows)?.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (data, w) = unsafe { d.data(true)? };
            let loss = loss(w)?;
            // SAFETY: checked by `Args` (not aliased); writable (caller).
            let o = unsafe { output(out, d.rows) };
            Ok(loss.value_elementwise(data.x, data.classes, targets(&data), o)?)
        })())
    }

    /// The shared body of `grad` and `value_and_grad` (`value_out` given).
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    unsafe fn derivative<'a, F: Float + 'a, T: Copy, L: RowLoss<F, T>>(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        (reduction, divisor, grad_mode): (i32, f64, i32),
        grad: *mut F,
        value_out: Option<*mut F>,
    ) -> Status {
        status((|| {
            let n = d.len()?;
            let mut args = d.args(false)?;
            args.output(grad, n)?;
            if let Some(v) = value_out {
                args.scalar(v)?;
            }
            args.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (data, w) = unsafe { d.data(true)? };
            let (loss, reduction) = (loss(w)?, self::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args` (not aliased); writable (caller).
            let g = mode(grad_mode, unsafe { output(grad, n) })?;
            match value_out {
                Some(out) => {
                    let v =
                        loss.value_and_grad(data.x, data.classes, targets(&data), reduction, g)?;
                    // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
                    unsafe { out.write(v) };
                }
                None => loss.grad(data.x, data.classes, targets(&data), reduction, g)?,
            }
            Ok(())
        })())
    }

    /// `grad (=|+=) ∂L/∂x`.
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn grad<'a, F: Float + 'a, T: Copy, L: RowLoss<F, T>>(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                d,
                targets,
                (reduction, divisor, grad_mode),
                grad,
                None,
            )
        }
    }

    /// `*value_out = L` and `grad (=|+=) ∂L/∂x` in one pass.
    ///
    /// # Safety
    /// As [`value`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn value_and_grad<'a, F: Float + 'a, T: Copy, L: RowLoss<F, T>>(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
        value_out: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                d,
                targets,
                (reduction, divisor, grad_mode),
                grad,
                Some(value_out),
            )
        }
    }

    /// `*value_out = L`, `x = ∂L/∂x` in place.
    ///
    /// # Safety
    /// As [`value`]; `d.x` came from a `*mut` the caller made writable (it is an output).
    #[inline]
    pub(crate) unsafe fn value_and_grad_in_place<
        'a,
        F: Float + 'a,
        T: Copy,
        L: RowInPlace<F, T>,
    >(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        reduction: i32,
        divisor: f64,
        value_out: *mut F,
    ) -> Status {
        status((|| {
            let n = d.len()?;
            d.args(true)?.scalar(value_out)?.check()?;
            // The scores are the in-place output: no shared slice is formed over them.
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (data, w) = unsafe { d.data(false)? };
            let (loss, reduction) = (loss(w)?, self::reduction(reduction, divisor)?);
            // SAFETY: `x` is an output of `Args` (aliases nothing); writable (caller).
            let x = unsafe { output(d.x.cast_mut(), n) };
            let v = loss.value_and_grad_in_place(x, data.classes, targets(&data), reduction)?;
            // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
            unsafe { value_out.write(v) };
            Ok(())
        })())
    }

    /// `hess = diag ∂²L/∂x²` (written).
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn hessian_diag<'a, F: Float + 'a, T: Copy, L: RowHessianDiag<F, T>>(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        reduction: i32,
        divisor: f64,
        hess: *mut F,
    ) -> Status {
        status((|| {
            let n = d.len()?;
            d.args(false)?.output(hess, n)?.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (data, w) = unsafe { d.data(true)? };
            let (loss, reduction) = (loss(w)?, self::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args` (not aliased); writable (caller).
            let h = unsafe { output(hess, n) };
            Ok(loss.hessian_diag(data.x, data.classes, targets(&data), reduction, h)?)
        })())
    }

    /// `hv = H v` (written).
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn hvp<'a, F: Float + 'a, T: Copy, L: RowHvp<F, T>>(
        loss: impl FnOnce(Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        targets: fn(&Data<'a, F>) -> T,
        reduction: i32,
        divisor: f64,
        v: *const F,
        hv: *mut F,
    ) -> Status {
        status((|| {
            let n = d.len()?;
            d.args(false)?.input(v, n)?.output(hv, n)?.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (data, w) = unsafe { d.data(true)? };
            let (loss, reduction) = (loss(w)?, self::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args`; valid (and `hv` writable, not aliased) by the contract.
            let (v, o) = unsafe { (input(v, n), output(hv, n)) };
            Ok(loss.hvp(data.x, data.classes, targets(&data), reduction, v, o)?)
        })())
    }

    /// A row utility `f(x, classes, out)`, `out` with `rows` (`per_row`) or `rows × classes`
    /// elements.
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn utility<F: Float>(
        f: fn(&[F], usize, &mut [F]) -> losskit::Result<()>,
        x: *const F,
        rows: usize,
        classes: usize,
        per_row: bool,
        out: *mut F,
    ) -> Status {
        status((|| {
            let n = rows.checked_mul(classes).ok_or(Status::InvalidParameter)?;
            let m = if per_row { rows } else { n };
            Args::new().input(x, n)?.output(out, m)?.check()?;
            // SAFETY: checked by `Args`; valid (and `out` writable) by the caller's contract.
            let (x, o) = unsafe { (input(x, n), output(out, m)) };
            // losskit infers the rows from `x`: with no classes there are none.
            if rows == 0 || classes == 0 {
                return Err(Status::Empty);
            }
            Ok(f(x, classes, o)?)
        })())
    }
}

/// The multi-label losses: `rows × classes` logits (row-major) against targets in `[0, 1]` of
/// the same shape, with optional per-class `pos_weight` and `class_weights`.
pub(crate) mod multilabel {
    use super::*;
    use losskit::{RowElementwise, RowHessianDiag};

    /// The pointer arguments every verb shares, as the C caller passed them.
    pub(crate) struct In<F> {
        /// `rows × classes` logits.
        pub logits: *const F,
        /// `rows × classes` targets.
        pub targets: *const F,
        /// `classes` positive weights, NULL for none.
        pub pos_weight: *const F,
        /// `classes` class weights, NULL for none.
        pub class_weights: *const F,
        pub rows: usize,
        pub classes: usize,
    }

    /// The slices of one call: logits, targets, and the optional per-class tensors.
    type Data<'a, F> = (&'a [F], &'a [F], Option<&'a [F]>, Option<&'a [F]>);

    impl<F> In<F> {
        /// `rows × classes`, or `INVALID_PARAMETER` if it overflows.
        fn len(&self) -> Result<usize> {
            self.rows
                .checked_mul(self.classes)
                .ok_or(Status::InvalidParameter)
        }

        /// Checks the input pointers and returns them for the outputs to be added.
        fn args(&self) -> Result<Args> {
            let n = self.len()?;
            let mut a = Args::new();
            a.input(self.logits, n)?
                .input(self.targets, n)?
                .optional_input(self.pos_weight, self.classes)?
                .optional_input(self.class_weights, self.classes)?;
            Ok(a)
        }

        /// The slices behind the checked pointers.
        ///
        /// # Safety
        /// [`In::args`] passed, and the C contract: each non-NULL pointer is valid for reads
        /// of its length, not written by anyone else during the call.
        unsafe fn data<'a>(&self) -> Result<Data<'a, F>> {
            let n = self.len()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            unsafe {
                Ok((
                    input(self.logits, n),
                    input(self.targets, n),
                    optional_input(self.pos_weight, self.classes),
                    optional_input(self.class_weights, self.classes),
                ))
            }
        }
    }

    /// `*value_out = L`.
    ///
    /// # Safety
    /// The C contract: each non-NULL pointer is valid for its length (`value_out` for one),
    /// inputs readable and outputs writable, for the whole call.
    #[inline]
    pub(crate) unsafe fn value<
        'a,
        F: Float + 'a,
        L: RowHessianDiag<F, &'a [F]> + RowElementwise<F, &'a [F]>,
    >(
        loss: impl FnOnce(Option<&'a [F]>, Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        reduction: i32,
        divisor: f64,
        value_out: *mut F,
    ) -> Status {
        status((|| {
            d.args()?.scalar(value_out)?.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (x, t, pw, w) = unsafe { d.data()? };
            let (loss, reduction) = (loss(pw, w)?, rows::reduction(reduction, divisor)?);
            let v = loss.value(x, d.classes, t, reduction)?;
            // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
            unsafe { value_out.write(v) };
            Ok(())
        })())
    }

    /// `out = ℓ` per element, or per row for a per-row loss.
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn value_elementwise<
        'a,
        F: Float + 'a,
        L: RowHessianDiag<F, &'a [F]> + RowElementwise<F, &'a [F]>,
    >(
        loss: impl FnOnce(Option<&'a [F]>, Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        per_row: bool,
        out: *mut F,
    ) -> Status {
        status((|| {
            let m = if per_row { d.rows } else { d.len()? };
            d.args()?.output(out, m)?.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (x, t, pw, w) = unsafe { d.data()? };
            let loss = loss(pw, w)?;
            // SAFETY: checked by `Args` (not aliased); writable (caller).
            let o = unsafe { output(out, m) };
            Ok(loss.value_elementwise(x, d.classes, t, o)?)
        })())
    }

    /// What a derivative verb computes.
    #[derive(Clone, Copy, PartialEq)]
    enum Which {
        Grad,
        ValueAndGrad,
        Hessian,
    }

    /// The shared body of `grad`, `value_and_grad` (`value_out` given) and `hessian_diag`
    /// (`out` then receives the Hessian diagonal).
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    unsafe fn derivative<
        'a,
        F: Float + 'a,
        L: RowHessianDiag<F, &'a [F]> + RowElementwise<F, &'a [F]>,
    >(
        loss: impl FnOnce(Option<&'a [F]>, Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        (reduction, divisor, grad_mode): (i32, f64, i32),
        out: *mut F,
        (which, value_out): (Which, *mut F),
    ) -> Status {
        status((|| {
            let n = d.len()?;
            let mut args = d.args()?;
            args.output(out, n)?;
            if which == Which::ValueAndGrad {
                args.scalar(value_out)?;
            }
            args.check()?;
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (x, t, pw, w) = unsafe { d.data()? };
            let (loss, reduction) = (loss(pw, w)?, rows::reduction(reduction, divisor)?);
            // SAFETY: checked by `Args` (not aliased); writable (caller).
            let o = mode(grad_mode, unsafe { output(out, n) })?;
            match which {
                Which::Grad => loss.grad(x, d.classes, t, reduction, o)?,
                Which::Hessian => loss.hessian_diag(x, d.classes, t, reduction, o)?,
                Which::ValueAndGrad => {
                    let v = loss.value_and_grad(x, d.classes, t, reduction, o)?;
                    // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
                    unsafe { value_out.write(v) };
                }
            }
            Ok(())
        })())
    }

    /// `grad (=|+=) ∂L/∂logits`.
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn grad<
        'a,
        F: Float + 'a,
        L: RowHessianDiag<F, &'a [F]> + RowElementwise<F, &'a [F]>,
    >(
        loss: impl FnOnce(Option<&'a [F]>, Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                d,
                (reduction, divisor, grad_mode),
                grad,
                (Which::Grad, core::ptr::null_mut()),
            )
        }
    }

    /// `*value_out = L` and `grad (=|+=) ∂L/∂logits` in one pass.
    ///
    /// # Safety
    /// As [`value`].
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn value_and_grad<
        'a,
        F: Float + 'a,
        L: RowHessianDiag<F, &'a [F]> + RowElementwise<F, &'a [F]>,
    >(
        loss: impl FnOnce(Option<&'a [F]>, Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        grad: *mut F,
        value_out: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                d,
                (reduction, divisor, grad_mode),
                grad,
                (Which::ValueAndGrad, value_out),
            )
        }
    }

    /// `hess (=|+=) diag ∂²L/∂logits²`.
    ///
    /// # Safety
    /// As [`value`].
    #[inline]
    pub(crate) unsafe fn hessian_diag<
        'a,
        F: Float + 'a,
        L: RowHessianDiag<F, &'a [F]> + RowElementwise<F, &'a [F]>,
    >(
        loss: impl FnOnce(Option<&'a [F]>, Option<&'a [F]>) -> Result<L>,
        d: In<F>,
        reduction: i32,
        divisor: f64,
        grad_mode: i32,
        hess: *mut F,
    ) -> Status {
        // SAFETY: forwarded contract.
        unsafe {
            derivative(
                loss,
                d,
                (reduction, divisor, grad_mode),
                hess,
                (Which::Hessian, core::ptr::null_mut()),
            )
        }
    }
}

/// Barron's loss's gradient with respect to its shape `α` (`Barron::grad_alpha` and
/// `grad_alpha_elementwise`): the one loss with a derivative in a parameter, so written here
/// rather than generated.
pub(crate) mod barron {
    use super::*;
    use losskit::loss::regression::Barron;

    /// `*grad_alpha_out = ∂L/∂α`, and when `out` is not NULL each element's share
    /// `scale · wᵢ ∂ρᵢ/∂α` written or added into it.
    ///
    /// # Safety
    /// The C contract: each non-NULL pointer is valid for `len` elements (`grad_alpha_out`
    /// for one), inputs readable and outputs writable, for the whole call.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub(crate) unsafe fn grad_alpha<F: Float>(
        (pred, target, weight, len): (*const F, *const F, *const F, usize),
        (alpha, scale): (f64, f64),
        (reduction, divisor, grad_mode): (i32, f64, i32),
        out: *mut F,
        grad_alpha_out: *mut F,
    ) -> Status {
        status((|| {
            Args::new()
                .input(pred, len)?
                .input(target, len)?
                .optional_input(weight, len)?
                .optional_output(out, len)?
                .scalar(grad_alpha_out)?
                .check()?;
            let reduction = super::reduction(reduction, divisor)?;
            // The mode is an option of every call, also when `out` is NULL.
            mode::<F>(grad_mode, &mut [])?;
            let loss = Barron { alpha, scale };
            // SAFETY: checked by `Args`; valid by the caller's contract.
            let (p, t, w) = unsafe {
                (
                    input(pred, len),
                    input(target, len),
                    optional_input(weight, len),
                )
            };
            let d = if out.is_null() {
                loss.grad_alpha(p, t, w, reduction)?
            } else {
                // SAFETY: checked by `Args` (not aliased); writable by the caller's contract.
                let o = mode(grad_mode, unsafe { output(out, len) })?;
                loss.grad_alpha_elementwise(p, t, w, reduction, o)?
            };
            // SAFETY: non-NULL, aligned, not aliased (checked); writable (caller).
            unsafe { grad_alpha_out.write(d) };
            Ok(())
        })())
    }
}
