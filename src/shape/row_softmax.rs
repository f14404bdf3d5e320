//! The row-softmax driver: `rows × classes` logits, one softmax per row.
//!
//! Schedule per row (the row stays in L1/L2 between passes):
//!
//! 1. **max pass**: `m = maxⱼ xⱼ`, and whether every logit is `< +∞` (NaN and `+∞` are
//!    errors; `−∞` is a mask). Nothing is written yet, so an error leaves the outputs
//!    untouched up to this row.
//! 2. **exp pass**: `eⱼ = exp(zⱼ − m)` with `zⱼ = k·xⱼ` (or the soft-capped `c·tanh(k·xⱼ/c)`,
//!    `−∞` where `xⱼ = −∞`: a mask stays a mask), summed into `S` (f64); `eⱼ` is stored into
//!    the gradient buffer (or, soft-capped, `zⱼ`), so the exponential is computed **once per
//!    logit**. The same pass sums the target stream `τⱼ` (class weights, soft targets, label
//!    smoothing) and `Σ τⱼ (zⱼ − m)`, with the xlogy convention (`τⱼ = 0` contributes 0 even
//!    where `zⱼ = −∞`).
//! 3. **gradient pass**: `gⱼ = (a·eⱼ − b·τⱼ)` in place over the stored `eⱼ` (`a` already holds
//!    `1/S`), written or added, and the label's own term `−d` added at one index.
//!
//! Rows of at most 32 classes without a τ stream or capping (plain cross-entropy and focal
//! on few classes) take the *narrow* schedule instead ([`run_narrow`]): the same passes, laid
//! out per block of rows so that the exponentials run over whole vectors of the block, with
//! bit-identical results. One-lane vectors (the portable backend on targets without SIMD)
//! always take the wide schedule: nothing to gain, and no stack buffers to pay for.
//!
//! The per-row scalars `a, b, d` and the row's value come from a [`Rule`] (the loss's
//! formula, in `loss/softmax/`). Value-only verbs skip the stores; accumulate mode and
//! in-place mode validate every row first (a read-only max pass), so an error never leaves a
//! buffer half-added or half-overwritten.

use crate::error::{Error, Result};
use crate::label::Target;
use crate::shape::accumulate::TreeSum;
use crate::shape::row_checks::{check_row_named, check_rows};
use crate::shape::row_sweep::{Pass, emit, first_index_of, load, neg_inf, sweep};
use crate::simd::{Float, Simd, Vector, math};

// ---------------------------------------------------------------------------------------
// Where the logits are read and the buffer written.
// ---------------------------------------------------------------------------------------

/// The logits and the output buffer of a batch, or of one row of it: what the passes read
/// and write. A trait so that the passes need not name the batch's lifetimes; its one
/// implementor is [`Batch`].
pub(crate) trait Io<F: Float> {
    /// The same, restricted to `base..base + len`.
    type Row<'r>: Io<F>
    where
        Self: 'r;
    fn row(&mut self, base: usize, len: usize) -> Self::Row<'_>;
    /// The logits (before any write of this row).
    fn logits(&self) -> &[F];
    /// The logit vector at `i` (pass 2 reads it just before storing over it in place).
    #[inline(always)]
    fn load_logits<V: Vector<Elem = F>, const FULL: bool>(&self, v: V, i: usize) -> V {
        load::<V, FULL>(v, self.logits(), i, neg_inf::<F>())
    }
    /// The output buffer (empty for value-only verbs).
    fn buf(&mut self) -> &mut [F];
}

/// The logits `x` and the output buffer `g` (empty for value verbs: nothing is written); in
/// place, `x` is `None` and `g` holds the logits until the gradient overwrites them.
///
/// One type for both modes, not one per mode: where the logits are read is then a run-time
/// choice (a `match` on `x` in [`Io::logits`]), and every pass is compiled once per backend
/// and precision for in-place and separate-buffer calls alike, not twice.
pub(crate) struct Batch<'a, F> {
    pub x: Option<&'a [F]>,
    pub g: &'a mut [F],
}

impl<F: Float> Io<F> for Batch<'_, F> {
    type Row<'r>
        = Batch<'r, F>
    where
        Self: 'r;
    #[inline(always)]
    fn row(&mut self, base: usize, len: usize) -> Batch<'_, F> {
        Batch {
            x: match self.x {
                Some(x) => Some(&x[base..base + len]),
                None => None,
            },
            g: if self.g.is_empty() {
                &mut []
            } else {
                &mut self.g[base..base + len]
            },
        }
    }
    #[inline(always)]
    fn logits(&self) -> &[F] {
        match self.x {
            Some(x) => x,
            None => self.g,
        }
    }
    #[inline(always)]
    fn buf(&mut self) -> &mut [F] {
        self.g
    }
}

// ---------------------------------------------------------------------------------------
// The per-row formula interface.
// ---------------------------------------------------------------------------------------

/// What the passes measured of one row (in f64).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowStats {
    /// `m = max zⱼ` (after scaling and capping).
    pub max: f64,
    /// `S = Σ exp(zⱼ − m)` (≥ 1).
    pub sum: f64,
    /// `ln S` by the lane `ln` in f64 ([`ln_in_place`]), which the narrow schedule applies to
    /// a block of rows at once and the wide schedule to one row: the same function of the same
    /// `S`, so the schedules stay bit-identical. Rules read it through [`RowStats::ln_sum`].
    pub log_sum: f64,
    /// `Σ τⱼ (zⱼ − m)` (0 when there is no τ stream; `−∞` when τ puts weight on a mask).
    /// In f64 it can overflow where a rule's multiple of it fits (class weights near 1e30
    /// and differences near `f64::MAX`, times a smoothing share `ε/C`): rules take it
    /// through [`RowStats::times_dot`].
    pub dot: f64,
    /// The same sum with every term scaled by 2⁻⁶⁴ (`dot = dot_scaled·2⁶⁴` but for terms
    /// that underflowed here; `dot` is this times 2⁶⁴ where the unscaled sum overflowed).
    pub dot_scaled: f64,
    /// `Σ τⱼ`.
    pub tau: f64,
    /// The number of unmasked classes (counted only for mask-aware smoothing, else `C`).
    pub unmasked: f64,
    /// `z_y − m` for the row's label (0 without one).
    pub zy: f64,
    /// The label's class weight (1 without weights or label).
    pub wy: f64,
    /// `S − 1 = Σ_{j≠k} exp(zⱼ − m)` summed without the 1 of the largest logit `z_k = m`,
    /// for a rule that asks ([`Rule::rest_below`]) on a row whose other classes' share is
    /// small (`S` below the rule's bound) and whose largest logit is its label's (`z_y = m`)
    /// or, with dense targets, on every such row: there `S` rounded the share away (to
    /// nothing once it is below `2⁻⁵³`), and `ln S` or `1 − p_y` from it would be 0.
    /// `None` elsewhere.
    pub rest: Option<f64>,
}

impl RowStats {
    /// `ln S` (`log1p` of [`RowStats::rest`] where the row has it).
    #[inline]
    pub fn ln_sum(&self) -> f64 {
        match self.rest {
            Some(rest) => libm::log1p(rest),
            None => self.log_sum,
        }
    }
    /// `c·Σ τⱼ (zⱼ − m)`, 0 for `c = 0` (xlogy). `c·dot` where the sum fits (bit-identical
    /// to the unscaled product), else `(c·dot_scaled)·2⁶⁴` from the 2⁻⁶⁴-scaled sum, which
    /// is finite whenever each weighted term is (numerics policy 10): the multiple is then
    /// exact to one rounding where it fits, `±∞` only where it does not. (`|dot_scaled| >
    /// 2⁹⁶⁰` there, so `c·dot_scaled` stays normal for every `c ≥ 2⁻¹⁰⁷⁴`.) One test per
    /// row.
    #[inline]
    pub fn times_dot(&self, c: f64) -> f64 {
        if c == 0.0 {
            0.0
        } else if self.dot.is_finite() {
            c * self.dot
        } else {
            c * self.dot_scaled * DOT_UNSCALE
        }
    }
    /// `lse = m + ln S` (a rule that needs `ln S` too adds it to `max` itself: one log).
    #[inline]
    pub fn lse(&self) -> f64 {
        self.max + self.ln_sum()
    }
}

/// A row's value and gradient coefficients: `gⱼ = a·pⱼ − b·τⱼ − d·[j = y]`; the Hessian
/// diagonal (where the rule has one) is `h_pq·pⱼ(1 − pⱼ) + h_pp·pⱼ²`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Coef {
    pub value: f64,
    pub a: f64,
    pub b: f64,
    pub d: f64,
    pub h_pq: f64,
    pub h_pp: f64,
}

