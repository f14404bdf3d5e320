//! losskit on a Cortex-M4F (QEMU `mps2-an386`): runs a conformance subset of every pointwise
//! loss (f32 and f64) and a few row losses (cross-entropy and multi-label BCE in f32,
//! softmax in both) through the C entry points, measures one 256-element MSE `value_and_grad` and one 10-class
//! cross-entropy row `value_and_grad`, and reports `N passed, M failed` over semihosting
//! (QEMU's exit code follows).
//!
//! Run from this directory: `cargo run --release` (needs `qemu-system-arm`).

#![no_std]
#![no_main]

use core::ffi::CStr;
use core::ptr::null;
use cortex_m::peripheral::{DWT, SYST, syst::SystClkSource};
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use losskit_capi::generated::*;
use losskit_capi::{losskit_backend_name, losskit_status, losskit_version};

mod naive;

/// The row cases (`make_cases.py`).
mod cases;
/// The pointwise cases, generated from the registry and the vectors by losskit-capi's
/// `codegen/cases.rs` (kept as generated: not reformatted).
#[rustfmt::skip]
mod pointwise_cases;

/// One loss's `value_and_grad` in both precisions: (pred, target, aux, reduction, grad,
/// value) → status. The C parameters of the case are baked in.
type Vg<F> = fn(&[F], &[F], &[F], i32, &mut [F], &mut F) -> losskit_status;

/// The C functions a case runs.
pub struct Kernels {
    f32: Vg<f32>,
    f64: Vg<f64>,
}

/// A conformance case (PyTorch float64 expectations).
pub struct Case {
    id: &'static str,
    kernels: Kernels,
    pred: &'static [f64],
    target: &'static [f64],
    /// The third input (Gaussian NLL's variance), empty for two-input losses.
    aux: &'static [f64],
    reduction: i32,
    value: f64,
    grad: &'static [f64],
}

/// `kernels!(pw f32_fn, f64_fn; params...)` for two-input losses (no weights),
/// `kernels!(aux f32_fn, f64_fn; params...)` for losses with a third input.
macro_rules! kernels {
    (pw $f32:ident, $f64:ident; $($param:expr),*) => {
        $crate::Kernels {
            // SAFETY: the slices are valid for their lengths; the output is distinct.
            f32: |p, t, _a, r, g, v| unsafe {
                losskit_capi::generated::$f32(p.as_ptr(), t.as_ptr(), core::ptr::null(), p.len(), $($param,)* r, 0.0, 0, g.as_mut_ptr(), v)
            },
            // SAFETY: as above.
            f64: |p, t, _a, r, g, v| unsafe {
                losskit_capi::generated::$f64(p.as_ptr(), t.as_ptr(), core::ptr::null(), p.len(), $($param,)* r, 0.0, 0, g.as_mut_ptr(), v)
            },
        }
    };
    (aux $f32:ident, $f64:ident; $($param:expr),*) => {
        $crate::Kernels {
            // SAFETY: as above; the auxiliary gradient is not requested (NULL).
            f32: |p, t, a, r, g, v| unsafe {
                losskit_capi::generated::$f32(p.as_ptr(), t.as_ptr(), a.as_ptr(), p.len(), $($param,)* r, 0.0, 0,
                     g.as_mut_ptr(), core::ptr::null_mut(), v)
            },
            // SAFETY: as above.
            f64: |p, t, a, r, g, v| unsafe {
                losskit_capi::generated::$f64(p.as_ptr(), t.as_ptr(), a.as_ptr(), p.len(), $($param,)* r, 0.0, 0,
                     g.as_mut_ptr(), core::ptr::null_mut(), v)
            },
        }
    };
}
pub(crate) use kernels;

/// One row function in both precisions: (x, dense second input, labels, per-class tensors,
/// classes, reduction, output, value) → status. Empty slices are passed as NULL.
type RowFn<F> = fn(&[F], &[F], &[i64], &[F], usize, i32, &mut [F], &mut F) -> losskit_status;

