//! Transcendental functions over the lane traits, written once for every backend and both
//! precisions.
//!
//! Every function here is generic over [`Vector`], `#[inline(always)]`, branch-free (the
//! special cases are a clamp or a few selects), and chooses its polynomial by
//! `<V::Elem as Float>::MANTISSA_DIGITS == 24`, a constant that LLVM folds. Horner steps use
//! `mul_add`, which is fused on AVX2/AVX-512 and on the portable backend when the build
//! enables FMA; the error analysis below holds with and without fusion, and the tests run
//! both (the portable backend of a default x86_64 build has no FMA).
//!
//! # Approach
//!
//! * `exp(x)`: clamp `x` to `[lo, hi]` just outside the range where the result is finite and
//!   non-zero (written so that NaN passes through). `n = round(x·log2 e)` (by adding and
//!   subtracting `1.5·2^(p−1)`, no rounding instruction), `r = x − n·ln2` with a Cody–Waite
//!   split `ln2 = L_hi + L_lo`, so `r_hi = x − n·L_hi` is exact and `r_lo = n·L_lo`.
//!   `e^r = 1 + (r_hi + (r²·P(r) − r_lo))` with a minimax `P` (degree 5 for f32, 10 for f64,
//!   fitted by Remez on `|r| ≤ 0.3466` for the relative error of `r + r²P(r)`: 2^-30.3 and
//!   2^-59.8 with the rounded coefficients). `2^n` is applied in two steps,
//!   `2^⌊n/2⌉ · 2^(n − ⌊n/2⌉)`, both in the normal exponent range of `pow2i`: the first
//!   product is exact and the second rounds once, also into the subnormal range (gradual
//!   underflow); above `hi` it overflows to `+inf`. AVX-512 does this in one instruction
//!   (`vscalef`, [`Vector::ldexp`]) with the same result.
//! * `expm1(x)`: the same reduction (with `n` capped at the top exponent and a final factor
//!   `2^(n − cap) ∈ {1, 2}`); `2^n·e^r − 1 = (2^n − 1) + 2^n·r_hi + 2^n·(r²P − r_lo)` with
//!   both sums carried with their exact rounding errors (TwoSum, Fast2Sum), so the
//!   cancellation around `n = ±1` amplifies no rounding error and tiny `x` gives `x`. The
//!   sign of zero comes from `copysign(x)`.
//! * `ln(x)`: subnormals are scaled by `2^24` / `2^54` first, `frexp` gives `x = m·2^e`, and
//!   `m > √2` is halved so that `f = m − 1 ∈ [√½ − 1, √2 − 1]` (exact). Then
//!   `ln x = e·L_hi + (f − (f²/2 − (T + e·L_lo)))` with `T = f³·Q(f)` (f32: minimax degree 7,
//!   relative error 2^-27.3, no division) or `T = s·(f²/2 + R(s²))`, `s = f/(2 + f)` (f64:
//!   fdlibm's `Lg1..Lg7`, error < 2^-58.45, one division). Specials by three selects:
//!   `±0 → −inf`, `< 0 → NaN`, `+inf → +inf`, NaN → NaN.
//! * `log1p(x)`: `u = 1 + x` with its exact rounding error `δ` (TwoSum), the `ln` kernel on
//!   `u` plus `δ/u ≈ δ·2^−e·(1 − f + f²)`. For `u ∈ [√½, √2)` that is `f + δ = x` exactly, so
//!   tiny `x` gives `x`. Specials as `ln` of `u`; the result takes the sign of `x` (so
//!   `log1p(−0) = −0`).
//! * `mul_exp(y, x) = y·e^x` (`y ≥ 0`): `y = m·2^e` by `frexp`, `e^x = e^r·2^n` as in `exp`,
//!   then `(e^r·m)·2^(n + e)` in two normal steps, so neither `e^x`'s overflow nor its
//!   subnormal range is met where the product is finite and normal.
//! * `expm1mx(x) = e^x − 1 − x`: `((s − x) + tail)·scale` from `expm1`'s double-length parts,
//!   which for `|x| ≤ ln2/2` is the polynomial term `x²P(x)` alone: no cancellation near 0.
//! * `tanh(x) = sign(x)·t/(t + 2)`, `t = expm1(2|x|)` kept as a double-length `s + lo`;
//!   the rounding of `t + 2` and `lo` are folded back after the one division. `|x|` is clamped
//!   to 9.5 (f32) / 20 (f64), beyond which the result rounds to 1 (and the formula gives 1).
//!
//! # Measured accuracy
//!
//! Maximum error in ulps over the edge values and 10^7 random inputs per function, precision
//! and backend (`cargo test --lib math -- --nocapture`). f32: against the f64 `libm`
//! function of the widened input (an f64 formula for the composites), in f32 ulps of that
//! value. f64: ordered-bits distance to `libm`'s result (`exp`, `ln`, `log1p`, `expm1`) or to
//! a careful f64 formula on `libm::exp`/`expm1`/`log1p` with exact sums and quotients
//! (`tanh`; `expm1mx`: the Taylor series in double-double on `[−2, 8]`; `mul_exp`:
//! `(m·e^x)·2^e` for `|x| ≤ 700`); it includes the reference's own error (up
//! to about 1 ulp), so an f64 figure of 1 means "within one ulp of libm". `exp`, `ln` and
//! `log1p` in f32 are also checked on all 2^32 inputs (`cargo test --release --lib --
//! --ignored exhaustive`). Portable is a default x86_64 build (SSE2, `mul_add` not fused).
//! AVX-512 performs the same fused operations as AVX2, so it should match the AVX2 column;
//! it was not run (the measuring CPU has no AVX-512), but its tests run wherever it is (it
//! matched AVX2 for `expm1mx` and `mul_exp`, measured on a CPU with AVX-512F).
//!
//! | function | f32 portable | f32 AVX2 | f64 portable | f64 AVX2 | budget |
//! |---|---|---|---|---|---|
//! | `exp` | 0.867 (all 2^32: 0.867) | 0.833 (all 2^32: 0.848) | 1 | 1 | 2 |
//! | `ln` | 0.834 (all 2^32: 0.860) | 0.834 (all 2^32: 0.852) | 1 | 1 | 2 |
//! | `log1p` | 0.906 (all 2^32: 0.939) | 0.906 (all 2^32: 0.931) | 1 | 1 | 2 |
//! | `expm1` | 1.019 | 0.879 | 1 | 1 | 2 |
//! | `tanh` | 1.248 | 1.175 | 2 | 2 | 3 |
//! | `expm1mx` | 2.069 | 1.964 | 2 | 2 | 3 |
//! | `mul_exp` (10^6 pairs) | 1.506 | 1.486 | 2 | 2 | 2 (f32), 3 (f64) |

use super::{Float, Vector};

/// `true` when the lanes are f32 (a compile-time constant after monomorphisation).
#[inline(always)]
fn is_f32<V: Vector>() -> bool {
    <V::Elem as Float>::MANTISSA_DIGITS == 24
}

/// A vector of the same backend as `like` with every lane `c` (rounded to the element type).
#[inline(always)]
fn k<V: Vector>(like: V, c: f64) -> V {
    like.splat(<V::Elem as Float>::from_f64(c))
}

/// `c[0]·x^(N−1) + … + c[N−1]` by Horner with `mul_add` (highest coefficient first).
#[inline(always)]
fn horner<V: Vector, T: Copy + Into<f64>, const N: usize>(x: V, c: &[T; N]) -> V {
    let mut acc = k(x, c[0].into());
    for &ci in &c[1..] {
        acc = acc.mul_add(x, k(x, ci.into()));
    }
    acc
}

