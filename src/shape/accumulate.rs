//! The fixed-shape summation tree behind every reduced value.
//!
//! Inputs are cut into blocks of [`BLOCK`] elements. Inside a block the drivers keep two
//! f64 lane accumulators (also for f32 data): the pointwise driver pairs four vectors of
//! terms in the input precision, `((x0 + x1) + (x2 + x3))`, and adds the pair sums to the
//! two accumulators in turn; the row sweep adds them to one accumulator per sum. Blocks
//! are combined by a binary tree whose split point depends only on the number of blocks: a
//! range of `n > 1` blocks splits after the largest power of two below `n`
//! ([`split_point`]). [`TreeSum`] walks that tree serially; a parallel driver (none exists
//! yet: the `rayon` feature adds no code today) must recurse on the same split points, so
//! that a result stays bit-identical for any thread count, for a given backend.
//!
//! Accuracy: every f32 term is exact in f64 and a pair of four f32 terms costs about one
//! f32 rounding; each block sums ≤ 2048 terms over two chains, and the tree adds
//! `log2(N / BLOCK)` levels, so the error of a sum stays about one f32 rounding of the
//! result; a sum that would overflow f32 cannot overflow here.
//!
//! # Compensated f32 sums (targets without f64 arithmetic)
//!
//! Where the FPU has no f64 (Cortex-M4F and other 32-bit ARM, RISC-V without D; or
//! `--cfg losskit_f32_sums` on any host) every f64 operation is a software routine, and
//! the f64 accumulation alone links about 3 KB of them. There the pointwise driver sums f32
//! data in f32 with the rounding errors carried beside the sum ([`Compensated`], `hi + lo`
//! per lane, Knuth's TwoSum: Ogita–Rump–Oishi's Sum2), through the same groups of four
//! terms, blocks and tree, and applies the reduction's scale in f32
//! (`Reduction::scale_in`). The choice is a type, `Sealed::Sum` of `f32` in
//! `simd/mod.rs` (the only cfg); the row drivers keep f64.
//!
//! Error bound, with `u = 2⁻²⁴`, terms `tᵢ` and `S = Σ tᵢ` (f32 terms, whatever the path):
//!
//! * f64 accumulation: `|ŝ − S| ≤ 4u·Σ|tᵢ|` (the groups of four in f32; the f64 additions
//!   add ~`N·2⁻⁵³·Σ|tᵢ|`), then one rounding to f32: `+ u·|S|`.
//! * compensated f32: `|ŝ − S| ≤ u·|S| + 4u·Σ|tᵢ| + (m·u)²·Σ|tᵢ|` (Sum2's bound over the
//!   group sums, where `m ≤ 512 + log2(N/2048)` is the number of additions a group sum
//!   passes through in its block's chain and the tree: the last term is below
//!   `2⁻²⁹·Σ|tᵢ|` for any N). A mean adds one or two roundings (the f32 `1/n` and the
//!   product).
//!
//! So both stay within a few f32 roundings of `Σ|tᵢ|` for any length, where a plain f32
//! sum drifts by `N·u`. Tested on every backend in this module's tests.
//!
//! Overflow (numerics policy 2): an f32 sum can overflow where an f64 one cannot. A
//! compensated sum that is not finite at the end is summed once more with every term
//! multiplied by 2⁻⁶⁴ before any addition (`pointwise::execute`; the same kernel when the
//! gradient is written, it writes the same values again; a value-only pass when it is
//! added), and the result multiplied back by 2⁶⁴: a sum beyond f32's range whose mean is
//! representable gives the mean, an infinite term still gives ±∞ (NaN for infinities of
//! both signs, as before). Terms below 2⁻⁶² lose bits in that second sum, an absolute error
//! below `N·2⁻⁸⁶`, negligible beside a sum that overflowed. The f64 path adds four terms
//! in f32 before widening, so there terms near `f32::MAX` can overflow a group: an f64 sum
//! of f32 data that is not finite is summed once more in chunks too short for a group to
//! form, each term widened on its own (`pointwise::resum_widened`).