/// A loss's per-row formula. Implemented in `loss/softmax/`; called once per row through
/// `&dyn Rule`, so the passes are compiled once per backend and precision, not per loss.
pub(crate) trait Rule {
    /// Value and coefficients of a row with class `label` (None for dense targets), already
    /// multiplied by `scale` (the reduction's factors of the main and auxiliary terms).
    fn row(&self, st: &RowStats, label: Option<usize>, scale: [f64; 2]) -> Coef;
    /// The sum `S` below which the rule needs [`RowStats::rest`] (it uses `1 − p_y` or
    /// `ln S` where that is small); at most [`REST_BELOW`]. 1 (never: `S ≥ 1`) by default.
    fn rest_below(&self) -> f64 {
        1.0
    }
}

/// The largest bound of [`Rule::rest_below`] (`1 − p_y < 1/3`): above it, `S − 1` loses at
/// most about two bits of `S`'s precision. Below it, one term of the row (the largest
/// logit's `exp(0) = 1`) is at least ½ and every other is below ½, which is how
/// [`sum_rest`] tells them apart.
pub(crate) const REST_BELOW: f64 = 1.5;

/// The [`Rule::rest_below`] of the rules that need only `ln S` (cross-entropy): above
/// `1 + 2⁻²⁶`, `ln S` from the rounded `S` (an absolute error of about 2⁻⁵³) is within 2⁻²⁷
/// of itself, better than f32's half-ulp and within f64's budget, which is relative to the
/// row's logits; below it (`1 − p_y < 1.5·10⁻⁸`, rare outside saturated models) the row's
/// exponentials are summed again without the 1, so that a confident row's value is not 0.
pub(crate) const LN_SUM_REST_BELOW: f64 = 1.0 + 1.0 / 67_108_864.0;

/// `ln sᵢ` for each `sᵢ > 0` of `s`, in place, by the lane `ln` of f64 on `simd` (within an
/// ulp of `libm::log`, `simd/math.rs`). A vector of rows at a time: a scalar `libm::log` per
/// row was a sixth of a few-class cross-entropy call (4096×10, f32, AVX-512; `perf`).
/// One-lane vectors (targets without SIMD, which never take the narrow schedule) keep
/// `libm::log`: nothing to batch there, and the lane `ln` in software f64 was 440 more bytes
/// of a Cortex-M4F cross-entropy call.
#[inline(always)]
fn ln_in_place<S: Simd>(simd: S, s: &mut [f64]) {
    if <Lanes<S, f64> as Vector>::LANES == 1 {
        for x in s.iter_mut() {
            *x = libm::log(*x);
        }
        return;
    }
    let v = <f64 as crate::simd::private::Sealed>::lanes(simd);
    let mut i = 0;
    while i < s.len() {
        math::ln(v.load_partial(&s[i..], 1.0)).store(&mut s[i..]);
        i += <Lanes<S, f64> as Vector>::LANES;
    }
}

/// Whether the row gets [`RowStats::rest`]: its rule asks at this `S`, and the largest logit
/// is the label's (a labelled row) or the row has dense targets (`ln S` is all it needs).
#[inline(always)]
fn wants_rest<F: Float>(job: &Job<'_, F>, st: &RowStats, label: Option<usize>) -> bool {
    st.sum < job.rule.rest_below()
        && match label {
            Some(_) => st.zy == 0.0,
            None => job.tau.targets.is_some(),
        }
}

/// `Σ eⱼ` over the terms below ½ in f64, in index order: on a row with `S <` [`REST_BELOW`]
/// every term but the largest logit's 1. (Both schedules sum the same `eⱼ` in the same
/// order, so they stay bit-identical.)
#[inline(always)]
fn sum_rest<F: Float>(e: &[F], acc: &mut f64) {
    for &x in e {
        // `abs`: mask-aware rows hold −0 at masked classes.
        let x = libm::fabs(x.to_f64());
        if x < 0.5 {
            *acc += x;
        }
    }
}

/// [`RowStats::rest`] of a row whose exponentials were not stored: `eⱼ = exp(zⱼ − m)` again,
/// a vector at a time (the same `exp` of the same `zⱼ − m` as pass 2), with `zⱼ` read from
/// `z_src` (the logits, transformed by `cap`; or the stored capped `zⱼ`, `cap` then `None`).
#[inline(always)]
fn rest_recomputed<V: Vector>(v: V, z_src: &[V::Elem], cap: Option<(V, V)>, m: V) -> f64 {
    const MAX_LANES: usize = 16;
    let lanes = V::LANES;
    debug_assert!(lanes <= MAX_LANES);
    let fill = neg_inf::<V::Elem>();
    let mut tmp = [<V::Elem as Float>::ZERO; MAX_LANES];
    let mut acc = 0.0;
    let mut j = 0;
    while j < z_src.len() {
        let n = lanes.min(z_src.len() - j);
        let x = if n == lanes {
            load::<V, true>(v, z_src, j, fill)
        } else {
            load::<V, false>(v, z_src, j, fill)
        };
        math::exp(transform(x, cap).sub(m)).store(&mut tmp[..lanes]);
        sum_rest(&tmp[..n], &mut acc);
        j += lanes;
    }
    acc
}

/// How the τ stream is built: `τⱼ = wⱼ · (ta·tⱼ + tb)`, each factor optional.
#[derive(Clone, Copy)]
pub(crate) struct Tau<'a, F> {
    /// Whether any τ is needed (the sums of τ are skipped otherwise).
    pub on: bool,
    pub weights: Option<&'a [F]>,
    pub targets: Option<&'a [F]>,
    pub ta: F,
    pub tb: F,
    /// Label smoothing over the unmasked classes only: τ is 0 at `−∞` logits.
    pub mask_aware: bool,
    /// Whether τ can round to 0 where it is not 0 (a class weight times a smoothed target
    /// below the precision's range, or `ε/C` below it): the xlogy branch of the exp pass
    /// then tests τ's factors instead of τ, so that a `−∞` logit under a τ that is not 0
    /// still makes the value `+∞` (decided per call in [`Tau::dense`]; a labelled τ is a
    /// class weight times 1, exact).
    pub exact_zero: bool,
    /// With `exact_zero`: whether a target of 0 makes τ exactly 0 (`ε = 0`).
    pub zero_base: bool,
}

impl<'a, F: Float> Tau<'a, F> {
    /// The τ of a labelled loss: `τⱼ = wⱼ` (the class weights, or 1) when `smoothing` (the
    /// rule mixes in the uniform target; over the unmasked classes only with `mask_aware`),
    /// else none.
    pub fn labelled(smoothing: bool, weights: Option<&'a [F]>, mask_aware: bool) -> Self {
        Tau {
            on: smoothing,
            weights,
            targets: None,
            ta: F::ZERO,
            tb: F::ONE,
            mask_aware: mask_aware && smoothing,
            exact_zero: false,
            zero_base: false,
        }
    }

    /// The τ of dense targets smoothed by `eps` over `classes`: `τⱼ = wⱼ · ((1 − ε) tⱼ + ε/C)`.
    ///
    /// Per call (one pass over the class weights), whether τ can round to 0 where it is
    /// not (`exact_zero`): the smoothed target `fma(tⱼ, 1 − ε, ε/C)` is at least `ε/C` (or,
    /// for `ε = 0`, exactly `tⱼ`, at least the smallest subnormal where it is not 0), so
    /// that only `ε/C` rounding to 0, or a class weight whose product with that least
    /// value rounds to 0, can. Ordinary weights and smoothing never do.
    pub fn dense(targets: &'a [F], eps: f64, classes: usize, weights: Option<&'a [F]>) -> Self {
        let tb = F::from_f64(eps / classes.max(1) as f64);
        let least = if eps > 0.0 {
            tb
        } else if F::MANTISSA_DIGITS == 24 {
            F::from_f64(f64::from(f32::from_bits(1)))
        } else {
            F::from_f64(f64::from_bits(1))
        };
        let exact_zero = (eps > 0.0 && tb.to_f64() == 0.0)
            || weights.is_some_and(|w| {
                w.iter()
                    .any(|&w| w.to_f64() > 0.0 && (least * w).to_f64() == 0.0)
            });
        Tau {
            on: true,
            weights,
            targets: Some(targets),
            ta: F::from_f64(1.0 - eps),
            tb,
            mask_aware: false,
            exact_zero,
            zero_base: eps == 0.0,
        }
    }
}

/// What one call computes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Verb {
    Value,
    Elementwise,
    Grad,
    ValueAndGrad,
    Hessian,
    Hvp,
}

impl Verb {
    pub(crate) fn writes_buf(self) -> bool {
        !matches!(self, Verb::Value | Verb::Elementwise)
    }
}

