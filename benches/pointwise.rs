//! Pointwise regression losses: `value_and_grad` with `Reduction::Mean`, per backend, beside
//! a naive scalar baseline and a streaming floor kernel in the same criterion group.
//!
//! ```text
//! cargo bench --bench pointwise                 # everything (~5–8 minutes)
//! cargo bench --bench pointwise -- mse/f32      # criterion's usual substring filter
//! python3 scripts/bench_table.py                # one markdown table from target/criterion
//! ```
//!
//! Benchmark IDs are `pointwise/<loss>/<f32|f64>/<N>/<impl>`, where `<impl>` is a backend
//! name (`portable`, `avx2`, `avx512`: every backend this CPU can run), `scalar` or `floor`.
//! Every loss of the registry is benched (`for_each_pointwise_loss!`, on the pairs moved onto
//! its input domain by `Domain::place`, with the registry's instance); the ones with a
//! hand-written baseline below ([`CURATED`]) also get `scalar`:
//!
//! * `scalar`: the loop a careful person writes without SIMD: f32 (or f64) data, an f64
//!   accumulator, `libm` functions, branches; built with the same bench profile and the
//!   default target features (no `-C target-cpu`).
//! * `floor`: `g[i] = c·(p[i] − t[i])` plus `Σ (p − t)²` in f64: the least work any fused
//!   loss-and-gradient pass does (read two arrays, write one), written as plain
//!   auto-vectorisable Rust and compiled for the widest instruction set this CPU has. It
//!   stands for the memory bandwidth at that working set.
//!
//! Each iteration uses the next of [`PAIRS`] different input pairs, so the branch predictor
//! cannot learn one pair's residual signs; residuals are normal-ish with scale 2, so they
//! straddle Huber's δ = 1, the quantile kink at 0 and Barron's scale 1. The log-link losses (Tweedie, gamma)
//! get their own pairs: log-normal targets (a third of them 0 for Tweedie, which the gamma
//! pairs replace by 1) and log-predictions `ln(target + 1) + N(0, 0.5²)`-ish. Inputs are
//! generated lazily (only when a benchmark of that precision and size passes the filter) and
//! dropped after their size.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use losskit::prelude::*;
use losskit::registry::Domain;

#[path = "common/floor.rs"]
mod floor;
use floor::{FloorIsa, Kernel};

/// Input pairs rotated through, one per iteration.
const PAIRS: usize = 4;

/// Problem sizes: in L2, in L3, from DRAM.
const SIZES: [usize; 3] = [4096, 262_144, 16_777_216];

// ---------------------------------------------------------------------------------------
// Element type: the scalar `libm` functions the baseline uses.
// ---------------------------------------------------------------------------------------

trait Elem: Float {
    const NAME: &'static str;
    fn abs(self) -> Self;
    fn exp(self) -> Self;
    fn expm1(self) -> Self;
    fn log1p(self) -> Self;
    fn tanh(self) -> Self;
}

impl Elem for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        libm::expf(self)
    }
    #[inline(always)]
    fn expm1(self) -> Self {
        libm::expm1f(self)
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        libm::log1pf(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        libm::tanhf(self)
    }
}

impl Elem for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabs(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        libm::exp(self)
    }
    #[inline(always)]
    fn expm1(self) -> Self {
        libm::expm1(self)
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        libm::log1p(self)
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        libm::tanh(self)
    }
}

// ---------------------------------------------------------------------------------------
// Inputs: a deterministic PRNG, normal-ish residuals.
// ---------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Mean 0, variance 1: the sum of four 32-bit uniforms, centred and scaled (Irwin–Hall).
    fn normalish(&mut self) -> f64 {
        let (a, b) = (self.next(), self.next());
        let u = |x: u64| x as f64 * (1.0 / 4_294_967_296.0);
        let s = u(a >> 32) + u(a & 0xFFFF_FFFF) + u(b >> 32) + u(b & 0xFFFF_FFFF);
        (s - 2.0) * 3f64.sqrt()
    }
}

/// [`PAIRS`] input pairs `(pred, target)` of length `n`, and a gradient buffer.
struct Data<F> {
    pairs: Vec<(Vec<F>, Vec<F>)>,
    grad: Vec<F>,
}

