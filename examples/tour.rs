//! A tour of losskit: robust linear regression on real data.
//!
//! Fits `y ≈ X·w + b` to the diabetes data (442 patients, 10 features) with MSE, MAE, Huber
//! and log-cosh after corrupting 8 % of the *training* targets. MSE grows quadratically in
//! the residual, so a few gross errors pull the whole fit towards them; the other three grow
//! only linearly far out and largely ignore them, so they predict the clean test set better.
//!
//! losskit supplies `L` and `∂L/∂pred` (one SIMD pass); the chain rule to the weights and
//! the optimiser (Adam) are a few plain loops below.
//!
//! Run: `cargo run --release --example tour`

use losskit::prelude::*;
use std::time::Instant;

/// Vendored copies (see `examples/data/README.md`), embedded so the binary runs anywhere.
const DATA: &str = include_str!("data/diabetes_data.csv");
const TARGET: &str = include_str!("data/diabetes_target.csv");

/// Features per row: age, sex, bmi, bp, s1..s6.
const D: usize = 10;
/// Full-batch optimisation steps, the same for every loss.
const STEPS: usize = 2000;
/// Adam's initial step size (decayed linearly to 0).
const LR: f64 = 0.05;
/// Share of training targets that get a gross error.
const OUTLIER_FRACTION: f64 = 0.08;

fn main() -> losskit::Result<()> {
    let (x, y) = load();

    // Deterministic split: every 5th row is test.
    let (mut x_train, mut y_train, mut x_test, mut y_test) = (vec![], vec![], vec![], vec![]);
    for (i, (row, t)) in x.into_iter().zip(y).enumerate() {
        if i % 5 == 4 {
            x_test.push(row);
            y_test.push(t);
        } else {
            x_train.push(row);
            y_train.push(t);
        }
    }

    // Standardise features with training statistics only (no peeking at the test set).
    standardise(&mut x_train, &mut x_test);

    let y_clean = y_train.clone();
    let corrupted = inject_outliers(&mut y_train, 0x5EED);

    // Work in standardised target units so that Huber's δ = 1 and log-cosh's bend at |r| ≈ 1
    // mean "about one standard deviation". Centre and scale must be robust (median, MAD):
    // the mean and standard deviation would themselves be dragged by the outliers.
    let (center, scale) = robust_center_scale(&y_train);
    let to_std = |y: &[f64]| -> Vec<f64> { y.iter().map(|t| (t - center) / scale).collect() };
    let (z_train, z_clean) = (to_std(&y_train), to_std(&y_clean));

    println!(
        "losskit tour: linear regression on the diabetes data ({} rows x {D} features), f64",
        x_train.len() + x_test.len()
    );
    println!("SIMD backend: {}", Backend::active());
    println!(
        "train {} rows ({corrupted} targets corrupted by +300..600), test {} clean rows\n",
        x_train.len(),
        x_test.len()
    );
    println!(
        "{:<24} {:>10} {:>9} {:>10} {:>6} {:>9}",
        "loss", "train loss", "test MAE", "test RMSE", "steps", "time"
    );

    let test = Test {
        x: &x_test,
        y: &y_test,
        center,
        scale,
    };
    row("MSE", Mse, &x_train, &z_train, &test)?;
    row("MAE", Mae, &x_train, &z_train, &test)?;
    let huber = Huber { delta: 1.0 };
    row("Huber (delta = 1)", huber, &x_train, &z_train, &test)?;
    row("log-cosh", LogCosh, &x_train, &z_train, &test)?;
    // What MSE achieves without the outliers: the bar the robust losses should approach.
    row("MSE, clean (reference)", Mse, &x_train, &z_clean, &test)?;

    println!("\ntrain loss: each loss's own mean objective on its training targets (std. units);");
    println!("test MAE / RMSE: original units, on the uncorrupted test targets.");
    Ok(())
}

/// The test set and how to map standardised predictions back to original units.
struct Test<'a> {
    x: &'a [[f64; D]],
    y: &'a [f64],
    center: f64,
    scale: f64,
}