/// One call of the driver.
pub(crate) struct Job<'a, F> {
    pub rule: &'a dyn Rule,
    pub verb: Verb,
    pub rows: usize,
    pub classes: usize,
    /// Per-row label (ignored rows are skipped; dense rows have no label).
    pub target: &'a dyn Fn(usize) -> Option<Target>,
    /// Reduction factors of the value and gradient (`Sum`: 1, `Mean`: 1/total, …): the
    /// loss's main term, and an auxiliary term with its own divisor (the z-loss).
    pub scale: [f64; 2],
    /// Soft-capping constant `c` (`z = c·tanh(k·x/c)`, `−∞` kept: see `transform`).
    pub cap: Option<F>,
    pub tau: Tau<'a, F>,
    /// Accumulate into the buffer instead of writing it.
    pub add: bool,
    /// Per-row outputs (empty when not requested).
    pub per_row: &'a mut [F],
    pub lse: &'a mut [F],
    pub argmax: &'a mut [u32],
    /// The vector of a Hessian–vector product (`rows × classes`).
    pub vec: &'a [F],
}

/// Lane vector type of `F` on `S`.
type Lanes<S, F> = <F as crate::simd::private::Sealed>::Lanes<S>;

/// `z = x`, or soft-capped `c·tanh(x/c)` when `cap` is set, with `z = −∞` where `x = −∞`.
///
/// A mask stays a mask under the cap: `c·tanh(−∞/c) = −c` would give a masked class the
/// probability `e^(−c − m)/S`, and mask-aware smoothing, which knows masks as `z = −∞`, would
/// count it as a class. Every pass that caps a logit goes through here, so that they agree.
/// The uncapped path stays the bare identity: the test costs only capped rows.
#[inline(always)]
fn transform<V: Vector>(x: V, cap: Option<(V, V)>) -> V {
    match cap {
        Some((c, inv_c)) => {
            let ninf = x.splat(neg_inf::<V::Elem>());
            V::select(x.eq(ninf), ninf, c.mul(math::tanh(x.mul(inv_c))))
        }
        None => x,
    }
}

/// Pass 2: `eⱼ = exp(zⱼ − m)` summed, stored when `STORE`, with the τ sums when `TAU`
/// (`K = 5`: `Σe, 2⁻⁶⁴·Σ τ(z − m), Σ τ, unmasked count, Σ τ(z − m)`; otherwise `K = 1`:
/// `Σe`). The common
/// cases are constants so the loop carries no tests: this is the pass of every call, the
/// one that computes the exponentials.
struct ExpPass<'a, 'b, V: Vector, I, const STORE: bool, const TAU: bool> {
    io: &'b mut I,
    m: V,
    cap: Option<(V, V)>,
    tau: Tau<'a, V::Elem>,
    /// This row's slice of the soft targets.
    t_row: &'a [V::Elem],
}

impl<V: Vector, I: Io<V::Elem>, const STORE: bool, const TAU: bool>
    ExpPass<'_, '_, V, I, STORE, TAU>
{
    #[inline(always)]
    fn step<const FULL: bool>(&mut self, v: V, i: usize, n: usize) -> [V; 5] {
        let zero = v.splat(<V::Elem as Float>::ZERO);
        let z = transform(self.io.load_logits::<V, FULL>(v, i), self.cap);
        let s = z.sub(self.m);
        let e = math::exp(s);
        let masked = if TAU {
            mask_of(self.tau.mask_aware, v, z)
        } else {
            None
        };
        if STORE {
            // Soft-capped rows keep z (the gradient needs 1 − (z/c)²; a mask is z = −∞, which
            // tells it from underflow); uncapped mask-aware rows mark masked classes with −0 so
            // the gradient pass can tell them from underflow.
            let y = match (self.cap.is_some(), masked) {
                (true, _) => z,
                (false, Some(mk)) => V::select(mk, zero.neg(), e),
                (false, None) => e,
            };
            emit::<V, FULL>(v, y, self.io.buf(), i, false);
        }
        if !TAU {
            return [e, zero, zero, zero, zero];
        }
        let tau = tau_at::<V, FULL>(v, &self.tau, self.t_row, i, n);
        // Soft targets are probabilities: one outside [0, 1] (or NaN) makes τ NaN, so that the
        // row's Σ τ reports it (a negative target would make the loss unbounded below).
        let tau = if self.tau.targets.is_some() {
            let t = load::<V, FULL>(v, self.t_row, i, <V::Elem as Float>::ZERO);
            let one = v.splat(<V::Elem as Float>::ONE);
            V::select(
                t.max(zero).min(one).eq(t),
                tau,
                v.splat(<V::Elem as Float>::from_f64(f64::NAN)),
            )
        } else {
            tau
        };
        let (tau, count) = match masked {
            Some(mk) => (
                V::select(mk, zero, tau),
                V::select(mk, zero, v.splat(<V::Elem as Float>::ONE)),
            ),
            None => (tau, zero),
        };
        // xlogy: a zero weight contributes 0 also where z − m = −∞. Summed twice, plain and
        // scaled by 2⁻⁶⁴ (`DOT_UNSCALE` undoes it on the f64 sum): `z − m` of finite logits
        // can overflow (−3e38 − 3e38 in f32), and so can `τ·(z − m)` with a class weight
        // above 1, where the row's value fits; `2⁻⁶⁴z − 2⁻⁶⁴m` cannot, and equals
        // `2⁻⁶⁴(z − m)` exactly in the normal range. But the scaled terms below 2⁻⁸⁵ (f32)
        // underflow, which is all of a row whose τ is tiny (τ = 1e-38 on one class: the
        // value 8.8e-36 was 0). Where the plain sum is finite it is the scaled one's bits
        // times 2⁶⁴ but for those underflows, and the row takes it; elsewhere the scaled.
        let k = v.splat(<V::Elem as Float>::from_f64(DOT_SCALE));
        let scaled_s = z.mul(k).sub(self.m.mul(k));
        // A per-call flag (predictable): where τ can round to 0 while its exact value is
        // not, the branch is chosen on the exact τ (numerics policy 10) — 0 only where a
        // factor is — and a `−∞` logit under it gives `−∞` (the value `+∞`, rule 7) where
        // the rounded `0·(−∞)` would be NaN or, selected away, a finite value.
        let (dot_scaled, dot) = if self.tau.exact_zero {
            let none = exact_zero_tau::<V, FULL>(v, &self.tau, self.t_row, i);
            let ninf = v.splat(neg_inf::<V::Elem>());
            // (No closure: it would be compiled without the backend's target features.)
            let scaled = V::select(scaled_s.eq(ninf), ninf, tau.mul(scaled_s));
            let plain = V::select(s.eq(ninf), ninf, tau.mul(s));
            (V::select(none, zero, scaled), V::select(none, zero, plain))
        } else {
            let none = tau.eq(zero);
            (
                V::select(none, zero, tau.mul(scaled_s)),
                V::select(none, zero, tau.mul(s)),
            )
        };
        [e, dot_scaled, tau, count, dot]
    }
}

impl<V: Vector, I: Io<V::Elem>, const STORE: bool> Pass<V, 1>
    for ExpPass<'_, '_, V, I, STORE, false>
{
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, n: usize) -> [V; 1] {
        [self.step::<FULL>(v, i, n)[0]]
    }
}

impl<V: Vector, I: Io<V::Elem>, const STORE: bool> Pass<V, 5>
    for ExpPass<'_, '_, V, I, STORE, true>
{
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, n: usize) -> [V; 5] {
        self.step::<FULL>(v, i, n)
    }
}

/// `τ` at `i` for this row.
#[inline(always)]
fn tau_at<V: Vector, const FULL: bool>(
    v: V,
    tau: &Tau<'_, V::Elem>,
    t_row: &[V::Elem],
    i: usize,
    _n: usize,
) -> V {
    let zero = <V::Elem as Float>::ZERO;
    let base = match tau.targets {
        Some(_) => load::<V, FULL>(v, t_row, i, zero).mul_add(v.splat(tau.ta), v.splat(tau.tb)),
        None => v.splat(tau.tb),
    };
    match tau.weights {
        Some(w) => base.mul(load::<V, FULL>(v, w, i, zero)),
        None => base,
    }
}

/// Where the exact `τ` at `i` is 0 (a class weight of 0, or with `ε = 0` a target of 0),
/// for a [`Tau`] whose `exact_zero` is set (its rounded τ can be 0 elsewhere too).
#[inline(always)]
fn exact_zero_tau<V: Vector, const FULL: bool>(
    v: V,
    tau: &Tau<'_, V::Elem>,
    t_row: &[V::Elem],
    i: usize,
) -> V::Mask {
    let zero = <V::Elem as Float>::ZERO;
    let z = v.splat(zero);
    let one = v.splat(<V::Elem as Float>::ONE);
    let w = match tau.weights {
        Some(w) => load::<V, FULL>(v, w, i, zero),
        None => one,
    };
    let t = match (tau.zero_base, tau.targets) {
        (true, Some(_)) => load::<V, FULL>(v, t_row, i, zero),
        _ => one,
    };
    V::mask_or(w.eq(z), t.eq(z))
}

