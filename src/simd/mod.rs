//! The lane layer: the only module that knows about instruction sets.
//!
//! # Contract
//!
//! * A *backend* is a zero-sized token type implementing [`Simd`]: [`Portable`] (on `wide`,
//!   whatever the build's `cfg(target_feature)` gives: SSE2, AVX2, NEON or simd128; on a
//!   target without SIMD, one-lane vectors of `scalar.rs` instead of `wide`'s emulated
//!   ones), and on `x86_64` `Avx2` (AVX2 + FMA) and `Avx512` (AVX-512F) on `core::arch`.
//! * A token of an x86 backend exists only after the CPU was seen to support its features
//!   (see [`backend`]). Its vector types can only be made from a token or from another vector
//!   of the same backend, so every vector method is safe: holding a vector proves the
//!   features are there.
//! * Every method here is `#[inline(always)]` and none is `#[target_feature]`: the code is
//!   monomorphised and inlined into the few `#[target_feature]` wrappers of
//!   `shape/dispatch.rs`, where LLVM finally emits it with the wide registers.
//! * Arithmetic (`add`, `sub`, `mul`, `div`, `sqrt`, `min`, `max`, comparisons) is IEEE
//!   correctly rounded and identical on every backend. `mul_add` is fused (one rounding) on
//!   the AVX2 and AVX-512 backends and on the portable backend when the build enables FMA;
//!   otherwise it is a multiply and an add. Loss formulas must not depend on the difference
//!   beyond one rounding.
//! * `min`/`max` follow the x86 rule `if a < b { a } else { b }` (so a NaN in `self` yields
//!   `other`); callers that must propagate NaN do not rely on them for that.
//! * Tails: `load_partial` fills the missing lanes with a caller-chosen neutral value, the
//!   same formula runs on the whole vector, `store_partial` writes only the valid lanes, and
//!   reductions drop padded lanes with `keep_first`. Overlapping loads are never used in
//!   reductions, so the tail rounds exactly as the body does.

pub mod backend;
pub(crate) mod math;
pub mod portable;
// The portable backend's lanes: `wide`'s vectors where the target has SIMD; one-lane vectors
// where `wide` would emulate its vectors with arrays (or where `--cfg losskit_scalar_lanes`
// asks for them, to test that code on any host).
#[cfg(any(
    losskit_scalar_lanes,
    not(any(
        target_feature = "sse2",
        target_feature = "simd128",
        all(target_arch = "aarch64", target_feature = "neon")
    ))
))]
pub mod scalar;
#[cfg(not(any(
    losskit_scalar_lanes,
    not(any(
        target_feature = "sse2",
        target_feature = "simd128",
        all(target_arch = "aarch64", target_feature = "neon")
    ))
)))]
pub mod wide_lanes;
#[cfg(target_arch = "x86_64")]
pub mod x86_avx2;
#[cfg(target_arch = "x86_64")]
pub mod x86_avx512;

pub use backend::Backend;
pub use portable::Portable;

/// Wraps the functions between a public verb and its kernel (validation, dispatch): inlined
/// always where the portable backend is the only one (every target but x86_64), so that the
/// options a call site fixes (no weights, write mode, no smoothing, …) fold into the one
/// kernel the call then links; left to the compiler on x86_64, where each backend's kernel
/// is a `#[target_feature]` function of its own that nothing would fold into, and where
/// forced inlining only grows every caller (the test suite's compile memory). This is the
/// one place such a cfg is written, so the loss files stay free of them.
macro_rules! fold_inline {
    ($(#[$meta:meta])* $vis:vis fn $($rest:tt)*) => {
        $(#[$meta])*
        #[cfg_attr(not(target_arch = "x86_64"), inline(always))]
        $vis fn $($rest)*
    };
}
pub(crate) use fold_inline;

/// A SIMD backend: a zero-sized token whose existence proves the CPU features it needs.
pub trait Simd: Copy + Send + Sync + 'static {
    /// The f32 vector of this backend.
    type F32: Vector<Elem = f32>;
    /// The f64 vector of this backend.
    type F64: Vector<Elem = f64>;
    /// Name reported by [`Backend::name`].
    const NAME: &'static str;
    /// An all-zero f32 vector (a handle to make more vectors of this backend).
    fn f32s(self) -> Self::F32;
    /// An all-zero f64 vector.
    fn f64s(self) -> Self::F64;
}

/// Element types the crate computes in: `f32` and `f64`. Sealed.
///
/// All loss verbs are generic over it, so one definition serves both precisions.
pub trait Float:
    private::Sealed
    + Copy
    + Default
    + PartialOrd
    + core::fmt::Debug
    + core::fmt::Display
    + Send
    + Sync
    + 'static
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::Neg<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Number of mantissa bits including the implicit one (24 or 53).
    const MANTISSA_DIGITS: u32;
    /// Rounds an `f64` to this type (round to nearest even).
    fn from_f64(x: f64) -> Self;
    /// Widens (or keeps) this value as an `f64`; exact.
    fn to_f64(self) -> f64;
    /// `true` when the value is neither NaN nor infinite.
    fn is_finite(self) -> bool;
    /// `true` when the value is NaN.
    fn is_nan(self) -> bool;
}