use crate::simd::private::Sealed;
use crate::simd::{Float, Vector};

/// Elements per block of the summation tree. A multiple of every backend's lane count × 4,
/// and small enough that a block's inputs and outputs stay in L1.
pub(crate) const BLOCK: usize = 2048;

/// The split point of a range of `len` elements (`len > BLOCK`): the largest power-of-two
/// number of blocks strictly below the block count, in elements.
#[cfg_attr(not(any(test, feature = "rayon")), allow(dead_code))]
#[inline]
pub(crate) fn split_point(len: usize) -> usize {
    let blocks = len.div_ceil(BLOCK);
    debug_assert!(blocks > 1);
    let left = 1usize << (usize::BITS - 1 - (blocks - 1).leading_zeros());
    left * BLOCK
}

/// Partial sums [`TreeSum`] can hold at once: one per set bit of the count of pushed sums
/// (blocks, or rows for the row drivers), which is a `usize`.
const TREE_DEPTH: usize = usize::BITS as usize;

/// Sums block results in the tree's order, streaming: a stack of partial sums, two
/// neighbours of equal level merged as soon as both exist (a binary counter: the stack
/// holds one sum per set bit of the number of blocks pushed, the top one for the lowest
/// bit, so the levels need not be stored). The result equals the recursive definition
/// (split after the largest power of two of blocks, left + right); a test checks it.
pub(crate) struct TreeSum<T = f64> {
    sums: [T; TREE_DEPTH],
    depth: usize,
    blocks: usize,
}

impl<T: Summable> TreeSum<T> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        TreeSum {
            sums: [T::ZERO; TREE_DEPTH],
            depth: 0,
            blocks: 0,
        }
    }

    /// Adds the next block's sum.
    #[inline(always)]
    pub(crate) fn push(&mut self, block_sum: T) {
        let mut sum = block_sum;
        // Each trailing one of the count is a partial sum of the level being formed.
        let mut carry = self.blocks;
        while carry & 1 == 1 && self.depth > 0 {
            self.depth -= 1;
            sum = self.sums[self.depth].plus(sum); // left + right
            carry >>= 1;
        }
        if let Some(s) = self.sums.get_mut(self.depth) {
            *s = sum;
            self.depth += 1;
        }
        self.blocks = self.blocks.wrapping_add(1);
    }

    /// The sum of everything pushed: the remaining partial sums, right to left.
    #[inline(always)]
    pub(crate) fn total(&self) -> T {
        let parts = &self.sums[..self.depth];
        parts
            .iter()
            .rev()
            .copied()
            .reduce(|right, left| left.plus(right))
            .unwrap_or(T::ZERO)
    }
}

/// The terms of the row sweep's single-vector loops on their way into an f64 accumulator
/// (the pointwise driver groups the same way, by index, in `pointwise::block`).
///
/// Wide vectors are widened one by one (the drivers' unrolled loops did the bulk). One-lane
/// vectors ([`Vector::UNROLL`] false: targets without SIMD, where f64 arithmetic is often
/// software) are first added in groups of four in the input precision, as the unrolled
/// loops pair four vectors, and widened once per group: a quarter of the conversions and
/// f64 additions, for the same one extra rounding per four terms.
#[derive(Clone, Copy)]
pub(crate) struct Grouped<V: Vector> {
    sum: V,
    n: u8,
}

impl<V: Vector> Grouped<V> {
    #[inline(always)]
    pub(crate) fn new(v: V) -> Self {
        Grouped {
            sum: v.splat(<V::Elem as Float>::ZERO),
            n: 0,
        }
    }

