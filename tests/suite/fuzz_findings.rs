//! One named test per finding of the fuzz targets (issue 11), each on every backend: the
//! inputs that exposed it, reduced to their essence, and what the fixed code must give. The
//! findings' own files are in `fuzz/regressions/<target>/` (replayed by `fuzz_replay`).

use crate::common::backends;
use losskit::prelude::*;

/// A relative comparison, with `what` in the message.
fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: {got:e}, want {want:e}"
    );
}

#[test]
fn a_written_gradient_beside_an_added_one_is_reset_on_a_data_error() {
    // Gaussian NLL: `grad` added, `grad_aux` written (and the reverse); a NaN target.
    for b in backends() {
        let l = GaussianNll::default().on(b).unwrap();
        for grad_adds in [true, false] {
            let (mut g, mut gv) = ([7.0f64; 3], [9.0f64; 3]);
            let (go, gvo) = if grad_adds {
                (Out::add(&mut g[..]), Out::write(&mut gv[..]))
            } else {
                (Out::write(&mut g[..]), Out::add(&mut gv[..]))
            };
            let r = l.grad(
                &[0.5, 1.0, 2.0],
                &[0.0, f64::NAN, 1.0],
                &[1.0, 1.0, 1.0],
                Reduction::Mean,
                go,
                Some(gvo),
            );
            assert_eq!(
                r,
                Err(Error::NonFinite {
                    name: "target",
                    index: 1
                })
            );
            let (added, written) = if grad_adds { (g, gv) } else { (gv, g) };
            let untouched = if grad_adds { 7.0 } else { 9.0 };
            assert_eq!(added, [untouched; 3], "{b:?}: the added output changed");
            assert_eq!(written, [0.0; 3], "{b:?}: the written output is not reset");
        }
    }
}

#[test]
fn gaussian_nll_in_f32_keeps_large_residuals_over_large_variances() {
    for b in backends() {
        let l = GaussianNll::default().on(b).unwrap();
        // (p − t)²/v overflows f32 (3.9e38) where ½ of it fits.
        let (p, t, v) = (-3.4028235e38f32, -0.738_281_25f32, 3.0e38f32);
        let r = f64::from(p) - f64::from(t);
        let want = 0.5 * f64::from(v).ln() + 0.5 * r * (r / f64::from(v));
        let got = l.value(&[p], &[t], &[v], Reduction::Sum).unwrap();
        close("value", f64::from(got), want, 1e-6);
        // ∂ℓ/∂σ² = ½(1/v − (r/v)²): r·(r/v) overflowed before.
        let (mut gp, mut gv) = ([0.0f32], [0.0f32]);
        let (p, t) = (-0.0f32, -3.4028235e38f32);
        l.grad(
            &[p],
            &[t],
            &[v],
            Reduction::Sum,
            &mut gp[..],
            Some(Out::write(&mut gv[..])),
        )
        .unwrap();
        let rv = (f64::from(p) - f64::from(t)) / f64::from(v);
        close(
            "grad_var",
            f64::from(gv[0]),
            0.5 * (1.0 / f64::from(v) - rv * rv),
            1e-5,
        );
        // p − t itself overflows f32; (p − t)/v = 2 fits.
        let (p, t, v) = (f32::MAX, -f32::MAX, f32::MAX);
        l.grad(&[p], &[t], &[v], Reduction::Sum, &mut gp[..], None)
            .unwrap();
        close("grad", f64::from(gp[0]), 2.0, 1e-6);
        // A zero residual over a variance clamped to a tiny ε: ½ ln ε, not 0·∞.
        let tiny = GaussianNll {
            eps: f64::from(f32::MIN_POSITIVE),
            ..GaussianNll::default()
        };
        let got = tiny
            .on(b)
            .unwrap()
            .value(&[-1e4f32], &[-1e4f32], &[0.0f32], Reduction::Sum)
            .unwrap();
        close(
            "value at ε",
            f64::from(got),
            0.5 * f64::from(f32::MIN_POSITIVE).ln(),
            1e-6,
        );
    }
}