/// The first soft target of `t` that is not a probability, as the error it gives (its index
/// offset by `base`): NaN or `±∞` is [`Error::NonFinite`], a finite value outside `[0, 1]`
/// [`Error::InvalidInput`].
fn soft_target_error<F: Float>(t: &[F], base: usize) -> Option<Error> {
    let i = t
        .iter()
        .position(|x| !(x.is_finite() && (0.0..=1.0).contains(&x.to_f64())))?;
    let index = base + i;
    Some(if t[i].is_finite() {
        Error::InvalidInput {
            name: "target",
            index,
        }
    } else {
        Error::NonFinite {
            name: "target",
            index,
        }
    })
}

/// The factor of the exp pass's `Σ τ (z − m)` terms (2⁻⁶⁴; see `ExpPass::step`), and its
/// inverse, applied to the f64 sum (also distillation's KL sum, which overflows alike).
pub(crate) const DOT_SCALE: f64 = 1.0 / 18_446_744_073_709_551_616.0;
pub(crate) const DOT_UNSCALE: f64 = 18_446_744_073_709_551_616.0;

/// A row's gradient coefficients `a` (of `eⱼ`) and `b` (of `τⱼ`) in the precision, and the
/// power of two their products are multiplied by at the end (`None`: 1). Where `a` or `b`
/// overflows the precision (a z-loss times `lse`, a weight near the range's end over a small
/// divisor) while the entries `a·eⱼ − b·τⱼ` may still fit, both are carried scaled by 2⁻⁶⁴
/// and the products scaled back: exact where they fit (powers of two), `±∞` where they do
/// not, and `0` for a class of probability 0 instead of `∞·0 = NaN`. A coefficient beyond
/// even that (only f64 coefficients, which can reach `±∞`) is held at the largest finite
/// value: its entries are `±∞` unless `eⱼ < 2⁻⁶⁴`. The Hessian verbs carry their `h_pq`
/// and `h_pp` the same way (`h_pq·p(1 − p)` is `∞·0 = NaN` at a label of probability 1, and
/// `∞ − ∞` beside the `h_pp` part of a Hessian–vector product).
#[inline(always)]
fn grad_coefficients<F: Float>(a: f64, b: f64) -> (F, F, Option<F>) {
    let (fa, fb) = (F::from_f64(a), F::from_f64(b));
    if fa.is_finite() && fb.is_finite() {
        return (fa, fb, None);
    }
    let max = if F::MANTISSA_DIGITS == 24 {
        f64::from(f32::MAX)
    } else {
        f64::MAX
    };
    let scaled = |c: f64| F::from_f64((c * DOT_SCALE).clamp(-max, max));
    (scaled(a), scaled(b), Some(F::from_f64(DOT_UNSCALE)))
}

/// What the buffer holds after pass 2, for the passes that follow.
mod held {
    /// `eⱼ` (mask-aware rows: −0 at masks).
    pub const EXP: u8 = 0;
    /// `zⱼ` (soft-capped rows).
    pub const CAPPED: u8 = 1;
    /// Nothing: read the logits again and recompute (accumulate mode, value verbs).
    pub const LOGITS: u8 = 2;
}

/// Where `z = −∞` (a masked class), when masks are tracked.
#[inline(always)]
fn mask_of<V: Vector>(track: bool, v: V, z: V) -> Option<V::Mask> {
    if track {
        Some(z.eq(v.splat(neg_inf::<V::Elem>())))
    } else {
        None
    }
}

/// Pass 3: the gradient, `(a·eⱼ − b·τⱼ)·f(zⱼ)` written (or, `add`, added), `eⱼ` taken from
/// what pass 2 left (`HELD`), τ only when `TAU`.
struct GradPass<'a, 'b, V: Vector, I, const HELD: u8, const TAU: bool> {
    io: &'b mut I,
    m: V,
    cap: Option<(V, V)>,
    tau: Tau<'a, V::Elem>,
    t_row: &'a [V::Elem],
    a: V,
    b: V,
    /// The power of two the entries are multiplied by (see [`grad_coefficients`]); a
    /// run-time choice, taken only by rows whose coefficients overflow the precision.
    unscale: Option<V>,
    /// Add to the buffer instead of writing it (accumulate mode, where `HELD` is `LOGITS`).
    /// A run-time flag, not a constant: one branch per vector, and six variants of this
    /// pass per backend and precision instead of eight.
    add: bool,
}

impl<V: Vector, I: Io<V::Elem>, const HELD: u8, const TAU: bool> Pass<V, 0>
    for GradPass<'_, '_, V, I, HELD, TAU>
{
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, n: usize) -> [V; 0] {
        let zero = <V::Elem as Float>::ZERO;
        let track = TAU && self.tau.mask_aware;
        let (e, z, masked) = match HELD {
            held::EXP => {
                let e = load::<V, FULL>(v, self.io.buf(), i, zero);
                // −0 marks a masked class (see ExpPass).
                let masked = if track {
                    Some(
                        v.splat(<V::Elem as Float>::ONE)
                            .copysign(e)
                            .lt(v.splat(zero)),
                    )
                } else {
                    None
                };
                (e, v, masked)
            }
            held::CAPPED => {
                let z = load::<V, FULL>(v, self.io.buf(), i, zero);
                (math::exp(z.sub(self.m)), z, mask_of(track, v, z))
            }
            _ => {
                let z = transform(self.io.load_logits::<V, FULL>(v, i), self.cap);
                (math::exp(z.sub(self.m)), z, mask_of(track, v, z))
            }
        };
        let mut g = self.a.mul(e);
        if TAU {
            let tau = tau_at::<V, FULL>(v, &self.tau, self.t_row, i, n);
            let tau = match masked {
                Some(mk) => V::select(mk, v.splat(zero), tau),
                None => tau,
            };
            g = self.b.mul(tau).neg().add(g);
        }
        if let Some((_, inv_c)) = self.cap {
            // dz/dx = 1 − tanh² = 1 − (z/c)²
            let t = z.mul(inv_c);
            g = g.mul(t.mul(t).neg().add(v.splat(<V::Elem as Float>::ONE)));
            // A mask (z = −∞, see `transform`): dz/dx = 1 − tanh² tends to 0 there, so the
            // entry is exactly 0; the formula's 1 − (−∞)² = −∞ would make it NaN or ±∞.
            let ninf = v.splat(neg_inf::<V::Elem>());
            g = V::select(z.eq(ninf), v.splat(zero), g);
        }
        if let Some(k) = self.unscale {
            g = g.mul(k);
        }
        emit::<V, FULL>(v, g, self.io.buf(), i, self.add);
        []
    }
}

/// `pⱼ·S` at `i`: the exponential pass 2 stored (write mode; `abs` drops the −0 mark of a
/// masked class), or, in accumulate mode, where the buffer holds the caller's sums, the same
/// `exp(xⱼ − m)` recomputed from the logits (bit-identical: the same `exp` of the same
/// difference). The Hessian verbs take no soft-capping.
#[inline(always)]
fn stored_or_recomputed<V: Vector, I: Io<V::Elem>, const FULL: bool>(
    io: &mut I,
    v: V,
    i: usize,
    m: V,
    add: bool,
) -> V {
    if add {
        math::exp(io.load_logits::<V, FULL>(v, i).sub(m))
    } else {
        load::<V, FULL>(v, io.buf(), i, <V::Elem as Float>::ZERO).abs()
    }
}

/// Hessian diagonal pass: `h_pq·pⱼ(1 − pⱼ) + h_pp·pⱼ²` over the stored `eⱼ` (`inv_s = 1/S`),
/// written or (`add`) added.
struct HessPass<'b, V: Vector, I> {
    io: &'b mut I,
    m: V,
    inv_s: V,
    h_pq: V,
    h_pp: V,
    /// The power of two the entries are multiplied by, where `h_pq` or `h_pp` overflows the
    /// precision (see [`grad_coefficients`]; a weight near the range's end over a small
    /// divisor, a z-loss times `lse`): one branch per vector, taken only by such rows.
    unscale: Option<V>,
    add: bool,
}

impl<V: Vector, I: Io<V::Elem>> Pass<V, 0> for HessPass<'_, V, I> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 0] {
        let one = v.splat(<V::Elem as Float>::ONE);
        let p = stored_or_recomputed::<V, I, FULL>(self.io, v, i, self.m, self.add).mul(self.inv_s);
        let h = self
            .h_pq
            .mul(p.mul(one.sub(p)))
            .add(self.h_pp.mul(p.mul(p)));
        // A class of probability 0 has curvature 0, also where a coefficient overflowed
        // the precision (∞·0).
        let zero = v.splat(<V::Elem as Float>::ZERO);
        let h = V::select(p.eq(zero), zero, h);
        let h = match self.unscale {
            Some(k) => h.mul(k),
            None => h,
        };
        emit::<V, FULL>(v, h, self.io.buf(), i, self.add);
        []
    }
}

/// Hessian–vector product, first half: `s = Σ pⱼ vⱼ` over the stored `eⱼ`.
struct DotPass<'a, 'b, V: Vector, I> {
    io: &'b mut I,
    vec: &'a [V::Elem],
    m: V,
    inv_s: V,
    add: bool,
}

