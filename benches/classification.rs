//! Classification losses: `value_and_grad` with `Reduction::Mean`, per backend, beside a
//! naive scalar baseline and (f32) a floor kernel in the same criterion group.
//!
//! ```text
//! cargo bench --bench classification                          # everything (~2 minutes)
//! cargo bench --bench classification -- /f32/                 # criterion's substring filter
//! python3 scripts/bench_table.py --prefix classification/     # one markdown table
//! ```
//!
//! Benchmark IDs are `classification/<loss>/<f32|f64>/<N>/<impl>` (`N` is `<rows>x<classes>`
//! for the row losses, cross-entropy and Poly-1), where `<impl>` is a backend name
//! (`portable`, `avx2`, `avx512`: every backend this CPU can run) or `scalar`:
//! the loop a careful person writes without SIMD: f32 (or f64) data, an f64 accumulator,
//! `libm` functions, branches, one `exp` and one `log1p` per element (the focal loss adds
//! torchvision's `pow(1 − p_t, γ)` and `pow(1 − p_t, γ − 1)` for the gradient); built with
//! the same bench profile and the default target features. Cross-entropy's groups add, per
//! backend, `value_<backend>` (no buffer written), `add_<backend>` (the gradient added
//! into a buffer) and `inplace_<backend>` (the gradient overwriting the logits, after a copy
//! of them).
//!
//! The `floor` of an f32 group (`common/floor.rs`) is the transcendental work alone, at the
//! throughput of a lean vector `exp` and `ln` compiled for the widest instruction set this
//! CPU runs: one `exp` and one `ln` per element for BCE with logits and the sigmoid focal
//! loss (`e = e^−|x|`, `Σ ln(1 + e)`, `g = e/n`), one `exp` per logit for cross-entropy
//! (`g = e^x/n`, `Σ g`). No max pass, no validation, no special cases: a loss's time over
//! its floor is how far it is from what this machine can do for it.
//!
//! Every other row loss of the registry (`for_each_row_loss!`, its default instance) is
//! benched per backend without a baseline, as `classification/<loss>/<prec>/<rows>x<classes>`
//! at [`ROW_SHAPES`]; the two-input ones are in the `pointwise` bench.
//!
//! Each iteration uses the next of [`SETS`] input sets (logits around ±1.5 with scale-2
//! noise, hard 0/1 targets), so the branch predictor cannot learn one set's signs. Inputs
//! are generated lazily (only when a benchmark of that precision and size passes the
//! filter).

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use losskit::prelude::*;

#[path = "common/floor.rs"]
mod floor;
use floor::{FloorIsa, Kernel, lean_exp, lean_ln};

/// Input sets rotated through, one per iteration.
const SETS: usize = 4;

/// Problem sizes: in L1/L2, in L3.
const SIZES: [usize; 2] = [4096, 262_144];

// ---------------------------------------------------------------------------------------
// Element type: the scalar `libm` functions the baseline uses.
// ---------------------------------------------------------------------------------------

trait Elem: Float {
    const NAME: &'static str;
    /// The slices as f32 (the floor kernels are f32 only): `None` for f64.
    fn floor_io<'a>(x: &'a [Self], g: &'a mut [Self]) -> Option<(&'a [f32], &'a mut [f32])>;
    fn abs(self) -> Self;
    fn exp(self) -> Self;
    fn log1p(self) -> Self;
    fn pow(self, e: Self) -> Self;
}

impl Elem for f32 {
    const NAME: &'static str = "f32";
    fn floor_io<'a>(x: &'a [f32], g: &'a mut [f32]) -> Option<(&'a [f32], &'a mut [f32])> {
        Some((x, g))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabsf(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        libm::expf(self)
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        libm::log1pf(self)
    }
    #[inline(always)]
    fn pow(self, e: Self) -> Self {
        libm::powf(self, e)
    }
}

