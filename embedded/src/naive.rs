//! Naive scalar baselines for the instruction counts: the loops a C programmer would write,
//! built with the same profile as the firmware and accumulating in the same precision as
//! losskit does on this target. They validate nothing, where losskit checks lengths, NaN/∞
//! and labels.
//!
//! * MSE: f32 terms added in groups of four in f32, each group added to a compensated f32
//!   sum (TwoSum: `hi + lo`), the mean as `hi·(1/n) + lo·(1/n)` in f32 — losskit's
//!   pointwise driver where the FPU has no f64 (`shape/accumulate.rs`).
//! * Cross-entropy row: f32 terms in groups of four, each group widened into an f64 sum,
//!   and the row's `log` in f64 — losskit's row driver, which keeps f64.

/// `Σ terms` as losskit's one-lane row drivers sum them (f64).
#[inline(always)]
fn grouped_sum(terms: impl Iterator<Item = f32>) -> f64 {
    let (mut total, mut group, mut n) = (0.0f64, 0.0f32, 0);
    for t in terms {
        group += t;
        n += 1;
        if n == 4 {
            total += group as f64;
            (group, n) = (0.0, 0);
        }
    }
    total + group as f64
}

/// `Σ terms` as losskit's one-lane pointwise driver sums them here: groups of four in f32,
/// each added to `hi + lo` by TwoSum. Returns `(hi, lo)`.
#[inline(always)]
fn compensated_sum(terms: impl Iterator<Item = f32>) -> (f32, f32) {
    let (mut hi, mut lo, mut group, mut n) = (0.0f32, 0.0f32, 0.0f32, 0);
    let mut add = |g: f32| {
        let s = hi + g;
        let bb = s - hi;
        lo += (hi - (s - bb)) + (g - bb);
        hi = s;
    };
    for t in terms {
        group += t;
        n += 1;
        if n == 4 {
            add(group);
            (group, n) = (0.0, 0);
        }
    }
    if n > 0 {
        add(group);
    }
    (hi, lo)
}

/// MSE value and gradient (mean over `n`).
#[inline(never)]
pub fn mse_value_and_grad(p: &[f32], t: &[f32], g: &mut [f32]) -> f32 {
    let scale = 1.0 / p.len() as f32;
    let gs = 2.0 * scale;
    let (hi, lo) = compensated_sum(p.iter().zip(t).zip(g.iter_mut()).map(|((&p, &t), g)| {
        let r = p - t;
        *g = gs * r;
        r * r
    }));
    hi * scale + lo * scale
}

/// Softmax cross-entropy of one row with label `y`: value and gradient.
#[inline(never)]
pub fn cross_entropy_row(x: &[f32], y: usize, g: &mut [f32]) -> f32 {
    let m = x.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let s = grouped_sum(g.iter_mut().zip(x).map(|(g, &x)| {
        *g = libm::expf(x - m);
        *g
    }));
    let inv = (1.0 / s) as f32;
    for g in g.iter_mut() {
        *g *= inv;
    }
    g[y] -= 1.0;
    (libm::log(s) - (x[y] - m) as f64) as f32
}