/// `round(a·b)` (to nearest, ties to even) for results below 2^22 in magnitude: adding and
/// subtracting `1.5·2^(p−1)` makes the FPU round, on every backend, with no rounding
/// instruction (SSE2 and the f64 lanes of `wide` have none).
#[inline(always)]
fn round_mul<V: Vector>(a: V, b: f64) -> V {
    let magic = if is_f32::<V>() {
        12582912.0
    } else {
        6755399441055744.0
    };
    let magic = k(a, magic);
    a.mul_add(k(a, b), magic).sub(magic)
}

/// `min(max(x, lo), hi)`, keeping NaN lanes NaN (the lane rule is `a < b ? a : b`).
#[inline(always)]
fn clamp<V: Vector>(x: V, lo: f64, hi: f64) -> V {
    k(x, lo).max(k(x, hi).min(x))
}

const LOG2E: f64 = core::f64::consts::LOG2_E;
const SQRT2: f64 = core::f64::consts::SQRT_2;

/// Cody–Waite split of ln 2 for f32: `n·HI` is exact for `|n| < 2^15`.
const LN2_HI_32: f64 = 0.693359375;
/// `ln 2 − LN2_HI_32` (rounded to f32 on use).
const LN2_LO_32: f64 = core::f64::consts::LN_2 - LN2_HI_32;
/// fdlibm's split of ln 2 for f64 (0x3fe62e42fee00000, 0x3dea39ef35793c76): `n·HI` is exact
/// for `|n| < 2^21`.
const LN2_HI_64: f64 = 0.6931471803691238;
const LN2_LO_64: f64 = 1.9082149292705877e-10;

/// `P(r) ≈ (e^r − 1 − r)/r²` on `|r| ≤ 0.3466`, f32 coefficients, highest first.
/// Minimax for the relative error of `r + r²P(r)`: 2^-30.3 after rounding to f32.
const EXP_P32: [f32; 6] = [
    0.00019846109,
    0.00139407,
    0.008333462,
    0.04166642,
    0.16666666,
    0.5,
];
/// The same for f64, degree 10: relative error 2^-59.8 after rounding to f64.
const EXP_P64: [f64; 11] = [
    2.0911904022929267e-09,
    2.5106470037008167e-08,
    2.755734218728005e-07,
    2.7557252115162444e-06,
    2.4801587177205318e-05,
    0.0001984126987816548,
    0.0013888888888985585,
    0.008333333333324462,
    0.04166666666666646,
    0.16666666666666674,
    0.5,
];

/// `Q(f) ≈ (ln(1 + f) − f + f²/2)/f³` on `[√½ − 1, √2 − 1]`, f32, highest first.
/// Minimax for the relative error of `ln(1 + f)`: 2^-27.3 after rounding to f32.
const LOG_Q32: [f32; 8] = [
    -0.076431446,
    0.1276699,
    -0.13159518,
    0.14200948,
    -0.16623335,
    0.20001261,
    -0.25000823,
    0.3333333,
];
/// fdlibm's `Lg1..Lg7` (f64): `R(z) = z·(Lg1 + z·(Lg2 + …))`, `z = s²`, error < 2^-58.45.
const LG: [f64; 7] = [
    0.6666666666666735,  // 0x3fe5555555555593
    0.3999999999940942,  // 0x3fd999999997fa04
    0.2857142874366239,  // 0x3fd2492494229359
    0.22222198432149784, // 0x3fcc71c51d8e78af
    0.1818357216161805,  // 0x3fc7466496cb03de
    0.15313837699209373, // 0x3fc39a09d078c69f
    0.14798198605116586, // 0x3fc2f112df3e5244
];

/// The precision-dependent constants of the exp family:
/// `(ln2_hi, ln2_lo, largest normal exponent)`.
#[inline(always)]
fn ln2_split<V: Vector>() -> (f64, f64, f64) {
    if is_f32::<V>() {
        (LN2_HI_32, LN2_LO_32, 127.0)
    } else {
        (LN2_HI_64, LN2_LO_64, 1023.0)
    }
}

/// Range reduction of the exp family for a clamped `x`: returns `(n, r_hi, q)` with
/// `x = n·ln2 + r`, `r_hi` exact and `e^r − 1 ≈ r_hi + q` (`q` small).
#[inline(always)]
fn exp_reduce<V: Vector>(x: V) -> (V, V, V) {
    let (hi, lo, _) = ln2_split::<V>();
    let n = round_mul(x, LOG2E);
    let r_hi = n.mul_add(k(x, -hi), x);
    let r_lo = n.mul(k(x, lo));
    let r = r_hi.sub(r_lo);
    let p = if is_f32::<V>() {
        horner(r, &EXP_P32)
    } else {
        horner(r, &EXP_P64)
    };
    // q = r²·P(r) − r_lo, so that e^r − 1 = r_hi + q with r_hi exact.
    let q = r.mul(r).mul_add(p, r_lo.neg());
    (n, r_hi, q)
}

/// The default [`Vector::ldexp`]: `y·2^n` as `y·2^n1·2^n2`, `n1 = round(n/2)`, both
/// halves in the normal exponent range of `pow2i`: for `y ∈ [0.5, 4)` the first product is
/// exact and the second rounds once, also into the subnormal range.
#[inline(always)]
pub(super) fn ldexp_two_step<V: Vector>(y: V, n: V) -> V {
    let n1 = round_mul(n, 0.5);
    y.mul(n1.pow2i()).mul(n.sub(n1).pow2i())
}

/// `e^x` for `x` already clamped to `[lo, hi]` of [`exp`] (or NaN).
#[inline(always)]
fn exp_clamped<V: Vector>(x: V) -> V {
    let (n, r_hi, q) = exp_reduce(x);
    let y = k(x, 1.0).add(r_hi.add(q));
    // |n| ≤ 150 (f32) / 1077 (f64) and y ∈ [0.7, 1.5): `ldexp`'s domain.
    y.ldexp(n)
}

/// The lower clamp of `exp`: below it the result rounds to 0, and `n/2` is a normal exponent.
#[inline(always)]
fn exp_lo<V: Vector>() -> f64 {
    if is_f32::<V>() { -104.0 } else { -746.0 }
}

/// `e^x`. `exp(−inf) = 0`, `exp(+inf) = +inf`, overflow gives `+inf`, results in the subnormal
/// range are rounded once (gradual underflow), NaN gives NaN.
#[inline(always)]
pub(crate) fn exp<V: Vector>(x: V) -> V {
    // Above hi the result overflows; [lo, hi] keeps 2^n in two normal factors.
    let hi = if is_f32::<V>() { 89.0 } else { 710.0 };
    exp_clamped(clamp(x, exp_lo::<V>(), hi))
}

/// `e^x` for `x ≤ 0` (or NaN): only the lower clamp is needed.
#[inline(always)]
fn exp_nonpositive<V: Vector>(x: V) -> V {
    exp_clamped(k(x, exp_lo::<V>()).max(x))
}

/// `y·e^x` for `y ≥ 0` (finite) without the overflow or underflow of `e^x` alone: finite
/// wherever the product is (`1e-30·e^100` in f32), and as accurate as [`exp`] plus one
/// rounding, also where `e^x` would be subnormal (`1e30·e^−100`). `y = m·2^e` (subnormal
/// `y` scaled first, as in [`ln`]) and `e^x = e^r·2^n`; then `(e^r·m)·2^(n + e)`, the power
/// of two applied by [`Vector::ldexp`]. `y = ±0` gives `+0` for every `x`; `x` is clamped to
/// `±200` (f32) / `±1500` (f64), beyond which every product with a finite `y ≠ 0` is 0 or
/// `+inf`. A NaN `x` gives NaN.
#[inline(always)]
pub(crate) fn mul_exp<V: Vector>(y: V, x: V) -> V {
    let (min_pos, pre, scale, lim, emax) = if is_f32::<V>() {
        (f32::MIN_POSITIVE as f64, 24.0, 16777216.0, 200.0, 127.0)
    } else {
        (f64::MIN_POSITIVE, 54.0, 18014398509481984.0, 1500.0, 1023.0)
    };
    let tiny = y.lt(k(y, min_pos));
    let (m, e) = V::select(tiny, y.mul(k(y, scale)), y).frexp();
    let e = V::select(tiny, e.sub(k(y, pre)), e);
    let (n, r_hi, q) = exp_reduce(clamp(x, -lim, lim));
    let z = k(x, 1.0).add(r_hi.add(q)).mul(m);
    // z ∈ [0.7, 2.9): beyond [−2·emax + 2, 2·emax] the result is 0 or +inf anyway, and
    // within it both halves of the exponent are normal.
    let t = clamp(n.add(e), 2.0 - 2.0 * emax, 2.0 * emax);
    let zero = k(y, 0.0);
    V::select(y.eq(zero), zero, z.ldexp(t))
}

