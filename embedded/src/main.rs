//! losskit on a Cortex-M4F (QEMU `mps2-an386`): runs a conformance subset of every loss
//! through the C entry points in f32 and f64, measures one 256-element MSE `value_and_grad`,
//! and reports `N passed, M failed` over semihosting (QEMU's exit code follows).
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

mod cases;

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

const MAXN: usize = 8;

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

/// Instructions per call of a 256-element f32 MSE `value_and_grad`, counted with the
/// SysTick under `-icount shift=0` (1 instruction = 1 ns; SysTick at 25 MHz = 40 ns), and
/// the DWT cycle counter's reading (0 where QEMU does not emulate it).
fn measure(syst: &mut SYST) -> (u32, u32) {
    const N: usize = 256;
    const REPS: u32 = 64;
    let mut pred = [0.0f32; N];
    let mut target = [0.0f32; N];
    let mut grad = [0.0f32; N];
    for i in 0..N {
        pred[i] = (i % 17) as f32 * 0.25 - 2.0;
        target[i] = (i % 13) as f32 * 0.5 - 3.0;
    }
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00ff_ffff);
    syst.clear_current();
    syst.enable_counter();
    let (t0, c0) = (SYST::get_current(), DWT::cycle_count());
    for _ in 0..REPS {
        let mut v = 0.0f32;
        // SAFETY: valid, distinct buffers of N elements.
        let s = unsafe {
            losskit_mse_value_and_grad_f32(
                core::hint::black_box(pred.as_ptr()),
                target.as_ptr(),
                null(),
                N,
                0,
                0.0,
                0,
                grad.as_mut_ptr(),
                &mut v,
            )
        };
        core::hint::black_box((s, v));
    }
    let (t1, c1) = (SYST::get_current(), DWT::cycle_count());
    let ticks = t0.wrapping_sub(t1) & 0x00ff_ffff;
    (ticks * 40 / REPS, c1.wrapping_sub(c0) / REPS)
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
    for c in cases::CASES {
        let ok32 = check(c, c.kernels.f32, |x| x as f32, |x| x as f64, 2e-5);
        let ok64 = check(c, c.kernels.f64, |x| x, |x| x, 1e-10);
        for (ok, dtype) in [(ok32, "f32"), (ok64, "f64")] {
            if ok {
                passed += 1;
            } else {
                failed += 1;
                hprintln!("FAIL {} {}", c.id, dtype);
            }
        }
    }

    let (instructions, dwt) = measure(&mut cp.SYST);
    hprintln!(
        "mse value_and_grad, 256 x f32: {} instructions per call (QEMU icount), DWT cycles {}",
        instructions,
        dwt
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