impl<F: Elem> Data<F> {
    fn new(n: usize) -> Self {
        let pairs = (0..PAIRS as u64)
            .map(|k| {
                let mut rng = Rng(0x5EED_0000 + k);
                let mut pred = Vec::with_capacity(n);
                let mut target = Vec::with_capacity(n);
                for _ in 0..n {
                    let t = rng.normalish();
                    let p = t + 2.0 * rng.normalish();
                    pred.push(F::from_f64(p));
                    target.push(F::from_f64(t));
                }
                (pred, target)
            })
            .collect();
        Data {
            pairs,
            grad: vec![F::ZERO; n],
        }
    }

    /// Pairs for the log-link losses: `target = e^(N(0, 1))`, every third 0 when `zeros`
    /// (else 1), and `pred = ln(target + 1) + N(0, 0.5²)`-ish.
    fn log_link(n: usize, zeros: bool) -> Self {
        let pairs = (0..PAIRS as u64)
            .map(|k| {
                let mut rng = Rng(0x1065_0000 + k);
                let mut pred = Vec::with_capacity(n);
                let mut target = Vec::with_capacity(n);
                for i in 0..n {
                    let t = if i % 3 == 0 {
                        if zeros { 0.0 } else { 1.0 }
                    } else {
                        rng.normalish().exp()
                    };
                    pred.push(F::from_f64((t + 1.0).ln() + 0.5 * rng.normalish()));
                    target.push(F::from_f64(t));
                }
                (pred, target)
            })
            .collect();
        Data {
            pairs,
            grad: vec![F::ZERO; n],
        }
    }

    /// [`Data::new`]'s pairs moved onto `domain` (e.g. probabilities, counts, labels ±1).
    fn placed(n: usize, domain: Domain) -> Self {
        let mut data = Data::<F>::new(n);
        for (pred, target) in &mut data.pairs {
            for (p, t) in pred.iter_mut().zip(target.iter_mut()) {
                let (a, b) = domain.place(p.to_f64(), t.to_f64());
                (*p, *t) = (F::from_f64(a), F::from_f64(b));
            }
        }
        data
    }
}

// ---------------------------------------------------------------------------------------
// The naive scalar baselines: one plain loop each, f64 accumulator, branches, libm.
// ---------------------------------------------------------------------------------------

#[inline(never)]
fn scalar_mse<F: Elem>(p: &[F], t: &[F], g: &mut [F]) -> f64 {
    let n = p.len();
    let c = F::from_f64(2.0 / n as f64);
    let mut sum = 0.0f64;
    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
        let r = p - t;
        sum += (r * r).to_f64();
        *g = c * r;
    }
    sum / n as f64
}

#[inline(never)]
fn scalar_huber<F: Elem>(p: &[F], t: &[F], g: &mut [F], delta: f64) -> f64 {
    let n = p.len();
    let inv = F::from_f64(1.0 / n as f64);
    let d = F::from_f64(delta);
    let half = F::from_f64(0.5);
    let mut sum = 0.0f64;
    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
        let r = p - t;
        let a = r.abs();
        if a < d {
            sum += (half * r * r).to_f64();
            *g = r * inv;
        } else {
            sum += (d * (a - half * d)).to_f64();
            *g = if r > F::ZERO { d * inv } else { -(d * inv) };
        }
    }
    sum / n as f64
}

#[inline(never)]
fn scalar_log_cosh<F: Elem>(p: &[F], t: &[F], g: &mut [F]) -> f64 {
    let n = p.len();
    let inv = F::from_f64(1.0 / n as f64);
    let ln2 = F::from_f64(core::f64::consts::LN_2);
    let m2 = F::from_f64(-2.0);
    let mut sum = 0.0f64;
    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
        let r = p - t;
        let a = r.abs();
        // log cosh r = |r| + log1p(e^(−2|r|)) − ln 2 (no overflow); ∂/∂p = tanh r.
        sum += (a + (m2 * a).exp().log1p() - ln2).to_f64();
        *g = r.tanh() * inv;
    }
    sum / n as f64
}

#[inline(never)]
fn scalar_quantile<F: Elem>(p: &[F], t: &[F], g: &mut [F], tau: f64) -> f64 {
    let n = p.len();
    let tau_f = F::from_f64(tau);
    let tau_m1 = F::from_f64(tau - 1.0);
    let g_under = F::from_f64(-tau / n as f64);
    let g_over = F::from_f64((1.0 - tau) / n as f64);
    let mut sum = 0.0f64;
    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
        let r = t - p;
        if r > F::ZERO {
            sum += (tau_f * r).to_f64();
            *g = g_under;
        } else if r < F::ZERO {
            sum += (tau_m1 * r).to_f64();
            *g = g_over;
        } else {
            *g = F::ZERO;
        }
    }
    sum / n as f64
}