impl Elem for f64 {
    const NAME: &'static str = "f64";
    fn floor_io<'a>(_: &'a [f64], _: &'a mut [f64]) -> Option<(&'a [f32], &'a mut [f32])> {
        None
    }
    #[inline(always)]
    fn abs(self) -> Self {
        libm::fabs(self)
    }
    #[inline(always)]
    fn exp(self) -> Self {
        libm::exp(self)
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        libm::log1p(self)
    }
    #[inline(always)]
    fn pow(self, e: Self) -> Self {
        libm::pow(self, e)
    }
}

// ---------------------------------------------------------------------------------------
// Inputs: a deterministic PRNG; logits on both sides of their labels.
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

/// [`SETS`] input sets `(logits, targets)` of length `n`, and a gradient buffer.
struct Data<F> {
    sets: Vec<(Vec<F>, Vec<F>)>,
    grad: Vec<F>,
}

impl<F: Elem> Data<F> {
    fn new(n: usize) -> Self {
        let sets = (0..SETS as u64)
            .map(|k| {
                let mut rng = Rng(0xC1A5_0000 + k);
                let mut x = Vec::with_capacity(n);
                let mut y = Vec::with_capacity(n);
                for _ in 0..n {
                    let label = (rng.next() >> 63) as f64;
                    x.push(F::from_f64(
                        (2.0 * label - 1.0) * 1.5 + 2.0 * rng.normalish(),
                    ));
                    y.push(F::from_f64(label));
                }
                (x, y)
            })
            .collect();
        Data {
            sets,
            grad: vec![F::ZERO; n],
        }
    }
}

// ---------------------------------------------------------------------------------------
// The naive scalar baselines: one plain loop each, f64 accumulator, branches, libm.
// ---------------------------------------------------------------------------------------

/// `ℓ = (1 − y)·x + max(−x, 0) + log1p(e^−|x|)`, `∂ℓ/∂x = σ(x) − y` (pos_weight 1).
#[inline(never)]
fn scalar_bce_with_logits<F: Elem>(x: &[F], y: &[F], g: &mut [F]) -> f64 {
    let n = x.len();
    let inv = F::from_f64(1.0 / n as f64);
    let one = F::ONE;
    let mut sum = 0.0f64;
    for ((&x, &y), g) in x.iter().zip(y).zip(g.iter_mut()) {
        let e = (-x.abs()).exp();
        let l = e.log1p();
        let (m, sig) = if x < F::ZERO {
            (-x, e / (one + e))
        } else {
            (F::ZERO, one / (one + e))
        };
        sum += ((one - y) * x + m + l).to_f64();
        *g = (sig - y) * inv;
    }
    sum / n as f64
}

/// torchvision: `ce·(1 − p_t)^γ·α_t`, gradient by the chain rule with `pow(1 − p_t, γ − 1)`.
#[inline(never)]
fn scalar_sigmoid_focal<F: Elem>(x: &[F], y: &[F], g: &mut [F], alpha: f64, gamma: f64) -> f64 {
    let n = x.len();
    let inv = F::from_f64(1.0 / n as f64);
    let (a, ga, gm1) = (
        F::from_f64(alpha),
        F::from_f64(gamma),
        F::from_f64(gamma - 1.0),
    );
    let one = F::ONE;
    let two = F::from_f64(2.0);
    let mut sum = 0.0f64;
    for ((&x, &y), g) in x.iter().zip(y).zip(g.iter_mut()) {
        let e = (-x.abs()).exp();
        let l = e.log1p();
        let (m, p) = if x < F::ZERO {
            (-x, e / (one + e))
        } else {
            (F::ZERO, one / (one + e))
        };
        let ce = (one - y) * x + m + l;
        let q = one - (p * y + (one - p) * (one - y));
        let at = a * y + (one - a) * (one - y);
        let mod_ = q.pow(ga);
        sum += (at * ce * mod_).to_f64();
        let dq = (one - two * y) * p * (one - p);
        *g = at * (ga * q.pow(gm1) * dq * ce + mod_ * (p - y)) * inv;
    }
    sum / n as f64
}

// ---------------------------------------------------------------------------------------
// The floor kernels (f32): the transcendental work alone (see the module docs).
// ---------------------------------------------------------------------------------------

/// Independent accumulators: enough to hide the add latency on 16-lane vectors.
const W: usize = 16;

