//! The one table of the C API: one entry per loss. `mod.rs` turns it into
//! `src/generated.rs` (five verbs × f32/f64 per entry); the header follows from that.
//!
//! To add a loss: add an entry here (its `c` name equal to its snake name in losskit's
//! registry), then `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`.

/// A loss as the C API exposes it.
pub struct Loss {
    /// `losskit_<c>_<verb>_<f32|f64>`; the loss's snake name in `for_each_pointwise_loss!`.
    pub c: &'static str,
    /// What the header calls it.
    pub title: &'static str,
    /// The Rust value built from the C parameters (in scope by their names); a 0/1 flag is
    /// converted with `flag(name)?`. The loss types come from `losskit::prelude`.
    pub ctor: &'static str,
    /// The C parameters after the length, in order.
    pub params: &'static [Param],
    /// The formula, one line each (`r = pred − target` unless said otherwise).
    pub formula: &'static [&'static str],
    /// Which checked helpers run it.
    pub shape: Shape,
}

/// A loss parameter passed from C.
pub struct Param {
    /// The C (and Rust) name.
    pub name: &'static str,
    /// Its C type.
    pub kind: Kind,
    /// Its domain and default, for the docs.
    pub doc: &'static str,
}

/// C types of loss parameters.
pub enum Kind {
    /// `double`.
    Real,
    /// `int32_t`, 0 or 1 (anything else is `LOSSKIT_STATUS_INVALID_PARAMETER`).
    Flag,
}

/// The argument layout and helper module of a loss.
pub enum Shape {
    /// `pred`, `target`, optional `weight` (losskit's `PointwiseLoss` verbs); helpers in
    /// `checked::pointwise`.
    Pointwise,
    /// `pred`, `target` and a third per-element input named `aux` (with its gradient
    /// `grad_<aux>`), no weights; helpers in `checked::aux` (the loss needs a line in its
    /// `aux_loss!`).
    PointwiseAux {
        /// The C name of the third input.
        aux: &'static str,
    },
}

const fn real(name: &'static str, doc: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Real,
        doc,
    }
}

const fn flag(name: &'static str, doc: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Flag,
        doc,
    }
}

