//! The one list of losses: every loss's name, Rust type, family, parameters (C types,
//! domains and defaults), formula, PyTorch (or other) equivalent, input domain, shape and
//! verbs, in [`LOSSES`]; the row utilities in [`UTILITIES`].
//!
//! Everything else is made from it or checked against it:
//! * the C API (`capi/codegen/mod.rs` writes every `extern "C"` function and its header
//!   docs from these entries; nothing about a loss is restated there);
//! * the loss tables of the README and of the crate docs (`docs/losses.md`), which a test of
//!   this module regenerates (`LOSSKIT_BLESS=1 cargo test -p losskit --lib registry`) and
//!   fails on when stale;
//! * coverage: a test of this module fails when an entry names conformance vectors that
//!   `tests/data/` does not have; the C API's `tests/coverage.rs` when one has no C
//!   functions;
//! * the generic tests: the property, proptest and no-allocation tests of every pointwise
//!   loss iterate over [`for_each_pointwise_loss!`](crate::for_each_pointwise_loss) (which
//!   adds what a table cannot hold: an instance and the f64 reference), and the test of
//!   this module checks that its names are the pointwise entries of [`LOSSES`], in order.
//!
//! The table is data only: a program that does not read it links none of it.

/// A registered loss.
#[derive(Debug)]
pub struct LossInfo {
    /// Its snake name: the C functions are `losskit_<name>_<verb>_<f32|f64>`.
    pub name: &'static str,
    /// Its Rust type, in `losskit::loss::<family>` (and the prelude).
    pub type_name: &'static str,
    /// The module it is in.
    pub family: Family,
    /// A compact formula for the docs tables (Markdown).
    pub summary: &'static str,
    /// What it equals elsewhere (PyTorch, optax, scikit-learn, XGBoost, a paper), Markdown.
    pub equivalent: &'static str,
    /// The `"loss"` names of its conformance cases in `tests/data/*.json`.
    pub vectors: &'static [&'static str],
    /// What the C header calls it.
    pub title: &'static str,
    /// The Rust value built from its C parameters (in scope by their names); a 0/1 flag is
    /// converted with `flag(name)?`, an `int32_t` to a `u8` with `byte(name)?`. The loss
    /// types come from `losskit::prelude`. For a row loss with per-class weights the slice
    /// (`Option<&[T]>`) is in scope under the weights' C name.
    pub ctor: &'static str,
    /// Its parameters as C passes them (after the length), in order.
    pub params: &'static [Param],
    /// The formula, one line each, plain text (`r = pred − target` unless said otherwise).
    pub formula: &'static [&'static str],
    /// Its inputs, and the verbs it has.
    pub shape: Shape,
}

/// The module a loss is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `losskit::loss::regression`.
    Regression,
    /// `losskit::loss::classification`: binary and multi-label.
    Classification,
    /// `losskit::loss::softmax`: rows of class scores.
    Softmax,
}

impl Family {
    /// The module's name.
    pub fn module(self) -> &'static str {
        match self {
            Family::Regression => "regression",
            Family::Classification => "classification",
            Family::Softmax => "softmax",
        }
    }
}

/// The inputs a pointwise loss is defined on, so that generic tests (and the C API's docs)
/// know which inputs are valid; outside it a loss returns `InvalidInput`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Any real prediction and target (the regression losses).
    Real,
    /// A real prediction (a log-rate or log-mean) and a target `t ≥ 0` (Poisson NLL,
    /// Tweedie; a negative target is `InvalidInput`).
    Count,
    /// A real prediction (a log-mean) and a target `t > 0` (gamma; a target `≤ 0` is
    /// `InvalidInput`).
    Positive,
    /// A probability `p ∈ [0, 1]` and a target `y ∈ [0, 1]` (BCE).
    Probability,
    /// A real logit and a target `y ∈ [0, 1]` (BCE with logits, focal).
    Logit,
    /// A real score and a label `y ∈ {−1, +1}` (soft margin, hinge family).
    Sign,
    /// A log-probability `x ≤ 0` and a target probability `t ≥ 0`, drawn in `[0, 1]` (KL
    /// divergence: a negative target is rejected, one above 1 is not, nor is `x > 0`).
    LogProbability,
}

/// A loss parameter as C passes it.
#[derive(Debug)]
pub struct Param {
    /// The C (and Rust) name.
    pub name: &'static str,
    /// Its C type.
    pub kind: Kind,
    /// Its default: PyTorch's (or the reference implementation's) where it has one, else
    /// the Rust type's `Default`; what a conformance case (`tests/data/*.json`) means when
    /// its `params` omit this parameter. A flag is 0.0 or 1.0, an integer or an index its
    /// value. The C and firmware case generators build a call from a case's `params` and
    /// these.
    pub default: f64,
    /// Its domain and default, in words (the C header's docs).
    pub doc: &'static str,
}

/// C types of loss parameters.
#[derive(Debug)]
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

/// The inputs of a loss and the verbs it has.
#[derive(Debug)]
pub enum Shape {
    /// `pred`, `target`, optional `weight`: [`PointwiseLoss`](crate::PointwiseLoss), every
    /// verb ([`POINTWISE_VERBS`]).
    Pointwise {
        /// The inputs it is defined on.
        domain: Domain,
    },
    /// `pred`, `target` and a third per-element input named `aux` (with its gradient
    /// `grad_<aux>`), no weights; the pointwise verbs.
    PointwiseAux {
        /// The name of the third input.
        aux: &'static str,
    },
    /// `rows × classes` scores (row-major) and what each row is scored against.
    Rows {
        /// The name of the scores (`logits`, or `log_probs` for the NLL).
        x: &'static str,
        /// What the rows are scored against.
        against: Against,
        /// The name of the optional per-class weights (`classes` elements, absent = all 1),
        /// if the loss has them.
        weights: Option<&'static str>,
        /// The verbs it has (a subset of [`ROW_VERBS`], in that order).
        verbs: &'static [&'static str],
        /// What `Reduction::Mean` divides by.
        mean: &'static str,
        /// The data errors its checks give (after an empty input), in order.
        errors: &'static str,
    },
    /// `rows × classes` logits against `targets` in `[0, 1]` of the same shape, with the
    /// optional per-class `pos_weight` and `class_weights`; the pointwise verbs, the
    /// Hessian diagonal with a choice of gradient mode.
    MultiLabel {
        /// What `value_elementwise` writes and what `Reduction::Mean` divides by.
        per: Per,
    },
}

impl Shape {
    /// The verbs of a loss of this shape, in the order the C functions appear.
    pub fn verbs(&self) -> &'static [&'static str] {
        match self {
            Shape::Rows { verbs, .. } => verbs,
            _ => &POINTWISE_VERBS,
        }
    }

    /// How the docs tables describe the shape.
    pub fn describe(&self) -> &'static str {
        match self {
            Shape::Pointwise { .. } => "pointwise",
            Shape::PointwiseAux { .. } => "pointwise, with a third input",
            Shape::Rows { .. } => "rows × classes",
            Shape::MultiLabel { per: Per::Element } => "rows × classes, per element",
            Shape::MultiLabel { per: Per::Row } => "rows × classes, per row",
        }
    }
}

/// How a multi-label loss reduces (`Shape::MultiLabel`).
#[derive(Debug)]
pub enum Per {
    /// One loss per element; mean divides by `rows * classes`.
    Element,
    /// One loss per row, the mean over its classes; mean divides by `rows`.
    Row,
}

