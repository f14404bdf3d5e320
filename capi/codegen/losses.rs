//! The one table of the C API: one entry per loss, and the row utilities. `mod.rs` turns it
//! into `src/generated.rs` (the verbs × f32/f64 per entry); the header follows from that.
//!
//! To add a loss: add an entry here (its `c` name equal to its snake name in losskit's
//! registry, `for_each_pointwise_loss!`, `for_each_aux_pointwise_loss!` or
//! `for_each_row_loss!`), then `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`.

/// A loss as the C API exposes it.
pub struct Loss {
    /// `losskit_<c>_<verb>_<f32|f64>`; the loss's snake name in losskit's registry.
    pub c: &'static str,
    /// What the header calls it.
    pub title: &'static str,
    /// The Rust value built from the C parameters (in scope by their names); a 0/1 flag is
    /// converted with `flag(name)?`, an `int32_t` to a `u8` with `byte(name)?`. The loss
    /// types come from `losskit::prelude`. For a row loss with per-class weights the slice
    /// (`Option<&[T]>`) is in scope under the weights' C name.
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
    /// `int32_t`, a small integer (e.g. an exponent).
    Int,
    /// `int64_t`, a class index (e.g. the ignore index).
    Index,
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
    /// `rows × classes` scores (row-major) and what each row is scored against; helpers in
    /// `checked::rows` (the loss needs its impls there).
    Rows {
        /// The C name of the scores (`logits`, or `log_probs` for the NLL).
        x: &'static str,
        /// What the rows are scored against.
        against: Against,
        /// The C name of the optional per-class weights (`classes` elements, NULL = all 1),
        /// if the loss has them.
        weights: Option<&'static str>,
        /// The verbs losskit has for this loss (a subset of `ROW_VERBS`, in that order).
        verbs: &'static [&'static str],
        /// What `LOSSKIT_REDUCTION_MEAN` divides by.
        mean: &'static str,
        /// The statuses losskit's own checks give after `EMPTY`, in order.
        errors: &'static str,
    },
    /// `rows × classes` logits against `targets` in `[0, 1]` of the same shape, with the
    /// optional per-class `pos_weight` and `class_weights` (both in scope, as
    /// `Option<&[T]>`, for the constructor); the five pointwise verbs, `hessian_diag` with a
    /// `grad_mode`; helpers in `checked::multilabel` (the loss needs its impl there).
    MultiLabel {
        /// What `value_elementwise` writes and what MEAN divides by.
        per: Per,
    },
}

/// How a multi-label loss reduces (`Shape::MultiLabel`).
pub enum Per {
    /// One loss per element; MEAN divides by `rows * classes`.
    Element,
    /// One loss per row, the mean over its classes; MEAN divides by `rows`.
    Row,
}

/// The second input of a row loss.
pub enum Against {
    /// `labels`: `rows` class indices (`int64_t`).
    Labels,
    /// `target_probs`: `rows × classes` target probabilities.
    TargetProbs,
    /// `labels`, and `teacher_logits`: `rows × classes` logits of a teacher.
    LabelsAndTeacher,
}

/// A row utility: `losskit_<c>_<f32|f64>(x, rows, classes, out)`.
pub struct Utility {
    /// The C name, and the name of losskit's function in `losskit::loss::softmax`.
    pub c: &'static str,
    /// What the header calls it.
    pub title: &'static str,
    /// The formula, one line each.
    pub formula: &'static [&'static str],
    /// `out` has `rows` elements (else `rows × classes`).
    pub per_row: bool,
    /// The statuses losskit's own checks give after `EMPTY`, in order.
    pub errors: &'static str,
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

const fn int(name: &'static str, doc: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Int,
        doc,
    }
}

/// PyTorch's `ignore_index`, with the flag that turns it on (`USE_IGNORE_INDEX`).
const IGNORE_INDEX: Param = Param {
    name: "ignore_index",
    kind: Kind::Index,
    doc: "rows whose label equals it are ignored (they contribute 0 and get a zero gradient \
          row); read only when `use_ignore_index` is 1 (PyTorch's default -100)",
};

/// Whether `ignore_index` applies.
const USE_IGNORE_INDEX: Param = flag(
    "use_ignore_index",
    "1: honour `ignore_index` (PyTorch's behaviour); 0: every label must be in 0..classes",
);

/// The verbs of the row losses, in the order the functions appear.
pub const ROW_VERBS: [&str; 7] = [
    "value",
    "value_elementwise",
    "grad",
    "value_and_grad",
    "value_and_grad_in_place",
    "hessian_diag",
    "hvp",
];

/// The four verbs every row loss has but the distillation loss.
const FOUR: &[&str] = &["value", "value_elementwise", "grad", "value_and_grad"];