impl<V: Vector, I: Io<V::Elem>> Pass<V, 1> for DotPass<'_, '_, V, I> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 1] {
        let zero = <V::Elem as Float>::ZERO;
        let p = stored_or_recomputed::<V, I, FULL>(self.io, v, i, self.m, self.add).mul(self.inv_s);
        [p.mul(load::<V, FULL>(v, self.vec, i, zero))]
    }
}

/// Hessian–vector product, second half: `h_pq·(pⱼvⱼ − pⱼ s) + h_pp·pⱼ s`, written or
/// (`add`) added.
struct HvpPass<'a, 'b, V: Vector, I> {
    io: &'b mut I,
    vec: &'a [V::Elem],
    m: V,
    inv_s: V,
    s: V,
    h_pq: V,
    h_pp: V,
    /// As [`HessPass::unscale`].
    unscale: Option<V>,
    add: bool,
}

impl<V: Vector, I: Io<V::Elem>> Pass<V, 0> for HvpPass<'_, '_, V, I> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 0] {
        let zero = <V::Elem as Float>::ZERO;
        let p = stored_or_recomputed::<V, I, FULL>(self.io, v, i, self.m, self.add).mul(self.inv_s);
        let x = load::<V, FULL>(v, self.vec, i, zero);
        let ps = p.mul(self.s);
        let h = self.h_pq.mul(p.mul(x).sub(ps)).add(self.h_pp.mul(ps));
        // Probability 0: 0, also where a coefficient overflowed the precision (∞·0).
        let h = V::select(p.eq(v.splat(zero)), v.splat(zero), h);
        let h = match self.unscale {
            Some(k) => h.mul(k),
            None => h,
        };
        emit::<V, FULL>(v, h, self.io.buf(), i, self.add);
        []
    }
}

/// Runs `job` over every row on backend `simd`. Returns the reduced value (f64).
///
/// Errors (found in pass 1 of a row) stop the run; the caller restores the outputs'
/// contract (see [`crate::loss::softmax`]).
#[inline(always)]
pub(crate) fn run<S: Simd, F: Float, I: Io<F>>(
    simd: S,
    job: &mut Job<'_, F>,
    batch: &mut I,
) -> Result<f64> {
    // One-lane vectors (targets without SIMD) gain nothing from the narrow schedule's
    // whole-vector layout, and would pay its stack buffers: they run the wide one.
    if <Lanes<S, F> as Vector>::UNROLL && is_narrow(job) {
        run_narrow(simd, job, batch)
    } else {
        run_wide(simd, job, batch)
    }
}

/// The wide schedule: row by row, three passes over each row (see the module docs).
#[inline(always)]
fn run_wide<S: Simd, F: Float, I: Io<F>>(
    simd: S,
    job: &mut Job<'_, F>,
    batch: &mut I,
) -> Result<f64> {
    let v = F::lanes(simd);
    let c = job.classes;
    let cap = job
        .cap
        .map(|c| (v.splat(c), v.splat(F::from_f64(1.0 / c.to_f64()))));
    let held = match (job.verb.writes_buf(), job.add, job.cap.is_some()) {
        (false, _, _) | (true, true, _) => held::LOGITS,
        (true, false, true) => held::CAPPED,
        (true, false, false) => held::EXP,
    };
    let tau_on = job.tau.on;
    let mut tree = TreeSum::new();
    for r in 0..job.rows {
        let mut io = batch.row(r * c, c);
        let target = (job.target)(r);
        let m_x = check_row_named::<Lanes<S, F>>(v, io.logits(), r * c, "logits")?;
        if !job.argmax.is_empty() {
            job.argmax[r] = first_index_of::<Lanes<S, F>>(v, io.logits(), m_x) as u32;
        }
        let label = match target {
            Some(Target::Class(y)) => Some(y),
            _ => None,
        };
        // z_y before the exp pass may overwrite the row in place.
        let xy = label.map(|y| io.logits()[y]);
        let mz = transform(v.splat(m_x), cap).reduce_max();
        let t_row = match job.tau.targets {
            Some(t) => &t[r * c..(r + 1) * c],
            None => &[][..],
        };
        let ignored = target == Some(Target::Ignored);
        let store = held != held::LOGITS && !ignored;
        let m = v.splat(mz);
        let tau = job.tau;
        // The four specialisations of pass 2 (store or not, τ sums or not).
        macro_rules! exp_pass {
            ($store:literal, $tau:literal, $k:literal) => {{
                let mut p = ExpPass::<_, _, $store, $tau> {
                    io: &mut io,
                    m,
                    cap,
                    tau,
                    t_row,
                };
                let s = sweep::<_, _, $k>(v, c, &mut p);
                let mut out = [0.0; 5];
                out[..$k].copy_from_slice(&s);
                out
            }};
        }
        let sums = match (store, tau_on) {
            (true, true) => exp_pass!(true, true, 5),
            (true, false) => exp_pass!(true, false, 1),
            (false, true) => exp_pass!(false, true, 5),
            (false, false) => exp_pass!(false, false, 1),
        };
        if job.tau.targets.is_some()
            && !sums[2].is_finite()
            && let Some(e) = soft_target_error(t_row, r * c)
        {
            return Err(e);
        }
        let mut log_sum = [sums[0]];
        ln_in_place(simd, &mut log_sum);
        let st = RowStats {
            max: mz.to_f64(),
            sum: sums[0],
            log_sum: log_sum[0],
            dot: if sums[4].is_finite() {
                sums[4]
            } else {
                sums[1] * DOT_UNSCALE
            },
            dot_scaled: sums[1],
            tau: sums[2],
            unmasked: if job.tau.mask_aware {
                sums[3]
            } else {
                c as f64
            },
            zy: xy.map_or(0.0, |x| {
                transform(v.splat(x), cap).reduce_max().to_f64() - mz.to_f64()
            }),
            wy: label_weight(job, label),
            rest: None,
        };
        let st = if wants_rest(job, &st, label) {
            // What the buffer holds after pass 2 (nothing stored: the logits are intact).
            RowStats {
                rest: Some(match (store, held) {
                    (true, held::EXP) => {
                        let mut acc = 0.0;
                        sum_rest(io.buf(), &mut acc);
                        acc
                    }
                    (true, _) => rest_recomputed(v, io.buf(), None, m),
                    (false, _) => rest_recomputed(v, io.logits(), cap, m),
                }),
                ..st
            }
        } else {
            st
        };
        if skip_ignored(job, r, &st, ignored) {
            if job.verb.writes_buf() && !job.add {
                io.buf().fill(F::ZERO);
            }
            continue;
        }
        let co = settle(job, r, &st, label);
        tree.push(co.value);
        let inv_s = 1.0 / st.sum;
        match job.verb {
            Verb::Value | Verb::Elementwise => {}
            Verb::Grad | Verb::ValueAndGrad => {
                let base = take_label_base(io.buf(), label, &co, job.add);
                let (a, b, unscale) = grad_coefficients::<F>(co.a * inv_s, co.b);
                let (a, b, unscale) = (v.splat(a), v.splat(b), unscale.map(|k| v.splat(k)));
                // The specialisations of pass 3: what the buffer holds, τ or not.
                macro_rules! grad_pass {
                    ($held:expr, $tau:literal) => {{
                        let mut p = GradPass::<_, _, { $held }, $tau> {
                            io: &mut io,
                            m,
                            cap,
                            tau,
                            t_row,
                            a,
                            b,
                            unscale,
                            add: job.add,
                        };
                        sweep::<_, _, 0>(v, c, &mut p);
                    }};
                }
                match (held, tau_on) {
                    (held::EXP, false) => grad_pass!(held::EXP, false),
                    (held::EXP, true) => grad_pass!(held::EXP, true),
                    (held::CAPPED, false) => grad_pass!(held::CAPPED, false),
                    (held::CAPPED, true) => grad_pass!(held::CAPPED, true),
                    (_, false) => grad_pass!(held::LOGITS, false),
                    (_, true) => grad_pass!(held::LOGITS, true),
                }
                // The label's τ: its class weight (1 without), 0 on a mask under
                // mask-aware smoothing.
                let tau_y = match tau_on {
                    true if !(job.tau.mask_aware && st.zy == f64::NEG_INFINITY) => st.wy,
                    _ => 0.0,
                };
                let scaled = unscale.is_some();
                fix_label(v, io.buf(), label, &co, &st, job.cap, base, scaled, tau_y);
            }
            Verb::Hessian => {
                // Scaled by 2⁻⁶⁴ where they overflow the precision, as the gradient's: the
                // entries `h_pq·p(1 − p) + h_pp·p²` may fit (the label's `p(1 − p)` may be 0:
                // `∞·0` would be NaN).
                let (h_pq, h_pp, unscale) = grad_coefficients::<F>(co.h_pq, co.h_pp);
                sweep::<_, _, 0>(
                    v,
                    c,
                    &mut HessPass {
                        io: &mut io,
                        m,
                        inv_s: v.splat(F::from_f64(inv_s)),
                        h_pq: v.splat(h_pq),
                        h_pp: v.splat(h_pp),
                        unscale: unscale.map(|k| v.splat(k)),
                        add: job.add,
                    },
                );
            }
            Verb::Hvp => {
                let vec = &job.vec[r * c..(r + 1) * c];
                let [s] = sweep::<_, _, 1>(
                    v,
                    c,
                    &mut DotPass {
                        io: &mut io,
                        vec,
                        m,
                        inv_s: v.splat(F::from_f64(inv_s)),
                        add: job.add,
                    },
                );
                // As the Hessian's: `h_pq·(pⱼvⱼ − pⱼs)` with `∞·0 = NaN` where the difference
                // is 0 (`∞ − ∞` beside the `h_pp` part) if `h_pq` overflowed.
                let (h_pq, h_pp, unscale) = grad_coefficients::<F>(co.h_pq, co.h_pp);
                sweep::<_, _, 0>(
                    v,
                    c,
                    &mut HvpPass {
                        io: &mut io,
                        vec,
                        m,
                        inv_s: v.splat(F::from_f64(inv_s)),
                        s: v.splat(F::from_f64(s)),
                        h_pq: v.splat(h_pq),
                        h_pp: v.splat(h_pp),
                        unscale: unscale.map(|k| v.splat(k)),
                        add: job.add,
                    },
                );
            }
        }
    }
    Ok(tree.total())
}