    /// Adds `x` (towards) `acc`.
    #[inline(always)]
    pub(crate) fn push(&mut self, x: V, acc: V::Acc) -> V::Acc {
        if V::UNROLL {
            return x.acc_add(acc);
        }
        self.sum = self.sum.add(x);
        self.n += 1;
        if self.n < 4 {
            return acc;
        }
        let acc = self.sum.acc_add(acc);
        *self = Grouped::new(x);
        acc
    }

    /// `acc` with the last, incomplete group added.
    #[inline(always)]
    pub(crate) fn finish(self, acc: V::Acc) -> V::Acc {
        if V::UNROLL || self.n == 0 {
            acc
        } else {
            self.sum.acc_add(acc)
        }
    }
}

/// `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly (Knuth's TwoSum: no branch, no
/// assumption on the magnitudes; exact whenever `s` does not overflow).
#[inline(always)]
pub(crate) fn two_sum<F: Float>(a: F, b: F) -> (F, F) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// Lane-wise TwoSum.
#[inline(always)]
fn two_sum_lanes<V: Vector>(a: V, b: V) -> (V, V) {
    let s = a.add(b);
    let bb = s.sub(a);
    (s, a.sub(s.sub(bb)).add(b.sub(bb)))
}

/// A sum carried between the pointwise driver's blocks and through [`TreeSum`]: `f64`, or a
/// [`Compensated`] pair of the data's type where f64 arithmetic is software (see
/// `simd/mod.rs`, `Sealed::Sum`, for the targets). Only the pointwise driver uses the
/// compensated form; the row drivers keep f64.
pub trait BlockSum<F>: Copy + Summable {
    /// Whether this is the compensated form.
    const COMPENSATED: bool;
    /// From an f64 lane total (the f64 accumulation).
    fn from_f64(x: f64) -> Self;
    /// From compensated lane totals `hi + lo`.
    fn from_pair(hi: F, lo: F) -> Self;
    /// `false` when the sum overflowed (or a term is infinite or the terms' infinities have
    /// both signs): the driver re-sums with scaled terms to tell these apart.
    fn is_finite(self) -> bool;
    /// The sum as an f64 (callers that continue in f64).
    fn to_f64(self) -> f64;
    /// `sum · scale` rounded to `F`, for `scale ≤ 1` never overflowing when the result fits.
    fn scaled(self, scale: F) -> F;
}

/// What [`TreeSum`] adds: f64, or a [`Compensated`] pair.
pub trait Summable: Copy {
    /// 0.
    const ZERO: Self;
    /// `self + b` (`self` the left operand of the tree).
    fn plus(self, b: Self) -> Self;
}

impl Summable for f64 {
    const ZERO: Self = 0.0;
    #[inline(always)]
    fn plus(self, b: Self) -> Self {
        self + b
    }
}

impl<F: Float> BlockSum<F> for f64 {
    const COMPENSATED: bool = false;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn from_pair(hi: F, lo: F) -> Self {
        hi.to_f64() + lo.to_f64()
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn scaled(self, scale: F) -> F {
        F::from_f64(self * scale.to_f64())
    }
}

/// `hi + lo`: a sum in the data's precision with its rounding errors carried beside it
/// (Ogita–Rump–Oishi's Sum2, cascaded through the tree). Whenever `hi` is finite, `lo` is
/// the finite sum of the exact TwoSum errors; once `hi` overflowed or met an infinite term it
/// stays non-finite, `lo` is then meaningless (NaN) and ignored.
#[derive(Clone, Copy, Debug)]
// Constructed only where `Sealed::Sum` of f32 is this type (`simd/mod.rs`) and in tests.
#[allow(dead_code)]
pub struct Compensated<F> {
    hi: F,
    lo: F,
}

impl<F: Float> Summable for Compensated<F> {
    const ZERO: Self = Compensated {
        hi: F::ZERO,
        lo: F::ZERO,
    };
    #[inline(always)]
    fn plus(self, b: Self) -> Self {
        let (hi, e) = two_sum(self.hi, b.hi);
        Compensated {
            hi,
            lo: (self.lo + b.lo) + e,
        }
    }
}

impl<F: Float> BlockSum<F> for Compensated<F> {
    const COMPENSATED: bool = true;
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        let hi = F::from_f64(x);
        Compensated {
            hi,
            lo: F::from_f64(x - hi.to_f64()),
        }
    }
    #[inline(always)]
    fn from_pair(hi: F, lo: F) -> Self {
        Compensated { hi, lo }
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        self.hi.is_finite()
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        if self.hi.is_finite() {
            self.hi.to_f64() + self.lo.to_f64()
        } else {
            self.hi.to_f64()
        }
    }
    #[inline(always)]
    fn scaled(self, scale: F) -> F {
        if self.hi.is_finite() {
            self.hi * scale + self.lo * scale
        } else {
            self.hi * scale
        }
    }
}