/// XGBoost's Tweedie objective as its loop: `ℓ = y e^((1−ρ)s)/(ρ−1) + e^((2−ρ)s)/(2−ρ)`.
#[inline(never)]
fn scalar_tweedie<F: Elem>(p: &[F], t: &[F], g: &mut [F], rho: f64) -> f64 {
    let n = p.len();
    let inv = F::from_f64(1.0 / n as f64);
    let (a, b) = (F::from_f64(1.0 - rho), F::from_f64(2.0 - rho));
    let (ia, ib) = (
        F::from_f64(1.0 / (rho - 1.0)),
        F::from_f64(1.0 / (2.0 - rho)),
    );
    let mut sum = 0.0f64;
    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
        let ya = t * (a * p).exp();
        let eb = (b * p).exp();
        sum += (ya * ia + eb * ib).to_f64();
        *g = (eb - ya) * inv;
    }
    sum / n as f64
}

/// XGBoost's gamma objective as its loop: `ℓ = y e^(−s) + s`.
#[inline(never)]
fn scalar_gamma<F: Elem>(p: &[F], t: &[F], g: &mut [F]) -> f64 {
    let n = p.len();
    let inv = F::from_f64(1.0 / n as f64);
    let mut sum = 0.0f64;
    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
        let r = t * (-p).exp();
        sum += (r + p).to_f64();
        *g = (F::ONE - r) * inv;
    }
    sum / n as f64
}

/// Barron's loss as its reference code writes it (for `α ∉ {−∞, 0, 2}`):
/// `b/α · expm1(α/2 · log1p(z/b))`, gradient `x/c² · exp((α/2 − 1) · log1p(z/b))`.
#[inline(never)]
fn scalar_barron<F: Elem>(p: &[F], t: &[F], g: &mut [F], alpha: f64, c: f64) -> f64 {
    let n = p.len();
    let b = (alpha - 2.0).abs();
    let inv_c = F::from_f64(1.0 / c);
    let inv_b = F::from_f64(1.0 / b);
    let k = F::from_f64(b / alpha);
    let s = F::from_f64(0.5 * alpha);
    let m = F::from_f64(0.5 * alpha - 1.0);
    let gs = F::from_f64(1.0 / (c * n as f64));
    let mut sum = 0.0f64;
    for ((&p, &t), g) in p.iter().zip(t).zip(g.iter_mut()) {
        let x = (p - t) * inv_c;
        let l = (x * x * inv_b).log1p();
        sum += (k * (s * l).expm1()).to_f64();
        *g = x * (m * l).exp() * gs;
    }
    sum / n as f64
}

// ---------------------------------------------------------------------------------------
// The streaming floor: read p and t, write g, reduce Σ r² in f64 lanes.
// ---------------------------------------------------------------------------------------

/// Lanes per chunk: enough independent f64 accumulators to hide the add latency.
const W: usize = 16;

#[inline(always)]
fn floor_body<F: Elem>(p: &[F], t: &[F], g: &mut [F], c: F) -> f64 {
    let mut acc = [0.0f64; W];
    let mut pc = p.chunks_exact(W);
    let mut tc = t.chunks_exact(W);
    let mut gc = g.chunks_exact_mut(W);
    for ((p, t), g) in (&mut pc).zip(&mut tc).zip(&mut gc) {
        // A chunk's inputs are copied out before any output is stored: reached through a
        // struct (`MseFloor`), `g` is not known not to alias `p` and `t`, and loads between
        // the stores kept LLVM from vectorising the loop (the floor ran scalar, 2.7x slower
        // than the loss it stands under).
        let p: [F; W] = *<&[F; W]>::try_from(p).unwrap();
        let t: [F; W] = *<&[F; W]>::try_from(t).unwrap();
        let g: &mut [F; W] = g.try_into().unwrap();
        for (((&p, &t), g), acc) in p.iter().zip(&t).zip(g.iter_mut()).zip(acc.iter_mut()) {
            let r = p - t;
            *g = c * r;
            *acc += (r * r).to_f64();
        }
    }
    let mut tail = 0.0f64;
    let (pr, tr) = (pc.remainder(), tc.remainder());
    for ((&p, &t), g) in pr.iter().zip(tr).zip(gc.into_remainder()) {
        let r = p - t;
        *g = c * r;
        tail += (r * r).to_f64();
    }
    acc.iter().sum::<f64>() + tail
}