/// The second input of a row loss.
#[derive(Debug)]
pub enum Against {
    /// `labels`: `rows` class indices.
    Labels,
    /// `target_probs`: `rows × classes` target probabilities.
    TargetProbs,
    /// `labels`, and `teacher_logits`: `rows × classes` logits of a teacher.
    LabelsAndTeacher,
}

/// A row utility (`losskit::loss::softmax::<name>`; in C `losskit_<name>_<f32|f64>(x, rows,
/// classes, out)`).
#[derive(Debug)]
pub struct Utility {
    /// The name of the function, in Rust and in C.
    pub name: &'static str,
    /// What the C header calls it.
    pub title: &'static str,
    /// The formula, one line each.
    pub formula: &'static [&'static str],
    /// `out` has `rows` elements (else `rows × classes`).
    pub per_row: bool,
    /// The data errors its checks give (after an empty input), in order.
    pub errors: &'static str,
}

impl LossInfo {
    /// The input domain of a pointwise loss (`None` for the other shapes).
    pub fn domain(&self) -> Option<Domain> {
        match self.shape {
            Shape::Pointwise { domain } => Some(domain),
            _ => None,
        }
    }
}

/// The entry named `name`.
pub fn find(name: &str) -> Option<&'static LossInfo> {
    LOSSES.iter().find(|l| l.name == name)
}

/// The domain of the pointwise loss `name` ([`Domain::Real`] for a name that is not a
/// pointwise entry: the registry's test fails on that).
#[doc(hidden)]
pub fn pointwise_domain(name: &str) -> Domain {
    find(name)
        .and_then(LossInfo::domain)
        .unwrap_or(Domain::Real)
}

/// The verbs of a pointwise (and multi-label) loss, in the order the C functions appear.
pub const POINTWISE_VERBS: [&str; 5] = [
    "value",
    "value_elementwise",
    "grad",
    "value_and_grad",
    "hessian_diag",
];

const fn real(name: &'static str, default: f64, doc: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Real,
        default,
        doc,
    }
}

const fn flag(name: &'static str, default: f64, doc: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Flag,
        default,
        doc,
    }
}

const fn int(name: &'static str, default: f64, doc: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Int,
        default,
        doc,
    }
}

/// PyTorch's `ignore_index`, with the flag that turns it on (`USE_IGNORE_INDEX`).
const IGNORE_INDEX: Param = Param {
    name: "ignore_index",
    kind: Kind::Index,
    default: -100.0,
    doc: "rows whose label equals it are ignored (they contribute 0 and get a zero gradient \
          row); read only when `use_ignore_index` is 1 (PyTorch's default -100)",
};

