//! Regression losses, per element, in f64 with `libm`.

use libm::{exp, expm1, fabs, hypot, log, log1p, sinh};

/// `(p − t)²`.
pub fn mse(p: f64, t: f64) -> f64 {
    (p - t) * (p - t)
}

/// `|p − t|`.
pub fn mae(p: f64, t: f64) -> f64 {
    fabs(p - t)
}

/// Huber: `½ r²` if `|r| < δ`, else `δ(|r| − ½δ)`.
pub fn huber(p: f64, t: f64, delta: f64) -> f64 {
    let r = fabs(p - t);
    if r < delta {
        0.5 * r * r
    } else {
        delta * (r - 0.5 * delta)
    }
}

/// Smooth L1: `½ r²/β` if `|r| < β`, else `|r| − ½β` (L1 when `β = 0`).
pub fn smooth_l1(p: f64, t: f64, beta: f64) -> f64 {
    let r = fabs(p - t);
    if r < beta {
        // `r·(r/β)`, `r/β < 1`: `r²` alone overflows where the term fits (r = 1e191, β = 1e300).
        0.5 * r * (r / beta)
    } else {
        r - 0.5 * beta
    }
}

/// Pinball: `max(τ r, (τ − 1) r)` with `r = t − p`.
pub fn quantile(p: f64, t: f64, tau: f64) -> f64 {
    let r = t - p;
    // c·r, as c·t − c·p where r overflows f64 (t and p of opposite signs: no cancellation),
    // and 0 for c = 0 (not 0·∞).
    let times = |c: f64| {
        if c == 0.0 {
            0.0
        } else if r.is_finite() {
            c * r
        } else {
            c * t - c * p
        }
    };
    times(tau).max(times(tau - 1.0))
}

/// Expectile: `|τ − 1{r<0}| r²` with `r = t − p`.
pub fn expectile(p: f64, t: f64, tau: f64) -> f64 {
    let r = t - p;
    let w = if r < 0.0 { 1.0 - tau } else { tau };
    w * r * r
}

/// Pseudo-Huber: `δ² (√(1 + q²) − 1)` with `q = r/δ`, evaluated as the equal
/// `δ |r| · |q| / (√(1 + q²) + 1)` so that small `q` does not cancel and large `q` (whose
/// square overflows, e.g. `r = 1e139`, `δ = 1e-30`) neither overflows nor gives `∞/∞`.
pub fn pseudo_huber(p: f64, t: f64, delta: f64) -> f64 {
    let r = fabs(p - t);
    let q = r / delta;
    // |q| / (√(1 + q²) + 1) tends to 1 as q grows; at q = ∞ the quotient would be ∞/∞.
    let ratio = if q.is_infinite() {
        1.0
    } else {
        q / (hypot(1.0, q) + 1.0)
    };
    delta * r * ratio
}

/// `ln cosh r`, as `ln(1 + 2 sinh²(r/2))` (the identity `cosh r − 1 = 2 sinh²(r/2)` keeps
/// small `r` exact), and `|r| − ln 2` where `cosh` overflows.
pub fn log_cosh(p: f64, t: f64) -> f64 {
    let r = fabs(p - t);
    if r < 40.0 {
        let s = sinh(r / 2.0);
        log1p(2.0 * s * s)
    } else {
        r - core::f64::consts::LN_2
    }
}

/// Barron's general robust loss, the paper's `expm1`/`log1p` form (as its reference code
/// `lossfun`, without the clamps): `b/α · expm1(α/2 · log1p(z/b))`, `z = ((p − t)/c)²`,
/// `b = |α − 2|`; `−expm1(−z/2)` at `α = −∞`, `log1p(z/2)` at 0, `z/2` at 2.
pub fn barron(p: f64, t: f64, alpha: f64, c: f64) -> f64 {
    let x = (p - t) / c;
    let z = x * x;
    if alpha == f64::NEG_INFINITY {
        -expm1(-0.5 * z)
    } else if alpha == 0.0 {
        log1p(0.5 * z)
    } else if alpha == 2.0 {
        0.5 * z
    } else {
        let b = fabs(alpha - 2.0);
        let l = log1p(z / b);
        // b/α·expm1(v) with v = ½αL; for a tiny α (1e-300) v underflows where the value
        // (→ the Cauchy limit b·L/2) does not: b·(½L)·(1 + v/2) there (error v²/6).
        let v = 0.5 * alpha * l;
        if fabs(v) < 1e-8 {
            b * (0.5 * l) * (1.0 + 0.5 * v)
        } else {
            b / alpha * expm1(v)
        }
    }
}

/// `∂/∂α` of [`barron`] by the chain rule on its formula: with `u = z/b`, `L = log1p(u)`,
/// `P = (1 + u)^(α/2)`, `σ = sign(α − 2)`,
/// `2σ/α² (P − 1) + b/(2α) P L − σ/2 · P u/(1 + u)`; at `α = 0` its limit
/// `L²/4 − (L − u/(1 + u))/2` (`b = 2`), 0 at `α = −∞`, and at `α = 2` (a logarithmic pole)
/// `+∞` for `z > 0`. The terms cancel for small `u` and for `α` near 0 or 2: use it away from
/// those.
pub fn barron_dalpha(p: f64, t: f64, alpha: f64, c: f64) -> f64 {
    let x = (p - t) / c;
    let z = x * x;
    if alpha == f64::NEG_INFINITY {
        return 0.0;
    }
    if alpha == 2.0 {
        return if z > 0.0 { f64::INFINITY } else { 0.0 };
    }
    let b = fabs(alpha - 2.0);
    let u = z / b;
    let l = log1p(u);
    let w = u / (1.0 + u);
    if alpha == 0.0 {
        return 0.25 * l * l - 0.5 * (l - w);
    }
    let sigma = if alpha > 2.0 { 1.0 } else { -1.0 };
    let pw = exp(0.5 * alpha * l);
    2.0 * sigma / (alpha * alpha) * expm1(0.5 * alpha * l) + b / (2.0 * alpha) * pw * l
        - 0.5 * sigma * pw * w
}