/// Every loss of the C API, in registry order.
pub const LOSSES: &[Loss] = &[
    Loss {
        c: "mse",
        title: "Mean squared error (PyTorch `MSELoss`)",
        ctor: "Mse",
        params: &[],
        formula: &["l = r^2,  dl/dpred = 2 r,  d2l/dpred2 = 2"],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "mae",
        title: "Mean absolute error (PyTorch `L1Loss`)",
        ctor: "Mae",
        params: &[],
        formula: &["l = |r|,  dl/dpred = sign(r) (0 at r = 0),  d2l/dpred2 = 0"],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "huber",
        title: "Huber loss (PyTorch `HuberLoss`)",
        ctor: "Huber { delta }",
        params: &[real("delta", "finite, > 0 (PyTorch's default 1.0)")],
        formula: &[
            "l = r^2 / 2 if |r| < delta, else delta (|r| - delta / 2)",
            "dl/dpred = clamp(r, -delta, delta),  d2l/dpred2 = 1 if |r| < delta, else 0",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "smooth_l1",
        title: "Smooth L1 loss (PyTorch `SmoothL1Loss`)",
        ctor: "SmoothL1 { beta }",
        params: &[real(
            "beta",
            "finite, >= 0 (PyTorch's default 1.0; 0 is exactly the L1 loss)",
        )],
        formula: &[
            "l = r^2 / (2 beta) if |r| < beta, else |r| - beta / 2",
            "dl/dpred = r / beta or sign(r),  d2l/dpred2 = 1 / beta if |r| < beta, else 0",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "quantile",
        title: "Quantile (pinball) loss",
        ctor: "Quantile { tau }",
        params: &[real(
            "tau",
            "the quantile level, in [0, 1] (0.5: half the MAE)",
        )],
        formula: &[
            "u = target - pred;  l = max(tau u, (tau - 1) u)",
            "dl/dpred = -tau if u > 0, 1 - tau if u < 0, 0 at u = 0;  d2l/dpred2 = 0",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "expectile",
        title: "Expectile loss (asymmetric least squares, XGBoost `reg:expectileerror`)",
        ctor: "Expectile { tau }",
        params: &[real(
            "tau",
            "the expectile level, in [0, 1] (0.5: half the MSE)",
        )],
        formula: &[
            "u = target - pred;  c = |tau - 1{u < 0}|;  l = c u^2",
            "dl/dpred = -2 c u,  d2l/dpred2 = 2 c",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "pseudo_huber",
        title: "Pseudo-Huber loss (Charbonnier, XGBoost `reg:pseudohubererror`)",
        ctor: "PseudoHuber { delta }",
        params: &[real(
            "delta",
            "the slope far out, finite, > 0 (default 1.0)",
        )],
        formula: &[
            "s = sqrt(1 + (r / delta)^2);  l = delta^2 (s - 1)",
            "dl/dpred = r / s,  d2l/dpred2 = 1 / s^3",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "log_cosh",
        title: "Log-cosh loss",
        ctor: "LogCosh",
        params: &[],
        formula: &["l = log(cosh(r)),  dl/dpred = tanh(r),  d2l/dpred2 = 1 / cosh(r)^2"],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "poisson_nll",
        title: "Poisson negative log-likelihood (PyTorch `PoissonNLLLoss`)",
        ctor: "PoissonNll { log_input: flag(log_input)?, full: flag(full)?, eps }",
        params: &[
            flag(
                "log_input",
                "1: `pred` is log(rate) (PyTorch's default); 0: `pred` is the rate, >= 0",
            ),
            flag(
                "full",
                "1: add Stirling's term target ln(target) - target + ln(2 pi target) / 2 where target > 1 (default 0)",
            ),
            real(
                "eps",
                "added to the rate inside the log when log_input is 0; finite, >= 0 (default 1e-8)",
            ),
        ],
        formula: &[
            "log_input = 1:  l = exp(pred) - target pred,  dl/dpred = exp(pred) - target,  d2l/dpred2 = exp(pred)",
            "log_input = 0:  l = pred - target ln(pred + eps),  dl/dpred = 1 - target / (pred + eps)",
            "a negative target (count), or a negative pred when log_input = 0, is LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "bce",
        title: "Binary cross-entropy on probabilities (PyTorch `BCELoss`)",
        ctor: "Bce",
        params: &[],
        formula: &[
            "p = pred in [0, 1], y = target in [0, 1];  l = -(y max(ln p, -100) + (1 - y) max(ln(1 - p), -100))",
            "dl/dpred = -y / max(p, 1e-12) + (1 - y) / max(1 - p, 1e-12) (a term with coefficient 0 is skipped)",
            "inputs outside [0, 1] are LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "bce_with_logits",
        title: "Binary cross-entropy on logits (PyTorch `BCEWithLogitsLoss`)",
        ctor: "BceWithLogits { pos_weight }",
        params: &[real(
            "pos_weight",
            "weight of the positive term, finite, >= 0 (PyTorch's default 1.0)",
        )],
        formula: &[
            "x = pred, y = target in [0, 1];  l = (1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)",
            "dl/dpred = (1 + (pos_weight - 1) y) sigmoid(x) - pos_weight y",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "sigmoid_focal",
        title: "Sigmoid focal loss (torchvision `sigmoid_focal_loss`)",
        ctor: "SigmoidFocal { alpha, gamma }",
        params: &[
            real(
                "alpha",
                "class balance in [0, 1]; a negative alpha disables it (torchvision's default 0.25)",
            ),
            real("gamma", "focusing exponent, finite, >= 0 (default 2.0)"),
        ],
        formula: &[
            "x = pred, y = target in [0, 1], p = sigmoid(x), p_t = p y + (1 - p)(1 - y)",
            "l = alpha_t (1 - p_t)^gamma BCEWithLogits(x, y),  alpha_t = alpha y + (1 - alpha)(1 - y)",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "soft_margin",
        title: "Soft-margin (logistic, labels +-1) loss (PyTorch `SoftMarginLoss`)",
        ctor: "SoftMargin",
        params: &[],
        formula: &[
            "x = pred, y = target in {-1, +1};  l = softplus(-y x),  dl/dpred = -y sigmoid(-y x)",
        ],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "hinge",
        title: "Hinge loss (labels +-1)",
        ctor: "Hinge",
        params: &[],
        formula: &["z = target pred;  l = max(0, 1 - z),  dl/dpred = -target if z < 1, else 0"],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "squared_hinge",
        title: "Squared hinge loss (labels +-1)",
        ctor: "SquaredHinge",
        params: &[],
        formula: &["z = target pred;  l = max(0, 1 - z)^2,  dl/dpred = -2 target max(0, 1 - z)"],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "smooth_hinge",
        title: "Smoothed hinge loss (Rennie and Srebro, labels +-1)",
        ctor: "SmoothHinge",
        params: &[],
        formula: &["z = target pred;  l = 1/2 - z if z <= 0, (1 - z)^2 / 2 if 0 < z < 1, else 0"],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "modified_huber",
        title: "Modified Huber loss (scikit-learn, labels +-1)",
        ctor: "ModifiedHuber",
        params: &[],
        formula: &["z = target pred;  l = -4 z if z < -1, else max(0, 1 - z)^2"],
        shape: Shape::Pointwise,
    },
    Loss {
        c: "gaussian_nll",
        title: "Gaussian negative log-likelihood (PyTorch `GaussianNLLLoss`)",
        ctor: "GaussianNll { full: flag(full)?, eps }",
        params: &[
            flag("full", "1: add the constant ln(2 pi) / 2 (default 0)"),
            real(
                "eps",
                "lower clamp of the variance; finite, > 0 (PyTorch's default 1e-6)",
            ),
        ],
        formula: &[
            "v = max(var, eps);  l = (ln v + r^2 / v) / 2",
            "dl/dpred = r / v,  dl/dvar = (1 / v - r^2 / v^2) / 2 (the clamp is not differentiated),  d2l/dpred2 = 1 / v",
            "a negative var is LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::PointwiseAux { aux: "var" },
    },
];