/// The C functions a row case runs, in both precisions (f64 is soft-float on this FPU).
pub struct RowKernels {
    f32: RowFn<f32>,
    f64: RowFn<f64>,
}

/// A row case: `rows × classes` scores (row-major) and what they are scored against.
pub struct RowCase {
    id: &'static str,
    kernels: RowKernels,
    x: &'static [f64],
    /// Dense targets (multi-label), empty otherwise.
    t: &'static [f64],
    labels: &'static [i64],
    /// Class weights (cross-entropy), or `pos_weight` then class weights (multi-label).
    per_class: &'static [f64],
    classes: usize,
    reduction: i32,
    /// The reduced value, `None` for a row utility.
    value: Option<f64>,
    /// The gradient, or the utility's output.
    out: &'static [f64],
}

/// A slice's pointer, NULL when empty (an absent optional input).
fn opt<F>(x: &[F]) -> *const F {
    if x.is_empty() { null() } else { x.as_ptr() }
}

/// `row_kernels!(ce f32_fn, f64_fn; label_smoothing)` (PyTorch's ignore_index -100 on),
/// `row_kernels!(ml f32_fn, f64_fn)` and `row_kernels!(softmax f32_fn, f64_fn)`.
macro_rules! row_kernels {
    (ce $f32:ident, $f64:ident; $eps:expr) => {
        $crate::RowKernels {
            f32: row_kernels!(@ce $f32; $eps),
            f64: row_kernels!(@ce $f64; $eps),
        }
    };
    (@ce $f:ident; $eps:expr) => {
        // SAFETY: the slices are valid for their lengths; the outputs are distinct.
        |x, _t, y, w, c, r, g, v| unsafe {
            losskit_capi::generated::$f(
                x.as_ptr(),
                x.len() / c,
                c,
                y.as_ptr(),
                $crate::opt(w),
                -100,
                1,
                $eps,
                0,
                0.0,
                0.0,
                r,
                0.0,
                0,
                g.as_mut_ptr(),
                v,
            )
        }
    };
    (softmax $f32:ident, $f64:ident) => {
        $crate::RowKernels {
            // SAFETY: as above.
            f32: |x, _t, _y, _w, c, _r, o, _v| unsafe {
                losskit_capi::generated::$f32(x.as_ptr(), x.len() / c, c, o.as_mut_ptr())
            },
            // SAFETY: as above.
            f64: |x, _t, _y, _w, c, _r, o, _v| unsafe {
                losskit_capi::generated::$f64(x.as_ptr(), x.len() / c, c, o.as_mut_ptr())
            },
        }
    };
    (ml $f32:ident, $f64:ident) => {
        $crate::RowKernels {
            f32: row_kernels!(@ml $f32),
            f64: row_kernels!(@ml $f64),
        }
    };
    (@ml $f:ident) => {
        // SAFETY: as above; `w` holds pos_weight then the class weights.
        |x, t, _y, w, c, r, g, v| unsafe {
            let (pw, cw) = w.split_at(c);
            losskit_capi::generated::$f(
                x.as_ptr(),
                x.len() / c,
                c,
                t.as_ptr(),
                $crate::opt(pw),
                $crate::opt(cw),
                r,
                0.0,
                0,
                g.as_mut_ptr(),
                v,
            )
        }
    };
}
pub(crate) use row_kernels;

const MAXN: usize = 16;
/// The most elements of a row case.
const MAXR: usize = 16;

/// `|a − b| ≤ tol · max(|b|, scale)`.
fn close(a: f64, b: f64, tol: f64, scale: f64) -> bool {
    let m = if b.abs() > scale { b.abs() } else { scale };
    (a - b).abs() <= tol * m
}

