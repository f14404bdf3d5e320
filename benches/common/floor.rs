//! The floor kernels' shared part (included by the `pointwise` and `classification`
//! benches with `#[path]`): the instruction set a floor runs on, and the lean `exp` and `ln`
//! that the transcendental floors count.
//!
//! A floor is the least work any implementation of a workload must do, written as a plain
//! loop that LLVM vectorises for the widest instruction set this CPU runs: streaming the
//! bytes (memory-bound losses), or one lean `exp` (and `ln`) per element at their vector
//! throughput (transcendental-bound losses). It carries no validation, no special cases and
//! no accuracy beyond about one ulp on the inputs the benches use, so a loss is compared
//! against what the machine can do at best, in the same criterion group and run.

/// A floor kernel: its body, compiled once per instruction set by [`FloorIsa::run`].
pub trait Kernel {
    /// What the kernel returns (a sum, so that nothing is optimised away).
    type Out;
    /// The body; `FMA` says whether `mul_add` is one instruction here (see [`fma`]).
    fn body<const FMA: bool>(self) -> Self::Out;
}

/// The instruction set the floor kernels are compiled for (the widest this CPU runs).
#[derive(Clone, Copy, Debug)]
pub enum FloorIsa {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl FloorIsa {
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 =
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            if avx2 && std::is_x86_feature_detected!("avx512f") {
                return FloorIsa::Avx512;
            }
            if avx2 {
                return FloorIsa::Avx2;
            }
        }
        FloorIsa::Portable
    }

    /// Runs `k` compiled for this instruction set.
    pub fn run<K: Kernel>(self, k: K) -> K::Out {
        match self {
            FloorIsa::Portable => portable(k),
            // SAFETY: `detect` returned this variant only after checking that the CPU has the
            // features the function is compiled for.
            #[cfg(target_arch = "x86_64")]
            FloorIsa::Avx2 => unsafe { avx2(k) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            FloorIsa::Avx512 => unsafe { avx512(k) },
        }
    }
}

#[inline(never)]
fn portable<K: Kernel>(k: K) -> K::Out {
    k.body::<false>()
}

#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
fn avx2<K: Kernel>(k: K) -> K::Out {
    k.body::<true>()
}

#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[target_feature(enable = "avx512f,avx2,fma")]
fn avx512<K: Kernel>(k: K) -> K::Out {
    k.body::<true>()
}

/// `a·b + c`, fused where the kernel is compiled with FMA (elsewhere `mul_add` would be a
/// call to the C library's `fmaf`).
#[allow(dead_code)]
#[inline(always)]
pub fn fma<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `1.5·2²³`: added to a value below 2²² in magnitude, it leaves that value rounded to an
/// integer in the low mantissa bits.
#[allow(dead_code)]
const MAGIC: f32 = 12_582_912.0;

/// A lean `e^x` (Cephes `expf`'s polynomial, as the `peers/limits` harness's lean `exp` that
/// the floors were measured with): `x` clamped to `[−87.3, 88.3]`, `n = round(x/ln 2)`
/// by the magic constant, `r = x − n·ln 2` in two parts, `e^r` by a degree-5 polynomial,
/// `2ⁿ` built in the exponent bits. About one ulp; no NaN or infinity handling.
#[allow(dead_code)]
#[inline(always)]
pub fn lean_exp<const FMA: bool>(x: f32) -> f32 {
    // Comparisons, not `max`/`min`, whose NaN rule would cost a blend.
    let x = if x < -87.3 { -87.3 } else { x };
    let x = if x > 88.3 { 88.3 } else { x };
    let t = fma::<FMA>(x, core::f32::consts::LOG2_E, MAGIC);
    let n = t - MAGIC;
    let r = fma::<FMA>(n, -0.693_359_4, x);
    let r = fma::<FMA>(n, 2.121_944_4e-4, r);
    let mut p = 1.987_569_2e-4;
    for c in [
        1.398_2e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ] {
        p = fma::<FMA>(p, r, c);
    }
    let y = fma::<FMA>(p, r * r, r) + 1.0;
    // t's low bits hold n (two's complement): n + 127 in the exponent field is 2ⁿ.
    let n = t.to_bits().wrapping_sub(MAGIC.to_bits());
    y * f32::from_bits(n.wrapping_add(127) << 23)
}

/// A lean `ln x` for positive normal `x` (Cephes `logf`'s polynomial): `x = m·2ᵉ` from the
/// bits with `m ∈ [√½, √2)`, `ln(1 + f)` for `f = m − 1` by a degree-8 polynomial, plus
/// `e·ln 2`. About one ulp; no zero, negative, subnormal, infinity or NaN handling.
#[allow(dead_code)]
#[inline(always)]
pub fn lean_ln<const FMA: bool>(x: f32) -> f32 {
    let bits = x.to_bits();
    // Subtracting the bits of √½ puts m in [√½, √2): the exponent of x/√½, rounded down.
    let k = bits.wrapping_sub(0x3f35_04f3);
    let e = (k as i32 >> 23) as f32;
    let f = f32::from_bits((k & 0x007f_ffff).wrapping_add(0x3f35_04f3)) - 1.0;
    let mut p = 7.037_683_6e-2;
    for c in [
        -1.151_461e-1,
        1.167_699_9e-1,
        -1.242_014_1e-1,
        1.424_932_3e-1,
        -1.666_805_8e-1,
        2.000_071_5e-1,
        -2.499_999_4e-1,
        3.333_333e-1,
    ] {
        p = fma::<FMA>(p, f, c);
    }
    let f2 = f * f;
    let y = fma::<FMA>(p * f, f2, fma::<FMA>(f2, -0.5, f));
    fma::<FMA>(e, core::f32::consts::LN_2, y)
}