/// `e^x − 1 − x`, accurate to a few ulps everywhere, also for tiny `x` (≈ `x²/2`) where
/// `expm1(x) − x` cancels. With [`expm1_parts`]' double-length `e^x − 1 = (s + tail)·scale`:
/// `((s − x) + tail)·scale`. For `|x| ≤ ln2/2` the reduction is trivial (`s = x` exactly,
/// `tail = x²P(x)`), so this is the polynomial's `x²P(x)`; elsewhere `s − x` is exact
/// wherever `x/2 ≤ s ≤ 2x` and one rounding of a result at least `E(ln2/2)` beyond, and
/// `scale = 2` only where `|x|` is far below an ulp of `s`. `+inf` above the overflow
/// threshold (and at `+inf`), `−1 − x` far below 0 (`+inf` at `−inf`), NaN gives NaN.
#[inline(always)]
pub(crate) fn expm1mx<V: Vector>(x: V) -> V {
    let (s, tail, scale) = expm1_parts(x);
    // x clamped above as expm1_parts clamps it (there s·scale overflows), not below: there
    // s + tail is −1 and the result −1 − x.
    let hi = if is_f32::<V>() { 89.0 } else { 710.0 };
    s.sub(x.min(k(x, hi))).add(tail).mul(scale)
}

/// `c·(e^x − 1 − x)` for `c ≥ 0`, given `ce = c·e^x` computed by the caller (with
/// [`mul_exp`] or [`exp`], to their accuracy): `c·expm1mx(x)` for `x < 2`, and
/// `ce − c·(1 + x)` beyond (the cancellation there amplifies errors at most 2.4-fold, at
/// `x = 2`), so a large `x` with
/// a small `c` (`e^x` overflowing, the product not) stays finite. `+inf` where `ce` is
/// (never `∞ − ∞`); `c = 0` with a finite `x` gives 0 below 2 and `ce` beyond.
#[inline(always)]
pub(crate) fn mul_expm1mx<V: Vector>(c: V, x: V, ce: V) -> V {
    let one = k(x, 1.0);
    let inf = k(x, f64::INFINITY);
    let far = V::select(ce.lt(inf), ce.sub(c.mul(one.add(x))), inf);
    V::select(x.lt(k(x, 2.0)), c.mul(expm1mx(x)), far)
}

/// `e^x − 1 = (s + tail)·scale` with `|tail| < |s|` and `scale ∈ {1, 2}` (2 only when `x` is
/// within a factor 2 of overflowing). `s + tail` carries more than the working precision, so
/// `tanh` can divide it without an extra rounding.
#[inline(always)]
fn expm1_parts<V: Vector>(x: V) -> (V, V, V) {
    // Below lo the result rounds to −1; above hi it overflows.
    let x = if is_f32::<V>() {
        clamp(x, -18.0, 89.0)
    } else {
        clamp(x, -40.0, 710.0)
    };
    let (_, _, emax) = ln2_split::<V>();
    let (n, r_hi, q) = exp_reduce(x);
    let one = k(x, 1.0);
    // n1 ≤ emax keeps t = 2^n1 finite; n − n1 ∈ {0, 1} goes into `scale`.
    let n1 = n.min(k(x, emax));
    let t = n1.pow2i();
    // 2^n·e^r − 1 = (t − 1) + t·r_hi + t·q. Both sums below are carried with their exact
    // rounding errors (TwoSum for t − 1, inexact for n ∉ [−24, 24] in f32, n > 53 in f64;
    // Fast2Sum for + t·r_hi, as |t − 1| ≥ |t·r_hi| or t − 1 = 0), so the cancellation for
    // n = ±1 amplifies no rounding error.
    let a = t.sub(one);
    let bb = a.sub(t);
    let a_err = t.sub(a.sub(bb)).add(k(x, -1.0).sub(bb));
    let b = t.mul(r_hi);
    let s = a.add(b);
    let err = a.sub(s).add(b).add(a_err);
    (s, t.mul_add(q, err), n.sub(n1).pow2i())
}

/// `e^x − 1`, accurate for tiny `x` (≈ `x`). `expm1(−inf) = −1`, `expm1(±0) = ±0`, overflow
/// gives `+inf`, NaN gives NaN.
#[inline(always)]
pub(crate) fn expm1<V: Vector>(x: V) -> V {
    let (s, tail, scale) = expm1_parts(x);
    // The sign of x fixes the sign of zero (expm1 has the sign of x everywhere).
    s.add(tail).mul(scale).copysign(x)
}

/// Reduces `m ∈ [1, 2]` with exponent `e` to `f = m' − 1 ∈ [√½ − 1, √2 − 1]` and `e'`
/// (`m > √2` is halved and `e` incremented), exactly.
#[inline(always)]
fn log_reduce<V: Vector>(m: V, e: V) -> (V, V) {
    let one = k(m, 1.0);
    let big = k(m, SQRT2).lt(m);
    let f = V::select(big, m.mul_add(k(m, 0.5), k(m, -1.0)), m.sub(one));
    (f, V::select(big, e.add(one), e))
}

/// `δ/u` for `u = (1 + f)·2^e` reduced by [`log_reduce`], given `2^−e` as `scale`:
/// `δ·2^−e·(1 − f + f²)`. The approximation of `1/(1 + f)` is off by ≤ 7 % (`f³`), of a term that is
/// at most ~1.4 ulp of the logarithm where `e ≠ 0`, and exact where `f = 0`.
#[inline(always)]
fn log_correction<V: Vector>(delta: V, f: V, scale: V) -> V {
    let one = k(f, 1.0);
    delta.mul(scale).mul(f.mul_add(f.sub(one), one))
}

/// `e·ln2 + ln(1 + f) + c` for `f ∈ [√½ − 1, √2 − 1]`, integral `e` and an optional small
/// correction `c`. No special cases.
#[inline(always)]
fn log_kernel<V: Vector>(f: V, e: V, c: Option<V>) -> V {
    let (hi, lo, _) = ln2_split::<V>();
    let mut tail = e.mul(k(f, lo));
    if let Some(c) = c {
        tail = tail.add(c);
    }
    let hfsq = k(f, 0.5).mul(f).mul(f);
    let t = if is_f32::<V>() {
        // f³·Q(f)
        f.mul(f).mul(f).mul(horner(f, &LOG_Q32))
    } else {
        // s·(f²/2 + R(s²)), s = f/(2 + f), the fdlibm form.
        let s = f.div(k(f, 2.0).add(f));
        let z = s.mul(s);
        let w = z.mul(z);
        let t1 = w.mul(horner(w, &[LG[5], LG[3], LG[1]]));
        let t2 = z.mul(horner(w, &[LG[6], LG[4], LG[2], LG[0]]));
        s.mul(hfsq.add(t2.add(t1)))
    };
    e.mul_add(k(f, hi), f.sub(hfsq.sub(t.add(tail))))
}