/// The data errors of the losses on softmax rows.
const SOFTMAX_ERRORS: &str = "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or negative), \
    `LABEL_OUT_OF_RANGE`, `NON_FINITE` (a NaN or +inf logit), `INVALID_INPUT` (a row whose logits are all -inf)";

/// The pointwise losses whose inputs have a domain narrower than the reals (a target in
/// `[0, 1]` or `±1`, a count, a probability): their functions can return `INVALID_INPUT`.
pub const REJECTS_INPUTS: &[&str] = &[
    "poisson_nll",
    "bce",
    "bce_with_logits",
    "sigmoid_focal",
    "soft_margin",
    "hinge",
    "squared_hinge",
    "smooth_hinge",
    "modified_huber",
    "kl_div",
];

/// The element loss of the multi-label BCE.
const MULTILABEL_FORMULA: &[&str] = &[
    "x = logits, y = targets in [0, 1]; for the element of class c, with w[c] = class_weights[c] and",
    "pw[c] = pos_weight[c] (1 where NULL):  l = -w[c] (pw[c] y ln sigmoid(x) + (1 - y) ln sigmoid(-x))",
    "dl/dx = w[c] ((1 + (pw[c] - 1) y) sigmoid(x) - pw[c] y),  d2l/dx2 = w[c] (1 + (pw[c] - 1) y) sigmoid(x) sigmoid(-x)",
];

