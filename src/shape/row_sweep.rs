//! Row traversal, shared by every row driver and row loss: one [`sweep`] over a row (four
//! vectors at a time, a padded tail masked out of the sums, f64 accumulation), the padded
//! [`load`] and the write-or-add [`emit`], and the row scans built on them ([`row_max`],
//! [`first_index_of`]).

use crate::shape::accumulate::Grouped;
use crate::simd::{Float, Vector};

/// The body of a pass over one row: the work of one vector at element offset `i` with `n`
/// valid lanes (`n == LANES` when `FULL`), returning `K` partial sums. Padded lanes may hold
/// anything finite or NaN: [`sweep`] masks them out of the sums.
pub(crate) trait Pass<V: Vector, const K: usize> {
    fn at<const FULL: bool>(&mut self, v: V, i: usize, n: usize) -> [V; K];
}

/// Runs `pass` over `len` elements, four vectors at a time, and returns its `K` sums:
/// the four vectors' terms are paired in the input precision, then added to an f64
/// accumulator (the pointwise driver's scheme).
#[inline(always)]
pub(crate) fn sweep<V: Vector, P: Pass<V, K>, const K: usize>(
    v: V,
    len: usize,
    pass: &mut P,
) -> [f64; K] {
    let lanes = V::LANES;
    let mut acc = [v.acc_zero(); K];
    let mut i = 0;
    // Four vectors per step where the registers are wide (`Vector::UNROLL`).
    while V::UNROLL && i + 4 * lanes <= len {
        let x0 = pass.at::<true>(v, i, lanes);
        let x1 = pass.at::<true>(v, i + lanes, lanes);
        let x2 = pass.at::<true>(v, i + 2 * lanes, lanes);
        let x3 = pass.at::<true>(v, i + 3 * lanes, lanes);
        for k in 0..K {
            acc[k] = x0[k].add(x1[k]).add(x2[k].add(x3[k])).acc_add(acc[k]);
        }
        i += 4 * lanes;
    }
    // An array expression, not `[(); K].map(..)`: no closure inside the target-feature
    // wrappers (ARCHITECTURE: a closure is compiled without their features).
    let mut grouped = [Grouped::new(v); K];
    while i + lanes <= len {
        let x = pass.at::<true>(v, i, lanes);
        for k in 0..K {
            acc[k] = grouped[k].push(x[k], acc[k]);
        }
        i += lanes;
    }
    for (a, g) in acc.iter_mut().zip(grouped) {
        *a = g.finish(*a);
    }
    if i < len {
        let x = pass.at::<false>(v, i, len - i);
        for k in 0..K {
            acc[k] = x[k].keep_first(len - i).acc_add(acc[k]);
        }
    }
    let mut out = [0.0; K];
    for k in 0..K {
        out[k] = v.acc_total(acc[k]);
    }
    out
}

/// The vector at `s[i..]`: full, or padded with `fill`.
#[inline(always)]
pub(crate) fn load<V: Vector, const FULL: bool>(v: V, s: &[V::Elem], i: usize, fill: V::Elem) -> V {
    if FULL {
        v.load(&s[i..i + V::LANES])
    } else {
        v.load_partial(&s[i..], fill)
    }
}

/// Writes (or adds) `x` at `dst[i..]`; a short tail takes only its valid lanes.
#[inline(always)]
pub(crate) fn emit<V: Vector, const FULL: bool>(
    v: V,
    x: V,
    dst: &mut [V::Elem],
    i: usize,
    add: bool,
) {
    let _ = v;
    let dst = if FULL {
        &mut dst[i..i + V::LANES]
    } else {
        &mut dst[i..]
    };
    let x = if add {
        v.load_partial(dst, <V::Elem as Float>::ZERO).add(x)
    } else {
        x
    };
    x.store(dst);
}

/// `maxⱼ x[j]` (`−∞` for an all-masked row) and whether every element is `< +∞` (false when
/// one is NaN or `+∞`).
#[inline(always)]
pub(crate) fn row_max<V: Vector>(v: V, x: &[V::Elem]) -> (V::Elem, bool) {
    struct Max<'a, V: Vector> {
        x: &'a [V::Elem],
        m: V,
        ok: V::Mask,
        inf: V,
    }
    impl<V: Vector> Pass<V, 0> for Max<'_, V> {
        #[inline(always)]
        fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 0] {
            let x = load::<V, FULL>(v, self.x, i, neg_inf::<V::Elem>());
            self.m = self.m.max(x);
            self.ok = V::mask_and(self.ok, x.lt(self.inf));
            []
        }
    }
    let inf = v.splat(inf::<V::Elem>());
    let mut p = Max {
        x,
        m: v.splat(neg_inf::<V::Elem>()),
        ok: v.lt(inf),
        inf,
    };
    sweep::<V, _, 0>(v, x.len(), &mut p);
    (p.m.reduce_max(), !V::mask_any(V::mask_not(p.ok)))
}

/// The first index of `x` holding exactly `m` (which occurs in `x`).
#[inline(always)]
pub(crate) fn first_index_of<V: Vector>(v: V, x: &[V::Elem], m: V::Elem) -> usize {
    let mv = v.splat(m);
    let mut i = 0;
    while i < x.len() {
        let full = i + V::LANES <= x.len();
        let xv = if full {
            v.load(&x[i..i + V::LANES])
        } else {
            v.load_partial(&x[i..], neg_inf::<V::Elem>())
        };
        if V::mask_any(xv.eq(mv)) {
            break;
        }
        i += V::LANES;
    }
    // The scalar scan inside the one vector that holds `m` (or the end, never reached).
    x[i.min(x.len())..]
        .iter()
        .position(|&e| e.to_f64() == m.to_f64())
        .map_or(x.len().saturating_sub(1), |j| i + j)
}

#[inline(always)]
pub(crate) fn inf<F: Float>() -> F {
    F::from_f64(f64::INFINITY)
}

#[inline(always)]
pub(crate) fn neg_inf<F: Float>() -> F {
    F::from_f64(f64::NEG_INFINITY)
}

/// The index of the first NaN or `+∞` in `x`, if any (the slow path of an error).
#[cold]
pub(crate) fn first_bad<F: Float>(x: &[F]) -> Option<usize> {
    x.iter()
        .position(|e| e.is_nan() || e.to_f64() == f64::INFINITY)
}
