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

/// Sums block results in the tree's order, streaming: a stack of partial sums tagged by
/// level, two neighbours of equal level merged as soon as both exist (a binary counter).
/// The result equals the recursive definition (split after the largest power of two of
/// blocks, left + right); a test checks it.
pub(crate) struct TreeSum {
    sums: [f64; usize::BITS as usize],
    levels: [u32; usize::BITS as usize],
    depth: usize,
}

impl TreeSum {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        TreeSum {
            sums: [0.0; usize::BITS as usize],
            levels: [0; usize::BITS as usize],
            depth: 0,
        }
    }

    /// Adds the next block's sum.
    #[inline(always)]
    pub(crate) fn push(&mut self, block_sum: f64) {
        let (mut sum, mut level) = (block_sum, 0);
        while self.depth > 0 && self.levels[self.depth - 1] == level {
            sum += self.sums[self.depth - 1]; // left + right (IEEE addition commutes)
            self.depth -= 1;
            level += 1;
        }
        // The depth is at most one more than log2 of the block count, far below 64.
        if let (Some(s), Some(l)) = (
            self.sums.get_mut(self.depth),
            self.levels.get_mut(self.depth),
        ) {
            *s = sum;
            *l = level;
            self.depth += 1;
        }
    }

    /// The sum of everything pushed: the remaining partial sums, right to left.
    #[inline(always)]
    pub(crate) fn total(&self) -> f64 {
        let parts = &self.sums[..self.depth];
        parts
            .iter()
            .rev()
            .copied()
            .reduce(|right, left| left + right)
            .unwrap_or(0.0)
    }
}

/// The terms of the drivers' single-vector loops on their way into an f64 accumulator.
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
}