/// The class weight of a row's label (1 without weights or label).
#[inline(always)]
fn label_weight<F: Float>(job: &Job<'_, F>, label: Option<usize>) -> f64 {
    match (label, job.tau.weights) {
        (Some(y), Some(w)) => w[y].to_f64(),
        _ => 1.0,
    }
}

/// The per-row outputs of row `r` that do not need its rule: the row's `lse`, and the value
/// 0 of an ignored row. Returns `ignored` (the caller zeroes an ignored row's gradient in
/// write mode and skips it).
#[inline(always)]
fn skip_ignored<F: Float>(job: &mut Job<'_, F>, r: usize, st: &RowStats, ignored: bool) -> bool {
    if !job.lse.is_empty() {
        job.lse[r] = F::from_f64(st.lse());
    }
    if ignored && !job.per_row.is_empty() {
        job.per_row[r] = F::ZERO;
    }
    ignored
}

/// The rule's coefficients of row `r` (not ignored), and its per-row value.
///
/// Returned bare, not in an `Option` beside [`skip_ignored`]'s test: moving the rule's
/// result into an `Option` was a copy by wide loads of what the rule had just stored
/// field by field, which the CPU cannot forward from the stores (a stall per row: 14% of
/// the samples of a 4096×10 f32 cross-entropy call on AVX-512, `perf`).
#[inline(always)]
fn settle<F: Float>(job: &mut Job<'_, F>, r: usize, st: &RowStats, label: Option<usize>) -> Coef {
    let scale = if job.verb == Verb::Elementwise {
        [1.0, 1.0]
    } else {
        job.scale
    };
    let co = job.rule.row(st, label, scale);
    if !job.per_row.is_empty() {
        job.per_row[r] = F::from_f64(co.value);
    }
    co
}

/// In accumulate mode, the caller's value at the row's label, taken out of `g` (left `+0`)
/// before the gradient pass adds to the row, where [`fix_label`] will finish that entry:
/// the pass then leaves the label's own `a·p_y` there alone, and [`fix_label`] adds the
/// finished entry `a·p_y − d` to the caller's value. Adding `a·p_y` to it first and
/// subtracting `d` after would lose a caller's value small beside `a ≈ d` (one class, a
/// tiny divisor: `(5 + 1e30) − 1e30 = 0`). `None` in write mode, and where there is nothing
/// to fix.
#[inline(always)]
fn take_label_base<F: Float>(g: &mut [F], label: Option<usize>, co: &Coef, add: bool) -> Option<F> {
    match label {
        Some(y) if add && co.d != 0.0 => {
            let base = g[y];
            g[y] = F::ZERO;
            Some(base)
        }
        _ => None,
    }
}

/// Subtracts the label's own term `d·dz_y/dx_y` from the row's gradient `g`, and in
/// accumulate mode adds the finished entry to the caller's value `base` (see
/// [`take_label_base`]; `g[y]` then holds the pass's `a·p_y` alone, as in write mode, so that
/// an entry accumulated onto `+0` is the written one).
///
/// Where the rule asked for [`RowStats::rest`] and `a = d` (no capping), the label's entry
/// is `a·p_y − d = −d·(1 − p_y) = −d·rest/S` instead: from `p_y` rounded to 1 it would be 0.
///
/// Where the row's coefficients were carried scaled by 2⁻⁶⁴ (`scaled`, see
/// [`grad_coefficients`]) or `d` overflows the precision, the pass's `a·p_y` and `d` may
/// both be infinite (`∞ − ∞`) or `d` alone (`−∞`), while the entry, about `−d·(1 − p_y)`,
/// may fit: it is then [`wide_label_entry`], in f64 (`tau_y`: the label's τ, 0 without a
/// τ stream), from `e_y = exp(z_y − m)` made by the lane `exp` of pass 2 (`v`'s), the value
/// pass 2 stored: bit for bit the `e_y` of the other entries, and no second `exp` (a scalar
/// f64 one, on a target without f64 hardware, was 1.2 KB of a cross-entropy call's flash).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn fix_label<F: Float, V: Vector<Elem = F>>(
    v: V,
    g: &mut [F],
    label: Option<usize>,
    co: &Coef,
    st: &RowStats,
    cap: Option<F>,
    base: Option<F>,
    scaled: bool,
    tau_y: f64,
) {
    let Some(y) = label else { return };
    if co.d == 0.0 {
        return;
    }
    let dz = match cap {
        // A label on a mask (`z_y = −∞`, kept by `transform`): dz/dx tends to 0, so the
        // entry is 0 (the gradient pass left 0 there) whatever `d`; `1 − t²` would be `−∞`.
        Some(_) if st.zy == f64::NEG_INFINITY => 0.0,
        Some(cc) => {
            let t = (st.zy + st.max) / cc.to_f64();
            1.0 - t * t
        }
        None => 1.0,
    };
    let entry = if let Some(rest) = st.rest
        && cap.is_none()
        && co.a == co.d
    {
        // `0 − …`: +0 where `rest = 0` (a one-class row), as `a·p_y − d` gives.
        F::from_f64(0.0 - co.d * (rest / (1.0 + rest)))
    } else if scaled || !F::from_f64(co.d * dz).is_finite() {
        // dz/dx = 0 (a capped logit at ±c) makes the entry 0, also beside an infinite one.
        F::from_f64(if dz == 0.0 {
            0.0
        } else {
            let e_y = math::exp(v.splat(F::from_f64(st.zy))).reduce_max();
            wide_label_entry(co, st, tau_y, e_y.to_f64()) * dz
        })
    } else {
        // In the buffer's precision, so that p_y·a − d is exactly 0 where the rounded p_y·a
        // equals the rounded d (a one-class row, a certain label).
        F::from_f64(g[y].to_f64() - F::from_f64(co.d * dz).to_f64())
    };
    g[y] = match base {
        Some(b) => b + entry,
        None => entry,
    };
}

/// The label's entry before `dz/dx`, `a·p_y − b·τ_y − d`, in f64 from the row's stats and
/// the label's `e_y = e^(z_y − m)` (`p_y = e_y/S`), for rows whose coefficients overflow the
/// precision (a cold path; see [`fix_label`]). `a·p_y` is formed as `a·(e_y/S)`, each
/// factor bounded; where `a = d` (no smoothing) the entry is `−d·(1 − p_y) − b·τ_y`, without
/// the cancellation of two large terms; where `a` and `d` are both infinite (f64
/// coefficients beyond its range, whose difference is `−d·(1 − p_y)` up to terms that fit)
/// it is that, `−∞`.
#[cold]
fn wide_label_entry(co: &Coef, st: &RowStats, tau_y: f64, e_y: f64) -> f64 {
    let p_y = e_y / st.sum;
    let smooth = if tau_y == 0.0 { 0.0 } else { co.b * tau_y };
    let own = if co.a == co.d || (co.a.is_infinite() && co.d.is_infinite()) {
        // 1 − p_y = 0 (the row's only unmasked class): the entry is 0, also for d = ∞.
        let q = 1.0 - p_y;
        if q == 0.0 { 0.0 } else { -co.d * q }
    } else {
        let a_p = if p_y == 0.0 { 0.0 } else { co.a * p_y };
        a_p - co.d
    };
    own - smooth
}

// ---------------------------------------------------------------------------------------
// The narrow schedule: many short rows per block.
// ---------------------------------------------------------------------------------------

/// The longest row the narrow schedule takes.
const NARROW_MAX: usize = 32;
/// Logits per narrow block: a stack buffer of exponentials (1–2 KB), small enough for a
/// microcontroller's stack.
const NARROW_BLOCK: usize = 256;
/// Rows per narrow block at most (their maxima, labels and `z_y − m` are kept on the stack).
const NARROW_ROWS: usize = 32;
/// Room past a block for one whole vector (16 lanes at most).
const NARROW_SPILL: usize = 16;