/// Poisson NLL, PyTorch's formula (a zero count's `t·ln(p + ε)` is 0, xlogy). `ln(p + ε)`
/// is `ln(larger) + log1p(smaller/larger)`, so that neither is lost beside the other (a large
/// count multiplies it). With `full`, Stirling's `t ln t − t` is grouped with the count's
/// other term, `t·(ln t − p − 1)` or `t·(ln t − ln q − 1)`: the two products cancel where
/// `t` is large and close to `e^p` or `q`, and apart they leave their rounding (at
/// `t = q = 3.4e38`, 1e24 where the value is 45).
pub fn poisson_nll(p: f64, t: f64, log_input: bool, full: bool, eps: f64) -> f64 {
    let ln_q = || {
        let (hi, lo) = if p >= eps { (p, eps) } else { (eps, p) };
        if hi == 0.0 {
            f64::NEG_INFINITY
        } else {
            log(hi) + log1p(lo / hi)
        }
    };
    let stirling = full && t > 1.0;
    let tail = 0.5 * log(t) + 0.5 * log(2.0 * core::f64::consts::PI);
    if log_input {
        if stirling {
            t * (log(t) - p - 1.0) + exp(p) + tail
        } else {
            exp(p) - t * p
        }
    } else if t == 0.0 {
        p
    } else if stirling {
        p + t * (log(t) - ln_q() - 1.0) + tail
    } else {
        p - t * ln_q()
    }
}

/// Gaussian NLL, PyTorch's formula, `v = max(var, ε)`; the quadratic term as
/// `(p − t)·((p − t)/v)`, so that it overflows only where its value does.
pub fn gaussian_nll(p: f64, t: f64, var: f64, full: bool, eps: f64) -> f64 {
    let v = var.max(eps);
    // (½r)·(r/v), halved first: r·(r/v) overflows where its half fits (r = 1e154 over
    // v = ½); where r = p − t overflows f64 (p = f64::MAX, t = −1e300) while r²/v may fit
    // (v near f64::MAX), from the halves h = p/2 − t/2: ½·r²/v = 2·h·(h/v).
    let r = p - t;
    let quad = if r.is_finite() {
        (0.5 * r) * (r / v)
    } else {
        let h = 0.5 * p - 0.5 * t;
        2.0 * (h * (h / v))
    };
    let mut l = 0.5 * log(v) + quad;
    if full {
        l += 0.5 * log(2.0 * core::f64::consts::PI);
    }
    l
}

/// Tweedie with log-prediction `p = ln μ` and power `ρ ∈ (1, 2)`: the negative
/// log-likelihood `−t·e^((1−ρ)p)/(1−ρ) + e^((2−ρ)p)/(2−ρ)` (XGBoost's `reg:tweedie`), or
/// the unit deviance `2·(t^(2−ρ)/((1−ρ)(2−ρ)) − t·μ^(1−ρ)/(1−ρ) + μ^(2−ρ)/(2−ρ))`
/// (scikit-learn's `mean_tweedie_deviance`). A term with `t = 0` is 0.
pub fn tweedie(p: f64, t: f64, power: f64, deviance: bool) -> f64 {
    let (a, b) = (1.0 - power, 2.0 - power);
    let first = if t == 0.0 { 0.0 } else { mul_exp(t, a * p) / a };
    let nll = -first + exp(b * p) / b;
    if deviance {
        let c = if t == 0.0 {
            0.0
        } else {
            exp(b * log(t)) / (a * b)
        };
        2.0 * (c + nll)
    } else {
        nll
    }
}

/// Gamma with log-prediction `p = ln μ`: the negative log-likelihood `t·e^(−p) + p`
/// (XGBoost's `reg:gamma`), or the unit deviance `2·(ln(μ/t) + t/μ − 1)` (scikit-learn's
/// `mean_gamma_deviance`).
pub fn gamma(p: f64, t: f64, deviance: bool) -> f64 {
    if deviance {
        2.0 * ((p - log(t)) + mul_exp(t, -p) - 1.0)
    } else {
        mul_exp(t, -p) + p
    }
}

/// `t·eˣ` without a spurious overflow or underflow of `eˣ` alone (a tiny `t` beside a
/// large `x`: `1e-40·e^745.2 ≈ 4.3e283`, where `e^745.2` is `∞`): `eˣ` is applied in
/// steps of at most `e⁷⁰⁰`, each rounded once, until the product settles.
fn mul_exp(t: f64, x: f64) -> f64 {
    const STEP: f64 = 700.0;
    let (mut acc, mut rest) = (t, x);
    while rest.abs() > STEP && acc != 0.0 && acc.is_finite() {
        let step = STEP.copysign(rest);
        acc *= exp(step);
        rest -= step;
    }
    acc * exp(rest)
}
