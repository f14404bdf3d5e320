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

fn is_poisson_eps_error(r: losskit::Result<f32>) -> bool {
    matches!(r, Err(Error::InvalidParameter { name: "eps", .. }))
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
    // A divisor whose reciprocal overflows f32 (every gradient would be ±∞ or 0·∞ = NaN),
    // or is subnormal or 0 in f32 (a derivative that overflowed f32 times it is NaN where
    // the true product is tiny: the Gaussian NLL's ∂/∂var with `Divisor(f64::MAX)`).
    for d in [
        1e-40,
        1e-300,
        0.0,
        -1.0,
        f64::NAN,
        2.0f64.powi(126) * 1.0001,
        1e300,
        f64::MAX,
    ] {
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
    assert!(
        Mse.value(&p, &p, None, Reduction::Divisor(2.0f64.powi(126)))
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
    // Unbounded parameters (weights, exponents, coefficients) beyond f32::MAX: `∞` in f32,
    // where `0·∞` is a NaN (BCE with logits' gradient at `y = 0` with `pos_weight = 1e300`).
    let pf = [0.5f32, -2.0];
    let tf = [0.0f32, 1.0];
    for big in [1e39, 1e300, f64::INFINITY] {
        let is_param = |r: losskit::Result<f32>, want: &str| matches!(r, Err(Error::InvalidParameter { name, .. }) if name == want);
        let bce = BceWithLogits { pos_weight: big };
        assert!(is_param(
            bce.value(&pf, &tf, None, Reduction::Mean),
            "pos_weight"
        ));
        let focal = SigmoidFocal {
            gamma: big,
            ..SigmoidFocal::default()
        };
        assert!(is_param(
            focal.value(&pf, &tf, None, Reduction::Mean),
            "gamma"
        ));
        let ce = CrossEntropy::<f32> {
            z_loss: big,
            ..CrossEntropy::default()
        };
        assert!(is_param(
            ce.value(&x, 2, &[0u8][..], Reduction::Mean),
            "z_loss"
        ));
        let sf = SoftmaxFocal::<f32> {
            gamma: big,
            ..SoftmaxFocal::default()
        };
        assert!(is_param(
            sf.value(&x, 2, &[0u8][..], Reduction::Mean),
            "gamma"
        ));
        let poly = Poly1::<f32> {
            epsilon: big,
            ..Poly1::default()
        };
        assert!(is_param(
            poly.value(&x, 2, &[0u8][..], Reduction::Mean),
            "epsilon"
        ));
    }
    // The Poisson NLL's ε: 0 or a normal f32 number (1e-45 is 1.4e-45 in f32, and
    // `ln(0 + ε)` would differ between the precisions by 0.3).
    for eps in [1e-45, 1e-40, 1e39] {
        let l = PoissonNll {
            log_input: false,
            eps,
            ..PoissonNll::default()
        };
        assert!(is_poisson_eps_error(l.value(
            &[0.0f32],
            &[1.0],
            None,
            Reduction::Sum
        )));
    }
    for eps in [0.0, f64::from(f32::MIN_POSITIVE), 1e-8] {
        let l = PoissonNll {
            log_input: false,
            eps,
            ..PoissonNll::default()
        };
        assert!(l.value(&[1.0f32], &[1.0], None, Reduction::Sum).is_ok());
    }
    let at_max = f64::from(f32::MAX);
    assert!(
        BceWithLogits { pos_weight: at_max }
            .value(&pf, &tf, None, Reduction::Mean)
            .is_ok()
    );
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

#[test]
fn multi_margin_in_f32_keeps_a_margin_small_beside_equal_large_logits() {
    // ½(margin − x_y) rounded at the logits' scale (spacing 4 at 5e7) lost the margin: the
    // value was exactly 0. x_j − x_y is exact here, so every term is the margin itself.
    let x = [99_999_992.0f32; 9];
    let margin = 1.999_899_864_196_777_3;
    for p in [1u8, 2] {
        let l = MultiMargin::<f32> {
            p,
            margin,
            ..MultiMargin::default()
        };
        // Two terms of margin^p per row over C = 3 classes.
        let want = 2.0 * margin.powi(i32::from(p)) / 3.0;
        for b in backends() {
            let mut g = [0.0f32; 9];
            let v = l
                .on(b)
                .unwrap()
                .value_and_grad(&x, 3, &[0u8, 0, 0][..], Reduction::Mean, &mut g[..])
                .unwrap();
            close("value", f64::from(v), want, 1e-6);
            // ∂/∂xⱼ = p·margin^(p−1)/C/rows for j ≠ y.
            let gj = f64::from(p) * margin.powi(i32::from(p) - 1) / 9.0;
            close("grad[1]", f64::from(g[1]), gj, 1e-6);
            close("grad[0]", f64::from(g[0]), -2.0 * gj, 1e-6);
        }
    }
}

#[test]
fn cross_entropy_gradient_with_a_coefficient_beyond_f32_is_exact_where_it_fits() {
    // A z-loss of 1e37 times lse = 50 makes the row's coefficient 1e39, beyond f32: it was
    // ∞, so ∞·0 = NaN at a masked class and ∞ at a class whose true entry (1.9e17) fits.
    // Two rows: C = 2 (the narrow schedule) and C = 40 (the wide one).
    let z_loss = 1e37;
    for classes in [2usize, 40] {
        let mut x = vec![0.0f32; classes];
        x[0] = 50.0;
        if classes > 2 {
            x[classes - 1] = f32::NEG_INFINITY;
        }
        let lse = {
            let s: f64 = x.iter().map(|&v| (f64::from(v) - 50.0).exp()).sum();
            50.0 + s.ln()
        };
        let p1 = (-lse).exp();
        let want1 = (1.0 + 2.0 * z_loss * lse) * p1;
        let ce = CrossEntropy::<f32> {
            z_loss,
            ..CrossEntropy::default()
        };
        for b in backends() {
            let mut g = vec![0.0f32; classes];
            ce.on(b)
                .unwrap()
                .grad(&x, classes, &[0u8][..], Reduction::Sum, &mut g[..])
                .unwrap();
            assert!(g.iter().all(|v| !v.is_nan()), "{b:?} C={classes}: {g:?}");
            close("grad[1]", f64::from(g[1]), want1, 1e-5);
            assert_eq!(g[0], f32::INFINITY, "{b:?}: (1 + 2ζ·lse)·p₀ − 1 = 1e39");
            if classes > 2 {
                assert_eq!(g[classes - 1], 0.0, "{b:?}: a masked class");
            }
        }
    }
}

#[test]
fn multilabel_pos_weight_error_names_its_first_bad_entry() {
    // Entry 0 is negative, entry 1 is −∞: the error is on entry 0, as for class weights.
    let pw = [-1e8f32, f32::NEG_INFINITY];
    let l = MultiLabelBceWithLogits {
        pos_weight: Some(&pw[..]),
        ..Default::default()
    };
    assert_eq!(
        l.value(&[0.5f32, 0.5], 2, &[1.0f32, 0.0][..], Reduction::Sum),
        Err(Error::InvalidInput {
            name: "pos_weight",
            index: 0
        })
    );
}

#[test]
fn sigmoid_focal_keeps_a_tiny_alpha() {
    // α_t = (2α − 1)·y + (1 − α) cancelled α = 1e-38 to 0 at y = 1; the weight 3.4e38 then
    // multiplied a term that should have been α·q^γ·ce.
    let l = SigmoidFocal {
        alpha: 1.000_000_1e-38,
        gamma: 2.0,
    };
    let want = {
        let p = 1.0 / (1.0 + 0.5f64.exp());
        l.alpha * (1.0 - p).powi(2) * -p.ln() * f64::from(f32::MAX)
    };
    for b in backends() {
        let got = l
            .on(b)
            .unwrap()
            .value(&[-0.5f32], &[1.0], Some(&[f32::MAX][..]), Reduction::Sum)
            .unwrap();
        close("value", f64::from(got), want, 1e-5);
    }
}

#[test]
fn poisson_nll_full_and_its_hessian_near_the_end_of_f32() {
    // An ε beyond f32's range is ∞ in f32 (every rate term −∞): an error in both precisions.
    let huge = PoissonNll {
        log_input: false,
        eps: 1e300,
        ..PoissonNll::default()
    };
    assert!(matches!(
        huge.value(&[1.0f64], &[1.0], None, Reduction::Sum),
        Err(Error::InvalidParameter { name: "eps", .. })
    ));
    // log_input + full at t = 1e38, p = 88: t ln t and t p both overflow f32 (∞ − ∞ = NaN);
    // t·(ln t − p − 1) + e^p + ½ ln(2πt) fits.
    let (p, t) = (88.0f32, 1e38f32);
    let (p64, t64) = (f64::from(p), f64::from(t));
    let want = t64 * (t64.ln() - p64 - 1.0) + p64.exp() + 0.5 * (std::f64::consts::TAU * t64).ln();
    // The rate form's Hessian t/(p + ε)² at p = 1e20: (p + ε)² overflows, t/q² = 0.034.
    let rate = PoissonNll {
        log_input: false,
        full: false,
        eps: 1e-8,
    };
    for b in backends() {
        let full = PoissonNll {
            log_input: true,
            full: true,
            eps: 1e-8,
        };
        let v = full
            .on(b)
            .unwrap()
            .value(&[p], &[t], None, Reduction::Sum)
            .unwrap();
        // ln t in f32 carries ε·ln t, times t: the cancelling parts' rounding, not more.
        let tol = 8.0 * f64::from(f32::EPSILON) * t64 * t64.ln();
        assert!(
            (f64::from(v) - want).abs() <= tol,
            "{b:?}: {v:e}, want {want:e} ± {tol:e}"
        );
        let mut h = [0.0f32; 1];
        rate.on(b)
            .unwrap()
            .hessian_diag(&[1e20f32], &[3.4e38], None, Reduction::Sum, &mut h[..])
            .unwrap();
        close(
            "hessian",
            f64::from(h[0]),
            f64::from(3.4e38f32) / 1e40,
            1e-5,
        );
    }
}

#[test]
fn quantile_term_fits_where_its_residual_overflows() {
    // t − p = 6.8e38 overflows f32; τ·(t − p) = 6.8e8 does not.
    let l = Quantile { tau: 1e-30 };
    for b in backends() {
        let mut out = [0.0f32; 1];
        l.on(b)
            .unwrap()
            .value_elementwise(&[-f32::MAX], &[f32::MAX], None, &mut out[..])
            .unwrap();
        close(
            "term",
            f64::from(out[0]),
            1e-30 * 2.0 * f64::from(f32::MAX),
            1e-6,
        );
    }
}

#[test]
fn smoothed_hinge_and_modified_huber_hessians_at_a_tiny_margin() {
    // At z = 1e-12 the smoothed hinge is in its quadratic zone (Hessian 1), though 1 − z
    // rounds to 1 in f32; at z = −1 − 2⁻²³ modified Huber is linear (Hessian 0), though
    // 1 − z rounds to 2.
    let z_below = -1.0f32 - f32::EPSILON;
    for b in backends() {
        let mut h = [0.0f32; 2];
        SmoothHinge
            .on(b)
            .unwrap()
            .hessian_diag(
                &[1e-12f32, -1e-12],
                &[1.0, -1.0],
                None,
                Reduction::Sum,
                &mut h[..],
            )
            .unwrap();
        assert_eq!(h, [1.0, 1.0], "{b:?}");
        ModifiedHuber
            .on(b)
            .unwrap()
            .hessian_diag(
                &[z_below, -1.0],
                &[1.0, 1.0],
                None,
                Reduction::Sum,
                &mut h[..],
            )
            .unwrap();
        assert_eq!(h, [0.0, 2.0], "{b:?}");
    }
}

#[test]
fn pseudo_huber_with_a_tiny_delta_is_delta_times_a_huge_residual() {
    // (r/δ)² overflows f64 for r = 1e139, δ = 1e-30 (the reference once gave ∞/∞ = NaN
    // there); the term is δ|r| − δ² + …, δ|r| to 1e-169.
    let (p, t, delta) = (1e139f64, -1e-8, 1e-30);
    let want = delta * (p - t);
    let reference = losskit::reference::regression::pseudo_huber(p, t, delta);
    close("reference", reference, want, 1e-15);
    for b in backends() {
        let mut out = [0.0f64; 1];
        PseudoHuber { delta }
            .on(b)
            .unwrap()
            .value_elementwise(&[p], &[t], None, &mut out[..])
            .unwrap();
        close("term", out[0], want, 1e-15);
    }
}

#[test]
fn cross_entropy_hessian_and_hvp_with_a_coefficient_beyond_f32_are_exact_where_they_fit() {
    // Hessian: a class weight of 2⁶⁴ over a divisor of 1.5e-20 makes `h_pq = 1.2e39`, beyond
    // f32 (the finding: 3e38 over 0.25, a weight now beyond the range): it was ∞, so
    // ∞·0 = NaN at a label of probability 1 (p(1 − p) = 0) and ∞ where the true entry fits
    // (6.5e7 at p = e⁻⁷², 3e38 at p = ½).
    let w = [18_446_744_073_709_551_616.0f32, 1.0];
    let x = [-16.0f32, -88.0, 0.0, 0.0];
    let ce = CrossEntropy::<f32> {
        class_weights: Some(&w),
        ..CrossEntropy::default()
    };
    let divisor = f64::from(w[0]) / 1.2e39;
    let r = Reduction::Divisor(divisor);
    let h_pq = f64::from(w[0]) / divisor;
    let p1 = (-72.0f64).exp() / (1.0 + (-72.0f64).exp());
    for b in backends() {
        let ce = ce.on(b).unwrap();
        let mut h = [0.0f32; 4];
        ce.hessian_diag(&x, 2, &[0u8, 0][..], r, &mut h[..])
            .unwrap();
        assert_eq!(h[0], 0.0, "{b:?}: p₀ = 1 in f32: {h:?}");
        close("hessian[1]", f64::from(h[1]), h_pq * p1 * (1.0 - p1), 1e-5);
        close("hessian[2]", f64::from(h[2]), h_pq / 4.0, 1e-6);
        close("hessian[3]", f64::from(h[3]), h_pq / 4.0, 1e-6);
        let mut ha = [1.0f32; 4];
        ce.hessian_diag(&x, 2, &[0u8, 0][..], r, Out::add(&mut ha[..]))
            .unwrap();
        for i in 0..4 {
            assert_eq!(ha[i], 1.0 + h[i], "{b:?}: accumulated hessian[{i}]");
        }
    }
    // H·v: a z-loss of 1.5 times lse = −f32::MAX makes `h_pq = 1 + 3·lse ≈ −1.02e39`. Row
    // 0: `pⱼvⱼ − pⱼs = 0` beside the `h_pp` part, ∞·0 + finite = NaN (want `3·p·s`, exactly
    // −0.65625); row 1: s = 0 and `h_pq·pⱼvⱼ = ∓1.28e38` fits (it was ±∞).
    let m = f32::MAX;
    let x = [-m, -m, f32::NEG_INFINITY, -m, -m, f32::NEG_INFINITY];
    let v = [-0.4375f32, -0.4375, -0.4375, 0.25, -0.25, 1.0];
    let ce = CrossEntropy::<f32> {
        z_loss: 1.5,
        ..CrossEntropy::default()
    };
    let lse = -f64::from(m) + core::f64::consts::LN_2;
    let want = (1.0 + 3.0 * lse) * 0.125;
    for b in backends() {
        let ce = ce.on(b).unwrap();
        let mut hv = [0.0f32; 6];
        ce.hvp(&x, 3, &[0u8, 0][..], Reduction::Sum, &v, &mut hv[..])
            .unwrap();
        assert_eq!(hv[..3], [-0.65625, -0.65625, 0.0], "{b:?}: {hv:?}");
        close("hvp[3]", f64::from(hv[3]), want, 1e-6);
        close("hvp[4]", f64::from(hv[4]), -want, 1e-6);
        assert_eq!(hv[5], 0.0, "{b:?}: a masked class");
        let mut hva = [1.0f32; 6];
        ce.hvp(
            &x,
            3,
            &[0u8, 0][..],
            Reduction::Sum,
            &v,
            Out::add(&mut hva[..]),
        )
        .unwrap();
        for i in 0..6 {
            assert_eq!(hva[i], 1.0 + hv[i], "{b:?}: accumulated hvp[{i}]");
        }
    }
}

#[test]
fn cross_entropy_accumulated_label_entry_keeps_a_small_prior_beside_a_large_coefficient() {
    // One certain class (C = 1, the narrow schedule; C = 40 with the others masked, the wide
    // one) over a divisor of 1e-30: `a = d = 1e30`, the label's entry `a·p_y − d` is 0. It
    // was accumulated as `(5 + 1e30) − 1e30 = 0`, losing the caller's 5.
    for classes in [1usize, 40] {
        let mut x = vec![f64::NEG_INFINITY; classes];
        x[0] = 0.0;
        for b in backends() {
            let ce = CrossEntropy::<f64>::default().on(b).unwrap();
            let r = Reduction::Divisor(1e-30);
            let mut g = vec![5.0; classes];
            ce.grad(&x, classes, &[0u8][..], r, Out::add(&mut g[..]))
                .unwrap();
            assert_eq!(g, vec![5.0; classes], "{b:?} C={classes}");
            // Accumulated onto +0, the written gradient, bit for bit.
            let (mut w, mut z) = (vec![7.0; classes], vec![0.0; classes]);
            ce.grad(&x, classes, &[0u8][..], r, &mut w[..]).unwrap();
            ce.grad(&x, classes, &[0u8][..], r, Out::add(&mut z[..]))
                .unwrap();
            let bits = |v: &[f64]| v.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&w), bits(&z), "{b:?} C={classes}");
        }
    }
}

#[test]
fn multi_margin_in_f32_at_a_hinge_of_its_rounded_margin_has_the_subgradient_0() {
    // The margin 1e8 + 1.5e-8 is 1e8 in f32 (the f32 kernel's margin), so h = margin + x₁ −
    // x_y is exactly 0: the subgradient 0 (numerics policy 5), where the f64 kernel, whose
    // margin keeps its 1.5e-8, is on the active side. The check accepts either side within a
    // few f32 roundings of the hinge (`fuzz/src/checks/rows.rs`, `hinge_alternatives`).
    let margin = 1.000_000_000_000_000_3e8;
    for b in backends() {
        let mut g = [7.0f32; 2];
        MultiMargin::<f32> {
            margin,
            ..MultiMargin::default()
        }
        .on(b)
        .unwrap()
        .grad(&[0.0f32, -1e8], 2, &[0u8][..], Reduction::Sum, &mut g[..])
        .unwrap();
        assert_eq!(g, [0.0, 0.0], "{b:?}");
        let mut g = [7.0f64; 2];
        MultiMargin::<f64> {
            margin,
            ..MultiMargin::default()
        }
        .on(b)
        .unwrap()
        .grad(&[0.0f64, -1e8], 2, &[0u8][..], Reduction::Sum, &mut g[..])
        .unwrap();
        assert_eq!(g, [-0.5, 0.5], "{b:?}");
    }
}

#[test]
fn multi_margin_in_f32_at_a_subnormal_margin_may_take_the_hinge_as_0() {
    // Margin 2⁻¹⁴⁹ (f32's smallest subnormal) over equal logits: h = margin > 0, but the
    // f32 kernel works on halves (`½margin` rounds to 0, ties to even), so the class sits
    // at the hinge, where the subgradient is 0. Halving is exact in the normal range only:
    // a hinge within a few 2⁻¹⁴⁹ of 0 may take either side in f32 (the check's
    // `hinge_alternatives`); f64 halves 2⁻¹⁴⁹ exactly and takes the active side.
    let margin = f64::from(f32::from_bits(1));
    for b in backends() {
        let mut g = [7.0f32; 2];
        MultiMargin::<f32> {
            margin,
            ..MultiMargin::default()
        }
        .on(b)
        .unwrap()
        .grad(&[0.0f32, 0.0], 2, &[0u8][..], Reduction::Sum, &mut g[..])
        .unwrap();
        assert_eq!(g, [0.0, 0.0], "{b:?}");
        let mut g = [7.0f64; 2];
        MultiMargin::<f64> {
            margin,
            ..MultiMargin::default()
        }
        .on(b)
        .unwrap()
        .grad(&[0.0f64, 0.0], 2, &[0u8][..], Reduction::Sum, &mut g[..])
        .unwrap();
        assert_eq!(g, [-0.5, 0.5], "{b:?}");
    }
}

#[test]
fn multi_margin_in_f64_of_hinges_near_f64_max_keeps_a_value_that_fits() {
    // Label logit 0, fifteen others at f64::MAX: each hinge is about f64::MAX, their sum
    // overflows f64, their mean over C = 16 (15/16 of f64::MAX) does not. A zero weight on
    // the label makes the row 0 (it was 0·∞ = NaN).
    let mut x = [f64::MAX; 16];
    x[0] = 0.0;
    let zero_first: [f64; 16] = core::array::from_fn(|j| if j == 0 { 0.0 } else { 1.0 });
    for b in backends() {
        let mut g = [7.0f64; 16];
        let v = MultiMargin::<f64>::default()
            .on(b)
            .unwrap()
            .value_and_grad(&x, 16, &[0u8][..], Reduction::Sum, &mut g[..])
            .unwrap();
        close("value", v, 0.9375 * f64::MAX, 1e-15);
        assert_eq!(g[0], -0.9375, "{b:?}");
        assert!(g[1..].iter().all(|&e| e == 0.0625), "{b:?}: {g:?}");
        let weighted = MultiMargin {
            class_weights: Some(&zero_first[..]),
            ..MultiMargin::default()
        };
        let mut g = [7.0f64; 16];
        let v = weighted
            .on(b)
            .unwrap()
            .value_and_grad(&x, 16, &[0u8][..], Reduction::Sum, &mut g[..])
            .unwrap();
        assert_eq!(v, 0.0, "{b:?}");
        assert_eq!(g, [0.0; 16], "{b:?}");
        let mut per_row = [7.0f64];
        MultiMargin::<f64>::default()
            .on(b)
            .unwrap()
            .value_elementwise(&x, 16, &[0u8][..], &mut per_row[..])
            .unwrap();
        close("per row", per_row[0], 0.9375 * f64::MAX, 1e-15);
    }
}

#[test]
fn squared_multi_margin_in_f64_beyond_the_range_is_infinite_and_exact_where_it_fits() {
    // Hinges of 1e300 (a logit of 1e300 over the label's 0; the finding had a margin of
    // 1e300 and a class weight of f32::MAX, both now beyond their ranges) and a class weight
    // of 2⁶⁴: the true gradient 2·w·h/C = 1.8e319 is beyond f64 (±∞ is right, policy 3);
    // with a weight of 1 it is 1e300. The check asked for finite gradients on moderate logits whatever the margin
    // (fixed: it bounds the row's entries by `s·gmag`, which includes the margin).
    let w = [18_446_744_073_709_551_616.0, 1.0];
    let l = MultiMargin::<f64> {
        p: 2,
        margin: f64::from(f32::MAX),
        class_weights: Some(&w[..]),
    };
    for b in backends() {
        let mut g = [0.0f64; 4];
        let v = l
            .on(b)
            .unwrap()
            .value_and_grad(
                &[0.0, 1e300, 1e300, 0.0],
                2,
                &[0u8, 1][..],
                Reduction::Sum,
                &mut g[..],
            )
            .unwrap();
        assert_eq!(v, f64::INFINITY, "{b:?}");
        assert_eq!(
            g,
            [f64::NEG_INFINITY, f64::INFINITY, 1e300, -1e300],
            "{b:?}"
        );
        let huge = MultiMargin::<f64> { margin: 1e300, ..l };
        assert!(matches!(
            huge.on(b)
                .unwrap()
                .value(&[0.0, 1.0], 2, &[0u8][..], Reduction::Sum),
            Err(Error::InvalidParameter { name: "margin", .. })
        ));
    }
}

#[test]
fn multi_margin_gradient_factor_beyond_the_range_keeps_inactive_classes_at_0() {
    // w·s/C·4 overflows the precision (f32: 3.4e38·4/3; f64: 1.7e308·2¹⁰·4/3) while the
    // entries fit: the row's factor was ∞, so an inactive class got 0·∞ = NaN and an active
    // one ∞. It is carried scaled by 2⁻¹²⁸ and each entry scaled back.
    for b in backends() {
        // A weight of 2⁶⁴ over a divisor of 2⁻⁶⁶ (the finding's f32::MAX weight is now beyond
        // the range; in f64 the factor, at most 2¹⁹⁰·4/3, no longer overflows).
        let w = [18_446_744_073_709_551_616.0f32, 1.0, 1.0];
        let x = [10.0f32, 0.0, 9.001];
        let h = 1.0 - 10.0 + f64::from(x[2]);
        let divisor = 2f64.powi(-66);
        let mut g = [0.0f32; 3];
        MultiMargin::<f32> {
            p: 2,
            margin: 1.0,
            class_weights: Some(&w[..]),
        }
        .on(b)
        .unwrap()
        .grad(&x, 3, &[0u8][..], Reduction::Divisor(divisor), &mut g[..])
        .unwrap();
        let want = 2.0 * f64::from(w[0]) / divisor / 3.0 * h;
        assert_eq!(g[1], 0.0, "{b:?}");
        close("grad[2]", f64::from(g[2]), want, 1e-6);
        close("grad[0]", f64::from(g[0]), -want, 1e-6);
    }
}

#[test]
fn soft_cross_entropy_with_a_smoothed_target_under_a_masked_logit_is_infinite() {
    // τ₂ = w₂·ε/C = 2⁻⁶⁴·1e-30/3 rounds to 0 in f32, but it is not 0: on the −∞ logit the
    // value is +∞ (policy 7; the xlogy branch is chosen on the exact τ, policy 10). It was
    // 2·1e4·(ε/3)·ln 2 (the finding: a weight of 1.4e-45, now below the range, and
    // ε = 0.1). A class weight of exactly 0 still contributes 0; and with
    // ε = 0 a target of 1.4e-45 under a weight of 0.3 (τ rounds to 0) is +∞ too, a target
    // of 0 is not.
    let x = [0.0f32, 0.0, f32::NEG_INFINITY];
    let t = [0.0f32; 3];
    let tiny = f32::from_bits(1);
    for b in backends() {
        let mut out = [7.0f32; 1];
        let eps = 1e-30;
        let finite = 2.0 * 1e4 * (eps / 3.0) * core::f64::consts::LN_2;
        for (w2, want) in [(2f32.powi(-64), f32::INFINITY), (0.0, finite as f32)] {
            let w = [1e4f32, 1e4, w2];
            SoftCrossEntropy {
                class_weights: Some(&w[..]),
                label_smoothing: eps,
            }
            .on(b)
            .unwrap()
            .value_elementwise(&x, 3, &t[..], &mut out[..])
            .unwrap();
            if want.is_finite() {
                close("row", f64::from(out[0]), f64::from(want), 1e-6);
            } else {
                assert_eq!(out[0], want, "{b:?} w₂ = {w2:e}");
            }
        }
        let w = [0.3f32, 1.0, 0.5];
        let x = [f32::NEG_INFINITY, 1.0, 2.0, 0.0, 1.0, f32::NEG_INFINITY];
        let t = [tiny, 0.5, 0.5, 0.0, 1.0, 0.0];
        let mut out = [7.0f32; 2];
        SoftCrossEntropy {
            class_weights: Some(&w[..]),
            label_smoothing: 0.0,
        }
        .on(b)
        .unwrap()
        .value_elementwise(&x, 3, &t[..], &mut out[..])
        .unwrap();
        assert_eq!(out[0], f32::INFINITY, "{b:?}");
        close("row 1", f64::from(out[1]), (1.0 + (-1f64).exp()).ln(), 1e-6);
    }
}

#[test]
fn smooth_l1_mean_of_terms_near_f32_max_is_the_mean_on_every_backend() {
    // Three terms of 3.4e38 among 40: the f64 path adds four vectors of terms in f32 before
    // widening (portable and AVX2, 8 lanes: lane 0 of vectors 0 and 1 overflowed to +∞;
    // AVX-512's 16 lanes form no group of 40 elements). A sum that is not finite is summed
    // again with every term widened on its own.
    let n = 40;
    let mut p = vec![0.0f32; n];
    let t = vec![0.0f32; n];
    p[0] = -3.4e38;
    p[8] = -3.4e38;
    p[16] = 3.4e38;
    p[33] = 1.5;
    let want = (3.0 * (3.4e38f32 as f64 - 0.5) + 1.0) / n as f64;
    for b in backends() {
        let l = SmoothL1::default().on(b).unwrap();
        close(
            "mean",
            f64::from(l.value(&p, &t, None, Reduction::Mean).unwrap()),
            want,
            1e-6,
        );
        let mut g = vec![1.0f32; n];
        let v = l
            .value_and_grad(&p, &t, None, Reduction::Mean, Out::add(&mut g[..]))
            .unwrap();
        close("value_and_grad, added", f64::from(v), want, 1e-6);
        assert_eq!(
            l.value(&p, &t, None, Reduction::Sum).unwrap(),
            f32::INFINITY,
            "{b:?}: the sum itself is beyond f32"
        );
    }
}

#[test]
fn smoothing_sum_beyond_f64_keeps_a_row_value_that_fits() {
    // Σ τⱼ(zⱼ − m) = 2·(−2e308) overflows f64 (even its 2⁻⁶⁴-scaled terms sum to a finite
    // value), while the smoothing term (ε/C)·Σ τⱼ(lse − zⱼ) = (0.1/3)·4e308 fits: the row's
    // value is 1.33e307, not +∞ (cross-entropy and Poly-1, whose ε term is below its
    // rounding here).
    let x = [1e308f64, -1e308, -1e308];
    let labels = [0u8];
    let want = (0.1 / 3.0 * 4.0) * 1e308;
    for b in backends() {
        let ce = CrossEntropy {
            label_smoothing: 0.1,
            ..CrossEntropy::default()
        };
        let got = ce
            .on(b)
            .unwrap()
            .value(&x, 3, &labels[..], Reduction::Sum)
            .unwrap();
        close("cross-entropy", got, want, 1e-12);
        let poly = Poly1 {
            label_smoothing: 0.1,
            ..Poly1::default()
        };
        let mut g = [0.0f64; 3];
        let got = poly
            .on(b)
            .unwrap()
            .value_and_grad(&x, 3, &labels[..], Reduction::Mean, &mut g[..])
            .unwrap();
        close("poly1", got, want, 1e-12);
    }
}

#[test]
fn distillation_in_f32_with_a_tiny_temperature_keeps_a_row_value_that_fits() {
    // x − m = −6e38 overflows f32 and so would (x − m)/T = −6e41; the row's value
    // (1 − α)·T²·KL ≈ ½·T·½·6e38 = 1.5e35 fits: the f64 kernel's value, not +∞.
    let s = [3e38f32, -3e38];
    let t = [0.0f32, 0.0];
    let labels = [0u8];
    let l = Distillation {
        alpha: 0.5,
        temperature: 1e-3,
    };
    let (s64, t64) = (s.map(f64::from), t.map(f64::from));
    let want = l
        .value(
            &s64,
            2,
            Teacher {
                logits: &t64[..],
                labels: &labels[..],
            },
            Reduction::Sum,
        )
        .unwrap();
    close("f64", want, 1.5e35, 1e-6);
    for b in backends() {
        let teacher = Teacher {
            logits: &t[..],
            labels: &labels[..],
        };
        let got = l
            .on(b)
            .unwrap()
            .value(&s, 2, teacher, Reduction::Sum)
            .unwrap();
        close("value", f64::from(got), want, 1e-6);
    }
}

#[test]
fn distillation_in_f64_of_logits_a_few_ulps_apart_near_f32_max() {
    // The kernel's (x − m)/T is exact where the check's old x/T rounded each logit to
    // ulp(3.4e38/T) = 2⁷⁵: the value is ½·T·D (D = the student's spread, 3 ulps of 3.4e38;
    // the teacher puts all its mass on class 1), not the 33% larger one the check wanted.
    let s = [
        -3.402_823_466_385_288_6e38f64,
        -3.402_823_466_385_288_6e38,
        -3.402_823_466_385_287_5e38,
    ];
    let t = [0.581_308_662_891_387_9f64, 88.719_991_128, -1e8];
    let labels = [2u8];
    let temperature = 9.999_999e-1;
    let l = Distillation {
        alpha: 0.5,
        temperature,
    };
    let want = 0.5 * temperature * (s[2] - s[0]);
    for b in backends() {
        let teacher = Teacher {
            logits: &t[..],
            labels: &labels[..],
        };
        let mut g = [0.0f64; 3];
        let got = l
            .on(b)
            .unwrap()
            .value_and_grad(&s, 3, teacher, Reduction::Sum, &mut g[..])
            .unwrap();
        close("value", got, want, 1e-9);
    }
}

#[test]
fn poly1_in_f32_with_a_label_coefficient_beyond_f32_keeps_label_entries_that_fit() {
    // Label 0 (p_y = 1/(1 + e) ≈ 0.27) weighted 2⁶⁴ over a divisor of 2⁻⁶⁴ (the finding: a
    // weight of f32::MAX, now beyond the range, summed): `d = s·w_y·(1 + ε·p_y)` overflows
    // f32 while the label's entry `−d·(1 − p_y)` ≈ −2.8e38 fits (it was `a·p_y − ∞ = −∞`);
    // the f64 kernel on the same inputs gives it. With ε = 2⁶⁴ the coefficients are
    // carried scaled by 2⁻⁶⁴ and both `a·p_y` and `d` overflow (it was `∞ − ∞ = NaN`): the
    // entries are then ±∞, the label's −∞.
    let x = [0.0f32, 1.0];
    let labels = [0u8];
    let w = [18_446_744_073_709_551_616.0f32, 1.0];
    let w64 = w.map(f64::from);
    let r = Reduction::Divisor(2f64.powi(-64));
    let want = {
        let poly = Poly1 {
            epsilon: 0.5,
            class_weights: Some(&w64[..]),
            ..Poly1::default()
        };
        let mut g = [0.0f64; 2];
        poly.value_and_grad(&x.map(f64::from), 2, &labels[..], r, &mut g[..])
            .unwrap();
        g
    };
    assert!(
        want[0] > -f64::from(f32::MAX) && want[0] < -1e38,
        "{want:?}"
    );
    for b in backends() {
        let poly = Poly1 {
            epsilon: 0.5,
            class_weights: Some(&w[..]),
            ..Poly1::default()
        };
        let mut g = [0.0f32; 2];
        poly.on(b)
            .unwrap()
            .value_and_grad(&x, 2, &labels[..], r, &mut g[..])
            .unwrap();
        for j in 0..2 {
            close("poly1 gradient", f64::from(g[j]), want[j], 1e-5);
        }
        let poly = Poly1 {
            epsilon: 18_446_744_073_709_551_616.0,
            class_weights: Some(&w[..]),
            ..Poly1::default()
        };
        poly.on(b)
            .unwrap()
            .value_and_grad(&x, 2, &labels[..], r, &mut g[..])
            .unwrap();
        assert_eq!(g, [f32::NEG_INFINITY, f32::INFINITY], "ε = 2⁶⁴");
    }
}

#[test]
fn pseudo_huber_in_f32_with_delta_at_f32_max_is_half_the_squared_residual() {
    // δ = f32::MAX: δ|r| overflowed f32 for r = −104.9 (the value was ∞); the term is
    // δ²(√(1 + (r/δ)²) − 1) = r²/2 to f32's precision, and a small residual (whose r/δ is
    // subnormal) keeps its bits too.
    let delta = f64::from(f32::MAX);
    for b in backends() {
        let mut out = [0.0f32; 2];
        PseudoHuber { delta }
            .on(b)
            .unwrap()
            .value_elementwise(&[-103.9f32, 1e-3], &[1.0, 0.0], None, &mut out[..])
            .unwrap();
        let r0 = f64::from(-103.9f32) - 1.0;
        close("term", f64::from(out[0]), 0.5 * r0 * r0, 1e-6);
        let r1 = f64::from(1e-3f32);
        close("small term", f64::from(out[1]), 0.5 * r1 * r1, 1e-6);
    }
}

#[test]
fn distillation_in_accumulate_mode_keeps_the_callers_value_beside_a_tiny_divisor() {
    // One class: every gradient entry is 0, so accumulating adds 0 to the caller's 5. The
    // label entry was (5 + f·α) − f·α with f = 2⁶³ (a divisor of 2⁻⁶³): 0 in f32.
    let l = Distillation {
        alpha: 0.5,
        temperature: 1.0,
    };
    let x = [0.0f32; 3];
    let labels = [0u8; 3];
    for b in backends() {
        let mut g = [5.0f32; 3];
        l.on(b)
            .unwrap()
            .value_and_grad(
                &x,
                1,
                Teacher {
                    logits: &x[..],
                    labels: &labels[..],
                },
                Reduction::Divisor(1.0 / 9_223_372_036_854_775_808.0),
                Out::add(&mut g[..]),
            )
            .unwrap();
        assert_eq!(g, [5.0; 3], "{b:?}");
    }
}

#[test]
fn multi_margin_keeps_small_logits_beside_a_margin_that_cancels_the_label() {
    // margin = x_y = −3.4e38: h_j = margin − x_y + x_j = x_j exactly. The difference-first
    // order (½x_j − ½x_y) + ½margin rounded x_j away at 1.7e38's scale: the value was 0.
    // Both orders of two plain additions lose one of this and the equal-large-logits case
    // above; the kernel carries ½margin − ½x_y exactly (hi + lo).
    let big = -3.402_823_466_385_288_6e38f64;
    let x = [7.5f64, big, 1.0, -2.0];
    for p in [1u8, 2] {
        let l = MultiMargin::<f64> {
            p,
            margin: big,
            ..MultiMargin::default()
        };
        // Terms over j ≠ y = 1: 7.5^p + 1^p (−2 is below the hinge), over C = 4.
        let want = (7.5f64.powi(i32::from(p)) + 1.0) / 4.0;
        for b in backends() {
            let mut g = [0.0f64; 4];
            let v = l
                .on(b)
                .unwrap()
                .value_and_grad(&x, 4, &[1u8][..], Reduction::Sum, &mut g[..])
                .unwrap();
            close("value", v, want, 1e-15);
            let g0 = f64::from(p) * 7.5f64.powi(i32::from(p) - 1) / 4.0;
            close("grad[0]", g[0], g0, 1e-15);
            assert_eq!(g[3], 0.0, "{b:?}");
        }
    }
}

#[test]
fn gaussian_nll_variance_gradient_in_f32_keeps_half_a_square_that_fits() {
    // r/v = 2.4e19: (r/v)² = 5.6e38 overflows f32, ½(r/v)² = 2.8e38 fits; the gradient with
    // respect to the variance was −∞.
    let eps = 1.084_202_172_485_504_4e-19;
    let (p, t) = (2.566_894_5_f32, 0.0f32);
    let v = eps as f32;
    let rv = f64::from(p) / f64::from(v);
    let want = 0.5 / f64::from(v) - 0.5 * rv * rv;
    for b in backends() {
        let l = GaussianNll { full: false, eps }.on(b).unwrap();
        let (mut gp, mut gv) = ([0.0f32], [0.0f32]);
        l.value_and_grad(
            &[p],
            &[t],
            &[v],
            Reduction::Sum,
            &mut gp[..],
            Some(Out::write(&mut gv[..])),
        )
        .unwrap();
        close("grad_var", f64::from(gv[0]), want, 1e-6);
    }
}

#[test]
fn cross_entropy_of_a_confident_row_in_f32_is_its_tiny_value_not_0() {
    // e⁻⁸⁰ = 1.8e-35 is a normal f32 number, but 1 + e⁻⁸⁰ is 1 in f64: ln S was 0, and so
    // were the label's gradient entry and soft-target cross-entropy's value.
    let x = [0.0f32, -80.0];
    let tail = (-80.0f64).exp();
    let want = tail.ln_1p();
    for b in backends() {
        let mut g = [0.0f32; 2];
        let v = CrossEntropy::<f32>::default()
            .on(b)
            .unwrap()
            .value_and_grad(&x, 2, &[0u8][..], Reduction::Sum, &mut g[..])
            .unwrap();
        close("value", f64::from(v), want, 1e-6);
        close("grad[0]", f64::from(g[0]), -tail / (1.0 + tail), 1e-6);
        let soft = SoftCrossEntropy::<f32>::default()
            .on(b)
            .unwrap()
            .value(&x, 2, &[1.0f32, 0.0][..], Reduction::Sum)
            .unwrap();
        close("soft value", f64::from(soft), want, 1e-6);
    }
}

#[test]
fn distillation_student_mask_under_an_underflowed_teacher_probability_is_infinite() {
    // The teacher's probability of class 1 is e⁻¹⁷⁶ (0 in f32, not in fact): the student's
    // mask there makes the KL term +∞. The underflowed e^{zₜ} made it count for 0.
    let (s, t) = ([0.0f32, f32::NEG_INFINITY], [88.0f32, -88.0]);
    for b in backends() {
        let v = Distillation::default()
            .on(b)
            .unwrap()
            .value(
                &s,
                2,
                Teacher {
                    logits: &t[..],
                    labels: &[0u8][..],
                },
                Reduction::Sum,
            )
            .unwrap();
        assert_eq!(v, f32::INFINITY, "{b:?}");
    }
}

#[test]
fn distillation_gradient_with_a_huge_temperature_over_a_tiny_divisor_is_finite() {
    // T = 2⁶⁴ over a divisor of 1e-20: the KL coefficients (1 − α)·T/d ≈ 9e38 overflow f32,
    // and the entry ∞·q − ∞·q was NaN. Student = teacher: the KL part is 0, the entry is
    // α/d·(pⱼ − [j = y]).
    let x = [1.0f32, 2.0, 3.0];
    let p: Vec<f64> = {
        let e: Vec<f64> = x.iter().map(|&v| f64::from(v).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    };
    let l = Distillation {
        alpha: 0.5,
        temperature: 18_446_744_073_709_551_616.0,
    };
    for b in backends() {
        let mut g = [0.0f32; 3];
        l.on(b)
            .unwrap()
            .grad(
                &x,
                3,
                Teacher {
                    logits: &x[..],
                    labels: &[0u8][..],
                },
                Reduction::Divisor(1e-20),
                &mut g[..],
            )
            .unwrap();
        for j in 0..3 {
            let want = 0.5e20 * (p[j] - if j == 0 { 1.0 } else { 0.0 });
            close("grad", f64::from(g[j]), want, 1e-5);
        }
    }
}

#[test]
fn class_weights_outside_two_to_the_plus_minus_64_are_errors() {
    // 11 findings had class weights near f32::MAX, subnormal, or both in one call: products
    // formed in the data's precision overflowed or lost their digits where the weighted mean
    // fits. A weight is now 0 or in [2⁻⁶⁴, 2⁶⁴] (numerics rule 10); the error names the first
    // entry that is not, whichever rule it breaks.
    let big = 18_446_744_073_709_551_616.0f64;
    let x = [0.5f64, -1.0, 2.0];
    for b in backends() {
        for (w, bad) in [
            ([big, 1.0 / big, 0.0], None),
            ([1.0, 2.0 * big, 0.0], Some(1)),
            ([1.0, 1.0, 0.5 / big], Some(2)),
            ([3e38, f64::NAN, 1.0], Some(0)),
            ([1.0, f64::NAN, 3e38], Some(1)),
        ] {
            let want_err = |name: &'static str| -> Option<Error> {
                bad.map(|index| {
                    if w[index].is_nan() {
                        Error::NonFinite { name, index }
                    } else {
                        Error::InvalidInput { name, index }
                    }
                })
            };
            let want = want_err("class_weights");
            let labels = &[2u8][..];
            let rows: [(&str, losskit::Result<f64>); 5] = [
                (
                    "cross_entropy",
                    CrossEntropy {
                        class_weights: Some(&w[..]),
                        ..CrossEntropy::default()
                    }
                    .on(b)
                    .unwrap()
                    .value(&x, 3, labels, Reduction::Mean),
                ),
                (
                    "soft_cross_entropy",
                    SoftCrossEntropy {
                        class_weights: Some(&w[..]),
                        label_smoothing: 0.0,
                    }
                    .on(b)
                    .unwrap()
                    .value(&x, 3, &[0.0, 0.0, 1.0][..], Reduction::Mean),
                ),
                (
                    "nll",
                    Nll {
                        class_weights: Some(&w[..]),
                        ..Nll::default()
                    }
                    .on(b)
                    .unwrap()
                    .value(&[-1.0, -2.0, -0.5], 3, labels, Reduction::Mean),
                ),
                (
                    "poly1",
                    Poly1 {
                        class_weights: Some(&w[..]),
                        ..Poly1::default()
                    }
                    .on(b)
                    .unwrap()
                    .value(&x, 3, labels, Reduction::Mean),
                ),
                (
                    "multi_margin",
                    MultiMargin {
                        class_weights: Some(&w[..]),
                        ..MultiMargin::default()
                    }
                    .on(b)
                    .unwrap()
                    .value(&x, 3, labels, Reduction::Mean),
                ),
            ];
            for (name, r) in rows {
                match (&want, r) {
                    (None, Ok(v)) => assert!(v.is_finite(), "{b:?} {name} {w:?}: {v}"),
                    (Some(e), Err(got)) => assert_eq!(&got, e, "{b:?} {name} {w:?}"),
                    (want, got) => panic!("{b:?} {name} {w:?}: {got:?}, want {want:?}"),
                }
            }
            let ml = MultiLabelBceWithLogits {
                pos_weight: None,
                class_weights: Some(&w[..]),
            }
            .on(b)
            .unwrap()
            .value(&x, 3, &[0.0, 1.0, 0.5][..], Reduction::Mean);
            match (&want, ml) {
                (None, Ok(v)) => assert!(v.is_finite(), "{b:?} multilabel {w:?}: {v}"),
                (Some(e), Err(got)) => assert_eq!(&got, e, "{b:?} multilabel {w:?}"),
                (want, got) => panic!("{b:?} multilabel {w:?}: {got:?}, want {want:?}"),
            }
        }
    }
}

#[test]
fn poisson_nll_rate_form_with_full_near_the_end_of_f32_is_never_nan() {
    // Without log_input, t ln q and t ln t overflowed f32 together (t = 3.4e38): the value
    // was ∞ − ∞ = NaN. Formed as p + t·(ln t − ln q − 1) + ½ ln(2πt), it is +∞ where the
    // difference overflows too (q = 7.06) and finite where it fits (q = 1.25e38).
    let l = PoissonNll {
        log_input: false,
        full: true,
        eps: 1e-8,
    };
    for b in backends() {
        let l = l.on(b).unwrap();
        let v = l
            .value(&[7.0625f32], &[3.4e38], None, Reduction::Sum)
            .unwrap();
        assert_eq!(v, f32::INFINITY, "{b:?}");
        let (p, t) = (1.25e38f32, 3.4e38f32);
        let (p64, t64) = (f64::from(p), f64::from(t));
        let want = p64 - t64 * (p64 + 1e-8).ln() + t64 * t64.ln() - t64
            + 0.5 * (std::f64::consts::TAU * t64).ln();
        let v = l.value(&[p], &[t], None, Reduction::Sum).unwrap();
        close("value", f64::from(v), want, 1e-4);
    }
}

#[test]
fn poisson_nll_rate_that_overflows_f32_is_carried_halved() {
    // ε = p = f32::MAX: q = p + ε is ∞ in f32 where it is 6.8e38. The value, gradient and
    // Hessian were −∞, 1 and 0 (at t = 1e36: 2.5e38, 0.9985 and 2.2e-42); from halves they
    // are the true ones.
    let max = f32::MAX;
    let m = f64::from(max);
    let q = 2.0 * m;
    for full in [false, true] {
        let l = PoissonNll {
            log_input: false,
            full,
            eps: m,
        };
        for b in backends() {
            let l = l.on(b).unwrap();
            let t = 1.0e36f32;
            let t64 = f64::from(t);
            let mut want = m - t64 * q.ln();
            if full {
                want += t64 * t64.ln() - t64 + 0.5 * (std::f64::consts::TAU * t64).ln();
            }
            let mut g = [0.0f32; 1];
            let v = l
                .value_and_grad(&[max], &[t], None, Reduction::Sum, &mut g[..])
                .unwrap();
            close("value", f64::from(v), want, 1e-5);
            close("gradient", f64::from(g[0]), 1.0 - t64 / q, 1e-6);
            let mut h = [0.0f32; 1];
            l.hessian_diag(&[max], &[t], None, Reduction::Sum, &mut h[..])
                .unwrap();
            // t/q² is subnormal in f32: compared to its absolute rounding.
            let hw = t64 / q / q;
            assert!(
                (f64::from(h[0]) - hw).abs() <= 2.0 * f64::from(f32::from_bits(1)),
                "{b:?} full={full}: hessian {:e}, want {hw:e}",
                h[0]
            );
            // Where the rate fits, the halved form is not taken: the same bits as p + ε.
            let v = l.value(&[1.5f32], &[2.0], None, Reduction::Sum).unwrap();
            let p = 1.5f64;
            let mut w = p - 2.0 * (p + m).ln();
            if full {
                w += 2.0 * 2.0f64.ln() - 2.0 + 0.5 * (std::f64::consts::TAU * 2.0).ln();
            }
            close("small rate value", f64::from(v), w, 1e-6);
        }
    }
}

#[test]
fn soft_cross_entropy_of_a_row_with_only_a_tiny_target_keeps_its_tiny_value() {
    // The only target mass, 1e-38, lies on a class 745.5 below the row's max: the value is
    // 1e-38·745.5 = 7.5e-36, a normal f32 number. The exp pass's Σ τ(z − m), scaled by 2⁻⁶⁴
    // against overflow, underflowed to 0 (a term below 2⁻⁸⁵); the unscaled sum beside it
    // keeps it. On several rows and lengths, so that every backend's tails and full vectors
    // carry the tiny term.
    for c in [2usize, 5, 17, 40] {
        let mut x = vec![0.25f32; c];
        x[0] = 745.0;
        x[c - 1] = -0.5;
        let mut t = vec![0.0f32; c];
        t[c - 1] = 1e-38;
        let lse = 745.0 + ((c - 2) as f64 * (0.25f64 - 745.0).exp()).ln_1p();
        let want = 1e-38f32 as f64 * (lse + 0.5);
        for b in backends() {
            let l = SoftCrossEntropy::<f32>::default().on(b).unwrap();
            let v = l.value(&x, c, &t[..], Reduction::Sum).unwrap();
            close("value", f64::from(v), want, 1e-6);
            let mut per_row = [0.0f32; 1];
            l.value_elementwise(&x, c, &t[..], &mut per_row[..])
                .unwrap();
            close("per-row value", f64::from(per_row[0]), want, 1e-6);
        }
    }
}

#[test]
fn huber_and_smooth_l1_of_a_residual_beyond_f32_keep_a_value_that_fits() {
    // p − t = −3.4e38 − 1e38 overflows f32; δ(|r| − ½δ) = 2.2e38 (δ = ½) and |r| − ½β =
    // 2.7e38 (β = 3.4e38) fit. They were +∞.
    let (p, t) = (-f32::MAX, 1e38f32);
    let r = f64::from(t) - f64::from(p);
    for b in backends() {
        let v = Huber { delta: 0.5 }
            .on(b)
            .unwrap()
            .value(&[p], &[t], None, Reduction::Sum)
            .unwrap();
        close("huber", f64::from(v), 0.5 * (r - 0.25), 1e-6);
        let beta = f64::from(f32::MAX);
        let v = SmoothL1 { beta }
            .on(b)
            .unwrap()
            .value(&[p], &[t], None, Reduction::Sum)
            .unwrap();
        close("smooth_l1", f64::from(v), r - 0.5 * beta, 1e-6);
        // Where r fits, the plain form: the same bits as before.
        let v = Huber { delta: 0.5 }
            .on(b)
            .unwrap()
            .value(&[3.0f32], &[1.0], None, Reduction::Sum)
            .unwrap();
        assert_eq!(v, 0.875, "{b:?}");
    }
}

#[test]
fn kl_div_with_log_target_of_an_underflowed_target_probability_is_0_not_nan() {
    // e^t = 0 (t = −3.4e38) times t − p = −∞ (p = 3.4e38): 0·∞ was NaN; the term is −0 in
    // truth. And t = p where e^t overflows (t = 100 in f32): ∞·0, the term is 0.
    let l = KlDiv { log_target: true };
    for b in backends() {
        let mut out = [1.0f32; 2];
        l.on(b)
            .unwrap()
            .value_elementwise(&[f32::MAX, 100.0], &[-f32::MAX, 100.0], None, &mut out[..])
            .unwrap();
        assert_eq!(out, [0.0, 0.0], "{b:?}");
    }
}

#[test]
fn poisson_nll_rate_keeps_a_rate_far_below_eps() {
    // ε = 1, p = 1e-8, t = 1e30: ln(p + ε) rounded to ln 1 = 0 in f32, so t·ln q was 0 where
    // it is 1e22 (PyTorch's f32 gives 0). With the sum's rounding error kept, it is right;
    // likewise in f64 at p = 1e-20, t = 1e300.
    let l = PoissonNll {
        log_input: false,
        full: false,
        eps: 1.0,
    };
    for b in backends() {
        let l = l.on(b).unwrap();
        let (p, t) = (1e-8f32, 1e30f32);
        let want = f64::from(p) - f64::from(t) * f64::from(p).ln_1p();
        let v = l.value(&[p], &[t], None, Reduction::Sum).unwrap();
        close("f32 value", f64::from(v), want, 1e-6);
        let (p, t) = (1e-20f64, 1e300f64);
        let v = l.value(&[p], &[t], None, Reduction::Sum).unwrap();
        close("f64 value", v, p - t * p.ln_1p(), 1e-12);
    }
}

#[test]
fn barron_cauchy_hessian_of_a_huge_residual_is_its_tiny_value() {
    // α = 0 (Cauchy), r = 1e20: ∂²ρ/∂p² = −2/r² = −2e-40 (subnormal in f32). r² overflowed
    // f32 in 1/(1 + r²/2), which gave 0.
    for b in backends() {
        let mut h = [0.0f32; 1];
        Barron {
            alpha: 0.0,
            scale: 1.0,
        }
        .on(b)
        .unwrap()
        .hessian_diag(&[1e20f32], &[0.0], None, Reduction::Sum, &mut h[..])
        .unwrap();
        let want = -2.0 / (1e20f32 as f64).powi(2);
        assert!(
            (f64::from(h[0]) - want).abs() <= 4.0 * f64::from(f32::from_bits(1)),
            "{b:?}: {:e}, want {want:e}",
            h[0]
        );
    }
}

#[test]
fn squared_multi_margin_of_tiny_hinges_over_a_tiny_divisor_is_not_0() {
    // Hinges of 1e-30 (the margin, over equal logits): their squares, 1e-60, are 0 in f32,
    // while divided by 1e-30 the value, 13·1e-60/16/1e-30 = 8.1e-31, is a normal number.
    let mut x = [1e-30f32; 16];
    x[0] = -f32::MAX;
    x[1] = -1e37;
    let l = MultiMargin::<f32> {
        p: 2,
        margin: 1e-30,
        ..MultiMargin::default()
    };
    let m = f64::from(1e-30f32);
    let want = 13.0 * m * m / 16.0 / 1e-30;
    for b in backends() {
        let v = l
            .on(b)
            .unwrap()
            .value(&x, 16, &[3u8][..], Reduction::Divisor(1e-30))
            .unwrap();
        close("value", f64::from(v), want, 1e-5);
    }
}

#[test]
fn sigmoid_focal_with_a_gamma_below_f32s_range_is_never_nan() {
    // γ = 1e-300 is 0 in f32: (1 − p_t)^γ as exp(γ·ln(1 − p_t)) was exp(0·(−∞)) = NaN where
    // p_t = 1 (x = 3.4e38, y = 1); it is 0 there (γ > 0), and ≈ 1 elsewhere.
    let l = SigmoidFocal {
        alpha: 0.25,
        gamma: 1e-300,
    };
    let x = [f32::MAX, 0.5, -2.0];
    let y = [1.0f32, 0.75, 0.0];
    for b in backends() {
        let mut out = [0.0f32; 3];
        l.on(b)
            .unwrap()
            .value_elementwise(&x, &y, None, &mut out[..])
            .unwrap();
        assert_eq!(out[0], 0.0, "{b:?}");
        for i in 1..3 {
            let (xi, yi) = (f64::from(x[i]), f64::from(y[i]));
            let bce = xi.max(0.0) - xi * yi + (-xi.abs()).exp().ln_1p();
            let at = 0.25 * yi + 0.75 * (1.0 - yi);
            close("value", f64::from(out[i]), at * bce, 1e-6);
        }
    }
}

#[test]
fn barron_cauchy_gradient_of_a_subnormal_residual_is_the_residual() {
    // α = 0, r = 1.35e-39 (subnormal in f32): ∂ρ/∂p = r/(1 + r²/2) = r. As 1/(1/r + r/2),
    // 1/r overflowed f32 and the gradient was 0.
    let r = 1.347_64e-39f32;
    for b in backends() {
        let mut g = [1.0f32; 1];
        Barron {
            alpha: 0.0,
            scale: 1.0,
        }
        .on(b)
        .unwrap()
        .grad(&[r], &[0.0], None, Reduction::Sum, &mut g[..])
        .unwrap();
        assert_eq!(g[0], r, "{b:?}");
    }
}