/// The data errors of the multi-label losses, after `EMPTY`.
pub const MULTILABEL_ERRORS: &str = "`NON_FINITE` or `INVALID_INPUT` (a `pos_weight` entry that is not finite, or negative), \
    `NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or negative), \
    `NON_FINITE` or `INVALID_INPUT` (the first element whose logit or target is not finite, or whose target is outside [0, 1])";

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
        c: "kl_div",
        title: "Kullback-Leibler divergence on log-probabilities (PyTorch `KLDivLoss`)",
        ctor: "KlDiv { log_target: flag(log_target)? }",
        params: &[flag(
            "log_target",
            "1: `target` holds log-probabilities; 0: probabilities, >= 0 (PyTorch's default)",
        )],
        formula: &[
            "x = pred (log-probabilities), t = target",
            "log_target = 0:  l = t (ln t - x) (0 where t = 0),  dl/dpred = -t",
            "log_target = 1:  l = exp(t) (t - x),  dl/dpred = -exp(t);  d2l/dpred2 = 0",
            "PyTorch's reduction=\"batchmean\" is LOSSKIT_REDUCTION_DIVISOR with the number of rows",
            "a negative target when log_target = 0 is LOSSKIT_STATUS_INVALID_INPUT; a -inf pred is LOSSKIT_STATUS_NON_FINITE",
        ],
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
    Loss {
        c: "cross_entropy",
        title: "Softmax cross-entropy with class labels (PyTorch `CrossEntropyLoss`, plus the z-loss and logit soft-capping)",
        ctor: "CrossEntropy { class_weights, ignore_index: flag(use_ignore_index)?.then_some(ignore_index), \
               label_smoothing, smooth_unmasked_only: flag(smooth_unmasked_only)?, z_loss, \
               softcap: (softcap != 0.0).then_some(softcap), backend: None }",
        params: &[
            IGNORE_INDEX,
            USE_IGNORE_INDEX,
            real("label_smoothing", "eps in [0, 1] (default 0)"),
            flag(
                "smooth_unmasked_only",
                "1: spread eps over the classes whose logit is finite only; 0: over all C classes, as PyTorch (default)",
            ),
            real(
                "z_loss",
                "the z-loss coefficient, finite, >= 0 (default 0; PaLM uses 1e-4)",
            ),
            real(
                "softcap",
                "0: no soft-capping (default); else c, finite, > 0 (Gemma 2 uses 30); `hessian_diag` and `hvp` reject soft-capping with `INVALID_PARAMETER`",
            ),
        ],
        formula: &[
            "y = label, w = class weights (1 without), eps = label_smoothing, C = classes",
            "z = logits, or c tanh(logits / c) with softcap c;  p = softmax(z);  lse = log sum_j exp z[j]",
            "l = (1 - eps) w[y] (lse - z[y]) + (eps / C) sum_j w[j] (lse - z[j]) + z_loss lse^2",
            "dl/dz[j] = A p[j] - (1 - eps) w[y] [j = y] - (eps / C) w[j] + 2 z_loss lse p[j],  A = (1 - eps) w[y] + (eps / C) sum_j w[j]",
            "-inf logits are masks (probability 0); a target on a masked class makes the value +inf (the gradient stays finite)",
        ],
        shape: Shape::Rows {
            x: "logits",
            against: Against::Labels,
            weights: Some("class_weights"),
            verbs: &ROW_VERBS,
            mean: "the sum of `w[label]` over the rows not ignored (PyTorch; the z-loss term by the number of those rows); all ignored gives 0",
            errors: SOFTMAX_ERRORS,
        },
    },
    Loss {
        c: "soft_cross_entropy",
        title: "Softmax cross-entropy with target probabilities (PyTorch `CrossEntropyLoss` with a probability target)",
        ctor: "SoftCrossEntropy { class_weights, label_smoothing, backend: None }",
        params: &[real("label_smoothing", "eps in [0, 1] (default 0)")],
        formula: &[
            "t = (1 - eps) target_probs + eps / C,  w = class weights (1 without),  eps = label_smoothing, C = classes",
            "p = softmax(logits),  lse = log sum_j exp logits[j]",
            "l = sum_j w[j] t[j] (lse - logits[j]),  dl/dlogits[j] = (sum_k w[k] t[k]) p[j] - w[j] t[j]",
            "target_probs must be finite (they need not sum to 1); a target of 0 on a -inf logit contributes 0",
        ],
        shape: Shape::Rows {
            x: "logits",
            against: Against::TargetProbs,
            weights: Some("class_weights"),
            verbs: &[
                "value",
                "value_elementwise",
                "grad",
                "value_and_grad",
                "value_and_grad_in_place",
                "hessian_diag",
            ],
            mean: "the number of rows (PyTorch)",
            errors: "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or negative), \
                     `NON_FINITE` (a NaN or +inf logit, a target that is not finite), `INVALID_INPUT` (a row whose logits are all -inf)",
        },
    },
    Loss {
        c: "nll",
        title: "Negative log-likelihood on log-probabilities (PyTorch `NLLLoss`)",
        ctor: "Nll { class_weights, ignore_index: flag(use_ignore_index)?.then_some(ignore_index) }",
        params: &[IGNORE_INDEX, USE_IGNORE_INDEX],
        formula: &[
            "y = label, w = class weights (1 without)",
            "l = -w[y] log_probs[y],  dl/dlog_probs[j] = -w[y] [j = y]",
            "a -inf log-probability (probability 0) at the label makes the value +inf",
        ],
        shape: Shape::Rows {
            x: "log_probs",
            against: Against::Labels,
            weights: Some("class_weights"),
            verbs: FOUR,
            mean: "the sum of `w[label]` over the rows not ignored (PyTorch); all ignored gives 0",
            errors: "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or negative), \
                     `LABEL_OUT_OF_RANGE`, `NON_FINITE` (a NaN or +inf log-probability)",
        },
    },
    Loss {
        c: "softmax_focal",
        title: "Softmax focal loss (Lin et al. 2017, multiclass form)",
        ctor: "SoftmaxFocal { gamma, alpha, ignore_index: flag(use_ignore_index)?.then_some(ignore_index), backend: None }",
        params: &[
            real("gamma", "the focusing exponent, finite, >= 0 (default 2)"),
            IGNORE_INDEX,
            USE_IGNORE_INDEX,
        ],
        formula: &[
            "y = label, p = softmax(logits), p_t = p[y], alpha = per-class balance (1 without)",
            "l = -alpha[y] (1 - p_t)^gamma log p_t",
            "dl/dlogits[j] = K (p[j] - [j = y]),  K = alpha[y] (1 - p_t)^gamma (1 - gamma p_t log p_t / (1 - p_t))",
        ],
        shape: Shape::Rows {
            x: "logits",
            against: Against::Labels,
            weights: Some("alpha"),
            verbs: FOUR,
            mean: "the number of rows not ignored; all ignored gives 0",
            errors: SOFTMAX_ERRORS,
        },
    },
    Loss {
        c: "distillation",
        title: "Knowledge distillation (Hinton et al. 2015): cross-entropy on the labels plus the softened KL divergence to a teacher",
        ctor: "Distillation { alpha, temperature, backend: None }",
        params: &[
            real(
                "alpha",
                "the weight of the label term, in [0, 1] (default 0.5)",
            ),
            real("temperature", "T, finite, > 0 (default 1)"),
        ],
        formula: &[
            "s = logits (the student), t = teacher_logits, y = label, T = temperature",
            "l = alpha CE(s, y) + (1 - alpha) T^2 KL(softmax(t / T) || softmax(s / T))",
            "dl/ds[j] = alpha (softmax(s)[j] - [j = y]) + (1 - alpha) T (softmax(s / T)[j] - softmax(t / T)[j]);  no gradient for the teacher",
        ],
        shape: Shape::Rows {
            x: "logits",
            against: Against::LabelsAndTeacher,
            weights: None,
            verbs: &["value", "grad", "value_and_grad"],
            mean: "the number of rows",
            errors: "`LABEL_OUT_OF_RANGE`, `NON_FINITE` (a NaN or +inf logit of the student or the teacher), \
                     `INVALID_INPUT` (a row whose logits are all -inf)",
        },
    },
    Loss {
        c: "multi_margin",
        title: "Multiclass margin loss, Weston-Watkins (PyTorch `MultiMarginLoss`)",
        ctor: "MultiMargin { p: byte(p)?, margin, class_weights, backend: None }",
        params: &[
            int("p", "the exponent, 1 or 2 (PyTorch's default 1)"),
            real("margin", "finite (default 1)"),
        ],
        formula: &[
            "x = logits, y = label, w = class weights (1 without), C = classes",
            "h[j] = max(0, margin - x[y] + x[j]),  l = (1 / C) sum_{j != y} w[y] h[j]^p",
            "dl/dx[j] = (w[y] / C) p h[j]^(p - 1) for j != y (0 where h[j] = 0),  dl/dx[y] = -sum_{j != y} dl/dx[j]",
        ],
        shape: Shape::Rows {
            x: "logits",
            against: Against::Labels,
            weights: Some("class_weights"),
            verbs: FOUR,
            mean: "the number of rows (PyTorch)",
            errors: "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or negative), \
                     `LABEL_OUT_OF_RANGE`, `NON_FINITE` (a logit that is not finite)",
        },
    },
    Loss {
        c: "multiclass_hinge",
        title: "Multiclass hinge loss, Crammer-Singer (optax `multiclass_hinge_loss`)",
        ctor: "MulticlassHinge { backend: None }",
        params: &[],
        formula: &[
            "x = logits, y = label;  l = max(0, 1 + max_{j != y} x[j] - x[y])",
            "dl/dx = e[j*] - e[y] where l > 0 (j* the first largest other logit), else 0",
        ],
        shape: Shape::Rows {
            x: "logits",
            against: Against::Labels,
            weights: None,
            verbs: FOUR,
            mean: "the number of rows",
            errors: "`LABEL_OUT_OF_RANGE`, `NON_FINITE` (a logit that is not finite)",
        },
    },
    Loss {
        c: "multilabel_bce_with_logits",
        title: "Multi-label binary cross-entropy on logits with per-class `pos_weight` and weights (PyTorch `BCEWithLogitsLoss(weight=[C], pos_weight=[C])`)",
        ctor: "MultiLabelBceWithLogits { pos_weight, class_weights, backend: None }",
        params: &[],
        formula: MULTILABEL_FORMULA,
        shape: Shape::MultiLabel { per: Per::Element },
    },
    Loss {
        c: "multilabel_soft_margin",
        title: "Multi-label soft-margin loss: per row, the mean over the classes of binary cross-entropy on logits (PyTorch `MultiLabelSoftMarginLoss`, plus a per-class `pos_weight`)",
        ctor: "MultiLabelSoftMargin { class_weights, pos_weight, backend: None }",
        params: &[],
        formula: &[
            "x = logits, y = targets in [0, 1]; for the element of class c, with w[c] = class_weights[c] and",
            "pw[c] = pos_weight[c] (1 where NULL):  e = -w[c] (pw[c] y ln sigmoid(x) + (1 - y) ln sigmoid(-x))",
            "l[r] = (1 / C) sum_c e[r, c]  (C = classes);  de/dx = w[c] ((1 + (pw[c] - 1) y) sigmoid(x) - pw[c] y)",
            "d2e/dx2 = w[c] (1 + (pw[c] - 1) y) sigmoid(x) sigmoid(-x);  the derivatives of l[r] are these over C",
        ],
        shape: Shape::MultiLabel { per: Per::Row },
    },
];

