//! The AVX2 + FMA backend on `core::arch`: `__m256` (8 × f32) and `__m256d` (4 × f64).
//!
//! Safety invariant: an [`Avx2`] token is only constructed after AVX2 and FMA were detected
//! (or are guaranteed by the build's target features), and vectors of this backend are only
//! made from a token or from other vectors. So whenever a method below runs, the CPU has the
//! features its intrinsics need; that is the reason given by every `SAFETY` comment here.

use super::{Backend, Simd, Vector};
use core::arch::x86_64::*;

/// The AVX2 + FMA backend token.
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());

impl Avx2 {
    /// The token, if this CPU supports AVX2 and FMA.
    #[inline]
    pub fn new() -> Option<Self> {
        Backend::Avx2.is_available().then_some(Avx2(()))
    }
}

/// f32 lanes of the AVX2 backend.
#[derive(Clone, Copy, Debug)]
pub struct A2F32(__m256);

/// f64 lanes of the AVX2 backend.
#[derive(Clone, Copy, Debug)]
pub struct A2F64(__m256d);

impl Simd for Avx2 {
    type F32 = A2F32;
    type F64 = A2F64;
    const NAME: &'static str = "avx2";
    #[inline(always)]
    fn f32s(self) -> A2F32 {
        // SAFETY: the token proves AVX (see the module's invariant).
        A2F32(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    fn f64s(self) -> A2F64 {
        // SAFETY: as above.
        A2F64(unsafe { _mm256_setzero_pd() })
    }
}

/// Lane index `i < n` as a mask for `maskload`/`maskstore` (high bit set in lane `i`).
#[inline(always)]
fn prefix_mask_epi32(n: usize) -> __m256i {
    // SAFETY: the caller holds a vector of this backend, hence AVX2 (module invariant).
    unsafe {
        let idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(8) as i32), idx)
    }
}

#[inline(always)]
fn prefix_mask_epi64(n: usize) -> __m256i {
    // SAFETY: as above.
    unsafe {
        let idx = _mm256_setr_epi64x(0, 1, 2, 3);
        _mm256_cmpgt_epi64(_mm256_set1_epi64x(n.min(4) as i64), idx)
    }
}

impl Vector for A2F32 {
    type Elem = f32;
    type Mask = __m256;
    type Acc = __m256d;
    const LANES: usize = 8;

