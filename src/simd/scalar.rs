//! One-lane vectors: the portable backend's lanes on targets without a SIMD unit
//! (Cortex-M, RISC-V microcontrollers, anything `wide` would emulate with arrays).
//!
//! `wide` on such a target represents an `f32x8` as eight scalars, so every lane formula is
//! emitted eight times, and the drivers' four-way unrolling makes that 32 copies of each
//! `exp` (measured: 652 KB of Cortex-M4F flash for one cross-entropy call). A one-lane vector
//! is the same arithmetic with one copy: the code is the scalar loop a C programmer would
//! write, and the drivers skip their unrolled loop for it ([`Vector::UNROLL`]).
//!
//! Rounding is identical to the other backends lane by lane (IEEE operations, unfused
//! `mul_add` as the portable backend without FMA); only the order of the sums differs, as it
//! does between any two backends.

use super::{Portable, Simd, Vector};

impl Simd for Portable {
    type F32 = SF32;
    type F64 = SF64;
    const NAME: &'static str = "portable";
    #[inline(always)]
    fn f32s(self) -> SF32 {
        SF32(0.0)
    }
    #[inline(always)]
    fn f64s(self) -> SF64 {
        SF64(0.0)
    }
}

/// f32 lanes of the portable backend on targets without SIMD: one `f32`.
#[derive(Clone, Copy, Debug)]
pub struct SF32(f32);

/// f64 lanes of the portable backend on targets without SIMD: one `f64`.
#[derive(Clone, Copy, Debug)]
pub struct SF64(f64);

/// `vsqrt.f32`: IEEE square root (correctly rounded, as `libm::sqrtf`) in one FPU
/// instruction. Hard-float ARM targets always have a VFP with it; elsewhere `libm`.
#[inline(always)]
fn sqrt32(x: f32) -> f32 {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf", not(miri)))]
    {
        let mut bits = x.to_bits();
        // SAFETY: moves a value through s15 (declared clobbered) and takes its square root;
        // no memory, stack or flags are touched. `in(sreg)` would need the unstable-to-cfg
        // `vfp2` target feature, hence the core register round trip.
        unsafe {
            core::arch::asm!(
                "vmov s15, {b}",
                "vsqrt.f32 s15, s15",
                "vmov {b}, s15",
                b = inout(reg) bits,
                out("s15") _,
                options(pure, nomem, nostack),
            );
        }
        f32::from_bits(bits)
    }
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf", not(miri))))]
    {
        libm::sqrtf(x)
    }
}