/// Whether `ignore_index` applies.
const USE_IGNORE_INDEX: Param = flag(
    "use_ignore_index",
    1.0,
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
const SOFTMAX_ERRORS: &str = "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or neither 0 nor in [2^-64, 2^64]), \
    `LABEL_OUT_OF_RANGE`, `NON_FINITE` (a NaN or +inf logit), `INVALID_INPUT` (a row whose logits are all -inf)";

/// The element loss of the multi-label BCE.
const MULTILABEL_FORMULA: &[&str] = &[
    "x = logits, y = targets in [0, 1]; for the element of class c, with w[c] = class_weights[c] and",
    "pw[c] = pos_weight[c] (1 where NULL):  l = -w[c] (pw[c] y ln sigmoid(x) + (1 - y) ln sigmoid(-x))",
    "dl/dx = w[c] ((1 + (pw[c] - 1) y) sigmoid(x) - pw[c] y),  d2l/dx2 = w[c] (1 + (pw[c] - 1) y) sigmoid(x) sigmoid(-x)",
];

/// The data errors of the multi-label losses (after an empty input), in order.
pub const MULTILABEL_ERRORS: &str = "`NON_FINITE` or `INVALID_INPUT` (a `pos_weight` entry that is not finite, or negative), \
    `NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or neither 0 nor in [2^-64, 2^64]), \
    `NON_FINITE` or `INVALID_INPUT` (the first element whose logit or target is not finite, or whose target is outside [0, 1])";

/// Every loss, in the order of the C functions and of the docs tables.
pub const LOSSES: &[LossInfo] = &[
    LossInfo {
        name: "mse",
        type_name: "Mse",
        family: Family::Regression,
        summary: "`(p − t)²`",
        equivalent: "`torch.nn.MSELoss`",
        vectors: &["mse"],
        title: "Mean squared error (PyTorch `MSELoss`)",
        ctor: "Mse",
        params: &[],
        formula: &["l = r^2,  dl/dpred = 2 r,  d2l/dpred2 = 2"],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "mae",
        type_name: "Mae",
        family: Family::Regression,
        summary: "`\\|p − t\\|`",
        equivalent: "`torch.nn.L1Loss`",
        vectors: &["mae"],
        title: "Mean absolute error (PyTorch `L1Loss`)",
        ctor: "Mae",
        params: &[],
        formula: &["l = |r|,  dl/dpred = sign(r) (0 at r = 0),  d2l/dpred2 = 0"],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "huber",
        type_name: "Huber",
        family: Family::Regression,
        summary: "`½r²` or `δ(\\|r\\| − ½δ)`",
        equivalent: "`torch.nn.HuberLoss`",
        vectors: &["huber"],
        title: "Huber loss (PyTorch `HuberLoss`)",
        ctor: "Huber { delta }",
        params: &[real(
            "delta",
            1.0,
            "in [2⁻¹²⁶, f32::MAX] (PyTorch's default 1.0)",
        )],
        formula: &[
            "l = r^2 / 2 if |r| < delta, else delta (|r| - delta / 2)",
            "dl/dpred = clamp(r, -delta, delta),  d2l/dpred2 = 1 if |r| < delta, else 0",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "smooth_l1",
        type_name: "SmoothL1",
        family: Family::Regression,
        summary: "`½r²/β` or `\\|r\\| − ½β`",
        equivalent: "`torch.nn.SmoothL1Loss`",
        vectors: &["smooth_l1"],
        title: "Smooth L1 loss (PyTorch `SmoothL1Loss`)",
        ctor: "SmoothL1 { beta }",
        params: &[real(
            "beta",
            1.0,
            "finite, >= 0 (PyTorch's default 1.0; 0 is exactly the L1 loss)",
        )],
        formula: &[
            "l = r^2 / (2 beta) if |r| < beta, else |r| - beta / 2",
            "dl/dpred = r / beta or sign(r),  d2l/dpred2 = 1 / beta if |r| < beta, else 0",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "quantile",
        type_name: "Quantile",
        family: Family::Regression,
        summary: "`max(τr, (τ−1)r)`, `r = t − p`",
        equivalent: "pinball loss (no PyTorch module)",
        vectors: &["quantile"],
        title: "Quantile (pinball) loss",
        ctor: "Quantile { tau }",
        params: &[real(
            "tau",
            0.5,
            "the quantile level, in [0, 1] (0.5: half the MAE)",
        )],
        formula: &[
            "u = target - pred;  l = max(tau u, (tau - 1) u)",
            "dl/dpred = -tau if u > 0, 1 - tau if u < 0, 0 at u = 0;  d2l/dpred2 = 0",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "expectile",
        type_name: "Expectile",
        family: Family::Regression,
        summary: "`\\|τ − 1{r<0}\\| r²`",
        equivalent: "XGBoost `reg:expectileerror`",
        vectors: &["expectile"],
        title: "Expectile loss (asymmetric least squares, XGBoost `reg:expectileerror`)",
        ctor: "Expectile { tau }",
        params: &[real(
            "tau",
            0.5,
            "the expectile level, in [0, 1] (0.5: half the MSE)",
        )],
        formula: &[
            "u = target - pred;  c = |tau - 1{u < 0}|;  l = c u^2",
            "dl/dpred = -2 c u,  d2l/dpred2 = 2 c",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "pseudo_huber",
        type_name: "PseudoHuber",
        family: Family::Regression,
        summary: "`δ²(√(1 + r²/δ²) − 1)`",
        equivalent: "XGBoost `reg:pseudohubererror`",
        vectors: &["pseudo_huber"],
        title: "Pseudo-Huber loss (Charbonnier, XGBoost `reg:pseudohubererror`)",
        ctor: "PseudoHuber { delta }",
        params: &[real(
            "delta",
            1.0,
            "the slope far out, in [2⁻¹²⁶, f32::MAX] (default 1.0)",
        )],
        formula: &[
            "s = sqrt(1 + (r / delta)^2);  l = delta^2 (s - 1)",
            "dl/dpred = r / s,  d2l/dpred2 = 1 / s^3",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "log_cosh",
        type_name: "LogCosh",
        family: Family::Regression,
        summary: "`log cosh r`",
        equivalent: "Keras `LogCosh`",
        vectors: &["log_cosh"],
        title: "Log-cosh loss",
        ctor: "LogCosh",
        params: &[],
        formula: &["l = log(cosh(r)),  dl/dpred = tanh(r),  d2l/dpred2 = 1 / cosh(r)^2"],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "barron",
        type_name: "Barron",
        family: Family::Regression,
        summary: "`\\|α−2\\|/α · ((r²/c²/\\|α−2\\| + 1)^(α/2) − 1)`; Welsch, Cauchy, Charbonnier, L2 at α = −∞, 0, 1, 2; also `∂L/∂α`",
        equivalent: "Barron 2019, `robust_loss` `lossfun`",
        vectors: &["barron"],
        title: "Barron's general robust loss with shape alpha and scale c (J. T. Barron, \"A General and Adaptive Robust Loss Function\", CVPR 2019)",
        ctor: "Barron { alpha, scale }",
        params: &[
            real(
                "alpha",
                1.0,
                "the shape: -INFINITY (Welsch) or finite with |alpha| <= 2^64; NaN and \
                 +INFINITY are invalid (1: Charbonnier, the default; 2: L2; 0: Cauchy; -2: \
                 Geman-McClure)",
            ),
            real(
                "scale",
                1.0,
                "c, the width of the quadratic bowl around 0: in [2^-63, 2^63] (default 1)",
            ),
        ],
        formula: &[
            "x = r / scale, b = |alpha - 2|:  l = b / alpha ((x^2 / b + 1)^(alpha / 2) - 1), with the limits",
            "x^2 / 2 (alpha = 2), log(1 + x^2 / 2) (alpha = 0), 1 - exp(-x^2 / 2) (alpha = -inf)",
            "dl/dpred = x / scale (1 + x^2 / b)^(alpha / 2 - 1)",
            "d2l/dpred2 = (1 + x^2 / b)^(alpha / 2 - 1) (1 + (alpha - 2) x^2 / (x^2 + b)) / scale^2",
            "dL/dalpha (for the adaptive loss): losskit_barron_grad_alpha_f32 / _f64",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Real,
        },
    },
    LossInfo {
        name: "poisson_nll",
        type_name: "PoissonNll",
        family: Family::Regression,
        summary: "`eᵖ − tp` or `p − t ln(p + ε)`",
        equivalent: "`torch.nn.PoissonNLLLoss`",
        vectors: &["poisson_nll"],
        title: "Poisson negative log-likelihood (PyTorch `PoissonNLLLoss`)",
        ctor: "PoissonNll { log_input: flag(log_input)?, full: flag(full)?, eps }",
        params: &[
            flag(
                "log_input",
                1.0,
                "1: `pred` is log(rate) (PyTorch's default); 0: `pred` is the rate, >= 0",
            ),
            flag(
                "full",
                0.0,
                "1: add Stirling's term target ln(target) - target + ln(2 pi target) / 2 where target > 1 (default 0)",
            ),
            real(
                "eps",
                1e-8,
                "added to the rate inside the log when log_input is 0; 0 or in [f32::MIN_POSITIVE, f32::MAX] (default 1e-8)",
            ),
        ],
        formula: &[
            "log_input = 1:  l = exp(pred) - target pred,  dl/dpred = exp(pred) - target,  d2l/dpred2 = exp(pred)",
            "log_input = 0:  l = pred - target ln(pred + eps),  dl/dpred = 1 - target / (pred + eps)",
            "a negative target (count), or a negative pred when log_input = 0, is LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Count,
        },
    },
    LossInfo {
        name: "tweedie",
        type_name: "Tweedie",
        family: Family::Regression,
        summary: "`ℓ = y e^((1−ρ)s)/(ρ−1) + e^((2−ρ)s)/(2−ρ)` or the deviance `2(ℓ(s) − ℓ(ln y))`, `s = ln μ`",
        equivalent: "XGBoost `reg:tweedie`, LightGBM `tweedie`; scikit-learn `mean_tweedie_deviance`",
        vectors: &["tweedie"],
        title: "Tweedie loss on log-predictions (XGBoost `reg:tweedie`, scikit-learn `mean_tweedie_deviance`)",
        ctor: "Tweedie { power, deviance: flag(deviance)? }",
        params: &[
            real(
                "power",
                1.5,
                "the variance power rho, finite, strictly between 1 and 2 (XGBoost's tweedie_variance_power; default 1.5)",
            ),
            flag(
                "deviance",
                0.0,
                "0: the negative log-likelihood (XGBoost's and LightGBM's objective; default); 1: the unit deviance (scikit-learn)",
            ),
        ],
        formula: &[
            "s = pred = ln(mu), y = target >= 0, a = power - 1, b = 2 - power, A = y exp(-a s), B = exp(b s)",
            "deviance = 0:  l = A / a + B / b,  dl/dpred = B - A,  d2l/dpred2 = a A + b B",
            "deviance = 1:  l = 2 (A / a + B / b - y^b / (a b)),  dl/dpred = 2 (B - A),  d2l/dpred2 = 2 (a A + b B)",
            "a negative target is LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Count,
        },
    },
    LossInfo {
        name: "gamma",
        type_name: "Gamma",
        family: Family::Regression,
        summary: "`ℓ = y e^(−s) + s` or the deviance `2(ln(μ/y) + y/μ − 1)`, `s = ln μ`",
        equivalent: "XGBoost `reg:gamma`, LightGBM `gamma`; scikit-learn `mean_gamma_deviance`",
        vectors: &["gamma"],
        title: "Gamma loss on log-predictions (XGBoost `reg:gamma`, scikit-learn `mean_gamma_deviance`)",
        ctor: "Gamma { deviance: flag(deviance)? }",
        params: &[flag(
            "deviance",
            0.0,
            "0: the negative log-likelihood (XGBoost's and LightGBM's objective; default); 1: the unit deviance (scikit-learn)",
        )],
        formula: &[
            "s = pred = ln(mu), y = target > 0, A = y exp(-s)",
            "deviance = 0:  l = A + s,  dl/dpred = 1 - A,  d2l/dpred2 = A",
            "deviance = 1:  l = 2 (ln(mu / y) + A - 1),  dl/dpred = 2 (1 - A),  d2l/dpred2 = 2 A",
            "a target <= 0 is LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Positive,
        },
    },
    LossInfo {
        name: "bce",
        type_name: "Bce",
        family: Family::Classification,
        summary: "`−(y ln p + (1−y) ln(1−p))`, logs ≥ −100",
        equivalent: "`torch.nn.BCELoss`",
        vectors: &["bce"],
        title: "Binary cross-entropy on probabilities (PyTorch `BCELoss`)",
        ctor: "Bce",
        params: &[],
        formula: &[
            "p = pred in [0, 1], y = target in [0, 1];  l = -(y max(ln p, -100) + (1 - y) max(ln(1 - p), -100))",
            "dl/dpred = -y / max(p, 1e-12) + (1 - y) / max(1 - p, 1e-12) (a term with coefficient 0 is skipped)",
            "inputs outside [0, 1] are LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Probability,
        },
    },
    LossInfo {
        name: "bce_with_logits",
        type_name: "BceWithLogits",
        family: Family::Classification,
        summary: "`(1−y)x + (1 + (w₊−1)y) softplus(−x)`",
        equivalent: "`torch.nn.BCEWithLogitsLoss`",
        vectors: &["bce_with_logits"],
        title: "Binary cross-entropy on logits (PyTorch `BCEWithLogitsLoss`)",
        ctor: "BceWithLogits { pos_weight }",
        params: &[real(
            "pos_weight",
            1.0,
            "weight of the positive term, in [0, f32::MAX] (PyTorch's default 1.0)",
        )],
        formula: &[
            "x = pred, y = target in [0, 1];  l = (1 - y) x + (1 + (pos_weight - 1) y) softplus(-x)",
            "dl/dpred = (1 + (pos_weight - 1) y) sigmoid(x) - pos_weight y",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Logit,
        },
    },
    LossInfo {
        name: "sigmoid_focal",
        type_name: "SigmoidFocal",
        family: Family::Classification,
        summary: "`α_t (1 − p_t)^γ · BCE(x, y)`",
        equivalent: "torchvision `sigmoid_focal_loss`",
        vectors: &["sigmoid_focal"],
        title: "Sigmoid focal loss (torchvision `sigmoid_focal_loss`)",
        ctor: "SigmoidFocal { alpha, gamma }",
        params: &[
            real(
                "alpha",
                0.25,
                "class balance in [0, 1]; a negative alpha disables it (torchvision's default 0.25)",
            ),
            real(
                "gamma",
                2.0,
                "focusing exponent, in [0, f32::MAX] (default 2.0)",
            ),
        ],
        formula: &[
            "x = pred, y = target in [0, 1], p = sigmoid(x), p_t = p y + (1 - p)(1 - y)",
            "l = alpha_t (1 - p_t)^gamma BCEWithLogits(x, y),  alpha_t = alpha y + (1 - alpha)(1 - y)",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Logit,
        },
    },
    LossInfo {
        name: "soft_margin",
        type_name: "SoftMargin",
        family: Family::Classification,
        summary: "`softplus(−yx)`, `y = ±1`",
        equivalent: "`torch.nn.SoftMarginLoss`",
        vectors: &["logistic_pm1"],
        title: "Soft-margin (logistic, labels +-1) loss (PyTorch `SoftMarginLoss`)",
        ctor: "SoftMargin",
        params: &[],
        formula: &[
            "x = pred, y = target in {-1, +1};  l = softplus(-y x),  dl/dpred = -y sigmoid(-y x)",
        ],
        shape: Shape::Pointwise {
            domain: Domain::Sign,
        },
    },
    LossInfo {
        name: "hinge",
        type_name: "Hinge",
        family: Family::Classification,
        summary: "`max(0, 1 − yx)`",
        equivalent: "scikit-learn `hinge`, Keras `Hinge`",
        vectors: &["hinge"],
        title: "Hinge loss (labels +-1)",
        ctor: "Hinge",
        params: &[],
        formula: &["z = target pred;  l = max(0, 1 - z),  dl/dpred = -target if z < 1, else 0"],
        shape: Shape::Pointwise {
            domain: Domain::Sign,
        },
    },
    LossInfo {
        name: "squared_hinge",
        type_name: "SquaredHinge",
        family: Family::Classification,
        summary: "`max(0, 1 − yx)²`",
        equivalent: "scikit-learn `squared_hinge`, Keras `SquaredHinge`",
        vectors: &["squared_hinge"],
        title: "Squared hinge loss (labels +-1)",
        ctor: "SquaredHinge",
        params: &[],
        formula: &["z = target pred;  l = max(0, 1 - z)^2,  dl/dpred = -2 target max(0, 1 - z)"],
        shape: Shape::Pointwise {
            domain: Domain::Sign,
        },
    },
    LossInfo {
        name: "smooth_hinge",
        type_name: "SmoothHinge",
        family: Family::Classification,
        summary: "`½ − z`, `½(1 − z)²` or 0, `z = yx`",
        equivalent: "Rennie–Srebro smoothed hinge",
        vectors: &["smooth_hinge"],
        title: "Smoothed hinge loss (Rennie and Srebro, labels +-1)",
        ctor: "SmoothHinge",
        params: &[],
        formula: &["z = target pred;  l = 1/2 - z if z <= 0, (1 - z)^2 / 2 if 0 < z < 1, else 0"],
        shape: Shape::Pointwise {
            domain: Domain::Sign,
        },
    },
    LossInfo {
        name: "modified_huber",
        type_name: "ModifiedHuber",
        family: Family::Classification,
        summary: "`−4z` or `max(0, 1 − z)²`, `z = yx`",
        equivalent: "scikit-learn `modified_huber`",
        vectors: &["modified_huber"],
        title: "Modified Huber loss (scikit-learn, labels +-1)",
        ctor: "ModifiedHuber",
        params: &[],
        formula: &["z = target pred;  l = -4 z if z < -1, else max(0, 1 - z)^2"],
        shape: Shape::Pointwise {
            domain: Domain::Sign,
        },
    },
    LossInfo {
        name: "kl_div",
        type_name: "KlDiv",
        family: Family::Classification,
        summary: "`t(ln t − p)` (0 at `t = 0`)",
        equivalent: "`torch.nn.KLDivLoss`",
        vectors: &["kl_div"],
        title: "Kullback-Leibler divergence on log-probabilities (PyTorch `KLDivLoss`)",
        ctor: "KlDiv { log_target: flag(log_target)? }",
        params: &[flag(
            "log_target",
            0.0,
            "1: `target` holds log-probabilities; 0: probabilities, >= 0 (PyTorch's default)",
        )],
        formula: &[
            "x = pred (log-probabilities), t = target",
            "log_target = 0:  l = t (ln t - x) (0 where t = 0),  dl/dpred = -t",
            "log_target = 1:  l = exp(t) (t - x),  dl/dpred = -exp(t);  d2l/dpred2 = 0",
            "PyTorch's reduction=\"batchmean\" is LOSSKIT_REDUCTION_DIVISOR with the number of rows",
            "a negative target when log_target = 0 is LOSSKIT_STATUS_INVALID_INPUT; a -inf pred is LOSSKIT_STATUS_NON_FINITE",
        ],
        shape: Shape::Pointwise {
            domain: Domain::LogProbability,
        },
    },
    LossInfo {
        name: "gaussian_nll",
        type_name: "GaussianNll",
        family: Family::Regression,
        summary: "`½(ln v + r²/v)`",
        equivalent: "`torch.nn.GaussianNLLLoss`",
        vectors: &["gaussian_nll"],
        title: "Gaussian negative log-likelihood (PyTorch `GaussianNLLLoss`)",
        ctor: "GaussianNll { full: flag(full)?, eps }",
        params: &[
            flag("full", 0.0, "1: add the constant ln(2 pi) / 2 (default 0)"),
            real(
                "eps",
                1e-6,
                "lower clamp of the variance; in [2⁻¹²⁶, f32::MAX] (PyTorch's default 1e-6)",
            ),
        ],
        formula: &[
            "v = max(var, eps);  l = (ln v + r^2 / v) / 2",
            "dl/dpred = r / v,  dl/dvar = (1 / v - r^2 / v^2) / 2 (the clamp is not differentiated),  d2l/dpred2 = 1 / v",
            "a negative var is LOSSKIT_STATUS_INVALID_INPUT",
        ],
        shape: Shape::PointwiseAux { aux: "var" },
    },
    LossInfo {
        name: "cross_entropy",
        type_name: "CrossEntropy",
        family: Family::Softmax,
        summary: "`(1−ε)w_y(lse − x_y) + (ε/C)Σwⱼ(lse − xⱼ) + z·lse²`",
        equivalent: "`torch.nn.CrossEntropyLoss` (+ z-loss, soft-capping)",
        vectors: &["cross_entropy"],
        title: "Softmax cross-entropy with class labels (PyTorch `CrossEntropyLoss`, plus the z-loss and logit soft-capping)",
        ctor: "CrossEntropy { class_weights, ignore_index: flag(use_ignore_index)?.then_some(ignore_index), \
               label_smoothing, smooth_unmasked_only: flag(smooth_unmasked_only)?, z_loss, \
               softcap: (softcap != 0.0).then_some(softcap) }",
        params: &[
            IGNORE_INDEX,
            USE_IGNORE_INDEX,
            real("label_smoothing", 0.0, "eps in [0, 1] (default 0)"),
            flag(
                "smooth_unmasked_only",
                0.0,
                "1: spread eps over the classes whose logit is finite only; 0: over all C classes, as PyTorch (default)",
            ),
            real(
                "z_loss",
                0.0,
                "the z-loss coefficient, in [0, f32::MAX] (default 0; PaLM uses 1e-4)",
            ),
            real(
                "softcap",
                0.0,
                "0: no soft-capping (default); else c in [2⁻¹²⁶, f32::MAX] (Gemma 2 uses 30); `hessian_diag` and `hvp` reject soft-capping with `INVALID_PARAMETER`",
            ),
        ],
        formula: &[
            "y = label, w = class weights (1 without), eps = label_smoothing, C = classes",
            "z = logits, or c tanh(logits / c) with softcap c (a -inf logit stays -inf: a mask, gradient 0);  p = softmax(z);  lse = log sum_j exp z[j]",
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
    LossInfo {
        name: "soft_cross_entropy",
        type_name: "SoftCrossEntropy",
        family: Family::Softmax,
        summary: "`Σ wⱼt'ⱼ(lse − xⱼ)`",
        equivalent: "`torch.nn.CrossEntropyLoss` with probability targets",
        vectors: &["cross_entropy_dense"],
        title: "Softmax cross-entropy with target probabilities (PyTorch `CrossEntropyLoss` with a probability target)",
        ctor: "SoftCrossEntropy { class_weights, label_smoothing }",
        params: &[real("label_smoothing", 0.0, "eps in [0, 1] (default 0)")],
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
            errors: "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or neither 0 nor in [2^-64, 2^64]), \
                     `NON_FINITE` (a NaN or +inf logit, a target that is not finite), `INVALID_INPUT` (a row whose logits are all -inf)",
        },
    },
    LossInfo {
        name: "poly1",
        type_name: "Poly1",
        family: Family::Softmax,
        summary: "`CE + ε·w_y(1 − p_t)`, `p_t = Σ y'ⱼpⱼ` (`y'` the smoothed one-hot)",
        equivalent: "Poly-1 of PolyLoss (Leng et al. 2022), on `torch.nn.CrossEntropyLoss`",
        vectors: &["poly1"],
        title: "Poly-1 loss (Leng et al. 2022, PolyLoss): softmax cross-entropy plus epsilon (1 - p_t), with PyTorch's class weights, ignore_index and label smoothing",
        ctor: "Poly1 { epsilon, class_weights, ignore_index: flag(use_ignore_index)?.then_some(ignore_index), \
               label_smoothing, smooth_unmasked_only: flag(smooth_unmasked_only)? }",
        params: &[
            real(
                "epsilon",
                1.0,
                "the weight of 1 - p_t, in [-1, f32::MAX] (default 1; 0 gives cross_entropy)",
            ),
            IGNORE_INDEX,
            USE_IGNORE_INDEX,
            real("label_smoothing", 0.0, "a in [0, 1] (default 0)"),
            flag(
                "smooth_unmasked_only",
                0.0,
                "1: spread a over the classes whose logit is finite only; 0: over all C classes, as PyTorch (default)",
            ),
        ],
        formula: &[
            "y = label, w = class weights (1 without), a = label_smoothing, C = classes (the finite ones with smooth_unmasked_only)",
            "p = softmax(logits),  lse = log sum_j exp logits[j],  CE = (1 - a) w[y] (lse - logits[y]) + (a / C) sum_j w[j] (lse - logits[j])",
            "p_t = (1 - a) p[y] + a / C (the paper's sum_j t[j] p[j], t the smoothed one-hot);  l = CE + epsilon w[y] (1 - p_t)",
            "dl/dlogits[j] = (A + K) p[j] - (a / C) w[j] - ((1 - a) w[y] + K) [j = y],  A = (1 - a) w[y] + (a / C) sum_j w[j],  K = epsilon w[y] (1 - a) p[y]",
            "-inf logits are masks (probability 0); a target on a masked class makes the value +inf (the gradient stays finite)",
        ],
        shape: Shape::Rows {
            x: "logits",
            against: Against::Labels,
            weights: Some("class_weights"),
            verbs: &[
                "value",
                "value_elementwise",
                "grad",
                "value_and_grad",
                "value_and_grad_in_place",
            ],
            mean: "the sum of `w[label]` over the rows not ignored (PyTorch's cross-entropy; the epsilon term included); all ignored gives 0",
            errors: SOFTMAX_ERRORS,
        },
    },
    LossInfo {
        name: "nll",
        type_name: "Nll",
        family: Family::Softmax,
        summary: "`−w_y x_y`",
        equivalent: "`torch.nn.NLLLoss`",
        vectors: &["nll"],
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
            errors: "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or neither 0 nor in [2^-64, 2^64]), \
                     `LABEL_OUT_OF_RANGE`, `NON_FINITE` (a NaN or +inf log-probability)",
        },
    },
    LossInfo {
        name: "softmax_focal",
        type_name: "SoftmaxFocal",
        family: Family::Softmax,
        summary: "`−α_y(1 − p_y)^γ log p_y`",
        equivalent: "focal loss, multiclass (Lin et al. 2017)",
        vectors: &["softmax_focal"],
        title: "Softmax focal loss (Lin et al. 2017, multiclass form)",
        ctor: "SoftmaxFocal { gamma, alpha, ignore_index: flag(use_ignore_index)?.then_some(ignore_index) }",
        params: &[
            real(
                "gamma",
                2.0,
                "the focusing exponent, in [0, f32::MAX] (default 2)",
            ),
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
    LossInfo {
        name: "distillation",
        type_name: "Distillation",
        family: Family::Softmax,
        summary: "`α·CE + (1−α)T²·KL(q_T ‖ p_T)`",
        equivalent: "knowledge distillation (Hinton et al. 2015)",
        vectors: &["distillation"],
        title: "Knowledge distillation (Hinton et al. 2015): cross-entropy on the labels plus the softened KL divergence to a teacher",
        ctor: "Distillation { alpha, temperature }",
        params: &[
            real(
                "alpha",
                0.5,
                "the weight of the label term, in [0, 1] (default 0.5)",
            ),
            real("temperature", 1.0, "T in [2⁻¹²⁶, 2¹²⁶] (default 1)"),
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
    LossInfo {
        name: "multi_margin",
        type_name: "MultiMargin",
        family: Family::Softmax,
        summary: "`Σ_{j≠y} w_y max(0, m − x_y + xⱼ)^p / C`",
        equivalent: "`torch.nn.MultiMarginLoss`",
        vectors: &["multi_margin"],
        title: "Multiclass margin loss, Weston-Watkins (PyTorch `MultiMarginLoss`)",
        ctor: "MultiMargin { p: byte(p)?, margin, class_weights }",
        params: &[
            int("p", 1.0, "the exponent, 1 or 2 (PyTorch's default 1)"),
            real("margin", 1.0, "in [-f32::MAX, f32::MAX] (default 1)"),
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
            errors: "`NON_FINITE` or `INVALID_INPUT` (a class weight that is not finite, or neither 0 nor in [2^-64, 2^64]), \
                     `LABEL_OUT_OF_RANGE`, `NON_FINITE` (a logit that is not finite)",
        },
    },
    LossInfo {
        name: "multiclass_hinge",
        type_name: "MulticlassHinge",
        family: Family::Softmax,
        summary: "`max(0, 1 + max_{j≠y} xⱼ − x_y)`",
        equivalent: "optax `multiclass_hinge_loss`",
        vectors: &["multiclass_hinge"],
        title: "Multiclass hinge loss, Crammer-Singer (optax `multiclass_hinge_loss`)",
        ctor: "MulticlassHinge",
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
    LossInfo {
        name: "multilabel_bce_with_logits",
        type_name: "MultiLabelBceWithLogits",
        family: Family::Classification,
        summary: "`w_c((1−y)x + (1 + (w₊_c−1)y) softplus(−x))`",
        equivalent: "`torch.nn.BCEWithLogitsLoss(weight=[C], pos_weight=[C])`",
        vectors: &["multilabel_bce_with_logits"],
        title: "Multi-label binary cross-entropy on logits with per-class `pos_weight` and weights (PyTorch `BCEWithLogitsLoss(weight=[C], pos_weight=[C])`)",
        ctor: "MultiLabelBceWithLogits { pos_weight, class_weights }",
        params: &[],
        formula: MULTILABEL_FORMULA,
        shape: Shape::MultiLabel { per: Per::Element },
    },
    LossInfo {
        name: "multilabel_soft_margin",
        type_name: "MultiLabelSoftMargin",
        family: Family::Classification,
        summary: "per row `(1/C) Σ_c w_c BCE(x_c, y_c)`",
        equivalent: "`torch.nn.MultiLabelSoftMarginLoss`",
        vectors: &["multilabel_soft_margin"],
        title: "Multi-label soft-margin loss: per row, the mean over the classes of binary cross-entropy on logits (PyTorch `MultiLabelSoftMarginLoss`, plus a per-class `pos_weight`)",
        ctor: "MultiLabelSoftMargin { class_weights, pos_weight }",
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

/// The row utilities (`logsumexp`, `softmax`, `log_softmax`).
pub const UTILITIES: &[Utility] = &[
    Utility {
        name: "logsumexp",
        title: "Log-sum-exp of each row",
        formula: &[
            "m[r] = max_j x[r, j];  out[r] = m[r] + log sum_j exp(x[r, j] - m[r])",
            "exact for huge logits; -inf for a row of -inf only",
        ],
        per_row: true,
        errors: "`NON_FINITE` (a NaN or +inf entry)",
    },
    Utility {
        name: "softmax",
        title: "Softmax of each row",
        formula: &[
            "out[r, j] = exp(x[r, j] - lse[r]),  lse[r] = log sum_k exp x[r, k]",
            "each row of out sums to 1; -inf entries give exactly 0",
        ],
        per_row: false,
        errors: "`NON_FINITE` (a NaN or +inf entry), `INVALID_INPUT` (a row of -inf only)",
    },
    Utility {
        name: "log_softmax",
        title: "Log-softmax of each row",
        formula: &[
            "m[r] = max_j x[r, j];  out[r, j] = (x[r, j] - m[r]) - log sum_k exp(x[r, k] - m[r])",
            "never lse - x at the scale of the logits (exact for rows like [1e8, 1e8])",
        ],
        per_row: false,
        errors: "`NON_FINITE` (a NaN or +inf entry), `INVALID_INPUT` (a row of -inf only)",
    },
];

/// Calls `$m!` with every two-input pointwise loss as
/// `(snake_name, an instance with representative parameters, |p, t| reference value,
/// input domain, |f| the instance from named parameters)`: what the table [`LOSSES`] cannot
/// hold (a value of the type, the f64 reference, the constructor), and the domain looked up
/// in the table.
///
/// The last closure builds the loss from a conformance case's parameters: `f(name)` returns
/// the case's value of the C parameter `name` (a flag as 0 or 1) or, when the case leaves it
/// out, its [`Param::default`], so the conformance runners need no line per loss.
///
/// The domain ([`Domain`]) says which inputs the loss is defined on, so that generic tests
/// can draw valid inputs with `Domain::place`. A test of this module checks that the names
/// are the pointwise entries of [`LOSSES`], in order.
///
/// The Gaussian NLL (three inputs) is listed by
/// [`for_each_aux_pointwise_loss!`](crate::for_each_aux_pointwise_loss).
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_pointwise_loss {
    ($m:ident) => {
        $crate::for_each_pointwise_loss! { @with $m
            (mse, $crate::loss::regression::Mse, |p, t| $crate::reference::regression::mse(p, t),
                |_| $crate::loss::regression::Mse),
            (mae, $crate::loss::regression::Mae, |p, t| $crate::reference::regression::mae(p, t),
                |_| $crate::loss::regression::Mae),
            (huber, $crate::loss::regression::Huber { delta: 1.0 },
                |p, t| $crate::reference::regression::huber(p, t, 1.0),
                |f| $crate::loss::regression::Huber { delta: f("delta") }),
            (smooth_l1, $crate::loss::regression::SmoothL1 { beta: 0.5 },
                |p, t| $crate::reference::regression::smooth_l1(p, t, 0.5),
                |f| $crate::loss::regression::SmoothL1 { beta: f("beta") }),
            (quantile, $crate::loss::regression::Quantile { tau: 0.9 },
                |p, t| $crate::reference::regression::quantile(p, t, 0.9),
                |f| $crate::loss::regression::Quantile { tau: f("tau") }),
            (expectile, $crate::loss::regression::Expectile { tau: 0.2 },
                |p, t| $crate::reference::regression::expectile(p, t, 0.2),
                |f| $crate::loss::regression::Expectile { tau: f("tau") }),
            (pseudo_huber, $crate::loss::regression::PseudoHuber { delta: 1.5 },
                |p, t| $crate::reference::regression::pseudo_huber(p, t, 1.5),
                |f| $crate::loss::regression::PseudoHuber { delta: f("delta") }),
            (log_cosh, $crate::loss::regression::LogCosh,
                |p, t| $crate::reference::regression::log_cosh(p, t),
                |_| $crate::loss::regression::LogCosh),
            (barron, $crate::loss::regression::Barron { alpha: 0.5, scale: 1.5 },
                |p, t| $crate::reference::regression::barron(p, t, 0.5, 1.5),
                |f| $crate::loss::regression::Barron { alpha: f("alpha"), scale: f("scale") }),
            (poisson_nll, $crate::loss::regression::PoissonNll::default(),
                |p, t| $crate::reference::regression::poisson_nll(p, t, true, false, 1e-8),
                |f| $crate::loss::regression::PoissonNll {
                    log_input: f("log_input") != 0.0, full: f("full") != 0.0, eps: f("eps") }),
            (tweedie, $crate::loss::regression::Tweedie { power: 1.3, deviance: false },
                |p, t| $crate::reference::regression::tweedie(p, t, 1.3, false),
                |f| $crate::loss::regression::Tweedie {
                    power: f("power"), deviance: f("deviance") != 0.0 }),
            (gamma, $crate::loss::regression::Gamma { deviance: false },
                |p, t| $crate::reference::regression::gamma(p, t, false),
                |f| $crate::loss::regression::Gamma { deviance: f("deviance") != 0.0 }),
            (bce, $crate::loss::classification::Bce,
                |p, t| $crate::reference::classification::bce(p, t),
                |_| $crate::loss::classification::Bce),
            (bce_with_logits, $crate::loss::classification::BceWithLogits { pos_weight: 3.0 },
                |p, t| $crate::reference::classification::bce_with_logits(p, t, 3.0),
                |f| $crate::loss::classification::BceWithLogits { pos_weight: f("pos_weight") }),
            (sigmoid_focal, $crate::loss::classification::SigmoidFocal { alpha: 0.25, gamma: 2.0 },
                |p, t| $crate::reference::classification::sigmoid_focal(p, t, 0.25, 2.0),
                |f| $crate::loss::classification::SigmoidFocal {
                    alpha: f("alpha"), gamma: f("gamma") }),
            (soft_margin, $crate::loss::classification::SoftMargin,
                |p, t| $crate::reference::classification::soft_margin(p, t),
                |_| $crate::loss::classification::SoftMargin),
            (hinge, $crate::loss::classification::Hinge,
                |p, t| $crate::reference::classification::hinge(p, t),
                |_| $crate::loss::classification::Hinge),
            (squared_hinge, $crate::loss::classification::SquaredHinge,
                |p, t| $crate::reference::classification::squared_hinge(p, t),
                |_| $crate::loss::classification::SquaredHinge),
            (smooth_hinge, $crate::loss::classification::SmoothHinge,
                |p, t| $crate::reference::classification::smooth_hinge(p, t),
                |_| $crate::loss::classification::SmoothHinge),
            (modified_huber, $crate::loss::classification::ModifiedHuber,
                |p, t| $crate::reference::classification::modified_huber(p, t),
                |_| $crate::loss::classification::ModifiedHuber),
            (kl_div, $crate::loss::classification::KlDiv { log_target: false },
                |p, t| $crate::reference::classification::kl_div(p, t, false),
                |f| $crate::loss::classification::KlDiv { log_target: f("log_target") != 0.0 }),
        }
    };
    (@with $m:ident $( ($name:ident, $loss:expr, $oracle:expr, $from:expr) ),* $(,)?) => {
        $m! { $( ($name, $loss, $oracle, $crate::registry::pointwise_domain(stringify!($name)),
            $from) ),* }
    };
}

/// Calls `$m!` with every pointwise loss that has an auxiliary input, as
/// `(snake_name, instance, |p, t, a| reference value)`.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_aux_pointwise_loss {
    ($m:ident) => {
        $m! {
            (gaussian_nll, $crate::loss::regression::GaussianNll::default(),
                |p, t, a| $crate::reference::regression::gaussian_nll(p, t, a, false, 1e-6)),
        }
    };
}

/// Calls `$m!` with every row loss (`rows × classes` scores: [`crate::loss::softmax`], and
/// the multi-label losses of [`crate::loss::classification`]) as
/// `(snake_name, an instance (element type inferred), targets, [capabilities])`: what the
/// table [`LOSSES`] cannot hold.
///
/// `targets` says what [`RowLoss`](crate::RowLoss)'s `T` is: `labels` (`&[L]`), `soft`
/// (`&[F]` target probabilities), `teacher` ([`Teacher`](crate::loss::softmax::Teacher)),
/// `multilabel` (`&[F]` targets in `[0, 1]`). The capabilities are the traits it has beyond
/// `RowLoss`: `elementwise` ([`RowElementwise`](crate::RowElementwise)), `in_place`,
/// `hessian`, `hvp`. A test of this module checks that the names are the row and
/// multi-label entries of [`LOSSES`] and that the capabilities are their verbs; the generic
/// row tests (`tests/suite/row_registry.rs`) run every verb of every entry. The row
/// utilities (`logsumexp`, `softmax`, `log_softmax`) are not listed, and
/// [`KlDiv`](crate::loss::classification::KlDiv) is a pointwise loss.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_row_loss {
    ($m:ident) => {
        $m! {
            (cross_entropy, $crate::loss::softmax::CrossEntropy::default(), labels,
                [elementwise in_place hessian hvp]),
            (soft_cross_entropy, $crate::loss::softmax::SoftCrossEntropy::default(), soft,
                [elementwise in_place hessian]),
            (poly1, $crate::loss::softmax::Poly1::default(), labels, [elementwise in_place]),
            (nll, $crate::loss::softmax::Nll::default(), labels, [elementwise]),
            (softmax_focal, $crate::loss::softmax::SoftmaxFocal::default(), labels,
                [elementwise]),
            (distillation, $crate::loss::softmax::Distillation::default(), teacher, []),
            (multi_margin, $crate::loss::softmax::MultiMargin { p: 2, ..Default::default() },
                labels, [elementwise]),
            (multiclass_hinge, $crate::loss::softmax::MulticlassHinge, labels, [elementwise]),
            (multilabel_bce_with_logits,
                $crate::loss::classification::MultiLabelBceWithLogits::default(), multilabel,
                [elementwise hessian]),
            (multilabel_soft_margin,
                $crate::loss::classification::MultiLabelSoftMargin::default(), multilabel,
                [elementwise hessian]),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;
    use std::string::{String, ToString};
    use std::vec::Vec;
    use std::{format, fs, println};

    /// The snake names of a registry macro's entries.
    macro_rules! names {
        ($( ($name:ident, $($rest:tt)*) ),* $(,)?) => {
            &[$(stringify!($name)),*]
        };
    }

    fn names_where(keep: impl Fn(&Shape) -> bool) -> Vec<&'static str> {
        LOSSES
            .iter()
            .filter(|l| keep(&l.shape))
            .map(|l| l.name)
            .collect()
    }

    #[test]
    fn the_generic_test_lists_are_the_table() {
        let two: &[&str] = crate::for_each_pointwise_loss!(names);
        let aux: &[&str] = crate::for_each_aux_pointwise_loss!(names);
        let rows: &[&str] = crate::for_each_row_loss!(names);
        assert_eq!(two, names_where(|s| matches!(s, Shape::Pointwise { .. })));
        assert_eq!(
            aux,
            names_where(|s| matches!(s, Shape::PointwiseAux { .. }))
        );
        assert_eq!(
            rows,
            names_where(|s| matches!(s, Shape::Rows { .. } | Shape::MultiLabel { .. }))
        );
        // The capabilities of the generic test list are the table's verbs.
        macro_rules! capabilities {
            ($( ($name:ident, $loss:expr, $t:ident, [$($cap:ident)*]) ),* $(,)?) => {
                &[$((stringify!($name), &[$(stringify!($cap)),*] as &[&str])),*]
            };
        }
        let caps: &[(&str, &[&str])] = crate::for_each_row_loss!(capabilities);
        for (name, caps) in caps {
            let verb = |cap: &'static str| match cap {
                "elementwise" => "value_elementwise",
                "in_place" => "value_and_grad_in_place",
                "hessian" => "hessian_diag",
                other => other,
            };
            let mut want: Vec<&str> = ["value", "grad", "value_and_grad"].to_vec();
            want.extend(caps.iter().map(|c| verb(c)));
            want.sort_unstable();
            let mut have: Vec<&str> = find(name).unwrap().shape.verbs().to_vec();
            have.sort_unstable();
            assert_eq!(want, have, "{name}: capabilities against the table's verbs");
        }
        let unique: BTreeSet<_> = LOSSES.iter().map(|l| l.name).collect();
        assert_eq!(unique.len(), LOSSES.len(), "a name is registered twice");
        for l in LOSSES {
            if let Shape::Rows { verbs, .. } = l.shape {
                let order: Vec<_> = ROW_VERBS.iter().filter(|v| verbs.contains(v)).collect();
                assert_eq!(order.len(), verbs.len(), "{}: unknown verb", l.name);
                assert!(
                    order.iter().zip(verbs).all(|(a, b)| *a == b),
                    "{}: verb order",
                    l.name
                );
            }
        }
    }

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The `"loss"` names of every case in `tests/data/*.json`.
    fn vector_names() -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let dir = root().join("tests/data");
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = fs::read_to_string(&path).unwrap();
                let json: serde_json::Value = serde_json::from_str(&text).unwrap();
                for case in json["cases"].as_array().unwrap() {
                    names.insert(case["loss"].as_str().unwrap().to_string());
                }
            }
        }
        names
    }

    #[test]
    fn every_loss_has_conformance_vectors_and_every_vector_a_loss() {
        let have = vector_names();
        let mut claimed = BTreeSet::new();
        let mut missing = Vec::new();
        for l in LOSSES {
            if l.vectors.is_empty() {
                missing.push(format!("{} (names no vectors)", l.name));
            }
            for v in l.vectors {
                claimed.insert(v.to_string());
                if !have.contains(*v) {
                    missing.push(format!("{} (no case with \"loss\": \"{v}\")", l.name));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "losses without conformance vectors in tests/data: {missing:?}"
        );
        let unclaimed: Vec<_> = have.difference(&claimed).collect();
        assert!(
            unclaimed.is_empty(),
            "vectors in tests/data that no registered loss names (add them to its `vectors`): {unclaimed:?}"
        );
    }

    /// Every parameter's machine-readable default agrees with the default its docs state
    /// (where they state a number), and flags default to 0 or 1, integers to integers.
    #[test]
    fn parameter_defaults_agree_with_their_docs() {
        for l in LOSSES {
            for p in l.params {
                let what = format!("{}.{}", l.name, p.name);
                match p.kind {
                    Kind::Flag => assert!(p.default == 0.0 || p.default == 1.0, "{what}"),
                    Kind::Int | Kind::Index => assert_eq!(p.default.fract(), 0.0, "{what}"),
                    Kind::Real => assert!(p.default.is_finite(), "{what}"),
                }
                if let Some((_, rest)) = p.doc.split_once("default ") {
                    let number: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || "-+.e".contains(*c))
                        .collect();
                    if let Ok(stated) = number.trim_end_matches('.').parse::<f64>() {
                        assert_eq!(stated, p.default, "{what}: the docs say {number}");
                    }
                }
            }
        }
    }

    /// The verbs column: what a loss has beyond or instead of the pointwise five.
    fn verbs(l: &LossInfo) -> String {
        match l.shape {
            Shape::Rows { verbs, .. } => verbs.join(", "),
            _ => "all five".to_string(),
        }
    }

    /// The crate docs' table (intra-doc links to each type).
    fn crate_table() -> String {
        let mut s = String::from(
            "| type | formula | equivalent | shape | verbs |\n|---|---|---|---|---|\n",
        );
        for l in LOSSES {
            s += &format!(
                "| [`{t}`](loss::{m}::{t}) | {} | {} | {} | {} |\n",
                l.summary,
                l.equivalent,
                l.shape.describe(),
                verbs(l),
                t = l.type_name,
                m = l.family.module(),
            );
        }
        s
    }

    /// The README's table (plain names: no intra-doc links on GitHub).
    fn readme_table() -> String {
        let mut s = String::from(
            "| loss | module | formula | equivalent | shape |\n|---|---|---|---|---|\n",
        );
        for l in LOSSES {
            s += &format!(
                "| `{}` | `{}` | {} | {} | {} |\n",
                l.type_name,
                l.family.module(),
                l.summary,
                l.equivalent,
                l.shape.describe(),
            );
        }
        s
    }

    const BEGIN: &str = "<!-- registry table: generated from src/registry.rs by its tests -->\n";
    const END: &str = "<!-- end of registry table -->\n";

    /// Checks (or, under `LOSSKIT_BLESS=1`, rewrites) the table between the markers of `file`.
    fn check_or_bless(file: &str, table: &str) -> Option<String> {
        let path = root().join(file);
        let text = fs::read_to_string(&path).unwrap();
        let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
            return Some(format!(
                "{file}: the markers {BEGIN:?} and {END:?} are missing"
            ));
        };
        let current = &text[a + BEGIN.len()..b];
        if current == table {
            return None;
        }
        if std::env::var_os("LOSSKIT_BLESS").is_some_and(|v| v == "1") {
            let fresh = format!("{}{BEGIN}{table}{}", &text[..a], &text[b..]);
            fs::write(&path, fresh).unwrap();
            println!("rewrote {file}");
            return None;
        }
        Some(format!(
            "{file}: the loss table is stale; run `LOSSKIT_BLESS=1 cargo test -p losskit --lib registry`"
        ))
    }

    #[test]
    fn docs_tables_are_made_from_the_table() {
        let stale: Vec<_> = [
            check_or_bless("README.md", &readme_table()),
            check_or_bless("docs/crate.md", &crate_table()),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert!(stale.is_empty(), "{stale:?}");
    }
}