#[test]
fn parameters_outside_every_precision_are_errors() {
    let p = [1.0f32];
    for eps in [1e-323, 1e-40, 1e300, f64::INFINITY, 0.0] {
        let l = GaussianNll {
            eps,
            ..GaussianNll::default()
        };
        assert!(
            matches!(
                l.value(&p, &p, &p, Reduction::Sum),
                Err(Error::InvalidParameter { name: "eps", .. })
            ),
            "eps {eps:e}"
        );
    }
    // A divisor whose reciprocal overflows f32 (every gradient would be ±∞ or 0·∞ = NaN).
    for d in [1e-40, 1e-300, 0.0, -1.0, f64::NAN] {
        assert!(
            matches!(
                Mse.value(&p, &p, None, Reduction::Divisor(d)),
                Err(Error::InvalidParameter {
                    name: "reduction",
                    ..
                })
            ),
            "divisor {d:e}"
        );
    }
    assert!(
        Mse.value(
            &p,
            &p,
            None,
            Reduction::Divisor(f64::from(f32::MIN_POSITIVE))
        )
        .is_ok()
    );
    let x = [0.5f32, 1.0];
    for temperature in [1e-300, 1e-39, 1e200] {
        let l = Distillation {
            temperature,
            ..Distillation::default()
        };
        let teacher = Teacher {
            logits: &x[..],
            labels: &[0u8][..],
        };
        assert!(
            matches!(
                l.value(&x, 2, teacher, Reduction::Mean),
                Err(Error::InvalidParameter {
                    name: "temperature",
                    ..
                })
            ),
            "temperature {temperature:e}"
        );
    }
    for cap in [1e-300, 1e-39, 1e39] {
        let ce = CrossEntropy::<f32> {
            softcap: Some(cap),
            ..CrossEntropy::default()
        };
        assert!(
            matches!(
                ce.value(&x, 2, &[0u8][..], Reduction::Mean),
                Err(Error::InvalidParameter {
                    name: "softcap",
                    ..
                })
            ),
            "softcap {cap:e}"
        );
    }
}

#[test]
fn a_zero_weight_or_a_zero_gradient_times_an_overflow_is_zero() {
    for b in backends() {
        let l = Mse.on(b).unwrap();
        // The first term, (3e38)², overflows f32; its weight is 0.
        let (p, t, w) = ([3e38f32, 1.0], [0.0f32, 0.0], [0.0f32, 2.0]);
        let v = l.value(&p, &t, Some(&w), Reduction::Sum).unwrap();
        assert_eq!(v, 2.0, "{b:?}");
        let mut e = [0.0f32; 2];
        l.value_elementwise(&p, &t, Some(&w), &mut e).unwrap();
        assert_eq!(e, [0.0, 2.0], "{b:?}");
        // w·(1/d) overflows f32 while the gradient is 0 (p = t) or small.
        let (p, t, w) = ([1.0f32, 1e-30], [1.0f32, 0.0], [3e38f32, 3e38]);
        let mut g = [5.0f32; 2];
        l.grad(&p, &t, Some(&w), Reduction::Divisor(1e-2), &mut g[..])
            .unwrap();
        assert_eq!(g[0], 0.0, "{b:?}");
        close("grad", f64::from(g[1]), 2.0 * 1e-30 * 3e38 * 1e2, 1e-6);
    }
}

#[test]
fn nll_value_of_all_ignored_rows_is_plus_zero_as_value_and_grad() {
    let x = [-0.5f64, -1.0];
    let labels = [-100i64];
    let v = Nll::default()
        .value(&x, 2, &labels[..], Reduction::Sum)
        .unwrap();
    let mut g = [0.0; 2];
    let vg = Nll::default()
        .value_and_grad(&x, 2, &labels[..], Reduction::Sum, &mut g[..])
        .unwrap();
    assert_eq!(v.to_bits(), 0.0f64.to_bits());
    assert_eq!(vg.to_bits(), v.to_bits());
}

#[test]
fn multiclass_hinge_elementwise_resets_out_on_a_non_finite_logit() {
    for b in backends() {
        let mut out = [3.0f64; 2];
        let r = MulticlassHinge.on(b).unwrap().value_elementwise(
            &[0.5, 1.0, f64::INFINITY, 0.0],
            2,
            &[0u8, 1][..],
            &mut out,
        );
        assert_eq!(
            r,
            Err(Error::NonFinite {
                name: "logits",
                index: 2
            })
        );
        assert_eq!(out, [0.0; 2], "{b:?}");
    }
}

