//! Where every `#[target_feature]` function of the crate is written: one wrapper per shape ×
//! x86 tier, and the `match` on [`Backend`] that picks one; and `pointwise_kernel!`, the
//! same for one loss, expanded beside each loss of the crate by
//! `shape::pointwise::compiled_once!` (so that each loss's kernels are a compilation unit
//! of their own; in builds with debug assertions they are also compiled once, in losskit);
//! and `compiled_per_precision!`, which does the latter for the row drivers' entry points
//! and the pointwise probe the losses without a domain share (`pointwise::probe_finite`).
//!
//! Each wrapper is generic (it monomorphises per loss, precision and verb) and calls the
//! shape's `#[inline(always)]` driver, so the loss formulas and the lane methods are
//! inlined into a function compiled for that tier's registers.

use crate::error::{Error, Result};
use crate::shape::pointwise::{self, Inputs, Outcome, Outputs, Pointwise};
use crate::simd::{Backend, Float, Portable};

#[cfg(target_arch = "x86_64")]
use crate::simd::{x86_avx2::Avx2, x86_avx512::Avx512};

crate::simd::fold_inline! {
/// Runs a pointwise pass on `backend`.
pub(crate) fn pointwise<F: Float, L: Pointwise, const VERB: u8>(
    backend: Backend,
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Result<Outcome<F>> {
    // The verb and whether weights are given are compile-time constants of the kernel: one
    // monomorph each, no test in the loop. Accumulating is a loop-invariant run-time flag
    // (one more constant would double every loss's kernels, in every crate that calls them).
    if inp.w.is_some() {
        on_backend::<F, L, VERB, true>(backend, loss, inp, out, scale)
    } else {
        on_backend::<F, L, VERB, false>(backend, loss, inp, out, scale)
    }
}
}

crate::simd::fold_inline! {
fn on_backend<F: Float, L: Pointwise, const VERB: u8, const W: bool>(
    backend: Backend,
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Result<Outcome<F>> {
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => {
            let t = Avx512::new().ok_or(Error::BackendUnavailable)?;
            // SAFETY: an `Avx512` token exists only when AVX-512F (and AVX2+FMA) were detected.
            Ok(unsafe { pointwise_avx512::<F, L, VERB, W>(t, loss, inp, out, scale) })
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => {
            let t = Avx2::new().ok_or(Error::BackendUnavailable)?;
            // SAFETY: an `Avx2` token exists only when AVX2 and FMA were detected.
            Ok(unsafe { pointwise_avx2::<F, L, VERB, W>(t, loss, inp, out, scale) })
        }
        Backend::Portable => Ok(pointwise_portable::<F, L, VERB, W>(loss, inp, out, scale)),
        #[allow(unreachable_patterns)]
        _ => Err(Error::BackendUnavailable),
    }
}
}

/// The portable backend's pointwise wrapper. Where other backends exist (x86_64) it is a
/// function of its own, as theirs are, so that callers do not inline a third copy of every
/// kernel; where it is the only backend it inlines, so that the options a call site fixes
/// fold into the kernel (what keeps microcontroller code small).
#[cfg_attr(target_arch = "x86_64", inline(never))]
#[cfg_attr(not(target_arch = "x86_64"), inline(always))]
fn pointwise_portable<F: Float, L: Pointwise, const VERB: u8, const W: bool>(
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Outcome<F> {
    pointwise::run::<_, F, L, VERB, W>(Portable, loss, inp, out, scale)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn pointwise_avx2<F: Float, L: Pointwise, const VERB: u8, const W: bool>(
    t: Avx2,
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Outcome<F> {
    pointwise::run::<_, F, L, VERB, W>(t, loss, inp, out, scale)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn pointwise_avx512<F: Float, L: Pointwise, const VERB: u8, const W: bool>(
    t: Avx512,
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Outcome<F> {
    pointwise::run::<_, F, L, VERB, W>(t, loss, inp, out, scale)
}

/// One loss's kernel, `kernel::<F, VERB>` (expanded by `shape::pointwise::compiled_once!`
/// inside the loss's `impl Pointwise`): its own `#[target_feature]` wrappers (weighted and
/// not, per tier) and the `match` on [`Backend`], the same as [`pointwise`] and
/// [`on_backend`] above.
///
/// Why not call the generic wrappers above: rustc places every instance of a generic
/// function in the compilation unit of the module that defines it, so the kernels of every
/// loss would form one unit (one thread, and 14 GB of rustc memory for the crate's 25
/// losses, in every crate that instantiates them); wrappers defined beside each loss make
/// each loss's kernels a unit of their own, compiled in parallel with a fraction of the
/// memory, wherever they are instantiated.
#[cfg(target_arch = "x86_64")]
macro_rules! pointwise_kernel {
    ($loss:ty) => {
        #[inline]
        fn kernel<F: $crate::simd::Float, const VERB: u8>(
            loss: &$loss,
            backend: $crate::simd::Backend,
            inp: $crate::shape::pointwise::Inputs<'_, F>,
            out: $crate::shape::pointwise::Outputs<'_, F>,
            scale: F,
        ) -> $crate::error::Result<$crate::shape::pointwise::Outcome<F>> {
            use $crate::error::Error;
            use $crate::shape::pointwise::{Inputs, Outcome, Outputs, run};
            use $crate::simd::{Backend, Float, Portable, x86_avx2::Avx2, x86_avx512::Avx512};

            #[target_feature(enable = "avx512f,avx2,fma")]
            fn avx512<F: Float, const VERB: u8, const W: bool>(
                t: Avx512,
                loss: $loss,
                inp: Inputs<'_, F>,
                out: Outputs<'_, F>,
                scale: F,
            ) -> Outcome<F> {
                run::<_, F, $loss, VERB, W>(t, loss, inp, out, scale)
            }
            #[target_feature(enable = "avx2,fma")]
            fn avx2<F: Float, const VERB: u8, const W: bool>(
                t: Avx2,
                loss: $loss,
                inp: Inputs<'_, F>,
                out: Outputs<'_, F>,
                scale: F,
            ) -> Outcome<F> {
                run::<_, F, $loss, VERB, W>(t, loss, inp, out, scale)
            }
            #[inline(never)]
            fn portable<F: Float, const VERB: u8, const W: bool>(
                loss: $loss,
                inp: Inputs<'_, F>,
                out: Outputs<'_, F>,
                scale: F,
            ) -> Outcome<F> {
                run::<_, F, $loss, VERB, W>(Portable, loss, inp, out, scale)
            }

            let loss = *loss;
            let weighted = inp.w.is_some();
            match backend {
                Backend::Avx512 => {
                    let t = Avx512::new().ok_or(Error::BackendUnavailable)?;
                    // SAFETY: an `Avx512` token exists only when AVX-512F (and AVX2+FMA) were
                    // detected.
                    Ok(unsafe {
                        if weighted {
                            avx512::<F, VERB, true>(t, loss, inp, out, scale)
                        } else {
                            avx512::<F, VERB, false>(t, loss, inp, out, scale)
                        }
                    })
                }
                Backend::Avx2 => {
                    let t = Avx2::new().ok_or(Error::BackendUnavailable)?;
                    // SAFETY: an `Avx2` token exists only when AVX2 and FMA were detected.
                    Ok(unsafe {
                        if weighted {
                            avx2::<F, VERB, true>(t, loss, inp, out, scale)
                        } else {
                            avx2::<F, VERB, false>(t, loss, inp, out, scale)
                        }
                    })
                }
                Backend::Portable => Ok(if weighted {
                    portable::<F, VERB, true>(loss, inp, out, scale)
                } else {
                    portable::<F, VERB, false>(loss, inp, out, scale)
                }),
                #[allow(unreachable_patterns)]
                _ => Err(Error::BackendUnavailable),
            }
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use pointwise_kernel;

/// A whole computation generic over the backend: the row drivers implement it, and
/// [`task`] runs it inside the `#[target_feature]` function of the chosen tier.
pub(crate) trait Task {
    /// What the computation returns.
    type Output;
    /// Runs on `simd`. Implementations are `#[inline(always)]`, so everything they call is
    /// compiled for the tier of the wrapper that calls them.
    fn run<S: crate::simd::Simd>(self, simd: S) -> Self::Output;
}

crate::simd::fold_inline! {
/// Runs `t` on `backend`. Inlined, so that on a target with the portable backend only the
/// whole computation inlines into its caller, where the call's options fold; each backend's
/// computation is a function of its own where there are several.
pub(crate) fn task<T: Task>(backend: Backend, t: T) -> Result<T::Output> {
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => {
            let s = Avx512::new().ok_or(Error::BackendUnavailable)?;
            // SAFETY: an `Avx512` token exists only when AVX-512F (and AVX2+FMA) were detected.
            Ok(unsafe { task_avx512(s, t) })
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => {
            let s = Avx2::new().ok_or(Error::BackendUnavailable)?;
            // SAFETY: an `Avx2` token exists only when AVX2 and FMA were detected.
            Ok(unsafe { task_avx2(s, t) })
        }
        Backend::Portable => Ok(task_portable(t)),
        #[allow(unreachable_patterns)]
        _ => Err(Error::BackendUnavailable),
    }
}
}

/// Declares `fn $name<F: Float>(…) -> R { body }`: an entry point of a row driver, generic
/// over the precision only (the loss reaches the driver as a `dyn` rule or closure, so one
/// instance per precision serves every loss), or another pass that no loss's type enters
/// (the shared pointwise probe, `pointwise::probe_finite`).
///
/// In builds with debug assertions on x86_64 (the dev and test profiles: the test binaries,
/// the C API's tests and the examples) the body is compiled once per precision, here in
/// losskit, as two non-generic functions the generic one picks between: callers link them
/// instead of compiling the row driver again (not in losskit's own unit-test binary, whose
/// tests instantiate what they call, as for `compiled_once!`). Elsewhere the function is
/// the body itself, generic; where the portable backend is the only one it is inlined, as
/// everything on that path is (`fold_inline!`), so that a call's options fold.
macro_rules! compiled_per_precision {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<F>($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        #[cfg_attr(not(target_arch = "x86_64"), inline(always))]
        $vis fn $name<F: $crate::simd::Float>($($arg: $ty),*) -> $ret {
            #[cfg(all(target_arch = "x86_64", debug_assertions, not(test)))]
            {
                struct Instances;
                impl $crate::simd::private::ByPrecision for Instances {
                    type Of<F: $crate::simd::Float> = fn($($ty),*) -> $ret;
                }
                $crate::shape::dispatch::compiled_per_precision!(@once p32, f32, ($($arg: $ty),*) -> $ret $body);
                $crate::shape::dispatch::compiled_per_precision!(@once p64, f64, ($($arg: $ty),*) -> $ret $body);
                F::pick::<Instances>(p32::body, p64::body)($($arg),*)
            }
            #[cfg(not(all(target_arch = "x86_64", debug_assertions, not(test))))]
            $body
        }
    };
    (@once $module:ident, $f:ty, ($($arg:ident: $ty:ty),*) -> $ret:ty $body:block) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            /// The precision of this instance.
            type F = $f;
            // Not generic, so compiled in losskit (and never inlined into a caller, which
            // would make it instantiate the driver again).
            #[inline(never)]
            pub(super) fn body($($arg: $ty),*) -> $ret $body
        }
    };
}
pub(crate) use compiled_per_precision;

/// The portable backend's task wrapper: out of line where other backends exist, inlined
/// where it is the only one (see [`pointwise_portable`]).
#[cfg_attr(target_arch = "x86_64", inline(never))]
#[cfg_attr(not(target_arch = "x86_64"), inline(always))]
fn task_portable<T: Task>(t: T) -> T::Output {
    t.run(Portable)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn task_avx2<T: Task>(s: Avx2, t: T) -> T::Output {
    t.run(s)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn task_avx512<T: Task>(s: Avx512, t: T) -> T::Output {
    t.run(s)
}