/// Runs a case in one precision; `true` when status, value and gradient match.
fn check<F: Copy + Default>(
    c: &Case,
    run: Vg<F>,
    from: fn(f64) -> F,
    to: fn(F) -> f64,
    tol: f64,
) -> bool {
    let n = c.pred.len();
    let (mut p, mut t, mut a, mut g) = (
        [F::default(); MAXN],
        [F::default(); MAXN],
        [F::default(); MAXN],
        [F::default(); MAXN],
    );
    for i in 0..n {
        p[i] = from(c.pred[i]);
        t[i] = from(c.target[i]);
    }
    for (d, x) in a.iter_mut().zip(c.aux) {
        *d = from(*x);
    }
    let mut v = F::default();
    let status = run(
        &p[..n],
        &t[..n],
        &a[..c.aux.len()],
        c.reduction,
        &mut g[..n],
        &mut v,
    );
    let scale = c.grad.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    status == losskit_status::Ok
        && close(to(v), c.value, tol, 1e-3)
        && (0..n).all(|i| close(to(g[i]), c.grad[i], tol, scale))
}

/// Runs a row case in one precision; `true` when status, value and output match.
fn check_row<F: Copy + Default>(
    c: &RowCase,
    run: RowFn<F>,
    from: fn(f64) -> F,
    to: fn(F) -> f64,
    tol: f64,
) -> bool {
    let n = c.x.len();
    let (mut x, mut t, mut w, mut o) = (
        [F::default(); MAXR],
        [F::default(); MAXR],
        [F::default(); MAXR],
        [F::default(); MAXR],
    );
    for (d, s) in x.iter_mut().zip(c.x) {
        *d = from(*s);
    }
    for (d, s) in t.iter_mut().zip(c.t) {
        *d = from(*s);
    }
    for (d, s) in w.iter_mut().zip(c.per_class) {
        *d = from(*s);
    }
    let mut v = F::default();
    let status = run(
        &x[..n],
        &t[..c.t.len()],
        c.labels,
        &w[..c.per_class.len()],
        c.classes,
        c.reduction,
        &mut o[..n],
        &mut v,
    );
    let scale = c.out.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    status == losskit_status::Ok
        && c.value.is_none_or(|want| close(to(v), want, tol, 1e-3))
        && (0..n).all(|i| close(to(o[i]), c.out[i], tol, scale))
}

/// Instructions per call of `f`, counted with the SysTick under `-icount shift=0`
/// (1 instruction = 1 ns; SysTick at 25 MHz = 40 ns) over 64 calls, and the DWT cycle
/// counter's reading (0 where QEMU does not emulate it).
fn measure(syst: &mut SYST, mut f: impl FnMut()) -> (u32, u32) {
    const REPS: u32 = 64;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00ff_ffff);
    syst.clear_current();
    syst.enable_counter();
    let (t0, c0) = (SYST::get_current(), DWT::cycle_count());
    for _ in 0..REPS {
        f();
    }
    let (t1, c1) = (SYST::get_current(), DWT::cycle_count());
    syst.disable_counter();
    let ticks = t0.wrapping_sub(t1) & 0x00ff_ffff;
    (ticks * 40 / REPS, c1.wrapping_sub(c0) / REPS)
}

const MSE_N: usize = 256;
const CE_C: usize = 10;

/// The inputs of the MSE measurements: 256 predictions and targets, and the gradient.
fn mse_data() -> ([f32; MSE_N], [f32; MSE_N], [f32; MSE_N]) {
    let mut pred = [0.0f32; MSE_N];
    let mut target = [0.0f32; MSE_N];
    for i in 0..MSE_N {
        pred[i] = (i % 17) as f32 * 0.25 - 2.0;
        target[i] = (i % 13) as f32 * 0.5 - 3.0;
    }
    (pred, target, [0.0; MSE_N])
}