macro_rules! scalar_common {
    ($V:ident, $E:ty, $U:ty, $I:ty, $mant:expr, $bias:expr, $round:path) => {
        #[inline(always)]
        fn splat(self, x: $E) -> Self {
            $V(x)
        }
        #[inline(always)]
        fn load(self, s: &[$E]) -> Self {
            $V(s.first().copied().unwrap_or(0.0))
        }
        #[inline(always)]
        fn load_partial(self, s: &[$E], fill: $E) -> Self {
            $V(s.first().copied().unwrap_or(fill))
        }
        #[inline(always)]
        fn store(self, out: &mut [$E]) {
            if let Some(d) = out.first_mut() {
                *d = self.0;
            }
        }
        #[inline(always)]
        fn add(self, b: Self) -> Self {
            $V(self.0 + b.0)
        }
        #[inline(always)]
        fn sub(self, b: Self) -> Self {
            $V(self.0 - b.0)
        }
        #[inline(always)]
        fn mul(self, b: Self) -> Self {
            $V(self.0 * b.0)
        }
        #[inline(always)]
        fn div(self, b: Self) -> Self {
            $V(self.0 / b.0)
        }
        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            $V(self.0 * b.0 + c.0)
        }
        #[inline(always)]
        fn neg(self) -> Self {
            $V(-self.0)
        }
        #[inline(always)]
        fn abs(self) -> Self {
            $V(<$E>::from_bits(
                self.0.to_bits() & !((1 as $U) << ($mant + <$E>::EXP_BITS)),
            ))
        }
        #[inline(always)]
        fn min(self, b: Self) -> Self {
            $V(if self.0 < b.0 { self.0 } else { b.0 })
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            $V(if self.0 > b.0 { self.0 } else { b.0 })
        }
        #[inline(always)]
        fn round(self) -> Self {
            $V($round(self.0))
        }
        #[inline(always)]
        fn copysign(self, sign: Self) -> Self {
            let s: $U = (1 as $U) << ($mant + <$E>::EXP_BITS);
            $V(<$E>::from_bits(
                (self.0.to_bits() & !s) | (sign.0.to_bits() & s),
            ))
        }
        #[inline(always)]
        fn lt(self, b: Self) -> bool {
            self.0 < b.0
        }
        #[inline(always)]
        fn le(self, b: Self) -> bool {
            self.0 <= b.0
        }
        #[inline(always)]
        fn eq(self, b: Self) -> bool {
            self.0 == b.0
        }
        #[inline(always)]
        fn select(m: bool, t: Self, f: Self) -> Self {
            if m { t } else { f }
        }
        #[inline(always)]
        fn mask_and(a: bool, b: bool) -> bool {
            a & b
        }
        #[inline(always)]
        fn mask_or(a: bool, b: bool) -> bool {
            a | b
        }
        #[inline(always)]
        fn mask_not(a: bool) -> bool {
            !a
        }
        #[inline(always)]
        fn mask_any(a: bool) -> bool {
            a
        }
        #[inline(always)]
        fn keep_first(self, n: usize) -> Self {
            if n == 0 { $V(0.0) } else { self }
        }
        #[inline(always)]
        fn reduce_sum(self) -> $E {
            self.0
        }
        #[inline(always)]
        fn reduce_max(self) -> $E {
            self.0
        }
        #[inline(always)]
        fn pow2i(self) -> Self {
            // The lane holds an integer (the method's contract), so the conversion is exact
            // and needs no rounding first: on a Cortex-M4F, whose FPU cannot round, a
            // `libm::roundevenf` call here was two per `exp` (QEMU, `embedded/`).
            let n = self.0 as $I;
            $V(<$E>::from_bits(((n + $bias) as $U) << $mant))
        }
        #[inline(always)]
        fn frexp(self) -> (Self, Self) {
            let bits = self.0.to_bits();
            let e = ((bits >> $mant) & (((1 as $U) << <$E>::EXP_BITS) - 1)) as $I - $bias;
            let m = (bits & (((1 as $U) << $mant) - 1)) | (($bias as $U) << $mant);
            ($V(<$E>::from_bits(m)), $V(e as $E))
        }
        #[inline(always)]
        fn acc_zero(self) -> f64 {
            0.0
        }
        #[inline(always)]
        fn acc_merge(self, a: f64, b: f64) -> f64 {
            a + b
        }
        #[inline(always)]
        fn acc_total(self, acc: f64) -> f64 {
            acc
        }
    };
}

/// Bits of the exponent field (the sign bit sits above it and the mantissa).
trait ExpBits {
    const EXP_BITS: u32;
}
impl ExpBits for f32 {
    const EXP_BITS: u32 = 8;
}
impl ExpBits for f64 {
    const EXP_BITS: u32 = 11;
}

impl Vector for SF32 {
    type Elem = f32;
    type Mask = bool;
    type Acc = f64;
    const LANES: usize = 1;
    const UNROLL: bool = false;

    scalar_common!(SF32, f32, u32, i32, 23, 127, libm::roundevenf);

    #[inline(always)]
    fn sqrt(self) -> Self {
        SF32(sqrt32(self.0))
    }
    #[inline(always)]
    fn acc_add(self, acc: f64) -> f64 {
        acc + self.0 as f64
    }
}

impl Vector for SF64 {
    type Elem = f64;
    type Mask = bool;
    type Acc = f64;
    const LANES: usize = 1;
    const UNROLL: bool = false;

    scalar_common!(SF64, f64, u64, i64, 52, 1023, libm::roundeven);

    #[inline(always)]
    fn sqrt(self) -> Self {
        SF64(libm::sqrt(self.0))
    }
    #[inline(always)]
    fn acc_add(self, acc: f64) -> f64 {
        acc + self.0
    }
}
