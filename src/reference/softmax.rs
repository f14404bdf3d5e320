//! Naive f64 oracle of the row-softmax losses, one row at a time, from the formulas.

use libm::{exp, log1p, pow, tanh};

/// `log Σⱼ exp f(j)` over `j < n` with the max shift, `−∞` when every term is `−∞`: `m +
/// log1p(Σ_{j≠k} exp(f(j) − m))` without the largest term's 1 (`f(k) = m`, the first), so
/// that a row whose other terms are below 2⁻⁵³ of it keeps their share.
fn lse_of(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    let m = (0..n).map(&f).fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    let k = (0..n).position(|j| f(j) == m);
    m + log1p(
        (0..n)
            .filter(|&j| Some(j) != k)
            .map(|j| exp(f(j) - m))
            .sum::<f64>(),
    )
}

/// `log Σ exp xⱼ` (f64, max-shifted), `−∞` for an all-`−∞` row.
pub fn logsumexp(x: &[f64]) -> f64 {
    lse_of(x.len(), |j| x[j])
}

/// Cross-entropy of one row with label `y`: PyTorch's weighted, label-smoothed form plus
/// `z_loss·lse²`, after soft-capping `c·tanh(x/c)` when `softcap` is given (a `−∞` logit
/// stays `−∞`: a mask, as the kernel keeps it).
pub fn cross_entropy(
    x: &[f64],
    y: usize,
    weights: Option<&[f64]>,
    eps: f64,
    z_loss: f64,
    softcap: Option<f64>,
) -> f64 {
    let z = |j: usize| match softcap {
        Some(_) if x[j] == f64::NEG_INFINITY => x[j],
        Some(c) => c * tanh(x[j] / c),
        None => x[j],
    };
    let lse = lse_of(x.len(), z);
    let w = |j: usize| weights.map_or(1.0, |w| w[j]);
    let nll = |j: usize| {
        if w(j) == 0.0 {
            0.0
        } else {
            w(j) * (lse - z(j))
        }
    };
    let mut v = (1.0 - eps) * nll(y);
    if eps > 0.0 {
        v += eps / x.len() as f64 * (0..x.len()).map(nll).sum::<f64>();
    }
    v + z_loss * lse * lse
}

/// Poly-1 of one row with label `y` (Leng et al. 2022): `CE + ε·w_y·(1 − p_t)`, where CE is
/// [`cross_entropy`] (PyTorch's weighted, label-smoothed form) and `p_t = Σ_c y'_c·p_c` with
/// the smoothed one-hot target `y' = (1 − α)·onehot(y) + α/C`, as the paper's code.
pub fn poly1(x: &[f64], y: usize, weights: Option<&[f64]>, alpha: f64, epsilon: f64) -> f64 {
    let c = x.len() as f64;
    let lse = logsumexp(x);
    let p_t: f64 = (0..x.len())
        .map(|j| {
            let target = if j == y { 1.0 - alpha } else { 0.0 } + alpha / c;
            target * exp(x[j] - lse)
        })
        .sum();
    let w_y = weights.map_or(1.0, |w| w[y]);
    cross_entropy(x, y, weights, alpha, 0.0, None) + epsilon * w_y * (1.0 - p_t)
}

/// Soft-target cross-entropy of one row: `Σⱼ wⱼ t'ⱼ (lse − xⱼ)`, `t' = (1 − ε)t + ε/C`.
pub fn soft_cross_entropy(x: &[f64], t: &[f64], weights: Option<&[f64]>, eps: f64) -> f64 {
    let lse = logsumexp(x);
    let c = x.len() as f64;
    (0..x.len())
        .map(|j| {
            let tau = weights.map_or(1.0, |w| w[j]) * ((1.0 - eps) * t[j] + eps / c);
            if tau == 0.0 { 0.0 } else { tau * (lse - x[j]) }
        })
        .sum()
}

/// Softmax focal loss of one row: `−α_y (1 − p_y)^γ log p_y`.
pub fn softmax_focal(x: &[f64], y: usize, gamma: f64, alpha: f64) -> f64 {
    let log_p = x[y] - logsumexp(x);
    -alpha * pow(1.0 - exp(log_p), gamma) * log_p
}