/// The streaming floor as a [`Kernel`], compiled per instruction set by [`FloorIsa::run`].
struct MseFloor<'a, F> {
    p: &'a [F],
    t: &'a [F],
    g: &'a mut [F],
}

impl<F: Elem> Kernel for MseFloor<'_, F> {
    type Out = f64;
    /// `g = (2/n)·(p − t)`, returns `Σ (p − t)² / n` (no multiply-add to fuse).
    #[inline(always)]
    fn body<const FMA: bool>(self) -> f64 {
        let n = self.p.len();
        let c = F::from_f64(2.0 / n as f64);
        floor_body(self.p, self.t, self.g, c) / n as f64
    }
}

// ---------------------------------------------------------------------------------------
// The losses under test and their baselines.
// ---------------------------------------------------------------------------------------

trait Case: PointwiseLoss {
    const NAME: &'static str;
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64;
}

/// The losses with a hand-written scalar baseline: here (in `bench_precision`, with their own
/// inputs), and the two in the `classification` bench. Every other registered loss is benched
/// without one.
const CURATED: [&str; 9] = [
    "mse",
    "huber",
    "log_cosh",
    "quantile",
    "barron",
    "tweedie",
    "gamma",
    "bce_with_logits",
    "sigmoid_focal",
];

impl Case for Tweedie {
    const NAME: &'static str = "tweedie";
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64 {
        scalar_tweedie(p, t, g, self.power)
    }
}

impl Case for Gamma {
    const NAME: &'static str = "gamma";
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64 {
        scalar_gamma(p, t, g)
    }
}

impl Case for Mse {
    const NAME: &'static str = "mse";
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64 {
        scalar_mse(p, t, g)
    }
}

impl Case for Huber {
    const NAME: &'static str = "huber";
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64 {
        scalar_huber(p, t, g, self.delta)
    }
}

impl Case for LogCosh {
    const NAME: &'static str = "log_cosh";
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64 {
        scalar_log_cosh(p, t, g)
    }
}

impl Case for Quantile {
    const NAME: &'static str = "quantile";
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64 {
        scalar_quantile(p, t, g, self.tau)
    }
}

impl Case for Barron {
    const NAME: &'static str = "barron";
    fn scalar<F: Elem>(&self, p: &[F], t: &[F], g: &mut [F]) -> f64 {
        scalar_barron(p, t, g, self.alpha, self.scale)
    }
}

/// Relative difference, guarded near zero.
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-30)
}

/// Checks once that the crate and the scalar baseline agree on the first input pair, so a
/// wrong baseline cannot make a fast-looking row.
fn check_agreement<F: Elem, L: Case>(loss: L, data: &mut Data<F>) {
    let (p, t) = &data.pairs[0];
    let mut g_ref = vec![F::ZERO; p.len()];
    let v_ref = Case::scalar(&loss, p, t, &mut g_ref);
    let v = loss
        .value_and_grad(p, t, None, Reduction::Mean, &mut data.grad[..])
        .expect("valid inputs")
        .to_f64();
    let abs_sum = |g: &[F]| g.iter().map(|x| x.to_f64().abs()).sum::<f64>();
    let tol = if F::MANTISSA_DIGITS < 53 { 1e-3 } else { 1e-9 };
    let (dv, dg) = (rel(v, v_ref), rel(abs_sum(&data.grad), abs_sum(&g_ref)));
    assert!(
        dv < tol && dg < tol,
        "{}/{}/{}: crate and scalar baseline disagree (value {v} vs {v_ref}, rel grad-sum diff {dg})",
        L::NAME,
        F::NAME,
        p.len(),
    );
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    group.throughput(Throughput::Elements(n as u64));
    let (samples, warm_up, measure) = if n <= 4096 {
        (20, 300, 1000)
    } else if n <= 262_144 {
        (10, 300, 1200)
    } else {
        (10, 500, 2500)
    };
    group
        .sample_size(samples)
        .warm_up_time(Duration::from_millis(warm_up))
        .measurement_time(Duration::from_millis(measure));
}

/// One group `pointwise/<loss>/<prec>/<n>`: every available backend, `scalar`, `floor`, on
/// inputs from `make` (generated on first use into `data`).
fn bench_case<F: Elem, L: Case>(
    c: &mut Criterion,
    loss: L,
    n: usize,
    data: &mut Option<Data<F>>,
    floor: FloorIsa,
    make: &dyn Fn(usize) -> Data<F>,
) {
    let mut checked = false;
    let scalar = move |data: &mut Data<F>, b: &mut criterion::Bencher<'_>| {
        if !checked {
            check_agreement(loss, data);
            checked = true;
        }
        let Data { pairs, grad } = data;
        let mut k = 0;
        b.iter(|| {
            let (p, t) = &pairs[k % PAIRS];
            k += 1;
            Case::scalar(&loss, black_box(p), black_box(t), grad)
        });
    };
    bench_group(c, L::NAME, loss, n, data, floor, make, Some(scalar));
}

