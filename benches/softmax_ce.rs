//! Softmax cross-entropy with integer labels: `value_and_grad`, `Reduction::Mean`, per
//! backend, beside a naive scalar baseline in the same criterion group.
//!
//! ```text
//! cargo bench --bench softmax_ce -- /f32/
//! python3 scripts/bench_table.py --prefix softmax/
//! ```
//!
//! IDs are `softmax/cross_entropy/<f32|f64>/<rows>x<classes>/<impl>`; `<impl>` is a backend
//! name, `scalar` (plain loops: max, Σ exp in f64, then the gradient with a second `exp`,
//! f32 data, `libm`), or `inplace_<backend>` (the form that overwrites the logits; it is
//! timed on a copy refreshed by a `memcpy`, which it includes). Each iteration takes the
//! next of [`SETS`] input sets (logits ~ N(0, 2²), uniform labels).

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use losskit::prelude::*;

const SETS: usize = 4;

/// `(rows, classes)`: LLM vocabularies, small heads, ImageNet-sized heads.
const SHAPES: [(usize, usize); 4] = [(32, 32_000), (8, 128_256), (4096, 10), (256, 1000)];

trait Elem: Float {
    const NAME: &'static str;
    fn exp(self) -> Self;
}

impl Elem for f32 {
    const NAME: &'static str = "f32";
    fn exp(self) -> Self {
        libm::expf(self)
    }
}

impl Elem for f64 {
    const NAME: &'static str = "f64";
    fn exp(self) -> Self {
        libm::exp(self)
    }
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn normalish(&mut self) -> f64 {
        let (a, b) = (self.next(), self.next());
        let u = |x: u64| x as f64 * (1.0 / 4_294_967_296.0);
        (u(a >> 32) + u(a & 0xFFFF_FFFF) + u(b >> 32) + u(b & 0xFFFF_FFFF) - 2.0) * 3f64.sqrt()
    }
}

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

fn bench_precision<F: Elem>(c: &mut Criterion) {
    for (rows, classes) in SHAPES {
        let id = format!("softmax/cross_entropy/{}/{rows}x{classes}", F::NAME);
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
        for backend in Backend::available() {
            let ce = CrossEntropy::<F> {
                backend: Some(backend),
                ..CrossEntropy::default()
            };
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

fn benches(c: &mut Criterion) {
    bench_precision::<f32>(c);
    bench_precision::<f64>(c);
}

criterion_group!(softmax_ce, benches);
criterion_main!(softmax_ce);