/// The IEEE special values of a logarithm of `u`, over the kernel result `r`.
#[inline(always)]
fn log_specials<V: Vector>(u: V, r: V) -> V {
    let zero = k(u, 0.0);
    // +inf → +inf and NaN → NaN (u itself); 0 → −inf; negative → NaN.
    let r = V::select(u.lt(k(u, f64::INFINITY)), r, u);
    let r = V::select(u.eq(zero), k(u, f64::NEG_INFINITY), r);
    V::select(u.lt(zero), k(u, f64::NAN), r)
}

/// The natural logarithm. `ln(±0) = −inf`, `ln(x < 0) = NaN`, `ln(+inf) = +inf`, subnormal
/// inputs are exact-scaled first.
#[inline(always)]
pub(crate) fn ln<V: Vector>(x: V) -> V {
    let (min_pos, pre, scale) = if is_f32::<V>() {
        (f32::MIN_POSITIVE as f64, 24.0, 16777216.0)
    } else {
        (f64::MIN_POSITIVE, 54.0, 18014398509481984.0)
    };
    // `frexp` takes positive normals only: scale subnormals (and the special lanes, which
    // are replaced below) by 2^pre.
    let tiny = x.lt(k(x, min_pos));
    let xs = V::select(tiny, x.mul(k(x, scale)), x);
    let (m, e) = xs.frexp();
    let e = V::select(tiny, e.sub(k(x, pre)), e);
    let (f, e) = log_reduce(m, e);
    log_specials(x, log_kernel(f, e, None))
}

/// `(1 + x, ln(1 + x))` for `x > −1`, with no special cases (NaN still gives NaN; `x = ±0`
/// gives `+0`).
#[inline(always)]
fn log1p_core<V: Vector>(x: V) -> (V, V) {
    let one = k(x, 1.0);
    let u = one.add(x);
    // TwoSum: u + δ = 1 + x exactly.
    let b = u.sub(one);
    let delta = one.sub(u.sub(b)).add(x.sub(b));
    // u ≥ 2^-53 (f64) / 2^-24 (f32) is a positive normal for x > −1.
    let (m, e) = u.frexp();
    let (f, e) = log_reduce(m, e);
    // 2^−e, clamped to the normal range (for e > emax − 1 the correction is negligible).
    let (_, _, emax) = ln2_split::<V>();
    let scale = e.neg().max(k(x, 1.0 - emax)).pow2i();
    (u, log_kernel(f, e, Some(log_correction(delta, f, scale))))
}

/// `ln(1 + x)` for `x ∈ [0, 1]` (or NaN): `1 + x ∈ [1, 2]`, so neither `frexp` nor `pow2i`
/// is needed. The `softplus` path.
#[inline(always)]
fn log1p_unit<V: Vector>(x: V) -> V {
    let one = k(x, 1.0);
    let u = one.add(x);
    // Fast2Sum (1 ≥ x): u + δ = 1 + x exactly.
    let delta = one.sub(u).add(x);
    let (f, e) = log_reduce(u, k(x, 0.0));
    // e ∈ {0, 1}: 2^−e = 1 − e/2.
    let scale = e.mul_add(k(x, -0.5), one);
    log_kernel(f, e, Some(log_correction(delta, f, scale)))
}

/// `ln(1 + x)`, accurate for tiny `x`. `log1p(−1) = −inf`, `log1p(x < −1) = NaN`,
/// `log1p(+inf) = +inf`, `log1p(±0) = ±0`.
#[inline(always)]
pub(crate) fn log1p<V: Vector>(x: V) -> V {
    let (u, r) = log1p_core(x);
    // ln(1 + x) has the sign of x: this only matters for x = −0.
    log_specials(u, r).copysign(x)
}

/// `tanh(x) = sign(x)·t/(t + 2)`, `t = expm1(2|x|)` carried as `s + lo`, with the
/// rounding of `t + 2` and the `lo` part folded back after the division:
/// `(s + lo)/(d + d_err + lo) ≈ q0 + (lo − q0·(d_err + lo))/d`, `q0 = s/d`,
/// `1/d = (1 − q0)/2`. `tanh(±inf) = ±1`, `tanh(±0) = ±0`.
#[inline(always)]
pub(crate) fn tanh<V: Vector>(x: V) -> V {
    // Beyond the clamp tanh rounds to 1 (and the formula gives exactly 1 there).
    let big = if is_f32::<V>() { 9.5 } else { 20.0 };
    let a = k(x, big).min(x.abs());
    // 2a ≤ 40, so the scale factor of expm1 is 1. Renormalise: s + lo = t with |lo| ≤ ulp(s)/2
    // (Fast2Sum; |s| ≥ |tail| as tail ≈ t·r²/2).
    let (s0, tail, _) = expm1_parts(a.add(a));
    let s = s0.add(tail);
    let lo = s0.sub(s).add(tail);
    // d + d_err = s + 2 exactly (Fast2Sum, larger operand first).
    let two = k(x, 2.0);
    let (hi, sm) = (s.max(two), s.min(two));
    let d = hi.add(sm);
    let d_err = sm.sub(d.sub(hi));
    let q0 = s.div(d);
    let inv_d = q0.mul_add(k(x, -0.5), k(x, 0.5));
    let corr = q0.neg().mul_add(d_err.add(lo), lo).mul(inv_d);
    q0.add(corr).copysign(x)
}

/// The shared parts of the logistic losses at `x`: `(e, ln(1 + e))` with `e = e^−|x| ∈ [0, 1]`
/// (one `exp`, one `log1p`). From them `softplus(±x) = max(±x, 0) + ln(1 + e)` and
/// `σ(−|x|) = e/(1 + e)`, so a loss needing both softplus and sigmoid pays for one of each.
#[inline(always)]
pub(crate) fn logistic_parts<V: Vector>(x: V) -> (V, V) {
    let e = exp_nonpositive(x.abs().neg());
    (e, log1p_unit(e))
}

#[cfg(test)]
mod tests {
    //! Accuracy against `libm` on every available backend, both precisions.
    //!
    //! Coverage per function, precision and backend: the edge values (±0, ±inf, NaN,
    //! subnormals, `MIN_POSITIVE`, `MAX`, the overflow/underflow thresholds and clamps, ±1,
    //! √2, …, each with its ±4-ulp neighbours and negated) and `RANDOM` random inputs, a
    //! quarter each from: random bit patterns over the function's finite domain; uniform on
    //! the range where the result is neither 0 nor ±inf; uniform
    //! on a narrow range around 0 (or 1 for `ln`); random sign and magnitude `2^u`,
    //! `u ∈ [−40, 10]`.

    use super::*;
    use crate::simd::{Backend, Portable};
    #[cfg(target_arch = "x86_64")]
    use crate::simd::{x86_avx2::Avx2, x86_avx512::Avx512};
    use std::vec::Vec;
    use std::{println, vec};

    /// Random inputs per function, precision and backend.
    const RANDOM: usize = 10_000_000;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Fun {
        Exp,
        Ln,
        Log1p,
        Expm1,
        Tanh,
        Expm1mx,
        /// `y·e^x` ([`mul_exp`]): a function of two inputs, `ys` and `xs`.
        MulExp,
        /// `y·2^x` ([`Vector::ldexp`]), the other one: `ys` and integral `xs`.
        Ldexp,
    }

    impl Fun {
        /// The accuracy budget in ulps (see the module docs).
        fn budget(self) -> f64 {
            match self {
                Fun::Exp | Fun::Ln | Fun::Log1p | Fun::Expm1 | Fun::MulExp | Fun::Ldexp => 2.0,
                _ => 3.0,
            }
        }
    }