pub(crate) mod private {
    #[allow(unused_imports)]
    use crate::shape::accumulate::{BlockSum, Compensated};

    use super::{Simd, Vector};

    /// A family of types indexed by precision: `Of<f32>` and `Of<f64>` (e.g. the function
    /// types of a loss's compiled kernels, `shape/pointwise.rs`), for [`Sealed::pick`].
    pub trait ByPrecision {
        /// The member for element type `F`.
        type Of<F: super::Float>;
    }

    /// Seals [`super::Float`] and maps an element type to its vector on a backend.
    pub trait Sealed: Sized {
        /// The vector of this element type on backend `S`.
        type Lanes<S: Simd>: Vector<Elem = Self>;
        /// What the pointwise driver carries block sums of this type in
        /// (`shape/accumulate.rs`): `f64`, or for f32 on targets whose FPU has no f64
        /// arithmetic, a compensated pair of f32.
        type Sum: BlockSum<Self>;
        /// An all-zero vector of this element type on backend `S`.
        fn lanes<S: Simd>(simd: S) -> Self::Lanes<S>;
        /// `n` rounded to this type.
        fn from_usize(n: usize) -> Self;
        /// `x32` for f32, `x64` for f64: how code generic over the precision reaches items
        /// that are not (the per-precision kernels losskit compiles once).
        fn pick<T: ByPrecision>(x32: T::Of<f32>, x64: T::Of<f64>) -> T::Of<Self>
        where
            Self: super::Float;
    }

    impl Sealed for f32 {
        type Lanes<S: Simd> = S::F32;
        // Summing f32 in f64 costs a software routine per addition (and about 3 KB of
        // flash) where the FPU is single precision only: 32-bit ARM (stable rustc reports
        // no ARM FPU feature to `cfg`, so every such target, until `fp64` is reported) and
        // RISC-V without the D extension. `--cfg losskit_f32_sums` selects the same path on
        // any host, so the suite tests it.
        #[cfg(any(
            losskit_f32_sums,
            all(target_arch = "arm", not(target_feature = "fp64")),
            all(
                any(target_arch = "riscv32", target_arch = "riscv64"),
                not(target_feature = "d")
            )
        ))]
        type Sum = Compensated<f32>;
        #[cfg(not(any(
            losskit_f32_sums,
            all(target_arch = "arm", not(target_feature = "fp64")),
            all(
                any(target_arch = "riscv32", target_arch = "riscv64"),
                not(target_feature = "d")
            )
        )))]
        type Sum = f64;
        #[inline(always)]
        fn lanes<S: Simd>(simd: S) -> S::F32 {
            simd.f32s()
        }
        #[inline(always)]
        fn from_usize(n: usize) -> f32 {
            n as f32
        }
        #[inline(always)]
        fn pick<T: ByPrecision>(x32: T::Of<f32>, _: T::Of<f64>) -> T::Of<f32> {
            x32
        }
    }

    impl Sealed for f64 {
        type Lanes<S: Simd> = S::F64;
        type Sum = f64;
        #[inline(always)]
        fn lanes<S: Simd>(simd: S) -> S::F64 {
            simd.f64s()
        }
        #[inline(always)]
        fn from_usize(n: usize) -> f64 {
            n as f64
        }
        #[inline(always)]
        fn pick<T: ByPrecision>(_: T::Of<f32>, x64: T::Of<f64>) -> T::Of<f64> {
            x64
        }
    }
}

macro_rules! impl_float {
    ($t:ty, $digits:expr) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const MANTISSA_DIGITS: u32 = $digits;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}