/// Fits one loss, evaluates it on the test set and prints a table row.
fn row<L: PointwiseLoss>(
    name: &str,
    loss: L,
    x: &[[f64; D]],
    z: &[f64],
    test: &Test,
) -> losskit::Result<()> {
    let start = Instant::now();
    let (theta, train_loss) = fit(loss, x, z)?;
    let elapsed = start.elapsed();

    let mut pred = vec![0.0; test.x.len()];
    predict(&theta, test.x, &mut pred);
    let (mut abs, mut sq) = (0.0, 0.0);
    for (p, t) in pred.iter().zip(test.y) {
        let r = test.center + test.scale * p - t;
        abs += r.abs();
        sq += r * r;
    }
    let n = test.y.len() as f64;
    println!(
        "{name:<24} {train_loss:>10.4} {:>9.2} {:>10.2} {STEPS:>6} {:>6.2} ms",
        abs / n,
        (sq / n).sqrt(),
        elapsed.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Full-batch Adam on `mean_i loss(x_i·w + b, z_i)`. Returns `[w.., b]` and the final loss.
fn fit<L: PointwiseLoss>(loss: L, x: &[[f64; D]], z: &[f64]) -> losskit::Result<(Vec<f64>, f64)> {
    let n = z.len();
    let mut theta = vec![0.0; D + 1];
    let (mut pred, mut g) = (vec![0.0; n], vec![0.0; n]);
    let mut grad = vec![0.0; D + 1];
    let mut adam = Adam::new(D + 1);
    for step in 0..STEPS {
        predict(&theta, x, &mut pred);
        // g_i = ∂L/∂pred_i (already divided by n for the mean).
        loss.value_and_grad(&pred, z, None, Reduction::Mean, g.as_mut_slice())?;
        // Chain rule: ∂L/∂w = Xᵀ·g, ∂L/∂b = Σ g_i.
        grad.fill(0.0);
        for (row, gi) in x.iter().zip(&g) {
            for (gw, xj) in grad.iter_mut().zip(row) {
                *gw += gi * xj;
            }
            grad[D] += gi;
        }
        // Linear decay to 0: MAE's gradient does not shrink near the optimum, so a constant
        // step would leave it oscillating; the smooth losses do not mind.
        let lr = LR * (1.0 - step as f64 / STEPS as f64);
        adam.step(&mut theta, &grad, lr);
    }
    predict(&theta, x, &mut pred);
    let value = loss.value(&pred, z, None, Reduction::Mean)?;
    Ok((theta, value))
}

/// `pred_i = x_i·w + b` with `theta = [w.., b]`.
fn predict(theta: &[f64], x: &[[f64; D]], pred: &mut [f64]) {
    for (p, row) in pred.iter_mut().zip(x) {
        *p = theta[D] + row.iter().zip(theta).map(|(a, w)| a * w).sum::<f64>();
    }
}

/// Adam (Kingma & Ba, 2015): per-parameter step sizes, so one learning rate suits losses
/// whose gradients differ in scale (MSE's grows with the residual, MAE's is ±1/n).
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    fn new(len: usize) -> Self {
        Adam {
            m: vec![0.0; len],
            v: vec![0.0; len],
            t: 0,
        }
    }

    fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        const EPS: f64 = 1e-8;
        self.t += 1;
        // Bias corrections: m and v start at 0 and would underestimate early on.
        let (c1, c2) = (1.0 - B1.powi(self.t), 1.0 - B2.powi(self.t));
        for (((p, g), m), v) in theta.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            *m = B1 * *m + (1.0 - B1) * g;
            *v = B2 * *v + (1.0 - B2) * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
        }
    }
}

/// Parses the embedded CSVs: space-separated features, one target per line.
fn load() -> (Vec<[f64; D]>, Vec<f64>) {
    let x: Vec<[f64; D]> = DATA
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut row = [0.0; D];
            let mut fields = line.split_whitespace();
            for v in &mut row {
                *v = fields
                    .next()
                    .expect("diabetes_data.csv: a row has fewer than 10 fields")
                    .parse()
                    .expect("diabetes_data.csv: a field is not a number");
            }
            row
        })
        .collect();
    let y: Vec<f64> = TARGET
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.trim()
                .parse()
                .expect("diabetes_target.csv: a line is not a number")
        })
        .collect();
    assert_eq!(x.len(), y.len(), "diabetes data and target differ in rows");
    (x, y)
}

/// Rescales every feature to mean 0, standard deviation 1 using the training rows' statistics.
/// Gradient descent converges far faster when features share one scale.
fn standardise(train: &mut [[f64; D]], test: &mut [[f64; D]]) {
    let n = train.len() as f64;
    for j in 0..D {
        let mean = train.iter().map(|r| r[j]).sum::<f64>() / n;
        let var = train.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n;
        let sd = var.sqrt().max(1e-12);
        for r in train.iter_mut().chain(test.iter_mut()) {
            r[j] = (r[j] - mean) / sd;
        }
    }
}

/// Adds `+U(300, 600)` to a fixed-seed random 8 % of `y` (values are 25..346): one-sided
/// gross errors, like a unit mix-up. Returns how many were corrupted.
fn inject_outliers(y: &mut [f64], seed: u64) -> usize {
    let mut rng = SplitMix64(seed);
    let k = (y.len() as f64 * OUTLIER_FRACTION).round() as usize;
    // Partial Fisher–Yates: the first k entries of `idx` become k distinct random rows.
    let mut idx: Vec<usize> = (0..y.len()).collect();
    for i in 0..k {
        let j = i + (rng.next_u64() % (y.len() - i) as u64) as usize;
        idx.swap(i, j);
        y[idx[i]] += 300.0 + 300.0 * rng.uniform();
    }
    k
}

/// Median and MAD·1.4826 (which equals the standard deviation for normal data).
fn robust_center_scale(y: &[f64]) -> (f64, f64) {
    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        }
    }
    let med = median(y.to_vec());
    let mad = median(y.iter().map(|t| (t - med).abs()).collect());
    (med, 1.4826 * mad)
}

/// SplitMix64 (Steele, Lea & Flood, 2014): a tiny, good-enough PRNG with a fixed seed, so
/// the outliers are the same on every run and machine.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