/// Whether `job` runs on the narrow schedule: rows of at most [`NARROW_MAX`] classes, no τ
/// stream, no soft-capping, value or gradient verbs.
#[inline(always)]
fn is_narrow<F: Float>(job: &Job<'_, F>) -> bool {
    job.classes <= NARROW_MAX
        && !job.tau.on
        && job.cap.is_none()
        && matches!(
            job.verb,
            Verb::Value | Verb::Elementwise | Verb::Grad | Verb::ValueAndGrad
        )
}

/// `dst.copy_from_slice(src)` for a short row (at most [`NARROW_MAX`] elements), in pieces
/// of 16, 8, 4, 2 and 1 elements: copies of a constant size, which compile to a few moves,
/// where a copy of a run-time length is a call to `memcpy` (a tenth of a 4096×10 f32
/// cross-entropy call on AVX-512; `perf`).
#[inline(always)]
fn copy_short<F: Copy>(dst: &mut [F], src: &[F]) {
    let (n, mut i) = (dst.len(), 0);
    while i + 16 <= n {
        dst[i..i + 16].copy_from_slice(&src[i..i + 16]);
        i += 16;
    }
    for w in [8, 4, 2, 1] {
        if i + w <= n {
            dst[i..i + w].copy_from_slice(&src[i..i + w]);
            i += w;
        }
    }
}

/// Sums `e` (a row of exponentials) exactly as pass 2 of the wide schedule sums them.
struct SumPass<'a, F> {
    e: &'a [F],
}

impl<V: Vector> Pass<V, 1> for SumPass<'_, V::Elem> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 1] {
        [load::<V, FULL>(v, self.e, i, <V::Elem as Float>::ZERO)]
    }
}

/// The narrow schedule. With rows of a few classes, the wide schedule's three passes per
/// row are mostly partial vectors and horizontal sums; here a block of rows is processed
/// pass by pass instead:
///
/// ```text
/// pass 1, per row:   check and max m; scratch[row] = x − m     (whole-vector stores)
/// pass 2, the block: scratch = exp(scratch)                    (full vectors, no tails)
/// pass 3, the block: S = Σ scratch[row] per row; ln S, a vector of rows at a time
/// pass 4, per row:   the rule; g = a·e/S − d·[j = y]
/// ```
///
/// Every quantity is computed as the wide schedule computes it (the same `exp` of the same
/// `x − m`, the same summation order, the same lane `ln` of the same `S`, the same rule and
/// scaling), so results are bit-identical to it; only the work is laid out differently. One
/// exponential per logit in every mode (the wide schedule recomputes them in accumulate
/// mode).
#[inline(always)]
fn run_narrow<S: Simd, F: Float, I: Io<F>>(
    simd: S,
    job: &mut Job<'_, F>,
    batch: &mut I,
) -> Result<f64> {
    let v = F::lanes(simd);
    let lanes = <Lanes<S, F> as Vector>::LANES;
    let c = job.classes;
    let per_block = (NARROW_BLOCK / c).min(NARROW_ROWS);
    let mut scratch = [F::ZERO; NARROW_BLOCK + NARROW_SPILL];
    let mut maxes = [F::ZERO; NARROW_ROWS];
    let mut zys = [0.0f64; NARROW_ROWS];
    let (mut sums, mut logs) = ([0.0f64; NARROW_ROWS], [0.0f64; NARROW_ROWS]);
    let mut targets = [None; NARROW_ROWS];
    let mut row_grad = [F::ZERO; NARROW_MAX + NARROW_SPILL];
    let fill = neg_inf::<F>();
    let mut tree = TreeSum::new();
    let mut r0 = 0;
    while r0 < job.rows {
        let nr = per_block.min(job.rows - r0);
        // Pass 1: check each row; its shifted logits go to the scratch block with whole
        // vectors (a row's spill is overwritten by the next row, or lies past the block).
        for r in 0..nr {
            let row = r0 + r;
            let io = batch.row(row * c, c);
            let x = io.logits();
            let m = check_row_named::<Lanes<S, F>>(v, x, row * c, "logits")?;
            if !job.argmax.is_empty() {
                job.argmax[row] = first_index_of::<Lanes<S, F>>(v, x, m) as u32;
            }
            let target = (job.target)(row);
            targets[r] = target;
            zys[r] = match target {
                Some(Target::Class(y)) => x[y].to_f64() - m.to_f64(),
                _ => 0.0,
            };
            maxes[r] = m;
            let mv = v.splat(m);
            let mut j = 0;
            while j < c {
                let xv = if j + lanes <= c {
                    load::<_, true>(v, x, j, fill)
                } else {
                    load::<_, false>(v, x, j, fill)
                };
                let at = r * c + j;
                xv.sub(mv).store(&mut scratch[at..at + lanes]);
                j += lanes;
            }
        }
        // Pass 2: one exponential per logit, full vectors over the whole block.
        let n = nr * c;
        let mut i = 0;
        while i < n {
            let e = math::exp(v.load(&scratch[i..i + lanes]));
            e.store(&mut scratch[i..i + lanes]);
            i += lanes;
        }
        // Pass 3: the sums of the block's rows, and their logarithms a vector at a time.
        for (r, sum) in sums[..nr].iter_mut().enumerate() {
            let e = &scratch[r * c..(r + 1) * c];
            [*sum] = sweep::<Lanes<S, F>, _, 1>(v, c, &mut SumPass { e });
        }
        logs[..nr].copy_from_slice(&sums[..nr]);
        ln_in_place(simd, &mut logs[..nr]);
        // Pass 4: per row, the rule and the gradient.
        for r in 0..nr {
            let row = r0 + r;
            let e = &scratch[r * c..(r + 1) * c];
            let target = targets[r];
            let label = match target {
                Some(Target::Class(y)) => Some(y),
                _ => None,
            };
            let st = RowStats {
                max: maxes[r].to_f64(),
                sum: sums[r],
                log_sum: logs[r],
                dot: 0.0,
                dot_scaled: 0.0,
                tau: 0.0,
                unmasked: c as f64,
                zy: zys[r],
                wy: label_weight(job, label),
                rest: None,
            };
            let st = if wants_rest(job, &st, label) {
                let mut acc = 0.0;
                sum_rest(e, &mut acc);
                RowStats {
                    rest: Some(acc),
                    ..st
                }
            } else {
                st
            };
            let ignored = target == Some(Target::Ignored);
            let mut io = batch.row(row * c, c);
            if skip_ignored(job, row, &st, ignored) {
                if job.verb.writes_buf() && !job.add {
                    io.buf().fill(F::ZERO);
                }
                continue;
            }
            let co = settle(job, row, &st, label);
            tree.push(co.value);
            if !job.verb.writes_buf() {
                continue;
            }
            // The row's gradient goes through a small buffer with whole-vector stores, then
            // is copied (or added) into place: a masked store of the row's tail costs more
            // than the copy (AVX2's `vmaskmovps`; AVX-512's masked store too, measured on an
            // AMD EPYC with AVX-512: 4096×10 f32 from 208 µs to 295–509 µs).
            let (a, _, unscale) = grad_coefficients::<F>(co.a * (1.0 / st.sum), 0.0);
            let a = v.splat(a);
            let mut j = 0;
            while j < c {
                let p = v.load(&scratch[r * c + j..r * c + j + lanes]);
                let g = a.mul(p);
                let g = match unscale {
                    Some(k) => g.mul(v.splat(k)),
                    None => g,
                };
                g.store(&mut row_grad[j..j + lanes]);
                j += lanes;
            }
            let g = io.buf();
            let base = take_label_base(g, label, &co, job.add);
            if job.add {
                for (g, d) in g.iter_mut().zip(&row_grad[..c]) {
                    *g = *g + *d;
                }
            } else {
                copy_short(g, &row_grad[..c]);
            }
            fix_label(v, g, label, &co, &st, None, base, unscale.is_some(), 0.0);
        }
        r0 += nr;
    }
    Ok(tree.total())
}

// ---------------------------------------------------------------------------------------
// The boundary: validation helpers, dispatch, the error contract.
// ---------------------------------------------------------------------------------------

/// The logits of a call and where its buffer output goes.
pub(crate) enum Logits<'a, F> {
    /// Value verbs: nothing written.
    Read(&'a [F]),
    /// A separate output buffer, written or added (`Out`).
    Split(&'a [F], crate::Out<'a, F>),
    /// The logits are overwritten by the gradient.
    InPlace(&'a mut [F]),
}

struct RunTask<'j, 'a, F, I> {
    job: &'j mut Job<'a, F>,
    io: &'j mut I,
}

impl<F: Float, I: Io<F>> crate::shape::dispatch::Task for RunTask<'_, '_, F, I> {
    type Output = Result<f64>;
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) -> Result<f64> {
        run(simd, self.job, self.io)
    }
}