/// The baseline's benchmark body, given the group's inputs.
type Baseline<'a, F> = dyn FnMut(&mut Data<F>, &mut criterion::Bencher<'_>) + 'a;

/// One group: the backends, the baseline (when given) and the floor.
#[allow(clippy::too_many_arguments)]
fn bench_group<F: Elem, L: PointwiseLoss, B: FnMut(&mut Data<F>, &mut criterion::Bencher<'_>)>(
    c: &mut Criterion,
    name: &str,
    loss: L,
    n: usize,
    data: &mut Option<Data<F>>,
    floor: FloorIsa,
    make: &dyn Fn(usize) -> Data<F>,
    mut baseline: Option<B>,
) {
    let mut group = c.benchmark_group(format!("pointwise/{name}/{}/{n}", F::NAME));
    configure(&mut group, n);

    for backend in Backend::available() {
        let pinned = loss.on(backend).expect("available backend");
        group.bench_function(backend.name(), |b| {
            let Data { pairs, grad } = data.get_or_insert_with(|| make(n));
            let mut k = 0;
            b.iter(|| {
                let (p, t) = &pairs[k % PAIRS];
                k += 1;
                pinned
                    .value_and_grad(
                        black_box(p),
                        black_box(t),
                        None,
                        Reduction::Mean,
                        &mut grad[..],
                    )
                    .unwrap()
            });
        });
    }

    if let Some(scalar) = &mut baseline {
        group.bench_function("scalar", |b| scalar(data.get_or_insert_with(|| make(n)), b));
    }

    group.bench_function("floor", |b| {
        let Data { pairs, grad } = data.get_or_insert_with(|| make(n));
        let mut k = 0;
        b.iter(|| {
            let (p, t) = &pairs[k % PAIRS];
            k += 1;
            floor.run(MseFloor {
                p: black_box(p),
                t: black_box(t),
                g: grad,
            })
        });
    });

    group.finish();
}

fn bench_precision<F: Elem>(c: &mut Criterion, floor: FloorIsa) {
    for n in SIZES {
        // Generated on first use by a benchmark that passed the filter, freed after this size.
        let mut data: Option<Data<F>> = None;
        let new = &Data::new;
        bench_case::<F, _>(c, Mse, n, &mut data, floor, new);
        bench_case::<F, _>(c, Huber { delta: 1.0 }, n, &mut data, floor, new);
        bench_case::<F, _>(c, LogCosh, n, &mut data, floor, new);
        bench_case::<F, _>(c, Quantile { tau: 0.9 }, n, &mut data, floor, new);
        let barron = Barron {
            alpha: 0.5,
            scale: 1.0,
        };
        bench_case::<F, _>(c, barron, n, &mut data, floor, new);
        // The log-link losses have inputs of their own (targets ≥ 0, or > 0 for gamma).
        data = None;
        bench_case::<F, _>(c, Tweedie::default(), n, &mut data, floor, &|n| {
            Data::log_link(n, true)
        });
        data = None;
        bench_case::<F, _>(c, Gamma::default(), n, &mut data, floor, &|n| {
            Data::log_link(n, false)
        });
        // Every other registered loss, on its own domain's pairs, without a baseline.
        macro_rules! registered {
            ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr, $from:expr)),* $(,)?) => {$(
                if !CURATED.contains(&stringify!($name)) {
                    let mut data = None;
                    let make = |n| Data::placed(n, $domain);
                    bench_group::<F, _, Box<Baseline<'_, F>>>(
                        c, stringify!($name), $loss, n, &mut data, floor, &make, None,
                    );
                }
            )*};
        }
        losskit::for_each_pointwise_loss!(registered);
    }
}

fn pointwise(c: &mut Criterion) {
    let floor = FloorIsa::detect();
    let backends: Vec<_> = Backend::available().map(Backend::name).collect();
    eprintln!(
        "pointwise: backends {backends:?}; floor kernel compiled for {floor:?}; {PAIRS} input pairs rotated"
    );
    bench_precision::<f32>(c, floor);
    bench_precision::<f64>(c, floor);
}

criterion_group!(benches, pointwise);
criterion_main!(benches);