#[test]
fn cross_entropy_hessians_in_accumulate_mode_add_the_written_result() {
    let (c, x) = (5, [0.3f64, -1.0, 2.0, 0.0, 0.5, 1.5, 1.0, -2.0, 0.25, 3.0]);
    let labels = [2u8, 4];
    let vdir = [1.0, -0.5, 0.25, 2.0, -1.0, 0.5, 0.0, 1.0, -2.0, 0.75];
    let base: Vec<f64> = (0..x.len()).map(|i| 5.0 + i as f64 * 0.125).collect();
    for b in backends() {
        let ce = CrossEntropy::default().on(b).unwrap();
        let mut h = [0.0; 10];
        ce.hessian_diag(&x, c, &labels[..], Reduction::Mean, &mut h[..])
            .unwrap();
        let mut ha = base.clone();
        ce.hessian_diag(&x, c, &labels[..], Reduction::Mean, Out::add(&mut ha[..]))
            .unwrap();
        for i in 0..x.len() {
            assert_eq!(ha[i], base[i] + h[i], "{b:?} hessian_diag[{i}]");
        }
        let mut hv = [0.0; 10];
        ce.hvp(&x, c, &labels[..], Reduction::Mean, &vdir, &mut hv[..])
            .unwrap();
        let mut hva = base.clone();
        ce.hvp(
            &x,
            c,
            &labels[..],
            Reduction::Mean,
            &vdir,
            Out::add(&mut hva[..]),
        )
        .unwrap();
        for i in 0..x.len() {
            assert_eq!(hva[i], base[i] + hv[i], "{b:?} hvp[{i}]");
        }
    }
}

#[test]
fn squared_multi_margin_in_f32_survives_a_margin_beyond_the_range() {
    // x_j − x_y = 4e38 overflows f32; the gradient 2h/C = 2.7e38 fits.
    let x = [1.0e38f32, -3.0e38, 0.0];
    let l = MultiMargin::<f32> {
        p: 2,
        ..MultiMargin::default()
    };
    let h = 1.0 + f64::from(x[0]) - f64::from(x[1]);
    let hz = 1.0 - f64::from(x[1]);
    for b in backends() {
        let mut g = [0.0f32; 3];
        l.on(b)
            .unwrap()
            .grad(&x, 3, &[1u8][..], Reduction::Sum, &mut g[..])
            .unwrap();
        close("grad[0]", f64::from(g[0]), 2.0 * h / 3.0, 1e-6);
        close("grad[2]", f64::from(g[2]), 2.0 * hz / 3.0, 1e-6);
        assert_eq!(
            g[1],
            f32::NEG_INFINITY,
            "{b:?}: −(2h + 2h_z)/C = −4.7e38 overflows"
        );
    }
}

#[test]
fn cross_entropy_smoothing_over_a_far_logit_with_class_weights_stays_finite_in_f32() {
    // x − m overflows f32 (−3.4e38 − 1e38), and so does w·(x − m) with a class weight of
    // 4.8; each row's value (5.4e38) is beyond f32 too, only the weighted mean fits.
    let x: [f32; 20] = [
        -10000.0,
        -10000.0,
        -10000.0,
        -3.4028235e38,
        -3.4028235e38,
        1.0,
        0.0,
        0.0,
        1e38,
        -3.4028235e38,
        -3.4028235e38,
        4.831_299,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        1.0,
        0.0,
        0.0,
    ];
    let w = [4.831_299f32; 10];
    let w64 = w.map(f64::from);
    let labels = [7u8, 7];
    let want = CrossEntropy {
        class_weights: Some(&w64[..]),
        label_smoothing: 0.1,
        ..CrossEntropy::default()
    }
    .value(&x.map(f64::from), 10, &labels[..], Reduction::Mean)
    .unwrap();
    for b in backends() {
        let ce = CrossEntropy {
            class_weights: Some(&w[..]),
            label_smoothing: 0.1,
            ..CrossEntropy::default()
        };
        let got = ce
            .on(b)
            .unwrap()
            .value(&x, 10, &labels[..], Reduction::Mean)
            .unwrap();
        close("value", f64::from(got), want, 1e-6);
    }
}