impl_float!(f32, 24);
impl_float!(f64, 53);

/// A vector of `LANES` elements of one backend. See the module docs for the contract.
pub trait Vector: Copy {
    /// Element type.
    type Elem: Float;
    /// Lane mask produced by comparisons.
    type Mask: Copy;
    /// Accumulator of lane sums in f64 (for f32 vectors: two f64 vectors).
    type Acc: Copy;
    /// Number of lanes.
    const LANES: usize;
    /// Whether the drivers unroll their loops over four vectors (independent dependency
    /// chains for wide registers). One-lane vectors on targets without SIMD do not: there
    /// it would only quadruple the code.
    const UNROLL: bool = true;

    /// A vector of this backend with every lane `x`.
    fn splat(self, x: Self::Elem) -> Self;
    /// `s[0..LANES]`; when `s` is shorter, its elements and then zeros.
    fn load(self, s: &[Self::Elem]) -> Self;
    /// The first `s.len().min(LANES)` elements of `s`, then `fill` in the other lanes.
    fn load_partial(self, s: &[Self::Elem], fill: Self::Elem) -> Self;
    /// Writes the first `out.len().min(LANES)` lanes to `out`.
    fn store(self, out: &mut [Self::Elem]);

    /// `self + b`.
    fn add(self, b: Self) -> Self;
    /// `self - b`.
    fn sub(self, b: Self) -> Self;
    /// `self * b`.
    fn mul(self, b: Self) -> Self;
    /// `self / b`.
    fn div(self, b: Self) -> Self;
    /// `self * b + c`, fused where the backend has FMA.
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// `-self` (sign flip, also of zeros and NaN).
    fn neg(self) -> Self;
    /// `|self|` (sign cleared).
    fn abs(self) -> Self;
    /// Lane-wise `if self < b { self } else { b }`.
    fn min(self, b: Self) -> Self;
    /// Lane-wise `if self > b { self } else { b }`.
    fn max(self, b: Self) -> Self;
    /// Square root, correctly rounded.
    fn sqrt(self) -> Self;
    /// Round to the nearest integer, ties to even.
    fn round(self) -> Self;
    /// `self` with the sign of `sign` (bitwise).
    fn copysign(self, sign: Self) -> Self;

