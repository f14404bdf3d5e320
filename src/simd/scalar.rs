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

/// `x` rounded to an integer, ties to even (`libm::roundevenf`), by the FPU's own rounding:
/// for `|x| < 2²³`, `x ± 2²³` (`x`'s sign) lies where the spacing of f32 is 1, so the addition
/// rounds `x` to an integer in the current mode (to nearest, ties to even), and subtracting
/// `2²³` again is exact; larger `|x|`, `±∞` and NaN are returned as they are (every f32 from
/// 2²³ up is an integer). The sign is `x`'s, also for a result of 0 (`−0.3` gives `−0`).
/// Two FPU additions where `libm::roundevenf` is integer code in a call: on a Cortex-M4F,
/// whose FPU has no rounding instruction, 20 of those calls were 4% of the instructions of
/// a 10-class cross-entropy row (QEMU, `embedded/`), two per `exp` (in `pow2i`).
#[inline(always)]
fn round_even32(x: f32) -> f32 {
    const SIGN: u32 = 0x8000_0000;
    let (bits, big) = (x.to_bits(), 8_388_608.0f32);
    if f32::from_bits(bits & !SIGN) < big {
        let b = f32::from_bits(big.to_bits() | (bits & SIGN));
        let r = (x + b) - b;
        f32::from_bits((r.to_bits() & !SIGN) | (bits & SIGN))
    } else {
        x
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
            let n = $round(self.0) as $I;
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

    scalar_common!(SF32, f32, u32, i32, 23, 127, round_even32);

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

#[cfg(test)]
mod tests {
    use super::round_even32;

    /// `round_even32` is `libm::roundevenf`, bit for bit (sign of zero and NaN included):
    /// on every 97th f32 from ½ to 2²⁴ (halves, odd and even integers, the cut at 2²³), the
    /// 128 patterns at each end of every binade there, and every 4099th pattern of the
    /// rest. (Every one of the 2³² patterns matched in a scratch release build.)
    #[test]
    fn round_even32_is_roundevenf() {
        let check = |bits: u32| {
            let x = f32::from_bits(bits);
            let (got, want) = (round_even32(x), libm::roundevenf(x));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{x:e} ({bits:#010x}): {got:e}, libm {want:e}"
            );
        };
        for sign in [0u32, 0x8000_0000] {
            for bits in ((126u32 << 23)..(152u32 << 23)).step_by(97) {
                check(sign | bits);
            }
            for e in 126u32..152 {
                for m in (0..128).chain(0x7f_ff80..0x80_0000) {
                    check(sign | e << 23 | m);
                }
            }
            for bits in (0u32..0x8000_0000).step_by(4099) {
                check(sign | bits);
            }
            for x in [
                0.0f32,
                0.5,
                1.5,
                2.5,
                8_388_607.5,
                8_388_608.0,
                f32::INFINITY,
                f32::NAN,
            ] {
                check(sign | x.to_bits());
            }
        }
    }
}
