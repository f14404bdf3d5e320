//! The one list of losses. Tests, benches, fuzz targets and the C API iterate over it, and a
//! coverage test checks that each entry has a reference, conformance vectors and a bench.

/// Calls `$m!` with every two-input pointwise loss as
/// `(snake_name, an instance with representative parameters, |p, t| reference value)`.
///
/// The Gaussian NLL (three inputs) is listed by
/// [`for_each_aux_pointwise_loss!`](crate::for_each_aux_pointwise_loss).
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_pointwise_loss {
    ($m:ident) => {
        $m! {
            (mse, $crate::loss::regression::Mse, |p, t| $crate::reference::regression::mse(p, t)),
            (mae, $crate::loss::regression::Mae, |p, t| $crate::reference::regression::mae(p, t)),
            (huber, $crate::loss::regression::Huber { delta: 1.0 },
                |p, t| $crate::reference::regression::huber(p, t, 1.0)),
            (smooth_l1, $crate::loss::regression::SmoothL1 { beta: 0.5 },
                |p, t| $crate::reference::regression::smooth_l1(p, t, 0.5)),
            (quantile, $crate::loss::regression::Quantile { tau: 0.9 },
                |p, t| $crate::reference::regression::quantile(p, t, 0.9)),
            (expectile, $crate::loss::regression::Expectile { tau: 0.2 },
                |p, t| $crate::reference::regression::expectile(p, t, 0.2)),
            (pseudo_huber, $crate::loss::regression::PseudoHuber { delta: 1.5 },
                |p, t| $crate::reference::regression::pseudo_huber(p, t, 1.5)),
            (log_cosh, $crate::loss::regression::LogCosh,
                |p, t| $crate::reference::regression::log_cosh(p, t)),
            (poisson_nll, $crate::loss::regression::PoissonNll::default(),
                |p, t| $crate::reference::regression::poisson_nll(p, t, true, false, 1e-8)),
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