/// `g[i] = f(x[i]).0`, returns `Σ f(x[i]).1`, summed in `W` f32 accumulators (the least a
/// floor can do; the losses sum in f64).
#[inline(always)]
fn stream(x: &[f32], g: &mut [f32], f: impl Fn(f32) -> (f32, f32)) -> f64 {
    let mut acc = [0.0f32; W];
    let mut xc = x.chunks_exact(W);
    let mut gc = g.chunks_exact_mut(W);
    for (x, g) in (&mut xc).zip(&mut gc) {
        for ((&x, g), acc) in x.iter().zip(g.iter_mut()).zip(acc.iter_mut()) {
            let (out, term) = f(x);
            *g = out;
            *acc += term;
        }
    }
    let mut tail = 0.0f32;
    for (&x, g) in xc.remainder().iter().zip(gc.into_remainder()) {
        let (out, term) = f(x);
        *g = out;
        tail += term;
    }
    acc.iter().map(|&a| f64::from(a)).sum::<f64>() + f64::from(tail)
}

/// The floor of a transcendental loss. With `LN`, one `exp` and one `ln` per element (BCE
/// with logits, the sigmoid focal loss): `e = e^−|x|`, `g = e/n`, returns `Σ ln(1 + e)`.
/// Without, one `exp` per logit (cross-entropy): `g = e^x/n`, returns `Σ g`.
struct ExpFloor<'a, const LN: bool> {
    x: &'a [f32],
    g: &'a mut [f32],
}

