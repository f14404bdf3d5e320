//! The C API of [`losskit`]: every loss × verb × precision as an `extern "C"` function, the
//! header `include/losskit.h` generated from this crate by cbindgen.
//!
//! # Conventions (also in the header)
//!
//! * Names: `losskit_<loss>_<verb>_<f32|f64>`, with `<loss>` the snake name of the loss in
//!   losskit's registry and `<verb>` one of `value`, `value_elementwise`, `grad`,
//!   `value_and_grad`, `hessian_diag` (every pointwise loss has all five). A row loss
//!   (`rows × classes` scores, row-major; labels as `int64_t`) has the verbs losskit gives
//!   it among `value`, `value_elementwise` (one value per row), `grad`, `value_and_grad`,
//!   `value_and_grad_in_place`, `hessian_diag`, `hvp`. The multi-label losses (`rows ×
//!   classes` logits against targets of the same shape, optional per-class `pos_weight` and
//!   class weights) have the five pointwise verbs, `value_elementwise` per element or per
//!   row. The row utilities are `losskit_<logsumexp|softmax|log_softmax>_<f32|f64>`.
//!   Barron's loss also has `losskit_barron_grad_alpha_<f32|f64>`, its gradient in its shape
//!   `alpha` (written here, not generated: no other loss has a derivative in a parameter).
//! * Every function returns a [`losskit_status`] (an `int32_t`, 0 = OK). Results go through
//!   out-pointers; lengths are `size_t`.
//! * Options arrive as `int32_t` and are validated ([`losskit_reduction`],
//!   [`losskit_grad_mode`], 0/1 flags); no Rust enum is ever read from C.
//! * Before any slice is formed, every pointer is checked: NULL (accepted for arrays when the
//!   length is 0, and for optional arrays), alignment, a byte size that fits `isize`, and
//!   overlap of an output with any other argument. See `checked.rs`.
//! * Nothing panics across the boundary. This crate is `no_std` (no `catch_unwind`), so
//!   instead every input is validated before the kernels run, and the kernels are
//!   documented never to panic; the crate denies `unwrap`, `expect`, `panic!` and
//!   indexing. Should a panic happen anyway (a bug), Rust aborts the process at the
//!   `extern "C"` boundary (since Rust 1.81) rather than unwinding into C; on bare metal the
//!   panic handler below halts.
//!
//! The functions in [`generated`] are written by `codegen/` from losskit's registry
//! (`losskit::registry`); each is a single call into the checked helpers of `checked.rs`.

#![no_std]
#![deny(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![allow(non_camel_case_types)]

// Hosted targets: std supplies the panic handler (and the test harness needs it).
#[cfg(not(target_os = "none"))]
extern crate std;

mod checked;
#[rustfmt::skip]
pub mod generated;

use core::ffi::c_char;

/// The status every losskit function returns (an `int32_t`; 0 is success).
///
/// On any status but `LOSSKIT_STATUS_OK` nothing was written to the outputs, with one
/// documented exception: `LOSSKIT_STATUS_NON_FINITE` and `LOSSKIT_STATUS_INVALID_INPUT` are
/// found during the pass, so an output array in write mode (`LOSSKIT_GRAD_MODE_WRITE`, the
/// `out` of `value_elementwise`, and the outputs without a `grad_mode`: the row losses'
/// `hessian_diag` and `hvp`, the row utilities) has then been reset to zeros; in add mode
/// (`LOSSKIT_GRAD_MODE_ADD`) it is left exactly as it was, and so are the logits of
/// `value_and_grad_in_place`. Scalar outputs (`value_out`) are only written on success.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum losskit_status {
    /// Success.
    Ok = 0,
    /// A required pointer is NULL (arrays may be NULL when their length is 0).
    NullPointer = 1,
    /// Two lengths that must agree do not.
    LengthMismatch = 2,
    /// The input has no elements.
    Empty = 3,
    /// A loss parameter, option or flag is outside its domain (including an unknown
    /// `reduction` or `grad_mode`, a flag other than 0/1, a `divisor` outside
    /// [2⁻¹²⁶, 2¹²⁶], or a length whose byte size exceeds `PTRDIFF_MAX`).
    InvalidParameter = 4,
    /// A class label is outside `0..classes` (and not the ignore index).
    LabelOutOfRange = 5,
    // 6 is reserved (no function returns it: it was "workspace too small", and comes back
    // with the first function that takes a workspace).
    /// An input holds NaN or an infinity.
    NonFinite = 7,
    /// An output overlaps an input or another output.
    Aliasing = 8,
    /// Internal error (a bug in losskit; please report it).
    Internal = 9,
    /// A pointer is not aligned for its element type.
    Misaligned = 10,
    /// A finite input is outside the loss's domain (a negative variance, a negative Poisson
    /// count or rate).
    InvalidInput = 11,
}

/// The reduction of the per-element losses `wᵢ ℓᵢ`, passed as an `int32_t`.
///
/// The gradient and Hessian are those of the reduced value.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum losskit_reduction {
    /// `Σ wᵢ ℓᵢ / len` (PyTorch's default; weights do not change the divisor).
    Mean = 0,
    /// `Σ wᵢ ℓᵢ`.
    Sum = 1,
    /// `Σ wᵢ ℓᵢ / divisor` with the caller's `divisor` (in [2⁻¹²⁶, 2¹²⁶]): the mean over a batch
    /// split into micro-batches or across workers.
    Divisor = 2,
}