/// The row utilities, after the losses.
pub const UTILITIES: &[Utility] = &[
    Utility {
        c: "logsumexp",
        title: "Log-sum-exp of each row",
        formula: &[
            "m[r] = max_j x[r, j];  out[r] = m[r] + log sum_j exp(x[r, j] - m[r])",
            "exact for huge logits; -inf for a row of -inf only",
        ],
        per_row: true,
        errors: "`NON_FINITE` (a NaN or +inf entry)",
    },
    Utility {
        c: "softmax",
        title: "Softmax of each row",
        formula: &[
            "out[r, j] = exp(x[r, j] - lse[r]),  lse[r] = log sum_k exp x[r, k]",
            "each row of out sums to 1; -inf entries give exactly 0",
        ],
        per_row: false,
        errors: "`NON_FINITE` (a NaN or +inf entry), `INVALID_INPUT` (a row of -inf only)",
    },
    Utility {
        c: "log_softmax",
        title: "Log-softmax of each row",
        formula: &[
            "m[r] = max_j x[r, j];  out[r, j] = (x[r, j] - m[r]) - log sum_k exp(x[r, k] - m[r])",
            "never lse - x at the scale of the logits (exact for rows like [1e8, 1e8])",
        ],
        per_row: false,
        errors: "`NON_FINITE` (a NaN or +inf entry), `INVALID_INPUT` (a row of -inf only)",
    },
];