/// The inputs of the cross-entropy measurements: one 10-class row, and its gradient.
fn ce_data() -> ([f32; CE_C], [f32; CE_C]) {
    let mut logits = [0.0f32; CE_C];
    for (j, x) in logits.iter_mut().enumerate() {
        *x = (j % 7) as f32 * 0.75 - 2.0;
    }
    (logits, [0.0; CE_C])
}

/// One f32 MSE `value_and_grad` (MEAN) through the C function.
fn call_mse(pred: &[f32; MSE_N], target: &[f32; MSE_N], grad: &mut [f32; MSE_N]) {
    let mut v = 0.0f32;
    // SAFETY: valid, distinct buffers of MSE_N elements.
    let s = unsafe {
        losskit_mse_value_and_grad_f32(
            core::hint::black_box(pred.as_ptr()),
            target.as_ptr(),
            null(),
            MSE_N,
            0,
            0.0,
            0,
            grad.as_mut_ptr(),
            &mut v,
        )
    };
    core::hint::black_box((s, v));
}

/// One f32 cross-entropy `value_and_grad` of a single 10-class row (label 3, no weights,
/// no smoothing, MEAN) through the C function.
fn call_cross_entropy(logits: &[f32; CE_C], grad: &mut [f32; CE_C]) {
    let label = [3i64];
    let mut v = 0.0f32;
    // SAFETY: valid, distinct buffers (CE_C logits and gradients, one label).
    let s = unsafe {
        losskit_cross_entropy_value_and_grad_f32(
            core::hint::black_box(logits.as_ptr()),
            1,
            CE_C,
            label.as_ptr(),
            null(),
            -100,
            1,
            0.0,
            0,
            0.0,
            0.0,
            0,
            0.0,
            0,
            grad.as_mut_ptr(),
            &mut v,
        )
    };
    core::hint::black_box((s, v));
}

/// Bytes of stack `f` uses below the caller's stack pointer: the 16 KiB below it are painted
/// with a pattern, `f` runs, and the deepest word that no longer holds the pattern marks
/// the high-water mark (nothing else runs: no interrupt is enabled).
#[inline(never)]
fn stack_used(f: impl FnOnce()) -> usize {
    const SPAN: usize = 16 * 1024;
    const PATTERN: u32 = 0x5a5a_a5a5;
    let sp = cortex_m::register::msp::read() as usize & !3;
    let (bottom, top) = (sp - SPAN, sp - 8);
    for a in (bottom..top).step_by(4) {
        // SAFETY: below the stack pointer of this frame (unused stack in the 4 MiB of RAM),
        // word-aligned; nothing else uses it while this function runs.
        unsafe { core::ptr::write_volatile(a as *mut u32, PATTERN) };
    }
    f();
    let deepest = (bottom..top)
        .step_by(4)
        // SAFETY: as above; `f` has returned, the region is readable RAM.
        .find(|&a| unsafe { core::ptr::read_volatile(a as *const u32) } != PATTERN)
        .unwrap_or(top);
    sp - deepest
}

/// Prints losskit's instruction count beside the naive loop's, and their ratio.
fn report(what: &str, (ours, dwt): (u32, u32), (naive, _): (u32, u32)) {
    hprintln!(
        "{}: {} instructions per call (QEMU icount; DWT cycles {}), naive loop {}, ratio {}.{:02}",
        what,
        ours,
        dwt,
        naive,
        ours / naive.max(1),
        (ours % naive.max(1)) * 100 / naive.max(1)
    );
}