    /// `self < b` (false when either is NaN).
    fn lt(self, b: Self) -> Self::Mask;
    /// `self <= b`.
    fn le(self, b: Self) -> Self::Mask;
    /// `self == b`.
    fn eq(self, b: Self) -> Self::Mask;
    /// Lanes that are NaN.
    fn is_nan(self) -> Self::Mask {
        Self::mask_not(self.eq(self))
    }
    /// `if m { t } else { f }` lane-wise.
    fn select(m: Self::Mask, t: Self, f: Self) -> Self;
    /// Lane-wise `a && b`.
    fn mask_and(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// Lane-wise `a || b`.
    fn mask_or(a: Self::Mask, b: Self::Mask) -> Self::Mask;
    /// Lane-wise `!a`.
    fn mask_not(a: Self::Mask) -> Self::Mask;
    /// `true` if any lane is set.
    fn mask_any(a: Self::Mask) -> bool;

    /// Lanes `>= n` set to zero (drops padding before a reduction).
    fn keep_first(self, n: usize) -> Self;
    /// Sum of the lanes in a fixed order (pairwise halving).
    fn reduce_sum(self) -> Self::Elem;
    /// Largest lane (NaN lanes are skipped unless all are NaN).
    fn reduce_max(self) -> Self::Elem;

    /// `2^self` for lanes holding integers in the normal exponent range
    /// (`[-126, 127]` for f32, `[-1022, 1023]` for f64); built from the exponent bits.
    fn pow2i(self) -> Self;
    /// `self·2^n` for lanes `n` holding integers with `|n| ≤ 2·emax − 2` (252 for f32, 2044
    /// for f64) and `self` in `[0.5, 4)` (or NaN, or 0): rounded once, so exact where the
    /// result is normal, rounded once into the subnormal range (gradual underflow), `+inf`
    /// past the top. The exp family's last step.
    ///
    /// The default applies `2^⌊n/2⌉` and then `2^(n − ⌊n/2⌉)`, both powers in the normal
    /// range of [`Vector::pow2i`]: the first product is exact for such `self`, the second
    /// rounds once. AVX-512 has one instruction for it (`vscalef`, one rounding for any
    /// `self`), which gives the same results on these inputs.
    #[inline(always)]
    fn ldexp(self, n: Self) -> Self {
        math::ldexp_two_step(self, n)
    }
    /// For positive normal lanes `x`: `(m, e)` with `x = m · 2^e`, `m ∈ [1, 2)`, `e` integral.
    /// Other lanes give unspecified values (callers pre-scale subnormals and select specials).
    fn frexp(self) -> (Self, Self);

    /// An accumulator holding 0.
    fn acc_zero(self) -> Self::Acc;
    /// `acc + self`, lane-wise, in f64.
    fn acc_add(self, acc: Self::Acc) -> Self::Acc;
    /// `a + b`, lane-wise.
    fn acc_merge(self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    /// Sum of the accumulator's lanes in a fixed order.
    fn acc_total(self, acc: Self::Acc) -> f64;
}

/// [`Vector::reduce_max`] of the stored lanes `a` (`N` a power of two), by a tree of halves:
/// `log₂ N` dependent steps where a scan has `N − 1` (on rows of a few classes, the max
/// pass of a row is this chain and little else). NaN lanes count as `−∞` in the tree. Where
/// that leaves the rule undecided, the scan [`max_scan`] decides on a cold path, so the
/// result is bit for bit the scan's: a tree maximum of `−∞` (every lane NaN, or `−∞`) and of
/// 0 (`+0` and `−0` tie, and the scan keeps the first of them).
// Unused where the only lanes are one-lane vectors (no x86 backends, no `wide` lanes).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
pub(crate) fn max_of_lanes<F: Float, const N: usize>(a: [F; N]) -> F {
    let neg_inf = F::from_f64(f64::NEG_INFINITY);
    let mut t = a;
    for x in t.iter_mut() {
        if x.is_nan() {
            *x = neg_inf;
        }
    }
    let mut w = N / 2;
    while w > 0 {
        for i in 0..w {
            if t[i + w] > t[i] {
                t[i] = t[i + w];
            }
        }
        w /= 2;
    }
    let m = t[0];
    if m == F::ZERO || m == neg_inf {
        return max_scan(&a);
    }
    m
}

/// The rule of [`Vector::reduce_max`] as a scan in lane order: the largest lane, NaN lanes
/// skipped unless every lane is NaN, the first of equal lanes.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[cold]
#[inline(never)]
pub(crate) fn max_scan<F: Float>(a: &[F]) -> F {
    let mut m = a[0];
    for &x in &a[1..] {
        if x > m || m.is_nan() {
            m = x;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::{Float, max_of_lanes, max_scan};

    /// Values where the tree and the scan could part: NaN, both zeros, both infinities, ties.
    const ALPHABET: [f64; 8] = [
        f64::NAN,
        f64::NEG_INFINITY,
        -1.5,
        -0.0,
        0.0,
        1.5,
        2.0,
        f64::INFINITY,
    ];

    /// Every array of `N` lanes over [`ALPHABET`] (`N ≤ 4`), or `count` pseudo-random ones.
    fn check<F: Float, const N: usize>(bits: impl Fn(F) -> u64) {
        let total = ALPHABET.len().pow(N.min(4) as u32);
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for k in 0..total.max(200_000) {
            let mut a = [F::ZERO; N];
            for (i, x) in a.iter_mut().enumerate() {
                let pick = if N <= 4 {
                    (k / ALPHABET.len().pow(i as u32)) % ALPHABET.len()
                } else {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % ALPHABET.len() as u64) as usize
                };
                *x = F::from_f64(ALPHABET[pick]);
            }
            let (tree, scan) = (max_of_lanes(a), max_scan(&a));
            assert_eq!(
                bits(tree),
                bits(scan),
                "lanes {a:?}: tree {tree}, scan {scan}"
            );
        }
    }

    /// The tree gives the scan's bits (the documented rule of `reduce_max`) on every lane count
    /// the backends use, including NaN lanes, ties of `+0` and `−0`, and all-NaN vectors.
    #[test]
    fn max_of_lanes_is_the_scan() {
        let b32 = |x: f32| u64::from(x.to_bits());
        let b64 = |x: f64| x.to_bits();
        check::<f32, 2>(b32);
        check::<f32, 4>(b32);
        check::<f32, 8>(b32);
        check::<f32, 16>(b32);
        check::<f64, 2>(b64);
        check::<f64, 4>(b64);
        check::<f64, 8>(b64);
    }
}
