//! The only `#[target_feature]` functions of the crate: one wrapper per shape × x86 tier,
//! and the `match` on [`Backend`] that picks one.
//!
//! Each wrapper is generic (it monomorphises per loss, precision and verb) and calls the
//! shape's `#[inline(always)]` driver, so the loss formulas and the lane methods are
//! inlined into a function compiled for that tier's registers.

use crate::error::{Error, Result};
use crate::shape::pointwise::{self, Inputs, Outcome, Outputs, Pointwise};
use crate::simd::{Backend, Float, Portable};

#[cfg(target_arch = "x86_64")]
use crate::simd::{x86_avx2::Avx2, x86_avx512::Avx512};

/// Runs a pointwise pass on `backend`.
#[inline]
pub(crate) fn pointwise<F: Float, L: Pointwise, const VERB: u8>(
    backend: Backend,
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Result<Outcome> {
    let weighted = inp.w.is_some();
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => {
            let t = Avx512::new().ok_or(Error::BackendUnavailable)?;
            // SAFETY: an `Avx512` token exists only when AVX-512F (and AVX2+FMA) were detected.
            Ok(unsafe {
                if weighted {
                    pointwise_avx512::<F, L, VERB, true>(t, loss, inp, out, scale)
                } else {
                    pointwise_avx512::<F, L, VERB, false>(t, loss, inp, out, scale)
                }
            })
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => {
            let t = Avx2::new().ok_or(Error::BackendUnavailable)?;
            // SAFETY: an `Avx2` token exists only when AVX2 and FMA were detected.
            Ok(unsafe {
                if weighted {
                    pointwise_avx2::<F, L, VERB, true>(t, loss, inp, out, scale)
                } else {
                    pointwise_avx2::<F, L, VERB, false>(t, loss, inp, out, scale)
                }
            })
        }
        Backend::Portable => Ok(if weighted {
            pointwise::run::<_, F, L, VERB, true>(Portable, loss, inp, out, scale)
        } else {
            pointwise::run::<_, F, L, VERB, false>(Portable, loss, inp, out, scale)
        }),
        #[allow(unreachable_patterns)]
        _ => Err(Error::BackendUnavailable),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn pointwise_avx2<F: Float, L: Pointwise, const VERB: u8, const W: bool>(
    t: Avx2,
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Outcome {
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
) -> Outcome {
    pointwise::run::<_, F, L, VERB, W>(t, loss, inp, out, scale)
}