#[entry]
fn main() -> ! {
    let mut cp = cortex_m::Peripherals::take().unwrap_or_else(|| fail("peripherals taken"));
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();

    // SAFETY: both return static NUL-terminated strings.
    let (version, backend) = unsafe {
        (
            CStr::from_ptr(losskit_version()),
            CStr::from_ptr(losskit_backend_name()),
        )
    };
    hprintln!(
        "losskit {} on Cortex-M4F, backend {}",
        version.to_str().unwrap_or("?"),
        backend.to_str().unwrap_or("?")
    );

    let (mut passed, mut failed) = (0u32, 0u32);
    let mut tally = |id: &str, results: [(bool, &str); 2]| {
        for (ok, dtype) in results {
            if ok {
                passed += 1;
            } else {
                failed += 1;
                hprintln!("FAIL {} {}", id, dtype);
            }
        }
    };
    for c in pointwise_cases::CASES {
        let ok32 = check(c, c.kernels.f32, |x| x as f32, |x| x as f64, 2e-5);
        let ok64 = check(c, c.kernels.f64, |x| x, |x| x, 1e-10);
        tally(c.id, [(ok32, "f32"), (ok64, "f64")]);
    }
    for c in cases::ROW_CASES {
        let ok32 = check_row(c, c.kernels.f32, |x| x as f32, |x| x as f64, 2e-5);
        let ok64 = check_row(c, c.kernels.f64, |x| x, |x| x, 1e-10);
        tally(c.id, [(ok32, "f32"), (ok64, "f64")]);
    }

    let (pred, target, mut grad) = mse_data();
    report(
        "mse value_and_grad, 256 x f32",
        measure(&mut cp.SYST, || call_mse(&pred, &target, &mut grad)),
        measure(&mut cp.SYST, || {
            let v = naive::mse_value_and_grad(core::hint::black_box(&pred), &target, &mut grad);
            core::hint::black_box(v);
        }),
    );
    report(
        "mse value_and_grad, 256 x f32, Rust API",
        measure(&mut cp.SYST, || {
            let r = losskit::prelude::PointwiseLoss::value_and_grad(
                &losskit::prelude::Mse,
                core::hint::black_box(&pred[..]),
                &target[..],
                None,
                losskit::prelude::Reduction::Mean,
                &mut grad,
            );
            core::hint::black_box(r).ok();
        }),
        measure(&mut cp.SYST, || {
            let v = naive::mse_value_and_grad(core::hint::black_box(&pred), &target, &mut grad);
            core::hint::black_box(v);
        }),
    );
    let mse_stack = stack_used(|| call_mse(&pred, &target, &mut grad));
    let (logits, mut g) = ce_data();
    report(
        "cross_entropy value_and_grad, 1 row x 10 classes f32",
        measure(&mut cp.SYST, || call_cross_entropy(&logits, &mut g)),
        measure(&mut cp.SYST, || {
            let v = naive::cross_entropy_row(core::hint::black_box(&logits), 3, &mut g);
            core::hint::black_box(v);
        }),
    );
    let ce_stack = stack_used(|| call_cross_entropy(&logits, &mut g));
    hprintln!(
        "stack of one C call: mse value_and_grad {} bytes, cross_entropy value_and_grad {} bytes",
        mse_stack,
        ce_stack
    );
    use losskit::prelude::{CrossEntropy, Mse, PointwiseLoss, Reduction, RowLoss};
    let rust_mse = stack_used(|| {
        let r = Mse.value_and_grad(
            core::hint::black_box(&pred[..]),
            &target[..],
            None,
            Reduction::Mean,
            &mut grad,
        );
        core::hint::black_box(r).ok();
    });
    let rust_ce = stack_used(|| {
        let r = CrossEntropy::<f32>::default().value_and_grad(
            core::hint::black_box(&logits[..]),
            CE_C,
            &[3u32],
            Reduction::Mean,
            &mut g,
        );
        core::hint::black_box(r).ok();
    });
    hprintln!(
        "stack of one Rust call: mse value_and_grad {} bytes, cross_entropy value_and_grad {} bytes",
        rust_mse,
        rust_ce
    );
    hprintln!("firmware: {} passed, {} failed", passed, failed);
    debug::exit(if failed == 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// Reports a fatal error and exits QEMU with failure.
fn fail(msg: &str) -> ! {
    hprintln!("firmware: fatal: {}", msg);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
