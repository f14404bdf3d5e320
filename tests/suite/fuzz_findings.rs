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
