//! The portable backend's lanes on `wide` (f32x8, f64x4), for targets where `wide` has SIMD:
//! SSE2 on a default x86_64 build, AVX2 with `-C target-cpu=x86-64-v3`, NEON on aarch64,
//! simd128 on wasm.

use super::{Portable, Simd};
use crate::simd::Vector;
use wide::{f32x8, f64x4, i32x8, i64x4};

/// f32 lanes of the portable backend.
#[derive(Clone, Copy, Debug)]
pub struct PF32(f32x8);

/// f64 lanes of the portable backend.
#[derive(Clone, Copy, Debug)]
pub struct PF64(f64x4);

impl Simd for Portable {
    type F32 = PF32;
    type F64 = PF64;
    const NAME: &'static str = "portable";
    #[inline(always)]
    fn f32s(self) -> PF32 {
        PF32(f32x8::ZERO)
    }
    #[inline(always)]
    fn f64s(self) -> PF64 {
        PF64(f64x4::ZERO)
    }
}

macro_rules! portable_common {
    ($V:ident, $W:ident, $E:ty, $N:expr, [$($j:literal)*]) => {
        #[inline(always)]
        fn splat(self, x: $E) -> Self {
            // Not `$W::splat(x)`, which is `[x; N]`: rustc lowers that array repeat to a loop
            // (also for 0.0, and for `[x, x, …]` written out), and the optimiser then rotates
            // and unrolls one loop per constant of every inlined formula (ARCHITECTURE, "No
            // loops in the lane code"). Zeroed bytes are a `memset`; the lanes are stored
            // one by one.
            let mut a: [$E; $N] = bytemuck::cast([0u8; $N * core::mem::size_of::<$E>()]);
            $(a[$j] = x;)*
            $V($W::new(a))
        }
        #[inline(always)]
        fn load(self, s: &[$E]) -> Self {
            // By value: a local array filled by a copy was an array repeat too.
            match s.first_chunk::<$N>() {
                Some(head) => $V($W::new(*head)),
                None => self.load_partial(s, 0.0),
            }
        }
        #[inline(always)]
        fn load_partial(self, s: &[$E], fill: $E) -> Self {
            // Lane by lane, written out (`$j`): a loop here too would be one per call site.
            $V($W::new([$(if $j < s.len() { s[$j] } else { fill }),*]))
        }
        #[inline(always)]
        fn store(self, out: &mut [$E]) {
            let a = self.0.to_array();
            match out.first_chunk_mut::<$N>() {
                Some(head) => *head = a,
                None => {
                    $(if $j < out.len() {
                        out[$j] = a[$j];
                    })*
                }
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
            $V(self.0.mul_add(b.0, c.0))
        }
        #[inline(always)]
        fn neg(self) -> Self {
            $V(-self.0)
        }
        #[inline(always)]
        fn abs(self) -> Self {
            $V(self.0.abs())
        }
        #[inline(always)]
        fn min(self, b: Self) -> Self {
            $V(self.0.simd_lt(b.0).select(self.0, b.0))
        }
        #[inline(always)]
        fn max(self, b: Self) -> Self {
            $V(self.0.simd_gt(b.0).select(self.0, b.0))
        }
        #[inline(always)]
        fn round(self) -> Self {
            $V(self.0.round_ties_even())
        }
        #[inline(always)]
        fn copysign(self, sign: Self) -> Self {
            let s = const { $W::splat(-0.0) };
            $V((self.0 & !s) | (sign.0 & s))
        }
        #[inline(always)]
        fn lt(self, b: Self) -> $W {
            self.0.simd_lt(b.0)
        }
        #[inline(always)]
        fn le(self, b: Self) -> $W {
            self.0.simd_le(b.0)
        }
        #[inline(always)]
        fn eq(self, b: Self) -> $W {
            self.0.simd_eq(b.0)
        }
        #[inline(always)]
        fn select(m: $W, t: Self, f: Self) -> Self {
            $V(m.select(t.0, f.0))
        }
        #[inline(always)]
        fn mask_and(a: $W, b: $W) -> $W {
            a & b
        }
        #[inline(always)]
        fn mask_or(a: $W, b: $W) -> $W {
            a | b
        }
        #[inline(always)]
        fn mask_not(a: $W) -> $W {
            !a
        }
        #[inline(always)]
        fn mask_any(a: $W) -> bool {
            a.any()
        }
        #[inline(always)]
        fn keep_first(self, n: usize) -> Self {
            let a = self.0.to_array();
            $V($W::new([$(if $j < n { a[$j] } else { 0.0 }),*]))
        }
        #[inline(always)]
        fn reduce_max(self) -> $E {
            $crate::simd::max_of_lanes(self.0.to_array())
        }
    };
}

impl Vector for PF32 {
    type Elem = f32;
    type Mask = f32x8;
    type Acc = f64x4;
    const LANES: usize = 8;

    portable_common!(PF32, f32x8, f32, 8, [0 1 2 3 4 5 6 7]);

    #[inline(always)]
    fn sqrt(self) -> Self {
        PF32(self.0.sqrt())
    }

    #[inline(always)]
    fn reduce_sum(self) -> f32 {
        let a = self.0.to_array();
        ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        let n = self.0.round_int();
        let bits: i32x8 = (n + const { i32x8::splat(127) }) << 23;
        PF32(bytemuck::cast(bits))
    }
    #[inline(always)]
    fn frexp(self) -> (Self, Self) {
        let bits: i32x8 = bytemuck::cast(self.0);
        let e = (bits >> 23) - const { i32x8::splat(127) };
        let m = (bits & const { i32x8::splat(0x007f_ffff) }) | const { i32x8::splat(0x3f80_0000) };
        (PF32(bytemuck::cast(m)), PF32(f32x8::from_i32x8(e)))
    }
    #[inline(always)]
    fn acc_zero(self) -> f64x4 {
        f64x4::ZERO
    }
    #[inline(always)]
    fn acc_add(self, acc: f64x4) -> f64x4 {
        // Lanes 0–3 and 4–7 widened and paired first (exact in f64 but for one rounding),
        // then added to the accumulator: one register per accumulator on every backend.
        let a = self.0.to_array();
        let lo = f64x4::new([a[0] as f64, a[1] as f64, a[2] as f64, a[3] as f64]);
        let hi = f64x4::new([a[4] as f64, a[5] as f64, a[6] as f64, a[7] as f64]);
        acc + (lo + hi)
    }
    #[inline(always)]
    fn acc_merge(self, a: f64x4, b: f64x4) -> f64x4 {
        a + b
    }
    #[inline(always)]
    fn acc_total(self, acc: f64x4) -> f64 {
        PF64(acc).reduce_sum()
    }
}

impl Vector for PF64 {
    type Elem = f64;
    type Mask = f64x4;
    type Acc = f64x4;
    const LANES: usize = 4;

    portable_common!(PF64, f64x4, f64, 4, [0 1 2 3]);

    #[inline(always)]
    fn sqrt(self) -> Self {
        PF64(self.0.sqrt())
    }

    #[inline(always)]
    fn reduce_sum(self) -> f64 {
        let a = self.0.to_array();
        (a[0] + a[2]) + (a[1] + a[3])
    }
    #[inline(always)]
    fn pow2i(self) -> Self {
        let n = self.0.round_int();
        let bits: i64x4 = (n + const { i64x4::splat(1023) }) << 52;
        PF64(bytemuck::cast(bits))
    }
    #[inline(always)]
    fn frexp(self) -> (Self, Self) {
        let bits: i64x4 = bytemuck::cast(self.0);
        let m = (bits & const { i64x4::splat(0x000f_ffff_ffff_ffff) })
            | const { i64x4::splat(0x3ff0_0000_0000_0000) };
        // The biased exponent is < 2^11, so converting it through its i64 lanes is exact.
        let eb: [i64; 4] = (bits >> 52_i64).to_array();
        let e = f64x4::new([
            eb[0] as f64 - 1023.0,
            eb[1] as f64 - 1023.0,
            eb[2] as f64 - 1023.0,
            eb[3] as f64 - 1023.0,
        ]);
        (PF64(bytemuck::cast(m)), PF64(e))
    }
    #[inline(always)]
    fn acc_zero(self) -> f64x4 {
        f64x4::ZERO
    }
    #[inline(always)]
    fn acc_add(self, acc: f64x4) -> f64x4 {
        acc + self.0
    }
    #[inline(always)]
    fn acc_merge(self, a: f64x4, b: f64x4) -> f64x4 {
        a + b
    }
    #[inline(always)]
    fn acc_total(self, acc: f64x4) -> f64 {
        PF64(acc).reduce_sum()
    }
}
