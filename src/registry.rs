//! The one list of losses. The property, proptest and no-allocation tests iterate over the
//! pointwise lists, and the C API's coverage test (`capi/tests/coverage.rs`) fails when a
//! listed loss has no C functions. Conformance vectors and benches are per family, not
//! generated from these lists.

/// Calls `$m!` with every two-input pointwise loss as
/// `(snake_name, an instance with representative parameters, |p, t| reference value,
/// input domain)`.
///
/// The domain ([`reference::Domain`](crate::reference::Domain)) says which inputs the loss
/// is defined on (any reals, counts, probabilities, `[0, 1]` targets, `±1` labels, log-probabilities
/// against target probabilities), so generic tests can draw valid inputs with
/// `Domain::place`.
///
/// The Gaussian NLL (three inputs) is listed by
/// [`for_each_aux_pointwise_loss!`](crate::for_each_aux_pointwise_loss).
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_pointwise_loss {
    ($m:ident) => {
        $m! {
            (mse, $crate::loss::regression::Mse, |p, t| $crate::reference::regression::mse(p, t),
                $crate::reference::Domain::Real),
            (mae, $crate::loss::regression::Mae, |p, t| $crate::reference::regression::mae(p, t),
                $crate::reference::Domain::Real),
            (huber, $crate::loss::regression::Huber { delta: 1.0 },
                |p, t| $crate::reference::regression::huber(p, t, 1.0),
                $crate::reference::Domain::Real),
            (smooth_l1, $crate::loss::regression::SmoothL1 { beta: 0.5 },
                |p, t| $crate::reference::regression::smooth_l1(p, t, 0.5),
                $crate::reference::Domain::Real),
            (quantile, $crate::loss::regression::Quantile { tau: 0.9 },
                |p, t| $crate::reference::regression::quantile(p, t, 0.9),
                $crate::reference::Domain::Real),
            (expectile, $crate::loss::regression::Expectile { tau: 0.2 },
                |p, t| $crate::reference::regression::expectile(p, t, 0.2),
                $crate::reference::Domain::Real),
            (pseudo_huber, $crate::loss::regression::PseudoHuber { delta: 1.5 },
                |p, t| $crate::reference::regression::pseudo_huber(p, t, 1.5),
                $crate::reference::Domain::Real),
            (log_cosh, $crate::loss::regression::LogCosh,
                |p, t| $crate::reference::regression::log_cosh(p, t),
                $crate::reference::Domain::Real),
            (poisson_nll, $crate::loss::regression::PoissonNll::default(),
                |p, t| $crate::reference::regression::poisson_nll(p, t, true, false, 1e-8),
                $crate::reference::Domain::Count),
            (bce, $crate::loss::classification::Bce,
                |p, t| $crate::reference::classification::bce(p, t),
                $crate::reference::Domain::Probability),
            (bce_with_logits, $crate::loss::classification::BceWithLogits { pos_weight: 3.0 },
                |p, t| $crate::reference::classification::bce_with_logits(p, t, 3.0),
                $crate::reference::Domain::Logit),
            (sigmoid_focal, $crate::loss::classification::SigmoidFocal { alpha: 0.25, gamma: 2.0 },
                |p, t| $crate::reference::classification::sigmoid_focal(p, t, 0.25, 2.0),
                $crate::reference::Domain::Logit),
            (soft_margin, $crate::loss::classification::SoftMargin,
                |p, t| $crate::reference::classification::soft_margin(p, t),
                $crate::reference::Domain::Sign),
            (hinge, $crate::loss::classification::Hinge,
                |p, t| $crate::reference::classification::hinge(p, t),
                $crate::reference::Domain::Sign),
            (squared_hinge, $crate::loss::classification::SquaredHinge,
                |p, t| $crate::reference::classification::squared_hinge(p, t),
                $crate::reference::Domain::Sign),
            (smooth_hinge, $crate::loss::classification::SmoothHinge,
                |p, t| $crate::reference::classification::smooth_hinge(p, t),
                $crate::reference::Domain::Sign),
            (modified_huber, $crate::loss::classification::ModifiedHuber,
                |p, t| $crate::reference::classification::modified_huber(p, t),
                $crate::reference::Domain::Sign),
            (kl_div, $crate::loss::classification::KlDiv { log_target: false },
                |p, t| $crate::reference::classification::kl_div(p, t, false),
                $crate::reference::Domain::LogProbability),
        }
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

/// Calls `$m!` with every row loss (`rows × classes` logits: [`crate::loss::softmax`], and
/// the multi-label losses of [`crate::loss::classification`]) as `(snake_name, type)`, the
/// type with `f64` elements where it is generic.
///
/// The row losses have no common trait (their inputs differ: labels, soft targets, teacher
/// logits, multi-label targets), so this list carries names and types only; the C API's
/// coverage test checks that each has C functions. The row utilities (`logsumexp`,
/// `softmax`, `log_softmax`) are not listed, and [`KlDiv`](crate::loss::classification::KlDiv) is
/// a pointwise loss (in [`for_each_pointwise_loss!`](crate::for_each_pointwise_loss)).
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_row_loss {
    ($m:ident) => {
        $m! {
            (cross_entropy, $crate::loss::softmax::CrossEntropy<'static, f64>),
            (soft_cross_entropy, $crate::loss::softmax::SoftCrossEntropy<'static, f64>),
            (nll, $crate::loss::softmax::Nll<'static, f64>),
            (softmax_focal, $crate::loss::softmax::SoftmaxFocal<'static, f64>),
            (distillation, $crate::loss::softmax::Distillation),
            (multi_margin, $crate::loss::softmax::MultiMargin<'static, f64>),
            (multiclass_hinge, $crate::loss::softmax::MulticlassHinge),
            (multilabel_bce_with_logits,
                $crate::loss::classification::MultiLabelBceWithLogits<'static, f64>),
            (multilabel_soft_margin,
                $crate::loss::classification::MultiLabelSoftMargin<'static, f64>),
        }
    };
}