/// The pointwise driver's lane accumulator inside a block: f64 lanes (`V::Acc`), or
/// lane-wise compensated sums in the data's precision where `F::Sum` is [`Compensated`]
/// (the unused half is optimised away).
#[derive(Clone, Copy)]
pub(crate) struct LaneSum<V: Vector> {
    wide: V::Acc,
    hi: V,
    lo: V,
}

impl<V: Vector> LaneSum<V> {
    const COMPENSATED: bool = <<V::Elem as Sealed>::Sum as BlockSum<V::Elem>>::COMPENSATED;

    #[inline(always)]
    pub(crate) fn new(v: V) -> Self {
        let zero = v.splat(<V::Elem as Float>::ZERO);
        LaneSum {
            wide: v.acc_zero(),
            hi: zero,
            lo: zero,
        }
    }

    /// Adds the lanes of `x`.
    #[inline(always)]
    pub(crate) fn add(&mut self, x: V) {
        if Self::COMPENSATED {
            let (hi, e) = two_sum_lanes(self.hi, x);
            self.hi = hi;
            self.lo = self.lo.add(e);
        } else {
            self.wide = x.acc_add(self.wide);
        }
    }

    /// The sum of both accumulators' lanes, `self` first.
    #[inline(always)]
    pub(crate) fn total(self, b: Self, v: V) -> <V::Elem as Sealed>::Sum {
        if !Self::COMPENSATED {
            return BlockSum::from_f64(v.acc_total(v.acc_merge(self.wide, b.wide)));
        }
        let (hi, e) = two_sum_lanes(self.hi, b.hi);
        let lo = self.lo.add(b.lo).add(e);
        // Lanes in order, each a TwoSum (wide vectors only; one lane is already the sum).
        let zero = <V::Elem as Float>::ZERO;
        let (mut his, mut los) = ([zero; 16], [zero; 16]);
        hi.store(&mut his);
        lo.store(&mut los);
        let (mut s, mut c) = (his[0], los[0]);
        for k in 1..V::LANES.min(16) {
            let (t, e) = two_sum(s, his[k]);
            s = t;
            c = c + (los[k] + e);
        }
        BlockSum::from_pair(s, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recursive definition of the tree over block sums.
    fn recursive(blocks: &[f64]) -> f64 {
        if blocks.len() == 1 {
            return blocks[0];
        }
        let (l, r) = blocks.split_at(split_point(blocks.len() * BLOCK) / BLOCK);
        recursive(l) + recursive(r)
    }

    #[test]
    fn streaming_tree_equals_recursive_tree() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for n in 1..200 {
            let blocks: [f64; 200] = core::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mixed magnitudes, so any change of order changes the rounding.
                (x >> 11) as f64
                    * 2f64.powi((x % 60) as i32 - 30)
                    * if x & 1 == 0 { 1.0 } else { -1.0 }
            });
            let mut t = TreeSum::new();
            for &b in &blocks[..n] {
                t.push(b);
            }
            assert_eq!(
                t.total().to_bits(),
                recursive(&blocks[..n]).to_bits(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(BLOCK + 1), BLOCK);
        assert_eq!(split_point(2 * BLOCK), BLOCK);
        assert_eq!(split_point(3 * BLOCK), 2 * BLOCK);
        assert_eq!(split_point(4 * BLOCK), 2 * BLOCK);
        assert_eq!(split_point(4 * BLOCK + 1), 4 * BLOCK);
        assert_eq!(split_point(7 * BLOCK - 3), 4 * BLOCK);
    }

    /// The compensated pair on its own (whatever the build selects), as the pointwise
    /// driver uses it: a million multiples of 0.1 (inexact in binary) summed in chains of
    /// 512 (a block's groups) combined by the tree stay within one f32 rounding of the
    /// exact sum, where plain f32 addition drifts by ~2e-3 relative. (One chain of a
    /// million would not: the errors' own f32 sum then costs `(n·u)²·Σ|x|`.)
    #[test]
    fn compensated_pair_is_accurate() {
        let (mut tree, mut plain, mut exact) = (TreeSum::new(), 0.0f32, 0.0f64);
        let mut chain = Compensated::<f32>::ZERO;
        for k in 0..1_000_000u32 {
            let x = 0.1f32 * (1 + k % 7) as f32;
            chain = chain.plus(BlockSum::<f32>::from_pair(x, 0.0));
            if k % 512 == 511 {
                tree.push(chain);
                chain = Compensated::ZERO;
            }
            plain += x;
            exact += x as f64;
        }
        tree.push(chain);
        let c = tree.total();
        let got = <Compensated<f32> as BlockSum<f32>>::scaled(c, 1.0) as f64;
        assert!(
            ((got - exact) / exact).abs() <= 2f64.powi(-24),
            "{got} vs {exact}"
        );
        assert!(((plain as f64 - exact) / exact).abs() > 1e-4);
        // Overflow is visible (the driver then sums again with scaled terms) and an
        // infinite sum stays infinite rather than NaN.
        let big = <Compensated<f32> as BlockSum<f32>>::from_pair(f32::MAX, 0.0);
        let inf = big.plus(big);
        assert!(!BlockSum::<f32>::is_finite(inf));
        assert_eq!(BlockSum::<f32>::scaled(inf, 0.5), f32::INFINITY);
    }

    /// The drivers' sums of f32 data, on every backend, in whatever form the build selects
    /// (f64; compensated f32 under `--cfg losskit_f32_sums` and on targets without f64
    /// arithmetic): within `u·|S| + 4u·Σ|tᵢ|` (u = 2⁻²⁴) of the exact sum of the f32 terms
    /// (the f64 path's bound is `4u·Σ|tᵢ|` and the final rounding: the same up to one
    /// rounding), for lengths across several blocks and mixed magnitudes.
    #[test]
    fn f32_sums_within_the_documented_bound() {
        use crate::Reduction;
        use crate::prelude::{Mse, PointwiseLoss};
        use crate::simd::Backend;
        use std::vec::Vec;
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let u = 2f64.powi(-24);
        for n in [1usize, 3, 5, 17, 2047, 2048, 2049, 3 * BLOCK + 5, 50_001] {
            let p: Vec<f32> = (0..n)
                .map(|_| {
                    let r = next();
                    (r >> 40) as f32 * 2f32.powi((r % 24) as i32 - 12) * 1e-6
                })
                .collect();
            let t: Vec<f32> = (0..n).map(|_| (next() >> 41) as f32 * 1e-7).collect();
            // The terms as the kernel computes them (in f32), summed exactly enough in f64.
            let terms: Vec<f64> = p
                .iter()
                .zip(&t)
                .map(|(&a, &b)| ((a - b) * (a - b)) as f64)
                .collect();
            let exact: f64 = terms.iter().sum();
            let abs: f64 = terms.iter().map(|v| v.abs()).sum();
            for backend in Backend::available() {
                let l = Mse.on(backend).unwrap();
                let got = l.value(&p, &t, None, Reduction::Sum).unwrap() as f64;
                let bound = u * exact.abs() + 4.0 * u * abs;
                assert!(
                    (got - exact).abs() <= bound,
                    "n = {n} [{backend}]: {got} vs {exact} (bound {bound})"
                );
                let mut g = std::vec![0.0f32; n];
                let mean = l
                    .value_and_grad(&p, &t, None, Reduction::Mean, &mut g[..])
                    .unwrap() as f64;
                let want = exact / n as f64;
                assert!(
                    (mean - want).abs() <= bound / n as f64 + 3.0 * u * want.abs(),
                    "n = {n} [{backend}] mean: {mean} vs {want}"
                );
            }
        }
    }

    /// Numerics policy 2: a sum beyond f32's range whose mean is representable gives the
    /// mean, in every verb and output mode, weighted or not, on every backend; a term that
    /// is itself infinite makes the value +∞ (not NaN).
    #[test]
    fn overflowing_f32_sum_with_a_representable_mean() {
        use crate::prelude::{Mse, PointwiseLoss};
        use crate::simd::Backend;
        use crate::{Out, Reduction};
        use std::vec::Vec;
        // Terms of 8e37 (four of them still fit in f32) and of 3.2e38 (near f32::MAX: the
        // compensated path's scaled re-summation keeps these, and the f64 path's, whose
        // groups of four terms added in f32 overflow, its re-summation term by term).
        for r in [8.944_272e18f32, 1.788_854_4e19] {
            for n in [7usize, 100, 2 * BLOCK + 3] {
                let p: Vec<f32> = (0..n).map(|i| if i % 2 == 0 { r } else { -r }).collect();
                let t = std::vec![0.0f32; n];
                let w = std::vec![1.0f32; n];
                let term = (r * r) as f64;
                for backend in Backend::available() {
                    let l = Mse.on(backend).unwrap();
                    let close = |v: f32, what: &str| {
                        assert!(
                            ((v as f64 - term) / term).abs() < 1e-6,
                            "r = {r}, n = {n} [{backend}] {what}: {v} vs {term}"
                        );
                    };
                    close(l.value(&p, &t, None, Reduction::Mean).unwrap(), "value");
                    close(
                        l.value(&p, &t, Some(&w), Reduction::Mean).unwrap(),
                        "weighted",
                    );
                    let mut g = std::vec![0.0f32; n];
                    let v = l
                        .value_and_grad(&p, &t, None, Reduction::Mean, &mut g[..])
                        .unwrap();
                    close(v, "value_and_grad");
                    let mut want = std::vec![0.0f32; n];
                    l.grad(&p, &t, None, Reduction::Mean, &mut want[..])
                        .unwrap();
                    assert_eq!(g, want, "the gradient as `grad` writes it");
                    let mut acc = std::vec![1.0f32; n];
                    let v = l
                        .value_and_grad(&p, &t, None, Reduction::Mean, Out::add(&mut acc))
                        .unwrap();
                    close(v, "value_and_grad, added");
                    assert_eq!(acc[0], 1.0 + want[0], "the gradient added once");
                    // The sum itself is +∞ (it is not representable).
                    assert_eq!(
                        l.value(&p, &t, None, Reduction::Sum).unwrap(),
                        f32::INFINITY
                    );
                }
            }
        }
        // An infinite term (r² overflows): +∞, not NaN, also beside finite overflow.
        let p = [1e20f32, 1.7e19, 1.7e19, 1.7e19, 1.7e19, 1.0];
        let t = [0.0f32; 6];
        for backend in Backend::available() {
            let v = Mse
                .on(backend)
                .unwrap()
                .value(&p, &t, None, Reduction::Mean);
            assert_eq!(v.unwrap(), f32::INFINITY, "[{backend}]");
        }
    }
}