    /// `out[i] = f(xs[i])` (for `MulExp`: `ys[i]·e^xs[i]`) with the vectors of `v`'s backend.
    #[inline(always)]
    fn apply<V: Vector>(v: V, f: Fun, xs: &[V::Elem], ys: &[V::Elem], out: &mut [V::Elem]) {
        #[inline(always)]
        fn map<V: Vector>(v: V, xs: &[V::Elem], out: &mut [V::Elem], g: impl Fn(V) -> V) {
            for (x, o) in xs.chunks(V::LANES).zip(out.chunks_mut(V::LANES)) {
                g(v.load(x)).store(o);
            }
        }
        match f {
            Fun::Exp => map(v, xs, out, exp),
            Fun::Ln => map(v, xs, out, ln),
            Fun::Log1p => map(v, xs, out, log1p),
            Fun::Expm1 => map(v, xs, out, expm1),
            Fun::Tanh => map(v, xs, out, tanh),
            Fun::Expm1mx => map(v, xs, out, expm1mx),
            Fun::MulExp => {
                let chunks = xs.chunks(V::LANES).zip(ys.chunks(V::LANES));
                for ((x, y), o) in chunks.zip(out.chunks_mut(V::LANES)) {
                    mul_exp(v.load(y), v.load(x)).store(o);
                }
            }
            Fun::Ldexp => {
                let chunks = xs.chunks(V::LANES).zip(ys.chunks(V::LANES));
                for ((x, y), o) in chunks.zip(out.chunks_mut(V::LANES)) {
                    v.load(y).ldexp(v.load(x)).store(o);
                }
            }
        }
    }

