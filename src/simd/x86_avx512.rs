//! The AVX-512F backend on `core::arch`: `__m512` (16 × f32) and `__m512d` (8 × f64).
//!
//! Only AVX-512F instructions are used (no DQ/BW/VL), so every AVX-512 CPU runs it. Masks are
//! the `k` registers (`__mmask16`, `__mmask8`), and tails use masked loads and stores.
//!
//! Safety invariant: an [`Avx512`] token is only constructed after AVX-512F (and AVX2 + FMA)
//! were detected, and vectors of this backend are only made from a token or from other
//! vectors. So whenever a method below runs, the CPU has the features its intrinsics need;
//! that is the reason given by every `SAFETY` comment here.

use super::{Backend, Simd, Vector};
use core::arch::x86_64::*;

/// The AVX-512F backend token.
#[derive(Clone, Copy, Debug)]
pub struct Avx512(());

impl Avx512 {
    /// The token, if this CPU supports AVX-512F (and AVX2 + FMA).
    #[inline]
    pub fn new() -> Option<Self> {
        Backend::Avx512.is_available().then_some(Avx512(()))
    }
}

/// f32 lanes of the AVX-512 backend.
#[derive(Clone, Copy, Debug)]
pub struct A5F32(__m512);

/// f64 lanes of the AVX-512 backend.
#[derive(Clone, Copy, Debug)]
pub struct A5F64(__m512d);