crate::shape::dispatch::compiled_per_precision! {
/// Runs a validated job. Accumulate and in-place calls check every row first, so an error
/// leaves their buffer untouched; on an error of a write-mode call every output it wrote is
/// reset to zeros.
pub(crate) fn execute<F>(
    backend: crate::Backend,
    job: Job<'_, F>,
    logits: Logits<'_, F>,
) -> Result<f64> {
    use crate::shape::dispatch::task;
    let mut job = job;
    let (rows, classes) = (job.rows, job.classes);
    let untouchable = match &logits {
        Logits::Split(_, out) => out.add,
        Logits::InPlace(_) => true,
        Logits::Read(_) => false,
    };
    if untouchable {
        let x: &[F] = match &logits {
            Logits::Read(x) | Logits::Split(x, _) => x,
            Logits::InPlace(g) => g,
        };
        check_rows(backend, x, rows, classes, "logits")?;
        if let Some(t) = job.tau.targets
            && let Some(e) = soft_target_error(t, 0)
        {
            return Err(e);
        }
    }
    let result = match logits {
        Logits::Read(x) => {
            let mut io = Batch {
                x: Some(x),
                g: &mut [],
            };
            task(
                backend,
                RunTask {
                    job: &mut job,
                    io: &mut io,
                },
            )
        }
        Logits::Split(x, out) => {
            job.add = out.add;
            let mut io = Batch {
                x: Some(x),
                g: out.buf,
            };
            let r = task(
                backend,
                RunTask {
                    job: &mut job,
                    io: &mut io,
                },
            );
            if !matches!(r, Ok(Ok(_))) && !job.add {
                io.g.fill(F::ZERO);
            }
            r
        }
        Logits::InPlace(g) => {
            let mut io = Batch { x: None, g };
            task(
                backend,
                RunTask {
                    job: &mut job,
                    io: &mut io,
                },
            )
        }
    }
    .and_then(|r| r);
    if result.is_err() {
        job.per_row.fill(F::ZERO);
        job.lse.fill(F::ZERO);
        job.argmax.fill(0);
    }
    result
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;
    use crate::shape::dispatch::{Task, task};
    use std::format;
    use std::vec;
    use std::vec::Vec;

    /// Cross-entropy's rule, enough to exercise every coefficient of the narrow schedule.
    struct Ce;
    impl Rule for Ce {
        fn row(&self, st: &RowStats, label: Option<usize>, scale: [f64; 2]) -> Coef {
            let y = label.map_or(0.0, |_| 1.0);
            Coef {
                value: st.wy * (st.ln_sum() - st.zy) * scale[0],
                a: st.wy * scale[0],
                d: st.wy * y * scale[0],
                ..Coef::default()
            }
        }
    }

    struct Outputs<F> {
        total: f64,
        buf: Vec<F>,
        per_row: Vec<F>,
        lse: Vec<F>,
        argmax: Vec<u32>,
    }

    /// One call on both schedules: (narrow, wide).
    struct Both<'a, F> {
        x: &'a [F],
        classes: usize,
        labels: &'a [Option<Target>],
        weights: Option<&'a [F]>,
        verb: Verb,
        add: bool,
        in_place: bool,
    }

    impl<F: Float> Both<'_, F> {
        #[inline(always)]
        fn one<S: Simd>(&self, simd: S, narrow: bool) -> Result<Outputs<F>> {
            let rows = self.labels.len();
            let n = rows * self.classes;
            let mut buf: Vec<F> = if self.in_place {
                self.x.to_vec()
            } else {
                (0..n).map(|i| F::from_f64(0.25 * (i % 7) as f64)).collect()
            };
            let (mut per_row, mut lse, mut argmax) =
                (vec![F::ZERO; rows], vec![F::ZERO; rows], vec![0u32; rows]);
            let target = |r: usize| self.labels[r];
            let mut job = Job {
                rule: &Ce,
                verb: self.verb,
                rows,
                classes: self.classes,
                target: &target,
                scale: [0.125, 1.0],
                cap: None,
                tau: Tau {
                    on: false,
                    weights: self.weights,
                    targets: None,
                    ta: F::ZERO,
                    tb: F::ZERO,
                    mask_aware: false,
                    exact_zero: false,
                    zero_base: false,
                },
                add: self.add,
                per_row: &mut per_row,
                lse: &mut lse,
                argmax: &mut argmax,
                vec: &[],
            };
            let mut io = if self.in_place {
                Batch {
                    x: None,
                    g: &mut buf,
                }
            } else {
                let g: &mut [F] = if self.verb.writes_buf() {
                    &mut buf
                } else {
                    &mut []
                };
                Batch { x: Some(self.x), g }
            };
            let total = if narrow {
                run_narrow(simd, &mut job, &mut io)
            } else {
                run_wide(simd, &mut job, &mut io)
            }?;
            Ok(Outputs {
                total,
                buf,
                per_row,
                lse,
                argmax,
            })
        }
    }

    impl<F: Float> Task for &Both<'_, F> {
        type Output = (Result<Outputs<F>>, Result<Outputs<F>>);
        #[inline(always)]
        fn run<S: Simd>(self, simd: S) -> Self::Output {
            (self.one(simd, true), self.one(simd, false))
        }
    }

    fn bits<F: Float>(x: &[F]) -> Vec<u64> {
        x.iter().map(|e| e.to_f64().to_bits()).collect()
    }

    fn check<F: Float>() {
        for backend in Backend::available() {
            for classes in [1usize, 2, 3, 7, 8, 9, 10, 15, 16, 17, 31, 32] {
                // Enough rows for several narrow blocks and a partial last one.
                let rows = 3 * (NARROW_BLOCK / classes).min(NARROW_ROWS) + 5;
                let x: Vec<F> = (0..rows * classes)
                    .map(|i| {
                        let t = ((i * 7919) % 1009) as f64 / 1009.0;
                        if i % 23 == 5 && classes > 1 {
                            F::from_f64(f64::NEG_INFINITY)
                        } else {
                            F::from_f64(40.0 * t - 20.0)
                        }
                    })
                    .collect();
                let labels: Vec<Option<Target>> = (0..rows)
                    .map(|r| {
                        if r % 11 == 3 {
                            Some(Target::Ignored)
                        } else {
                            // A label on a finite logit (masks are at i % 23 == 5).
                            let y = (0..classes)
                                .map(|j| (r * 5 + j) % classes)
                                .find(|&j| x[r * classes + j].is_finite())
                                .unwrap_or(0);
                            Some(Target::Class(y))
                        }
                    })
                    .collect();
                let w: Vec<F> = (0..classes)
                    .map(|j| F::from_f64(0.5 + j as f64 / 8.0))
                    .collect();
                for (verb, add, in_place) in [
                    (Verb::Value, false, false),
                    (Verb::Elementwise, false, false),
                    (Verb::Grad, false, false),
                    (Verb::ValueAndGrad, false, false),
                    (Verb::ValueAndGrad, true, false),
                    (Verb::ValueAndGrad, false, true),
                ] {
                    for weights in [None, Some(&w[..])] {
                        let both = Both {
                            x: &x,
                            classes,
                            labels: &labels,
                            weights,
                            verb,
                            add,
                            in_place,
                        };
                        let (narrow, wide) = task(backend, &both).unwrap();
                        let (narrow, wide) = (narrow.unwrap(), wide.unwrap());
                        let what = format!(
                            "{backend:?} C={classes} {verb:?} add={add} in_place={in_place}"
                        );
                        assert_eq!(
                            narrow.total.to_bits(),
                            wide.total.to_bits(),
                            "{what}: total"
                        );
                        assert_eq!(bits(&narrow.buf), bits(&wide.buf), "{what}: buffer");
                        assert_eq!(
                            bits(&narrow.per_row),
                            bits(&wide.per_row),
                            "{what}: per row"
                        );
                        assert_eq!(bits(&narrow.lse), bits(&wide.lse), "{what}: lse");
                        assert_eq!(narrow.argmax, wide.argmax, "{what}: argmax");
                        assert!(narrow.total.is_finite(), "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn narrow_schedule_is_bit_identical_to_the_wide_one() {
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn narrow_schedule_reports_the_first_bad_logit() {
        let classes = 5;
        let rows = 70;
        let mut x = vec![0.5f32; rows * classes];
        x[61 * classes + 3] = f32::NAN;
        let labels = vec![Some(Target::Class(1)); rows];
        for backend in Backend::available() {
            let both = Both {
                x: &x,
                classes,
                labels: &labels,
                weights: None,
                verb: Verb::ValueAndGrad,
                add: false,
                in_place: false,
            };
            let (narrow, wide) = task(backend, &both).unwrap();
            let want = Error::NonFinite {
                name: "logits",
                index: 61 * classes + 3,
            };
            assert_eq!(narrow.err(), Some(want));
            assert_eq!(wide.err(), Some(want));
        }
    }
}