    #[inline(always)]
    fn splat(self, x: f32) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_set1_ps(x) })
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> Self {
        if s.len() >= 8 {
            // SAFETY: module invariant; `s` has at least 8 elements to read.
            A2F32(unsafe { _mm256_loadu_ps(s.as_ptr()) })
        } else {
            self.load_partial(s, 0.0)
        }
    }
    #[inline(always)]
    fn load_partial(self, s: &[f32], fill: f32) -> Self {
        let m = prefix_mask_epi32(s.len());
        // SAFETY: module invariant; `maskload` reads only lanes `< s.len()`, which are in `s`.
        unsafe {
            let x = _mm256_maskload_ps(s.as_ptr(), m);
            A2F32(_mm256_blendv_ps(
                _mm256_set1_ps(fill),
                x,
                _mm256_castsi256_ps(m),
            ))
        }
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        if out.len() >= 8 {
            // SAFETY: module invariant; `out` has room for 8 elements.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), self.0) }
        } else {
            // SAFETY: module invariant; `maskstore` writes only lanes `< out.len()`.
            unsafe { _mm256_maskstore_ps(out.as_mut_ptr(), prefix_mask_epi32(out.len()), self.0) }
        }
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        // SAFETY: module invariant (all arithmetic below as well).
        A2F32(unsafe { _mm256_add_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_sub_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_div_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: module invariant (FMA is part of the token's features).
        A2F32(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_xor_ps(self.0, _mm256_set1_ps(-0.0)) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }
    #[inline(always)]
    fn min(self, b: Self) -> Self {
        // SAFETY: module invariant. `minps` is `a < b ? a : b`, the documented rule.
        A2F32(unsafe { _mm256_min_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn max(self, b: Self) -> Self {
        // SAFETY: module invariant. `maxps` is `a > b ? a : b`.
        A2F32(unsafe { _mm256_max_ps(self.0, b.0) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_sqrt_ps(self.0) })
    }
    #[inline(always)]
    fn round(self) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe {
            _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        // SAFETY: module invariant.
        unsafe {
            let s = _mm256_set1_ps(-0.0);
            A2F32(_mm256_or_ps(
                _mm256_andnot_ps(s, self.0),
                _mm256_and_ps(s, sign.0),
            ))
        }
    }
    #[inline(always)]
    fn lt(self, b: Self) -> __m256 {
        // SAFETY: module invariant.
        unsafe { _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn le(self, b: Self) -> __m256 {
        // SAFETY: module invariant.
        unsafe { _mm256_cmp_ps::<_CMP_LE_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn eq(self, b: Self) -> __m256 {
        // SAFETY: module invariant.
        unsafe { _mm256_cmp_ps::<_CMP_EQ_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn select(m: __m256, t: Self, f: Self) -> Self {
        // SAFETY: a mask is only produced by a vector of this backend (module invariant).
        A2F32(unsafe { _mm256_blendv_ps(f.0, t.0, m) })
    }
    #[inline(always)]
    fn mask_and(a: __m256, b: __m256) -> __m256 {
        // SAFETY: as for `select`.
        unsafe { _mm256_and_ps(a, b) }
    }
    #[inline(always)]
    fn mask_or(a: __m256, b: __m256) -> __m256 {
        // SAFETY: as for `select`.
        unsafe { _mm256_or_ps(a, b) }
    }
    #[inline(always)]
    fn mask_not(a: __m256) -> __m256 {
        // SAFETY: as for `select`.
        unsafe { _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(-1))) }
    }
    #[inline(always)]
    fn mask_any(a: __m256) -> bool {
        // SAFETY: as for `select`.
        unsafe { _mm256_movemask_ps(a) != 0 }
    }
    #[inline(always)]
    fn keep_first(self, n: usize) -> Self {
        // SAFETY: module invariant.
        A2F32(unsafe { _mm256_and_ps(self.0, _mm256_castsi256_ps(prefix_mask_epi32(n))) })
    }
    #[inline(always)]
    fn reduce_sum(self) -> f32 {
        // SAFETY: module invariant. Order: (lo + hi) halves, then pairs: the same tree as the
        // portable backend's `((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7))`.
        unsafe {
            let h = _mm_add_ps(
                _mm256_castps256_ps128(self.0),
                _mm256_extractf128_ps::<1>(self.0),
            );
            let q = _mm_add_ps(h, _mm_movehl_ps(h, h));
            _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps::<1>(q, q)))
        }
    }
    #[inline(always)]
    fn reduce_max(self) -> f32 {
        let mut a = [0.0f32; 8];
        self.store(&mut a);
        super::max_of_lanes(a)
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        // SAFETY: module invariant.
        unsafe {
            let n = _mm256_cvtps_epi32(self.0);
            A2F32(_mm256_castsi256_ps(_mm256_slli_epi32::<23>(
                _mm256_add_epi32(n, _mm256_set1_epi32(127)),
            )))
        }
    }
    #[inline(always)]
    fn frexp(self) -> (Self, Self) {
        // SAFETY: module invariant.
        unsafe {
            let bits = _mm256_castps_si256(self.0);
            let e = _mm256_sub_epi32(_mm256_srli_epi32::<23>(bits), _mm256_set1_epi32(127));
            let m = _mm256_or_si256(
                _mm256_and_si256(bits, _mm256_set1_epi32(0x007f_ffff)),
                _mm256_set1_epi32(0x3f80_0000),
            );
            (A2F32(_mm256_castsi256_ps(m)), A2F32(_mm256_cvtepi32_ps(e)))
        }
    }
    #[inline(always)]
    fn acc_zero(self) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_setzero_pd() }
    }
    #[inline(always)]
    fn acc_add(self, acc: __m256d) -> __m256d {
        // SAFETY: module invariant. Lanes 0–3 and 4–7 widened and paired, then added: the
        // same order as the portable backend.
        unsafe {
            let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(self.0));
            let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(self.0));
            _mm256_add_pd(acc, _mm256_add_pd(lo, hi))
        }
    }
    #[inline(always)]
    fn acc_merge(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_add_pd(a, b) }
    }
    #[inline(always)]
    fn acc_total(self, acc: __m256d) -> f64 {
        A2F64(acc).reduce_sum()
    }
}

impl Vector for A2F64 {
    type Elem = f64;
    type Mask = __m256d;
    type Acc = __m256d;
    const LANES: usize = 4;

    #[inline(always)]
    fn splat(self, x: f64) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_set1_pd(x) })
    }
    #[inline(always)]
    fn load(self, s: &[f64]) -> Self {
        if s.len() >= 4 {
            // SAFETY: module invariant; `s` has at least 4 elements to read.
            A2F64(unsafe { _mm256_loadu_pd(s.as_ptr()) })
        } else {
            self.load_partial(s, 0.0)
        }
    }
    #[inline(always)]
    fn load_partial(self, s: &[f64], fill: f64) -> Self {
        let m = prefix_mask_epi64(s.len());
        // SAFETY: module invariant; `maskload` reads only lanes `< s.len()`.
        unsafe {
            let x = _mm256_maskload_pd(s.as_ptr(), m);
            A2F64(_mm256_blendv_pd(
                _mm256_set1_pd(fill),
                x,
                _mm256_castsi256_pd(m),
            ))
        }
    }
    #[inline(always)]
    fn store(self, out: &mut [f64]) {
        if out.len() >= 4 {
            // SAFETY: module invariant; `out` has room for 4 elements.
            unsafe { _mm256_storeu_pd(out.as_mut_ptr(), self.0) }
        } else {
            // SAFETY: module invariant; `maskstore` writes only lanes `< out.len()`.
            unsafe { _mm256_maskstore_pd(out.as_mut_ptr(), prefix_mask_epi64(out.len()), self.0) }
        }
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_add_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_sub_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_mul_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_div_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_fmadd_pd(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_xor_pd(self.0, _mm256_set1_pd(-0.0)) })
    }
    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), self.0) })
    }
    #[inline(always)]
    fn min(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_min_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn max(self, b: Self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_max_pd(self.0, b.0) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn round(self) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe {
            _mm256_round_pd::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    fn copysign(self, sign: Self) -> Self {
        // SAFETY: module invariant.
        unsafe {
            let s = _mm256_set1_pd(-0.0);
            A2F64(_mm256_or_pd(
                _mm256_andnot_pd(s, self.0),
                _mm256_and_pd(s, sign.0),
            ))
        }
    }
    #[inline(always)]
    fn lt(self, b: Self) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn le(self, b: Self) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_cmp_pd::<_CMP_LE_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn eq(self, b: Self) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, b.0) }
    }
    #[inline(always)]
    fn select(m: __m256d, t: Self, f: Self) -> Self {
        // SAFETY: a mask is only produced by a vector of this backend.
        A2F64(unsafe { _mm256_blendv_pd(f.0, t.0, m) })
    }
    #[inline(always)]
    fn mask_and(a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: as for `select`.
        unsafe { _mm256_and_pd(a, b) }
    }
    #[inline(always)]
    fn mask_or(a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: as for `select`.
        unsafe { _mm256_or_pd(a, b) }
    }
    #[inline(always)]
    fn mask_not(a: __m256d) -> __m256d {
        // SAFETY: as for `select`.
        unsafe { _mm256_xor_pd(a, _mm256_castsi256_pd(_mm256_set1_epi64x(-1))) }
    }
    #[inline(always)]
    fn mask_any(a: __m256d) -> bool {
        // SAFETY: as for `select`.
        unsafe { _mm256_movemask_pd(a) != 0 }
    }
    #[inline(always)]
    fn keep_first(self, n: usize) -> Self {
        // SAFETY: module invariant.
        A2F64(unsafe { _mm256_and_pd(self.0, _mm256_castsi256_pd(prefix_mask_epi64(n))) })
    }
    #[inline(always)]
    fn reduce_sum(self) -> f64 {
        // SAFETY: module invariant. Order `(a0 + a2) + (a1 + a3)`, as the portable backend.
        unsafe {
            let h = _mm_add_pd(
                _mm256_castpd256_pd128(self.0),
                _mm256_extractf128_pd::<1>(self.0),
            );
            _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)))
        }
    }
    #[inline(always)]
    fn reduce_max(self) -> f64 {
        let mut a = [0.0f64; 4];
        self.store(&mut a);
        super::max_of_lanes(a)
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        // SAFETY: module invariant. Lanes hold integers in [-1022, 1023]: adding the magic
        // 2^52 + 1023 puts `n + 1023` in the low mantissa bits, which a shift moves to the
        // exponent field.
        unsafe {
            let magic = _mm256_set1_pd(4503599627370496.0 + 1023.0);
            let biased = _mm256_castpd_si256(_mm256_add_pd(self.0, magic));
            A2F64(_mm256_castsi256_pd(_mm256_slli_epi64::<52>(biased)))
        }
    }
    #[inline(always)]
    fn frexp(self) -> (Self, Self) {
        // SAFETY: module invariant. The biased exponent (< 2^11) is moved into the mantissa
        // of 2^52 and the magic subtracted, converting it to f64 exactly.
        unsafe {
            let bits = _mm256_castpd_si256(self.0);
            let m = _mm256_or_si256(
                _mm256_and_si256(bits, _mm256_set1_epi64x(0x000f_ffff_ffff_ffff)),
                _mm256_set1_epi64x(0x3ff0_0000_0000_0000),
            );
            let magic = _mm256_set1_epi64x(0x4330_0000_0000_0000);
            let eb = _mm256_or_si256(_mm256_srli_epi64::<52>(bits), magic);
            let e = _mm256_sub_pd(
                _mm256_castsi256_pd(eb),
                _mm256_set1_pd(4503599627370496.0 + 1023.0),
            );
            (A2F64(_mm256_castsi256_pd(m)), A2F64(e))
        }
    }
    #[inline(always)]
    fn acc_zero(self) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_setzero_pd() }
    }
    #[inline(always)]
    fn acc_add(self, acc: __m256d) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_add_pd(acc, self.0) }
    }
    #[inline(always)]
    fn acc_merge(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: module invariant.
        unsafe { _mm256_add_pd(a, b) }
    }
    #[inline(always)]
    fn acc_total(self, acc: __m256d) -> f64 {
        A2F64(acc).reduce_sum()
    }
}