impl Simd for Avx512 {
    type F32 = A5F32;
    type F64 = A5F64;
    const NAME: &'static str = "avx512";
    #[inline(always)]
    fn f32s(self) -> A5F32 {
        // SAFETY: the token proves AVX-512F (module invariant).
        A5F32(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    fn f64s(self) -> A5F64 {
        // SAFETY: as above.
        A5F64(unsafe { _mm512_setzero_pd() })
    }
}

/// The mask of the first `n` of 16 lanes.
#[inline(always)]
fn prefix16(n: usize) -> __mmask16 {
    if n >= 16 {
        0xffff
    } else {
        ((1u32 << n) - 1) as __mmask16
    }
}

/// The mask of the first `n` of 8 lanes.
#[inline(always)]
fn prefix8(n: usize) -> __mmask8 {
    if n >= 8 {
        0xff
    } else {
        ((1u32 << n) - 1) as __mmask8
    }
}

macro_rules! bitwise_ps {
    ($op:ident, $a:expr, $b:expr) => {
        _mm512_castsi512_ps($op(_mm512_castps_si512($a), _mm512_castps_si512($b)))
    };
}
macro_rules! bitwise_pd {
    ($op:ident, $a:expr, $b:expr) => {
        _mm512_castsi512_pd($op(_mm512_castpd_si512($a), _mm512_castpd_si512($b)))
    };
}

impl Vector for A5F32 {
    type Elem = f32;
    type Mask = __mmask16;
    type Acc = __m512d;
    const LANES: usize = 16;

    #[inline(always)]
    fn splat(self, x: f32) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> Self {
        if s.len() >= 16 {
            // SAFETY: module invariant; `s` has at least 16 elements to read.
            A5F32(unsafe { _mm512_loadu_ps(s.as_ptr()) })
        } else {
            self.load_partial(s, 0.0)
        }
    }
    #[inline(always)]
    fn load_partial(self, s: &[f32], fill: f32) -> Self {
        // SAFETY: module invariant; the masked load reads only lanes `< s.len()`, which are
        // in `s` (masked-off lanes are not accessed and cannot fault).
        A5F32(unsafe { _mm512_mask_loadu_ps(_mm512_set1_ps(fill), prefix16(s.len()), s.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        // SAFETY: module invariant; the (masked) store writes only lanes `< out.len()`.
        unsafe {
            if out.len() >= 16 {
                _mm512_storeu_ps(out.as_mut_ptr(), self.0)
            } else {
                _mm512_mask_storeu_ps(out.as_mut_ptr(), prefix16(out.len()), self.0)
            }
        }
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        // SAFETY: module invariant (all arithmetic below as well).
        A5F32(unsafe { _mm512_add_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_sub_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_div_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { bitwise_ps!(_mm512_xor_si512, self.0, _mm512_set1_ps(-0.0)) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_abs_ps(self.0) })
    }
    #[inline(always)]
    fn min(self, b: Self) -> Self {
        // SAFETY: module invariant. `vminps` is `a < b ? a : b`, the documented rule.
        A5F32(unsafe { _mm512_min_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn max(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_max_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_sqrt_ps(self.0) })
    }
    #[inline(always)]
    fn round(self) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe {
            _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        // SAFETY: module invariant.
        unsafe {
            let s = _mm512_set1_ps(-0.0);
            let mag = bitwise_ps!(_mm512_andnot_si512, s, self.0);
            let sg = bitwise_ps!(_mm512_and_si512, s, sign.0);
            A5F32(bitwise_ps!(_mm512_or_si512, mag, sg))
        }
    }
    #[inline(always)]
    fn lt(self, b: Self) -> __mmask16 {
        // SAFETY: module invariant.
        unsafe { _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn le(self, b: Self) -> __mmask16 {
        // SAFETY: module invariant.
        unsafe { _mm512_cmp_ps_mask::<_CMP_LE_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn eq(self, b: Self) -> __mmask16 {
        // SAFETY: module invariant.
        unsafe { _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn select(m: __mmask16, t: Self, f: Self) -> Self {
        // SAFETY: vectors of this backend exist, hence AVX-512F (module invariant).
        A5F32(unsafe { _mm512_mask_blend_ps(m, f.0, t.0) })
    }
    #[inline(always)]
    fn mask_and(a: __mmask16, b: __mmask16) -> __mmask16 {
        a & b
    }
    #[inline(always)]
    fn mask_or(a: __mmask16, b: __mmask16) -> __mmask16 {
        a | b
    }
    #[inline(always)]
    fn mask_not(a: __mmask16) -> __mmask16 {
        !a
    }
    #[inline(always)]
    fn mask_any(a: __mmask16) -> bool {
        a != 0
    }
    #[inline(always)]
    fn keep_first(self, n: usize) -> Self {
        // SAFETY: module invariant.
        A5F32(unsafe { _mm512_maskz_mov_ps(prefix16(n), self.0) })
    }
    #[inline(always)]
    fn reduce_sum(self) -> f32 {
        let mut a = [0.0f32; 16];
        self.store(&mut a);
        // A fixed tree: halves, then quarters, … (deterministic for this backend).
        let mut w = 8;
        while w > 0 {
            for i in 0..w {
                a[i] += a[i + w];
            }
            w /= 2;
        }
        a[0]
    }
    #[inline(always)]
    fn reduce_max(self) -> f32 {
        let mut a = [0.0f32; 16];
        self.store(&mut a);
        super::max_of_lanes(a)
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        // SAFETY: module invariant.
        unsafe {
            let n = _mm512_cvtps_epi32(self.0);
            A5F32(_mm512_castsi512_ps(_mm512_slli_epi32::<23>(
                _mm512_add_epi32(n, _mm512_set1_epi32(127)),
            )))
        }
    }
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        // SAFETY: module invariant. `vscalefps`: self·2^⌊n⌋, rounded once.
        unsafe { A5F32(_mm512_scalef_ps(self.0, n.0)) }
    }
    #[inline(always)]
    fn frexp(self) -> (Self, Self) {
        // SAFETY: module invariant.
        unsafe {
            let bits = _mm512_castps_si512(self.0);
            let e = _mm512_sub_epi32(_mm512_srli_epi32::<23>(bits), _mm512_set1_epi32(127));
            let m = _mm512_or_si512(
                _mm512_and_si512(bits, _mm512_set1_epi32(0x007f_ffff)),
                _mm512_set1_epi32(0x3f80_0000),
            );
            (A5F32(_mm512_castsi512_ps(m)), A5F32(_mm512_cvtepi32_ps(e)))
        }
    }
    #[inline(always)]
    fn acc_zero(self) -> __m512d {
        // SAFETY: module invariant.
        unsafe { _mm512_setzero_pd() }
    }
    #[inline(always)]
    fn acc_add(self, acc: __m512d) -> __m512d {
        // SAFETY: module invariant. Lanes 0–7 and 8–15 widened and paired, then added.
        unsafe {
            let lo = _mm512_cvtps_pd(_mm512_castps512_ps256(self.0));
            let hi_bits = _mm512_extracti64x4_epi64::<1>(_mm512_castps_si512(self.0));
            let hi = _mm512_cvtps_pd(_mm256_castsi256_ps(hi_bits));
            _mm512_add_pd(acc, _mm512_add_pd(lo, hi))
        }
    }
    #[inline(always)]
    fn acc_merge(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: module invariant.
        unsafe { _mm512_add_pd(a, b) }
    }
    #[inline(always)]
    fn acc_total(self, acc: __m512d) -> f64 {
        A5F64(acc).reduce_sum()
    }
}

impl Vector for A5F64 {
    type Elem = f64;
    type Mask = __mmask8;
    type Acc = __m512d;
    const LANES: usize = 8;

    #[inline(always)]
    fn splat(self, x: f64) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_set1_pd(x) })
    }
    #[inline(always)]
    fn load(self, s: &[f64]) -> Self {
        if s.len() >= 8 {
            // SAFETY: module invariant; `s` has at least 8 elements to read.
            A5F64(unsafe { _mm512_loadu_pd(s.as_ptr()) })
        } else {
            self.load_partial(s, 0.0)
        }
    }
    #[inline(always)]
    fn load_partial(self, s: &[f64], fill: f64) -> Self {
        // SAFETY: module invariant; the masked load reads only lanes `< s.len()`.
        A5F64(unsafe { _mm512_mask_loadu_pd(_mm512_set1_pd(fill), prefix8(s.len()), s.as_ptr()) })
    }
    #[inline(always)]
    fn store(self, out: &mut [f64]) {
        // SAFETY: module invariant; the (masked) store writes only lanes `< out.len()`.
        unsafe {
            if out.len() >= 8 {
                _mm512_storeu_pd(out.as_mut_ptr(), self.0)
            } else {
                _mm512_mask_storeu_pd(out.as_mut_ptr(), prefix8(out.len()), self.0)
            }
        }
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_add_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_sub_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_mul_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_div_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_fmadd_pd(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { bitwise_pd!(_mm512_xor_si512, self.0, _mm512_set1_pd(-0.0)) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_abs_pd(self.0) })
    }
    #[inline(always)]
    fn min(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_min_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn max(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_max_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn round(self) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe {
            _mm512_roundscale_pd::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        // SAFETY: module invariant.
        unsafe {
            let s = _mm512_set1_pd(-0.0);
            let mag = bitwise_pd!(_mm512_andnot_si512, s, self.0);
            let sg = bitwise_pd!(_mm512_and_si512, s, sign.0);
            A5F64(bitwise_pd!(_mm512_or_si512, mag, sg))
        }
    }
    #[inline(always)]
    fn lt(self, b: Self) -> __mmask8 {
        // SAFETY: module invariant.
        unsafe { _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn le(self, b: Self) -> __mmask8 {
        // SAFETY: module invariant.
        unsafe { _mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn eq(self, b: Self) -> __mmask8 {
        // SAFETY: module invariant.
        unsafe { _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn select(m: __mmask8, t: Self, f: Self) -> Self {
        // SAFETY: vectors of this backend exist, hence AVX-512F (module invariant).
        A5F64(unsafe { _mm512_mask_blend_pd(m, f.0, t.0) })
    }
    #[inline(always)]
    fn mask_and(a: __mmask8, b: __mmask8) -> __mmask8 {
        a & b
    }
    #[inline(always)]
    fn mask_or(a: __mmask8, b: __mmask8) -> __mmask8 {
        a | b
    }
    #[inline(always)]
    fn mask_not(a: __mmask8) -> __mmask8 {
        !a
    }
    #[inline(always)]
    fn mask_any(a: __mmask8) -> bool {
        a != 0
    }
    #[inline(always)]
    fn keep_first(self, n: usize) -> Self {
        // SAFETY: module invariant.
        A5F64(unsafe { _mm512_maskz_mov_pd(prefix8(n), self.0) })
    }
    #[inline(always)]
    fn reduce_sum(self) -> f64 {
        let mut a = [0.0f64; 8];
        self.store(&mut a);
        let mut w = 4;
        while w > 0 {
            for i in 0..w {
                a[i] += a[i + w];
            }
            w /= 2;
        }
        a[0]
    }
    #[inline(always)]
    fn reduce_max(self) -> f64 {
        let mut a = [0.0f64; 8];
        self.store(&mut a);
        super::max_of_lanes(a)
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        // SAFETY: module invariant. See the AVX2 backend for the magic-number conversion.
        unsafe {
            let magic = _mm512_set1_pd(4503599627370496.0 + 1023.0);
            let biased = _mm512_castpd_si512(_mm512_add_pd(self.0, magic));
            A5F64(_mm512_castsi512_pd(_mm512_slli_epi64::<52>(biased)))
        }
    }
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        // SAFETY: module invariant. `vscalefpd`: self·2^⌊n⌋, rounded once.
        unsafe { A5F64(_mm512_scalef_pd(self.0, n.0)) }
    }
    #[inline(always)]
    fn frexp(self) -> (Self, Self) {
        // SAFETY: module invariant.
        unsafe {
            let bits = _mm512_castpd_si512(self.0);
            let m = _mm512_or_si512(
                _mm512_and_si512(bits, _mm512_set1_epi64(0x000f_ffff_ffff_ffff)),
                _mm512_set1_epi64(0x3ff0_0000_0000_0000),
            );
            let eb = _mm512_or_si512(
                _mm512_srli_epi64::<52>(bits),
                _mm512_set1_epi64(0x4330_0000_0000_0000),
            );
            let e = _mm512_sub_pd(
                _mm512_castsi512_pd(eb),
                _mm512_set1_pd(4503599627370496.0 + 1023.0),
            );
            (A5F64(_mm512_castsi512_pd(m)), A5F64(e))
        }
    }
    #[inline(always)]
    fn acc_zero(self) -> __m512d {
        // SAFETY: module invariant.
        unsafe { _mm512_setzero_pd() }
    }
    #[inline(always)]
    fn acc_add(self, acc: __m512d) -> __m512d {
        // SAFETY: module invariant.
        unsafe { _mm512_add_pd(acc, self.0) }
    }
    #[inline(always)]
    fn acc_merge(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: module invariant.
        unsafe { _mm512_add_pd(a, b) }
    }
    #[inline(always)]
    fn acc_total(self, acc: __m512d) -> f64 {
        A5F64(acc).reduce_sum()
    }
}