    /// Runs `f` over `xs` on backend `b` (compiled for its features, as the losses are).
    fn eval<F: Prec>(b: Backend, f: Fun, xs: &[F], ys: &[F], out: &mut [F]) {
        match b {
            Backend::Portable => apply(F::lanes(Portable), f, xs, ys, out),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => {
                let t = Avx2::new().expect("listed by Backend::available");
                // SAFETY: the token exists, so the CPU has AVX2 and FMA.
                unsafe { eval_avx2(t, f, xs, ys, out) }
            }
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => {
                let t = Avx512::new().expect("listed by Backend::available");
                // SAFETY: the token exists, so the CPU has AVX-512F, AVX2 and FMA.
                unsafe { eval_avx512(t, f, xs, ys, out) }
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!("backend {b} is not available"),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn eval_avx2<F: Prec>(t: Avx2, f: Fun, xs: &[F], ys: &[F], out: &mut [F]) {
        apply(F::lanes(t), f, xs, ys, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn eval_avx512<F: Prec>(t: Avx512, f: Fun, xs: &[F], ys: &[F], out: &mut [F]) {
        apply(F::lanes(t), f, xs, ys, out)
    }

    /// The reference in f64: `libm`, or a careful formula for the composites.
    fn reference(f: Fun, x: f64) -> f64 {
        match f {
            Fun::Exp => libm::exp(x),
            Fun::Ln => libm::log(x),
            Fun::Log1p => libm::log1p(x),
            Fun::Expm1 => libm::expm1(x),
            Fun::Tanh => tanh_ref(x),
            Fun::Expm1mx => expm1mx_ref(x),
            Fun::MulExp | Fun::Ldexp => unreachable!("a function of two inputs: see its test"),
        }
    }

    /// `e^x − 1 − x` to well under an f64 ulp: the Taylor series summed in double-double
    /// on `[−2, 8]`; below, `e^x + (−1 − x)` (`−1 − x` exact, `e^x` under an eighth of the
    /// result); above, `expm1(x) − x` (at most 1.01-fold cancellation).
    fn expm1mx_ref(x: f64) -> f64 {
        if x.is_nan() || x == f64::INFINITY {
            return x;
        }
        if x < -2.0 {
            return libm::exp(x) + (-1.0 - x);
        }
        if x > 8.0 {
            return libm::expm1(x) - x;
        }
        // Double-double arithmetic: exact sums (TwoSum, Fast2Sum) and products (Dekker).
        let two_sum = |a: f64, b: f64| {
            let s = a + b;
            let bb = s - a;
            (s, (a - (s - bb)) + (b - bb))
        };
        let fast = |a: f64, b: f64| {
            let s = a + b;
            (s, b - (s - a))
        };
        let split = |a: f64| {
            let c = 134217729.0 * a;
            let hi = c - (c - a);
            (hi, a - hi)
        };
        let two_prod = |a: f64, b: f64| {
            let p = a * b;
            let ((ah, al), (bh, bl)) = (split(a), split(b));
            (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
        };
        // term = x^k/k! and sum, both double-double, from k = 2 (x²/2: halving is exact).
        let (p, e) = two_prod(x, x);
        let (mut th, mut tl) = (0.5 * p, 0.5 * e);
        let (mut sh, mut sl) = (th, tl);
        for k in 3..100 {
            let k = k as f64;
            let (p, e) = two_prod(th, x);
            let (p, e) = fast(p, e + tl * x);
            let q = p / k;
            let (m, me) = two_prod(q, k);
            (th, tl) = fast(q, (((p - m) - me) + e) / k);
            let (s, e) = two_sum(sh, th);
            (sh, sl) = fast(s, e + sl + tl);
            if th.abs() <= 1e-40 * sh.abs() {
                break;
            }
        }
        sh + sl
    }

    /// `t/(t + 2)` with `t = expm1(2|x|)`, the sum and quotient carried exactly to one final
    /// rounding. (`libm::tanh` itself is up to 2 ulp off on [0.1, 0.2554], by its own comment,
    /// which would hide the error measured here.)
    fn tanh_ref(x: f64) -> f64 {
        if x.is_nan() {
            return x;
        }
        let a = x.abs();
        if a > 22.0 {
            return 1.0f64.copysign(x);
        }
        let t = libm::expm1(2.0 * a);
        let dh = t + 2.0;
        let dl = if t > 2.0 {
            (t - dh) + 2.0
        } else {
            (2.0 - dh) + t
        };
        let q = t / dh;
        let rem = libm::fma(-q, dh, t);
        (q + (rem - q * dl) / dh).copysign(x)
    }

    /// `2^e` for `e` in the normal f64 range.
    fn pow2(e: i32) -> f64 {
        f64::from_bits(((e + 1023) as u64) << 52)
    }

    /// Error of an f32 result in f32 ulps of the (f64) exact value. ±inf counts as the
    /// value after `MAX` (`2^128`), so rounding `MAX` up to inf is 1 ulp.
    fn ulps_f32(got: f32, want: f64) -> f64 {
        if got.is_nan() || want.is_nan() {
            return if got.is_nan() && want.is_nan() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if got as f64 == want || (got.is_infinite() && want as f32 == got) {
            return 0.0;
        }
        let g = if got.is_infinite() {
            pow2(128).copysign(got as f64)
        } else {
            got as f64
        };
        let a = want.abs();
        let ulp = if a < pow2(-126) {
            pow2(-149)
        } else if a >= pow2(128) {
            pow2(104)
        } else {
            pow2(((a.to_bits() >> 52) as i32 - 1023) - 23)
        };
        (g - want).abs() / ulp
    }

    /// Ordered-bits distance between two f64 (±0 are the same point, inf is after `MAX`).
    fn ulps_f64(got: f64, want: f64) -> f64 {
        if got.is_nan() || want.is_nan() {
            return if got.is_nan() && want.is_nan() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        let ord = |x: f64| {
            let b = x.to_bits() as i64;
            (if b < 0 { -(b & i64::MAX) } else { b }) as i128
        };
        (ord(got) - ord(want)).unsigned_abs() as f64
    }

    /// SplitMix64.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        /// Uniform in `[0, 1)`.
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 * pow2(-53)
        }
        fn uniform(&mut self, a: f64, b: f64) -> f64 {
            a + (b - a) * self.unit()
        }
    }

    /// What the tests need of each precision.
    trait Prec: Float + core::fmt::LowerExp {
        const NAME: &'static str;
        /// The f32 ulp of the f64 reference, or the f64 ordered-bits distance.
        fn ulps(got: Self, want: f64) -> f64;
        /// The reference for this precision's input (exact in f64 for f32 inputs).
        fn reference(f: Fun, x: Self) -> f64 {
            reference(f, x.to_f64())
        }
        /// A random bit pattern.
        fn random_bits(rng: &mut Rng) -> Self;
        fn next_up(self) -> Self;
        fn next_down(self) -> Self;
        fn smallest_subnormal() -> Self;
        fn largest_subnormal() -> Self;
        fn min_positive() -> Self;
        fn max() -> Self;
        /// Inputs specific to this precision: thresholds of the exp family and the clamps.
        fn thresholds() -> Vec<f64>;
        /// `exp(x)` is neither 0 nor +inf on about this range.
        fn exp_range() -> (f64, f64);
    }

    impl Prec for f32 {
        const NAME: &'static str = "f32";
        fn ulps(got: f32, want: f64) -> f64 {
            ulps_f32(got, want)
        }
        fn random_bits(rng: &mut Rng) -> f32 {
            f32::from_bits(rng.next() as u32)
        }
        fn next_up(self) -> f32 {
            f32::next_up(self)
        }
        fn next_down(self) -> f32 {
            f32::next_down(self)
        }
        fn smallest_subnormal() -> f32 {
            f32::from_bits(1)
        }
        fn largest_subnormal() -> f32 {
            f32::from_bits(0x007f_ffff)
        }
        fn min_positive() -> f32 {
            f32::MIN_POSITIVE
        }
        fn max() -> f32 {
            f32::MAX
        }
        fn thresholds() -> Vec<f64> {
            vec![
                88.72284,   // ln(MAX)
                -87.33655,  // ln(MIN_POSITIVE)
                -103.27893, // ln(2^-149)
                -103.97208, // ln(2^-150)
                89.0,       // clamp of exp
                -104.0,     // clamp of exp
                -18.0,      // clamp of expm1
                -17.328680, // ln(2^-25)
                9.010913,   // tanh rounds to 1
                9.5,        // clamp of tanh
                44.36142,   // ln(MAX)/2
            ]
        }
        fn exp_range() -> (f64, f64) {
            (-106.0, 91.0)
        }
    }

    impl Prec for f64 {
        const NAME: &'static str = "f64";
        fn ulps(got: f64, want: f64) -> f64 {
            ulps_f64(got, want)
        }
        fn random_bits(rng: &mut Rng) -> f64 {
            f64::from_bits(rng.next())
        }
        fn next_up(self) -> f64 {
            f64::next_up(self)
        }
        fn next_down(self) -> f64 {
            f64::next_down(self)
        }
        fn smallest_subnormal() -> f64 {
            f64::from_bits(1)
        }
        fn largest_subnormal() -> f64 {
            f64::from_bits(0x000f_ffff_ffff_ffff)
        }
        fn min_positive() -> f64 {
            f64::MIN_POSITIVE
        }
        fn max() -> f64 {
            f64::MAX
        }
        fn thresholds() -> Vec<f64> {
            vec![
                709.782712893384,   // ln(MAX)
                -708.3964185322641, // ln(MIN_POSITIVE)
                -744.4400719213812, // ln(2^-1074)
                -745.1332191019411, // ln(2^-1075)
                710.0,              // clamp of exp
                -746.0,             // clamp of exp
                -40.0,              // clamp of expm1
                -37.42994775023705, // ln(2^-54)
                19.061547465398498, // tanh rounds to 1
                20.0,               // clamp of tanh
                354.891356446692,   // ln(MAX)/2
            ]
        }
        fn exp_range() -> (f64, f64) {
            (-747.0, 711.0)
        }
    }

    /// The edge inputs: special values, boundaries, and their neighbours, both signs.
    fn edge_inputs<F: Prec>() -> Vec<F> {
        let c = |x: f64| F::from_f64(x);
        let mut base = vec![
            c(0.0),
            c(f64::INFINITY),
            c(f64::NAN),
            F::smallest_subnormal(),
            F::largest_subnormal(),
            F::min_positive(),
            F::max(),
            c(1.0),
            c(0.5),
            c(2.0),
            c(core::f64::consts::SQRT_2),
            c(core::f64::consts::FRAC_1_SQRT_2),
            c(core::f64::consts::LN_2),
            c(core::f64::consts::LN_2 / 2.0),
            c(1.5 * core::f64::consts::LN_2),
            c(1e-30),
            c(1e-10),
            c(1e-5),
            c(0.25),
            c(3.0),
            c(10.0),
            c(100.0),
            c(1e10),
            c(1e30),
            c(pow2(-24)),
            c(pow2(-53)),
        ];
        base.extend(F::thresholds().into_iter().map(c));
        let mut out = Vec::new();
        for x in base {
            for s in [x, -x] {
                let (mut up, mut down) = (s, s);
                out.push(s);
                for _ in 0..4 {
                    up = up.next_up();
                    down = down.next_down();
                    out.push(up);
                    out.push(down);
                }
            }
        }
        out
    }

    /// A random input in `f`'s domain (see the module docs of the tests).
    fn random_input<F: Prec>(f: Fun, rng: &mut Rng, i: usize) -> F {
        let (elo, ehi) = F::exp_range();
        let (wide, narrow) = match f {
            Fun::Exp | Fun::Expm1 | Fun::Expm1mx => ((elo, ehi), (-2.0, 2.0)),
            Fun::Ln => ((0.0, 4.0), (1.0 - 1.0 / 64.0, 1.0 + 1.0 / 64.0)),
            Fun::Log1p => ((-1.0, 4.0), (-1.0 / 64.0, 1.0 / 64.0)),
            Fun::Tanh => (
                (-2.0 * F::thresholds()[9], 2.0 * F::thresholds()[9]),
                (-1.0, 1.0),
            ),
            Fun::MulExp | Fun::Ldexp => unreachable!("a function of two inputs: see its test"),
        };
        loop {
            let x = match i % 4 {
                0 => F::random_bits(rng),
                1 => F::from_f64(rng.uniform(wide.0, wide.1)),
                2 => F::from_f64(rng.uniform(narrow.0, narrow.1)),
                _ => {
                    let m = pow2(-40) * rng.uniform(0.0, 50.0).exp2();
                    F::from_f64(if rng.next() & 1 == 0 { m } else { -m })
                }
            };
            let ok = x.is_finite()
                && match f {
                    Fun::Ln => x > F::ZERO,
                    Fun::Log1p => x > -F::ONE,
                    _ => true,
                };
            if ok {
                return x;
            }
        }
    }

    /// The worst input seen on one backend.
    #[derive(Clone, Copy)]
    struct Worst<F> {
        ulps: f64,
        x: F,
        got: F,
        want: f64,
    }

    /// Measures `f` on `xs` with references `want` on every backend, updating `worst`.
    fn measure<F: Prec>(f: Fun, xs: &[F], want: &[f64], out: &mut [F], worst: &mut [Worst<F>]) {
        for (b, w) in Backend::available().zip(worst.iter_mut()) {
            eval(b, f, xs, &[], &mut out[..xs.len()]);
            for ((&x, &g), &r) in xs.iter().zip(out.iter()).zip(want) {
                let u = F::ulps(g, r);
                if u > w.ulps || u.is_nan() {
                    *w = Worst {
                        ulps: u,
                        x,
                        got: g,
                        want: r,
                    };
                }
            }
        }
    }

    /// Edge values plus `RANDOM` random inputs per backend; prints and checks the maxima.
    fn accuracy<F: Prec>(f: Fun) {
        let backends: Vec<Backend> = Backend::available().collect();
        let zero = Worst {
            ulps: 0.0,
            x: F::ZERO,
            got: F::ZERO,
            want: 0.0,
        };
        let mut worst = vec![zero; backends.len()];
        let edges = edge_inputs::<F>();
        let want: Vec<f64> = edges.iter().map(|&x| F::reference(f, x)).collect();
        let mut out = vec![F::ZERO; edges.len().max(1 << 16)];
        measure(f, &edges, &want, &mut out, &mut worst);
        let mut rng = Rng(0x5eed ^ (f as u64) << 8 ^ F::MANTISSA_DIGITS as u64);
        let mut done = 0;
        while done < RANDOM {
            let n = (RANDOM - done).min(1 << 16);
            let xs: Vec<F> = (0..n).map(|i| random_input(f, &mut rng, i)).collect();
            let want: Vec<f64> = xs.iter().map(|&x| F::reference(f, x)).collect();
            measure(f, &xs, &want, &mut out, &mut worst);
            done += n;
        }
        for (b, w) in backends.iter().zip(&worst) {
            println!(
                "{f:?} {} {b}: max {:.3} ulp at x = {:e} (got {:e}, want {:e}); {} edge + {RANDOM} random",
                F::NAME,
                w.ulps,
                w.x,
                w.got,
                w.want,
                edges.len()
            );
        }
        for (b, w) in backends.iter().zip(&worst) {
            assert!(
                w.ulps <= f.budget(),
                "{f:?} {} {b}: {} ulp > {} at x = {:e} (got {:e}, want {:e})",
                F::NAME,
                w.ulps,
                f.budget(),
                w.x,
                w.got,
                w.want
            );
        }
    }

    macro_rules! accuracy_tests {
        ($($name:ident: $f:ident, $t:ty;)*) => {$(
            #[test]
            fn $name() {
                accuracy::<$t>(Fun::$f);
            }
        )*};
    }

    accuracy_tests! {
        accuracy_exp_f32: Exp, f32;
        accuracy_exp_f64: Exp, f64;
        accuracy_ln_f32: Ln, f32;
        accuracy_ln_f64: Ln, f64;
        accuracy_log1p_f32: Log1p, f32;
        accuracy_log1p_f64: Log1p, f64;
        accuracy_expm1_f32: Expm1, f32;
        accuracy_expm1_f64: Expm1, f64;
        accuracy_tanh_f32: Tanh, f32;
        accuracy_tanh_f64: Tanh, f64;
        accuracy_expm1mx_f32: Expm1mx, f32;
        accuracy_expm1mx_f64: Expm1mx, f64;
    }

    /// `mul_exp(y, x) = y·e^x` on every backend against an f64 reference, in ulps of the
    /// result: `y` from the edge values (0, subnormals, `MIN_POSITIVE`, 1, `MAX`) and random
    /// bit patterns, `x` from the thresholds of `e^x` alone and of the product, the clamp,
    /// and uniform over the range where the product can be finite and non-zero. The f32
    /// reference is `y·e^x` in f64 (exact but for one rounding of `e^x`); the f64 one is
    /// `(m·e^x)·2^e` with `y = m·2^e`, so `x` stays where `e^x` is normal (`|x| ≤ 700`), and
    /// the measured maximum includes its own error (about 1 ulp).
    fn mul_exp_accuracy<F: Prec>() {
        let f32s = F::MANTISSA_DIGITS == 24;
        let (lim, xmax) = if f32s {
            (200.0, 200.0)
        } else {
            (1500.0, 700.0)
        };
        let reference = |y: F, x: F| -> f64 {
            let (y, x) = (y.to_f64(), x.to_f64());
            if y == 0.0 {
                0.0
            } else if f32s {
                y * libm::exp(x)
            } else {
                let (m, e) = libm::frexp(y);
                libm::ldexp(libm::exp(x) * m, e)
            }
        };
        let c = |v: f64| F::from_f64(v);
        let mut yb = vec![
            F::ZERO,
            F::smallest_subnormal(),
            F::largest_subnormal(),
            F::min_positive(),
            F::ONE,
            c(0.75),
            c(1e-20),
            c(1e20),
            F::max(),
        ];
        let mut xb = vec![0.0, 1.0, -1.0, 50.0, -50.0, 100.0, -100.0, xmax, -xmax];
        for t in F::thresholds().into_iter().take(4) {
            xb.extend([t, -t, 2.0 * t, -2.0 * t]);
        }
        let mut rng = Rng(0x3e11 ^ F::MANTISSA_DIGITS as u64);
        for _ in 0..64 {
            let y = F::random_bits(&mut rng);
            if y.is_finite() && y > F::ZERO {
                yb.push(y);
            }
        }
        let (mut ys, mut xs) = (Vec::new(), Vec::new());
        for &y in &yb {
            for &x in &xb {
                let x = c(x);
                if x.to_f64().abs() <= xmax {
                    ys.push(y);
                    xs.push(x);
                }
            }
        }
        while ys.len() < 1_000_000 {
            let y = F::random_bits(&mut rng);
            if y.is_finite() && y >= F::ZERO {
                ys.push(y);
                xs.push(c(rng.uniform(-xmax, xmax)));
            }
        }
        let want: Vec<f64> = ys.iter().zip(&xs).map(|(&y, &x)| reference(y, x)).collect();
        let mut out = vec![F::ZERO; ys.len()];
        for b in Backend::available() {
            eval(b, Fun::MulExp, &xs, &ys, &mut out);
            let mut worst = (0.0, 0);
            for i in 0..ys.len() {
                let u = F::ulps(out[i], want[i]);
                if u > worst.0 || u.is_nan() {
                    worst = (u, i);
                }
            }
            let i = worst.1;
            println!(
                "MulExp {} {b}: max {:.3} ulp at y = {:e}, x = {:e} (got {:e}, want {:e}); {} inputs",
                F::NAME,
                worst.0,
                ys[i],
                xs[i],
                out[i],
                want[i],
                ys.len()
            );
            let budget = if f32s { 2.0 } else { 3.0 };
            assert!(worst.0 <= budget, "MulExp {} {b}: {} ulp", F::NAME, worst.0);
            // Beyond the clamp: 0 or +inf as the product, never NaN; y = 0 gives 0.
            for (y, x, want) in [
                (F::ZERO, c(lim * 2.0), F::ZERO),
                (F::ZERO, c(-lim * 2.0), F::ZERO),
                (F::ZERO, F::max(), F::ZERO),
                (F::smallest_subnormal(), F::max(), c(f64::INFINITY)),
                (F::max(), -F::max(), F::ZERO),
                (F::ONE, c(f64::INFINITY), c(f64::INFINITY)),
                (F::ONE, c(f64::NEG_INFINITY), F::ZERO),
            ] {
                let mut o = [F::ONE];
                eval(b, Fun::MulExp, &[x], &[y], &mut o);
                assert!(
                    o[0].to_f64() == want.to_f64(),
                    "MulExp {} {b}: {y:e}·e^{x:e} = {:e}, want {want:e}",
                    F::NAME,
                    o[0]
                );
            }
        }
    }

    #[test]
    fn accuracy_mul_exp_f32() {
        mul_exp_accuracy::<f32>();
    }

    #[test]
    fn accuracy_mul_exp_f64() {
        mul_exp_accuracy::<f64>();
    }

    /// `Vector::ldexp` on every backend, bitwise against `y·2^n` rounded once (f32: the
    /// exact f64 product rounded to f32; f64: `libm::scalbn`, exact but for its one
    /// rounding): every integer `n` with `|n| ≤ 2·emax − 2`, each with 46 values of `y` in
    /// its domain (0, the ends of `[0.5, 4)`, 1, 2 and 40 random ones); and NaN. AVX-512's `vscalef` and the two-step default
    /// must agree here, so that the exp family gives the same bits on every backend.
    fn ldexp_exact<F: Prec>() {
        let f32s = F::MANTISSA_DIGITS == 24;
        let nmax: i32 = if f32s { 252 } else { 2044 };
        let reference = |y: F, n: i32| -> F {
            let y = y.to_f64();
            F::from_f64(if f32s {
                y * libm::exp2(n as f64)
            } else {
                libm::scalbn(y, n)
            })
        };
        let c = |v: f64| F::from_f64(v);
        let mut yb = vec![
            F::ZERO,
            c(0.5),
            c(1.0),
            c(2.0),
            c(4.0).next_down(),
            c(0.5).next_up(),
        ];
        let mut rng = Rng(0x1d3e ^ F::MANTISSA_DIGITS as u64);
        for _ in 0..40 {
            yb.push(c(rng.uniform(0.5, 4.0)));
        }
        let (mut ys, mut ns) = (Vec::new(), Vec::new());
        for &y in &yb {
            for n in -nmax..=nmax {
                ys.push(y);
                ns.push(n);
            }
        }
        let xs: Vec<F> = ns.iter().map(|&n| c(n as f64)).collect();
        let mut out = vec![F::ZERO; ys.len()];
        for b in Backend::available() {
            eval(b, Fun::Ldexp, &xs, &ys, &mut out);
            for i in 0..ys.len() {
                let want = reference(ys[i], ns[i]);
                assert!(
                    out[i].to_f64().to_bits() == want.to_f64().to_bits(),
                    "ldexp {} {b}: {:e}·2^{} = {:e}, want {want:e}",
                    F::NAME,
                    ys[i],
                    ns[i],
                    out[i]
                );
            }
            let mut o = [F::ZERO];
            eval(b, Fun::Ldexp, &[c(3.0)], &[c(f64::NAN)], &mut o);
            assert!(o[0].is_nan(), "ldexp {} {b}: NaN·2^3 = {:e}", F::NAME, o[0]);
        }
    }

    #[test]
    fn ldexp_exact_f32() {
        ldexp_exact::<f32>();
    }

    #[test]
    fn ldexp_exact_f64() {
        ldexp_exact::<f64>();
    }

    /// Exact special values (bitwise, so the sign of zero counts) on every backend.
    fn specials<F: Prec>() {
        let c = |x: f64| F::from_f64(x);
        let (inf, nan, max) = (c(f64::INFINITY), c(f64::NAN), F::max());
        let s = F::smallest_subnormal();
        let (zero, one) = (F::ZERO, F::ONE);
        let cases: Vec<(Fun, F, F)> = vec![
            (Fun::Exp, -inf, zero),
            (Fun::Exp, inf, inf),
            (Fun::Exp, nan, nan),
            (Fun::Exp, zero, one),
            (Fun::Exp, -zero, one),
            (Fun::Exp, max, inf),
            (Fun::Exp, -max, zero),
            (Fun::Ln, zero, -inf),
            (Fun::Ln, -zero, -inf),
            (Fun::Ln, -one, nan),
            (Fun::Ln, -s, nan),
            (Fun::Ln, -inf, nan),
            (Fun::Ln, inf, inf),
            (Fun::Ln, one, zero),
            (Fun::Ln, nan, nan),
            (Fun::Log1p, -one, -inf),
            (Fun::Log1p, c(-2.0), nan),
            (Fun::Log1p, (-one).next_down(), nan),
            (Fun::Log1p, -inf, nan),
            (Fun::Log1p, inf, inf),
            (Fun::Log1p, zero, zero),
            (Fun::Log1p, -zero, -zero),
            (Fun::Log1p, s, s),
            (Fun::Log1p, -s, -s),
            (Fun::Log1p, nan, nan),
            (Fun::Expm1, zero, zero),
            (Fun::Expm1, -zero, -zero),
            (Fun::Expm1, -inf, -one),
            (Fun::Expm1, -max, -one),
            (Fun::Expm1, inf, inf),
            (Fun::Expm1, max, inf),
            (Fun::Expm1, s, s),
            (Fun::Expm1, -s, -s),
            (Fun::Expm1, nan, nan),
            (Fun::Tanh, zero, zero),
            (Fun::Tanh, -zero, -zero),
            (Fun::Tanh, inf, one),
            (Fun::Tanh, -inf, -one),
            (Fun::Tanh, max, one),
            (Fun::Tanh, -max, -one),
            (Fun::Tanh, s, s),
            (Fun::Tanh, -s, -s),
            (Fun::Tanh, nan, nan),
            (Fun::Expm1mx, zero, zero),
            (Fun::Expm1mx, s, zero),
            (Fun::Expm1mx, inf, inf),
            (Fun::Expm1mx, max, inf),
            (Fun::Expm1mx, -inf, inf),
            (Fun::Expm1mx, -max, max),
            (Fun::Expm1mx, nan, nan),
        ];
        let same =
            |a: F, b: F| (a.is_nan() && b.is_nan()) || a.to_f64().to_bits() == b.to_f64().to_bits();
        for b in Backend::available() {
            for &(f, x, want) in &cases {
                // In every lane position, and as a tail.
                for len in [1, 3, 16, 17] {
                    let xs = vec![x; len];
                    let mut out = vec![F::ZERO; len];
                    eval(b, f, &xs, &[], &mut out);
                    for &got in &out {
                        assert!(
                            same(got, want),
                            "{f:?} {} {b}: f({x:?}) = {got:?}, want {want:?}",
                            F::NAME
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn special_values_f32() {
        specials::<f32>();
    }

    #[test]
    fn special_values_f64() {
        specials::<f64>();
    }

    /// All 2^32 f32 inputs of `exp`, `ln` and `log1p` on every available backend (a few
    /// minutes with `--release`).
    #[test]
    #[ignore = "exhaustive: run with `cargo test --release --lib -- --ignored exhaustive`"]
    fn exhaustive_f32() {
        const FUNS: [Fun; 3] = [Fun::Exp, Fun::Ln, Fun::Log1p];
        let backends: Vec<Backend> = Backend::available().collect();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
        let per = (1u64 << 32).div_ceil(threads);
        let zero = Worst {
            ulps: 0.0,
            x: 0.0f32,
            got: 0.0,
            want: 0.0,
        };
        let results: Vec<Vec<Vec<Worst<f32>>>> = std::thread::scope(|sc| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let backends = backends.len();
                    sc.spawn(move || {
                        let mut worst = vec![vec![zero; backends]; FUNS.len()];
                        let (mut xs, mut want, mut out) = (
                            vec![0.0f32; 1 << 14],
                            vec![0.0f64; 1 << 14],
                            vec![0.0f32; 1 << 14],
                        );
                        let end = ((t + 1) * per).min(1 << 32);
                        let mut start = t * per;
                        while start < end {
                            let n = (end - start).min(xs.len() as u64) as usize;
                            for (i, x) in xs[..n].iter_mut().enumerate() {
                                *x = f32::from_bits((start + i as u64) as u32);
                            }
                            for (fi, &f) in FUNS.iter().enumerate() {
                                for i in 0..n {
                                    want[i] = f32::reference(f, xs[i]);
                                }
                                measure(f, &xs[..n], &want[..n], &mut out, &mut worst[fi]);
                            }
                            start += n as u64;
                        }
                        worst
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("worker panicked"))
                .collect()
        });
        let mut failed = false;
        for (fi, f) in FUNS.iter().enumerate() {
            for (bi, b) in backends.iter().enumerate() {
                let w = results.iter().map(|r| r[fi][bi]).fold(zero, |a, w| {
                    if w.ulps > a.ulps || w.ulps.is_nan() {
                        w
                    } else {
                        a
                    }
                });
                println!(
                    "exhaustive {f:?} f32 {b}: max {:.3} ulp at x = {:e} (bits {:#010x}; got {:e}, want {:e})",
                    w.ulps,
                    w.x,
                    w.x.to_bits(),
                    w.got,
                    w.want
                );
                failed |= w.ulps.is_nan() || w.ulps > 2.0;
            }
        }
        assert!(!failed, "an exhaustive maximum exceeds 2 ulp");
    }
}