/// Whether a gradient or Hessian output is overwritten or accumulated, as an `int32_t`.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum losskit_grad_mode {
    /// `out[i] = result[i]`.
    Write = 0,
    /// `out[i] += result[i]` (gradient accumulation, sums of losses).
    Add = 1,
}

/// The version of losskit, e.g. `"0.1.0"` (a static NUL-terminated string).
#[unsafe(no_mangle)]
pub extern "C" fn losskit_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The SIMD tier the kernels run on in this process: `"avx512"`, `"avx2"` or `"portable"`
/// (SSE2 on a default x86_64 build, NEON on aarch64, scalar on Cortex-M). A static
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn losskit_backend_name() -> *const c_char {
    let name: &'static core::ffi::CStr = match losskit::Backend::active() {
        losskit::Backend::Avx512 => c"avx512",
        losskit::Backend::Avx2 => c"avx2",
        losskit::Backend::Portable => c"portable",
        _ => c"unknown",
    };
    name.as_ptr()
}

/// A static NUL-terminated description of a status code (any `int32_t`; unknown codes give
/// `"unknown status"`).
#[unsafe(no_mangle)]
pub extern "C" fn losskit_status_str(status: i32) -> *const c_char {
    let s: &'static core::ffi::CStr = match status {
        0 => c"ok",
        1 => c"a required pointer is NULL",
        2 => c"lengths do not match",
        3 => c"the input is empty",
        4 => c"a parameter or option is outside its domain",
        5 => c"a class label is out of range",
        7 => c"an input is NaN or infinite",
        8 => c"an output overlaps another argument",
        9 => c"internal error",
        10 => c"a pointer is misaligned for its element type",
        11 => c"an input is outside the loss's domain",
        _ => c"unknown status",
    };
    s.as_ptr()
}

/// The gradient of Barron's general robust loss (`losskit_barron_*`) with respect to its
/// shape alpha, for the adaptive loss (alpha learned with the model), in f32.
///
/// With `x = (pred - target) / scale`, `b = |alpha - 2|`, `u = x^2 / b`, `L = log1p(u)`:
/// `d l / d alpha = b/4 * integral_0^L exp(alpha l / 2) (l - 1 + exp(-l)) dl >= 0`, evaluated
/// without cancellation for every alpha (a series where it would cancel); 0 at
/// `alpha = -INFINITY`, `+INFINITY` at `alpha = 2` where `x != 0` (its logarithmic pole).
/// `*grad_alpha_out = dL/dalpha = r * sum_i w_i d l_i / d alpha` with `r` the reduction's
/// factor (`reduction`, `divisor` as for `losskit_barron_value_f32`); an element of weight 0
/// contributes exactly 0. When `out` is not NULL, each term `r * w_i * d l_i / d alpha` is
/// written (`grad_mode` `LOSSKIT_GRAD_MODE_WRITE`) or added (`LOSSKIT_GRAD_MODE_ADD`) into
/// it, from the same pass; `grad_mode` is validated also when `out` is NULL.
///
/// `alpha`: `-INFINITY` or finite with `|alpha| <= 2^64`; `scale`: in `[2^-63, 2^63]`.
/// Returns a `losskit_status`: `OK`, or the first problem found, in this order:
/// `NULL_POINTER` (`pred`, `target` when `len > 0`, or `grad_alpha_out`), `MISALIGNED`,
/// `INVALID_PARAMETER` (size), `ALIASING` (`out` or `grad_alpha_out` overlapping another
/// argument), `INVALID_PARAMETER` (options, `alpha`, `scale`), `EMPTY`, `NON_FINITE` (a NaN
/// or infinite `pred`, `target` or `weight`: `out` is then zeros in write mode, untouched in
/// add mode).
///
/// # Safety
/// `pred`, `target` and (when not NULL) `weight` and `out` point to `len` elements, and
/// `grad_alpha_out` to one, valid for the call (inputs readable, outputs writable).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn losskit_barron_grad_alpha_f32(
    pred: *const f32,
    target: *const f32,
    weight: *const f32,
    len: usize,
    alpha: f64,
    scale: f64,
    reduction: i32,
    divisor: f64,
    grad_mode: i32,
    out: *mut f32,
    grad_alpha_out: *mut f32,
) -> losskit_status {
    // SAFETY: the caller's contract, forwarded.
    unsafe {
        checked::barron::grad_alpha(
            (pred, target, weight, len),
            (alpha, scale),
            (reduction, divisor, grad_mode),
            out,
            grad_alpha_out,
        )
    }
}

/// As `losskit_barron_grad_alpha_f32`, in f64.
///
/// # Safety
/// As `losskit_barron_grad_alpha_f32`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn losskit_barron_grad_alpha_f64(
    pred: *const f64,
    target: *const f64,
    weight: *const f64,
    len: usize,
    alpha: f64,
    scale: f64,
    reduction: i32,
    divisor: f64,
    grad_mode: i32,
    out: *mut f64,
    grad_alpha_out: *mut f64,
) -> losskit_status {
    // SAFETY: the caller's contract, forwarded.
    unsafe {
        checked::barron::grad_alpha(
            (pred, target, weight, len),
            (alpha, scale),
            (reduction, divisor, grad_mode),
            out,
            grad_alpha_out,
        )
    }
}

/// Bare metal only: the staticlib needs a panic handler (cargo builds every crate type of
/// this crate, also when firmware uses it as an rlib, so firmware gets this one). Nothing in
/// this crate panics (see the crate docs); should a bug panic anyway, the core halts here.
/// Firmware that needs its own handler uses the `losskit` crate directly.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