impl<const LN: bool> Kernel for ExpFloor<'_, LN> {
    type Out = f64;
    #[inline(always)]
    fn body<const FMA: bool>(self) -> f64 {
        let c = 1.0 / self.x.len() as f32;
        stream(self.x, self.g, |x| {
            if LN {
                let e = lean_exp::<FMA>(-x.abs());
                (c * e, lean_ln::<FMA>(1.0 + e))
            } else {
                let e = c * lean_exp::<FMA>(x);
                (e, e)
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// The losses under test and their baselines.
// ---------------------------------------------------------------------------------------

trait Case: PointwiseLoss {
    const NAME: &'static str;
    fn scalar<F: Elem>(&self, x: &[F], y: &[F], g: &mut [F]) -> f64;
}

impl Case for BceWithLogits {
    const NAME: &'static str = "bce_with_logits";
    fn scalar<F: Elem>(&self, x: &[F], y: &[F], g: &mut [F]) -> f64 {
        assert_eq!(self.pos_weight, 1.0, "the baseline has no pos_weight");
        scalar_bce_with_logits(x, y, g)
    }
}

impl Case for SigmoidFocal {
    const NAME: &'static str = "sigmoid_focal";
    fn scalar<F: Elem>(&self, x: &[F], y: &[F], g: &mut [F]) -> f64 {
        scalar_sigmoid_focal(x, y, g, self.alpha, self.gamma)
    }
}

/// Relative difference, guarded near zero.
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-30)
}

/// Checks once that the crate and the scalar baseline agree on the first input set, so a
/// wrong baseline cannot make a fast-looking row.
fn check_agreement<F: Elem, L: Case>(loss: L, data: &mut Data<F>) {
    let (x, y) = &data.sets[0];
    let mut g_ref = vec![F::ZERO; x.len()];
    let v_ref = loss.scalar(x, y, &mut g_ref);
    let v = loss
        .value_and_grad(x, y, None, Reduction::Mean, &mut data.grad[..])
        .expect("valid inputs")
        .to_f64();
    let abs_sum = |g: &[F]| g.iter().map(|v| v.to_f64().abs()).sum::<f64>();
    let tol = if F::MANTISSA_DIGITS < 53 { 1e-3 } else { 1e-9 };
    let (dv, dg) = (rel(v, v_ref), rel(abs_sum(&data.grad), abs_sum(&g_ref)));
    assert!(
        dv < tol && dg < tol,
        "{}/{}/{}: crate and scalar baseline disagree (value {v} vs {v_ref}, rel grad-sum diff {dg})",
        L::NAME,
        F::NAME,
        x.len(),
    );
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    group.throughput(Throughput::Elements(n as u64));
    let (samples, warm_up, measure) = if n <= 4096 {
        (20, 300, 1000)
    } else {
        (10, 300, 1500)
    };
    group
        .sample_size(samples)
        .warm_up_time(Duration::from_millis(warm_up))
        .measurement_time(Duration::from_millis(measure));
}

/// One group `classification/<loss>/<prec>/<n>`: every available backend, `scalar` and (f32)
/// `floor`.
fn bench_case<F: Elem, L: Case>(
    c: &mut Criterion,
    loss: L,
    n: usize,
    data: &mut Option<Data<F>>,
    floor: FloorIsa,
) {
    let mut group = c.benchmark_group(format!("classification/{}/{}/{n}", L::NAME, F::NAME));
    configure(&mut group, n);
    let mut checked = false;

    for backend in Backend::available() {
        let pinned = loss.on(backend).expect("available backend");
        group.bench_function(backend.name(), |b| {
            let Data { sets, grad } = data.get_or_insert_with(|| Data::new(n));
            let mut k = 0;
            b.iter(|| {
                let (x, y) = &sets[k % SETS];
                k += 1;
                pinned
                    .value_and_grad(
                        black_box(x),
                        black_box(y),
                        None,
                        Reduction::Mean,
                        &mut grad[..],
                    )
                    .unwrap()
            });
        });
    }

    group.bench_function("scalar", |b| {
        let d = data.get_or_insert_with(|| Data::new(n));
        if !checked {
            check_agreement(loss, d);
            checked = true;
        }
        let Data { sets, grad } = d;
        let mut k = 0;
        b.iter(|| {
            let (x, y) = &sets[k % SETS];
            k += 1;
            loss.scalar(black_box(x), black_box(y), grad)
        });
    });

    if F::floor_io(&[], &mut []).is_some() {
        group.bench_function("floor", |b| {
            let Data { sets, grad } = data.get_or_insert_with(|| Data::new(n));
            let mut k = 0;
            b.iter(|| {
                let (x, _) = &sets[k % SETS];
                k += 1;
                let (x, g) = F::floor_io(black_box(x), grad).expect("f32");
                floor.run(ExpFloor::<true> { x, g })
            });
        });
    }

    group.finish();
}

fn bench_precision<F: Elem>(c: &mut Criterion, floor: FloorIsa) {
    for n in SIZES {
        // Generated on first use by a benchmark that passed the filter, freed after this size.
        let mut data: Option<Data<F>> = None;
        bench_case::<F, _>(c, BceWithLogits::default(), n, &mut data, floor);
        bench_case::<F, _>(
            c,
            SigmoidFocal {
                alpha: 0.25,
                gamma: 2.0,
            },
            n,
            &mut data,
            floor,
        );
    }
    bench_cross_entropy::<F>(c, floor);
    bench_poly1::<F>(c);
}

// ---------------------------------------------------------------------------------------
// Softmax cross-entropy with integer labels, `rows × classes` logits: IDs
// `classification/cross_entropy/<prec>/<rows>x<classes>/<impl>`, where `<impl>` is also
// `inplace_<backend>` (the form that overwrites the logits, timed with the `memcpy` that
// refreshes its copy). Logits ~ N(0, 2²), uniform labels, four sets rotated.
// ---------------------------------------------------------------------------------------

/// `(rows, classes)`: LLM vocabularies, a small head, an ImageNet-sized head.
const CE_SHAPES: [(usize, usize); 4] = [(32, 32_000), (8, 128_256), (4096, 10), (256, 1000)];

/// The naive loop: per row a max, `Σ exp(x − m)` in f64, then `g = exp(x − m)/S − onehot`.
#[inline(never)]
fn scalar_ce<F: Elem>(x: &[F], classes: usize, labels: &[u32], g: &mut [F]) -> f64 {
    let rows = labels.len();
    let inv_rows = 1.0 / rows as f64;
    let mut total = 0.0f64;
    for r in 0..rows {
        let row = &x[r * classes..(r + 1) * classes];
        let grow = &mut g[r * classes..(r + 1) * classes];
        let mut m = row[0];
        for &v in row {
            if v > m {
                m = v;
            }
        }
        let mut s = 0.0f64;
        for &v in row {
            s += (v - m).exp().to_f64();
        }
        let y = labels[r] as usize;
        total += libm::log(s) - (row[y] - m).to_f64();
        let c = F::from_f64(inv_rows / s);
        for (gj, &v) in grow.iter_mut().zip(row) {
            *gj = (v - m).exp() * c;
        }
        grow[y] = grow[y] - F::from_f64(inv_rows);
    }
    total * inv_rows
}

fn bench_cross_entropy<F: Elem>(c: &mut Criterion, floor: FloorIsa) {
    for (rows, classes) in CE_SHAPES {
        let id = format!("classification/cross_entropy/{}/{rows}x{classes}", F::NAME);
        let mut group = c.benchmark_group(&id);
        group
            .throughput(Throughput::Elements((rows * classes) as u64))
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .sample_size(20);
        let sets: Vec<(Vec<F>, Vec<u32>)> = (0..SETS as u64)
            .map(|k| {
                let mut rng = Rng(0xCE00 + k);
                let x = (0..rows * classes)
                    .map(|_| F::from_f64(2.0 * rng.normalish()))
                    .collect();
                let y = (0..rows)
                    .map(|_| (rng.next() % classes as u64) as u32)
                    .collect();
                (x, y)
            })
            .collect();
        let mut grad = vec![F::ZERO; rows * classes];
        let mut k = 0;
        group.bench_function("scalar", |b| {
            b.iter(|| {
                let (x, y) = &sets[k % SETS];
                k += 1;
                black_box(scalar_ce(black_box(x), classes, y, &mut grad))
            })
        });
        if F::floor_io(&[], &mut []).is_some() {
            group.bench_function("floor", |b| {
                b.iter(|| {
                    let (x, _) = &sets[k % SETS];
                    k += 1;
                    let (x, g) = F::floor_io(black_box(x), &mut grad).expect("f32");
                    floor.run(ExpFloor::<false> { x, g })
                })
            });
        }
        for backend in Backend::available() {
            let ce = CrossEntropy::<F>::default()
                .on(backend)
                .expect("available backend");
            group.bench_function(backend.name(), |b| {
                b.iter(|| {
                    let (x, y) = &sets[k % SETS];
                    k += 1;
                    black_box(
                        ce.value_and_grad(black_box(x), classes, y, Reduction::Mean, &mut grad[..])
                            .unwrap(),
                    )
                })
            });
            // The value alone (no buffer written) and the gradient added into a buffer
            // (accumulate mode: the exponentials are recomputed, not stored).
            group.bench_function(format!("value_{}", backend.name()), |b| {
                b.iter(|| {
                    let (x, y) = &sets[k % SETS];
                    k += 1;
                    black_box(ce.value(black_box(x), classes, y, Reduction::Mean).unwrap())
                })
            });
            group.bench_function(format!("add_{}", backend.name()), |b| {
                b.iter(|| {
                    let (x, y) = &sets[k % SETS];
                    k += 1;
                    black_box(
                        ce.value_and_grad(
                            black_box(x),
                            classes,
                            y,
                            Reduction::Mean,
                            Out::add(&mut grad[..]),
                        )
                        .unwrap(),
                    )
                })
            });
            let mut buf = vec![F::ZERO; rows * classes];
            group.bench_function(format!("inplace_{}", backend.name()), |b| {
                b.iter(|| {
                    let (x, y) = &sets[k % SETS];
                    k += 1;
                    buf.copy_from_slice(x);
                    black_box(
                        ce.value_and_grad_in_place(
                            black_box(&mut buf),
                            classes,
                            y,
                            Reduction::Mean,
                        )
                        .unwrap(),
                    )
                })
            });
        }
        group.finish();
    }
}

// ---------------------------------------------------------------------------------------
// Poly-1 (cross-entropy + ε·(1 − p_t)), the same inputs as cross-entropy: IDs
// `classification/poly1/<prec>/<rows>x<classes>/<impl>`; its ratio to the cross-entropy group
// of the same shape is the cost of the ε term (one `exp` and one `expm1` per row).
// ---------------------------------------------------------------------------------------

/// `(rows, classes)`: a small head, an ImageNet-sized head.
const POLY1_SHAPES: [(usize, usize); 2] = [(4096, 10), (256, 1000)];

/// The paper's first try.
const POLY1_EPSILON: f64 = 1.0;

/// The naive loop: cross-entropy's, plus `ε·(1 − p_y)` per row and the factor
/// `1 + ε·p_y` on the row's gradient.
#[inline(never)]
fn scalar_poly1<F: Elem>(x: &[F], classes: usize, labels: &[u32], g: &mut [F]) -> f64 {
    let rows = labels.len();
    let inv_rows = 1.0 / rows as f64;
    let mut total = 0.0f64;
    for r in 0..rows {
        let row = &x[r * classes..(r + 1) * classes];
        let grow = &mut g[r * classes..(r + 1) * classes];
        let mut m = row[0];
        for &v in row {
            if v > m {
                m = v;
            }
        }
        let mut s = 0.0f64;
        for &v in row {
            s += (v - m).exp().to_f64();
        }
        let y = labels[r] as usize;
        let p_y = libm::exp((row[y] - m).to_f64()) / s;
        total += libm::log(s) - (row[y] - m).to_f64() + POLY1_EPSILON * (1.0 - p_y);
        let k = (1.0 + POLY1_EPSILON * p_y) * inv_rows;
        let c = F::from_f64(k / s);
        for (gj, &v) in grow.iter_mut().zip(row) {
            *gj = (v - m).exp() * c;
        }
        grow[y] = grow[y] - F::from_f64(k);
    }
    total * inv_rows
}

fn bench_poly1<F: Elem>(c: &mut Criterion) {
    for (rows, classes) in POLY1_SHAPES {
        let id = format!("classification/poly1/{}/{rows}x{classes}", F::NAME);
        let mut group = c.benchmark_group(&id);
        group
            .throughput(Throughput::Elements((rows * classes) as u64))
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .sample_size(20);
        let sets: Vec<(Vec<F>, Vec<u32>)> = (0..SETS as u64)
            .map(|k| {
                let mut rng = Rng(0x9017_0000 + k);
                let x = (0..rows * classes)
                    .map(|_| F::from_f64(2.0 * rng.normalish()))
                    .collect();
                let y = (0..rows)
                    .map(|_| (rng.next() % classes as u64) as u32)
                    .collect();
                (x, y)
            })
            .collect();
        let mut grad = vec![F::ZERO; rows * classes];
        let poly = Poly1::<F> {
            epsilon: POLY1_EPSILON,
            ..Poly1::default()
        };
        // The crate and the baseline agree on the first set, so the baseline is a fair one.
        let (x, y) = &sets[0];
        let v_ref = scalar_poly1(x, classes, y, &mut grad);
        let v = poly
            .value(x, classes, y, Reduction::Mean)
            .expect("valid inputs")
            .to_f64();
        let tol = if F::MANTISSA_DIGITS < 53 { 1e-4 } else { 1e-9 };
        assert!(rel(v, v_ref) < tol, "{id}: crate {v} vs scalar {v_ref}");
        let mut k = 0;
        group.bench_function("scalar", |b| {
            b.iter(|| {
                let (x, y) = &sets[k % SETS];
                k += 1;
                black_box(scalar_poly1(black_box(x), classes, y, &mut grad))
            })
        });
        for backend in Backend::available() {
            let poly = poly.on(backend).expect("an available backend");
            group.bench_function(backend.name(), |b| {
                b.iter(|| {
                    let (x, y) = &sets[k % SETS];
                    k += 1;
                    black_box(
                        poly.value_and_grad(
                            black_box(x),
                            classes,
                            y,
                            Reduction::Mean,
                            &mut grad[..],
                        )
                        .unwrap(),
                    )
                })
            });
        }
        group.finish();
    }
}

/// The row shapes of the registered row losses without a baseline.
const ROW_SHAPES: [(usize, usize); 2] = [(4096, 10), (256, 1000)];

/// The row losses benched above with a baseline.
const ROWS_WITH_BASELINE: [&str; 2] = ["cross_entropy", "poly1"];

/// The inputs of a registered row loss: scores, labels, soft targets (rows sum to 1), teacher
/// logits, multi-label 0/1 targets.
struct RowSet<F> {
    x: Vec<F>,
    labels: Vec<u32>,
    soft: Vec<F>,
    teacher: Vec<F>,
    multilabel: Vec<F>,
}

fn row_set<F: Elem>(rows: usize, classes: usize, seed: u64) -> RowSet<F> {
    let mut rng = Rng(seed);
    let n = rows * classes;
    let x = (0..n).map(|_| F::from_f64(2.0 * rng.normalish())).collect();
    let teacher = (0..n).map(|_| F::from_f64(2.0 * rng.normalish())).collect();
    let labels = (0..rows)
        .map(|_| (rng.next() % classes as u64) as u32)
        .collect();
    let mut soft: Vec<f64> = (0..n).map(|_| (rng.normalish()).exp()).collect();
    for row in soft.chunks_mut(classes) {
        let total: f64 = row.iter().sum();
        row.iter_mut().for_each(|t| *t /= total);
    }
    let multilabel = (0..n)
        .map(|_| F::from_f64((rng.next() % 2) as f64))
        .collect();
    RowSet {
        x,
        labels,
        soft: soft.into_iter().map(F::from_f64).collect(),
        teacher,
        multilabel,
    }
}

/// The targets `T` of a registry line's `targets` word.
macro_rules! row_targets {
    (labels, $s:expr) => {
        &$s.labels[..]
    };
    (soft, $s:expr) => {
        &$s.soft[..]
    };
    (multilabel, $s:expr) => {
        &$s.multilabel[..]
    };
    (teacher, $s:expr) => {
        losskit::loss::softmax::Teacher {
            logits: &$s.teacher[..],
            labels: &$s.labels[..],
        }
    };
}

fn bench_registered_rows<F: Elem>(c: &mut Criterion) {
    macro_rules! registered {
        ($( ($name:ident, $loss:expr, $kind:ident, [$($cap:ident)*]) ),* $(,)?) => {$(
            if !ROWS_WITH_BASELINE.contains(&stringify!($name)) {
                for (rows, classes) in ROW_SHAPES {
                    let id = format!("classification/{}/{}/{rows}x{classes}", stringify!($name), F::NAME);
                    let mut group = c.benchmark_group(&id);
                    group
                        .throughput(Throughput::Elements((rows * classes) as u64))
                        .warm_up_time(Duration::from_millis(300))
                        .measurement_time(Duration::from_millis(1200))
                        .sample_size(10);
                    let mut sets: Option<Vec<RowSet<F>>> = None;
                    let mut grad = vec![F::ZERO; rows * classes];
                    let mut k = 0;
                    for backend in Backend::available() {
                        let loss = $loss.on(backend).expect("an available backend");
                        group.bench_function(backend.name(), |b| {
                            let sets = sets.get_or_insert_with(|| {
                                (0..SETS as u64).map(|k| row_set(rows, classes, 0x7005_0000 + k)).collect()
                            });
                            b.iter(|| {
                                let s = &sets[k % SETS];
                                k += 1;
                                black_box(
                                    loss.value_and_grad(
                                        black_box(&s.x[..]),
                                        classes,
                                        row_targets!($kind, s),
                                        Reduction::Mean,
                                        &mut grad[..],
                                    )
                                    .unwrap(),
                                )
                            })
                        });
                    }
                    group.finish();
                }
            }
        )*};
    }
    losskit::for_each_row_loss!(registered);
}

fn classification(c: &mut Criterion) {
    let backends: Vec<_> = Backend::available().map(Backend::name).collect();
    let floor = FloorIsa::detect();
    eprintln!(
        "classification: backends {backends:?}; floor kernels {floor:?}; {SETS} input sets rotated"
    );
    bench_precision::<f32>(c, floor);
    bench_precision::<f64>(c, floor);
    bench_registered_rows::<f32>(c);
    bench_registered_rows::<f64>(c);
}

criterion_group!(benches, classification);
criterion_main!(benches);
