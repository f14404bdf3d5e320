//! Classification losses, per element, in f64 with `libm`: the textbook formulas with
//! `if` branches, written independently of the lane kernels.

use libm::{exp, log, log1p, pow};

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + log1p(exp(-x))
    } else {
        log1p(exp(x))
    }
}

/// `1/(1 + e^−x)`.
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// Binary cross-entropy of a probability: `−(y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100))`.
pub fn bce(p: f64, y: f64) -> f64 {
    -(y * log(p).max(-100.0) + (1.0 - y) * log1p(-p).max(-100.0))
}

/// Binary cross-entropy of a logit: `−(w₊·y·ln σ(x) + (1 − y)·ln σ(−x))`, each log as
/// `−softplus(∓x)`.
pub fn bce_with_logits(x: f64, y: f64, pos_weight: f64) -> f64 {
    let pos = if y == 0.0 {
        0.0
    } else {
        pos_weight * y * softplus(-x)
    };
    let negative = if y == 1.0 {
        0.0
    } else {
        (1.0 - y) * softplus(x)
    };
    pos + negative
}

/// `ln(1 + e^(−y·x))`.
pub fn soft_margin(x: f64, y: f64) -> f64 {
    softplus(-y * x)
}

/// torchvision's sigmoid focal loss: `α_t·(1 − p_t)^γ·ce`, with `1 − p_t` written as
/// `y·σ(−x) + (1 − y)·σ(x)` and `α_t = αy + (1 − α)(1 − y)` when `α ≥ 0`.
pub fn sigmoid_focal(x: f64, y: f64, alpha: f64, gamma: f64) -> f64 {
    let ce = bce_with_logits(x, y, 1.0);
    let q = y * sigmoid(-x) + (1.0 - y) * sigmoid(x);
    let alpha_t = if alpha >= 0.0 {
        alpha * y + (1.0 - alpha) * (1.0 - y)
    } else {
        1.0
    };
    alpha_t * pow(q, gamma) * ce
}

/// `max(0, 1 − y·x)`.
pub fn hinge(x: f64, y: f64) -> f64 {
    (1.0 - y * x).max(0.0)
}

/// `max(0, 1 − y·x)²`.
pub fn squared_hinge(x: f64, y: f64) -> f64 {
    let h = hinge(x, y);
    h * h
}

/// Rennie–Srebro smoothed hinge of `z = y·x`: `½ − z`, `½(1 − z)²`, 0.
pub fn smooth_hinge(x: f64, y: f64) -> f64 {
    let z = y * x;
    if z <= 0.0 {
        0.5 - z
    } else if z < 1.0 {
        0.5 * (1.0 - z) * (1.0 - z)
    } else {
        0.0
    }
}

/// scikit-learn's modified Huber of `z = y·x`: `−4z` for `z < −1`, else `max(0, 1 − z)²`.
pub fn modified_huber(x: f64, y: f64) -> f64 {
    let z = y * x;
    if z < -1.0 {
        -4.0 * z
    } else {
        let h = (1.0 - z).max(0.0);
        h * h
    }
}

/// KL divergence term of one element (PyTorch `kl_div`), `x` a log-probability:
/// `t·(ln t − x)` with `0` at `t = 0` (xlogy), or `eᵗ·(t − x)` when `t` is a log-probability.
pub fn kl_div(x: f64, t: f64, log_target: bool) -> f64 {
    if log_target {
        exp(t) * (t - x)
    } else if t == 0.0 {
        0.0
    } else {
        t * (log(t) - x)
    }
}