/// Distillation of one row: `α·CE(s, y) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T))`.
pub fn distillation(s: &[f64], t: &[f64], y: usize, alpha: f64, temp: f64) -> f64 {
    let max = |x: &[f64]| x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (ms, mt) = (max(s), max(t));
    // Shifted before dividing by T: `x/T` of a tiny T overflows where `(x − m)/T` of the
    // largest logits is 0.
    let ls = lse_of(s.len(), |j| (s[j] - ms) / temp);
    let lt = lse_of(t.len(), |j| (t[j] - mt) / temp);
    // `Δ = x − m` from halves where it overflows (logits of both signs near `f64::MAX`).
    let delta = |x: f64, m: f64| {
        let d = x - m;
        if d.is_finite() {
            d
        } else {
            2.0 * (0.5 * x - 0.5 * m)
        }
    };
    // T²·KL per class as `q·(T·(Δₜ − Δₛ) + T²·(ln Sₛ − ln Sₜ))`: `Δₛ/T` alone overflows
    // (`−1e300/1e-20`) where T times the difference fits. xlogy decided on the logits: a
    // teacher mask contributes 0, a student mask under a teacher logit that is not one +∞
    // (its probability is positive even where it underflows), an underflowed probability
    // elsewhere 0.
    let kl_t2: f64 = (0..s.len())
        .map(|j| {
            let q = exp((t[j] - mt) / temp - lt);
            if t[j] == f64::NEG_INFINITY {
                0.0
            } else if s[j] == f64::NEG_INFINITY {
                f64::INFINITY
            } else if q == 0.0 {
                0.0
            } else {
                q * (temp * (delta(t[j], mt) - delta(s[j], ms)) + temp * temp * (ls - lt))
            }
        })
        .sum();
    let kl_part = if alpha == 1.0 {
        0.0
    } else {
        (1.0 - alpha) * kl_t2
    };
    alpha * (logsumexp(s) - s[y]) + kl_part
}

/// Weston–Watkins hinge of one row (PyTorch `multi_margin_loss`). Where the plain sum
/// overflows (hinges near `f64::MAX`, whose mean over `C` may fit), it is formed again from
/// half-hinges `½margin − ½x_y + ½xⱼ` (exact halves) scaled by 2⁻⁵⁶⁰, and scaled back in
/// steps. A row of weight 0 is 0.
pub fn multi_margin(x: &[f64], y: usize, p: i32, margin: f64, w_y: f64) -> f64 {
    let c = x.len() as f64;
    if w_y == 0.0 {
        // A row of weight 0 counts for 0, also where its hinges overflow (not 0·∞).
        return 0.0;
    }
    let others = || (0..x.len()).filter(move |&j| j != y);
    let plain = others()
        .map(|j| w_y * pow((margin - x[y] + x[j]).max(0.0), p as f64))
        .sum::<f64>()
        / c;
    if plain.is_finite() {
        return plain;
    }
    const DOWN: f64 = 2.649_734_913_688_990_5e-169; // 2⁻⁵⁶⁰
    const UP: f64 = 3.773_962_424_821_541_4e168; // 2⁵⁶⁰
    let scaled: f64 = others()
        .map(|j| {
            pow(
                (0.5 * margin - 0.5 * x[y] + 0.5 * x[j]).max(0.0) * DOWN,
                p as f64,
            )
        })
        .sum();
    // h^p = 2^p·(h/2)^p, and each (h/2)^p carries 2^(−560p).
    let mut v = w_y * pow(2.0, p as f64) * scaled / c;
    for _ in 0..p {
        v *= UP;
    }
    v
}

/// Crammer–Singer hinge of one row.
pub fn multiclass_hinge(x: &[f64], y: usize) -> f64 {
    let other = (0..x.len())
        .filter(|&j| j != y)
        .map(|j| x[j])
        .fold(f64::NEG_INFINITY, f64::max);
    (1.0 + other - x[y]).max(0.0)
}
