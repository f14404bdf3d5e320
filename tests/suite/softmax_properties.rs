//! Properties of the row-softmax losses on every backend: agreement with the f64 oracle and
//! with central finite differences (gradients, Hessian diagonal, Hessian–vector product),
//! row lengths around the lane counts up to a 128256-class vocabulary, shift invariance at
//! 1e8 and 3e38, `−∞` masks, all-ignored batches, the error contract, extreme logits.

use crate::common::backends;
use losskit::prelude::*;
use losskit::reference::softmax as oracle;
use proptest::prelude::*;

/// A deterministic pseudo-random stream (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal_ish(&mut self, scale: f64) -> f64 {
        (self.next() + self.next() + self.next() - 1.5) * 2.0 * scale
    }
    fn vec(&mut self, n: usize, scale: f64) -> Vec<f64> {
        (0..n).map(|_| self.normal_ish(scale)).collect()
    }
}

/// Central differences of `f` at `x`.
fn fd(f: &dyn Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    (0..x.len())
        .map(|j| {
            let (mut a, mut b) = (x.to_vec(), x.to_vec());
            a[j] += h;
            b[j] -= h;
            (f(&a) - f(&b)) / (2.0 * h)
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * scale.max(w.abs()),
            "{what}[{i}]: got {g:e}, want {w:e}"
        );
    }
}

const ROWS: usize = 3;
const C: usize = 7;

/// The configurations of `CrossEntropy` the gradient checks sweep.
fn ce_configs<'w>(w: &'w [f64]) -> Vec<CrossEntropy<'w, f64>> {
    let base = CrossEntropy::default();
    vec![
        base,
        CrossEntropy {
            class_weights: Some(w),
            ..base
        },
        CrossEntropy {
            label_smoothing: 0.1,
            ..base
        },
        CrossEntropy {
            class_weights: Some(w),
            label_smoothing: 0.2,
            z_loss: 1e-2,
            ..base
        },
        CrossEntropy {
            z_loss: 0.05,
            ..base
        },
        CrossEntropy {
            softcap: Some(2.5),
            label_smoothing: 0.1,
            ..base
        },
    ]
}

#[test]
fn cross_entropy_agrees_with_the_oracle_and_finite_differences() {
    let mut rng = Rng(7);
    let x = rng.vec(ROWS * C, 2.0);
    let w: Vec<f64> = (0..C).map(|j| 0.5 + j as f64 * 0.25).collect();
    let labels = [3i64, -100, 6];
    for backend in backends() {
        for ce in ce_configs(&w) {
            let l = ce.on(backend).unwrap();
            // The oracle's mean: CE terms over Σ w_y, z-loss over the row count.
            let total_w: f64 = [3usize, 6]
                .iter()
                .map(|&y| ce.class_weights.map_or(1.0, |w| w[y]))
                .sum();
            let oracle_mean = |x: &[f64]| {
                [(0usize, 3usize), (2, 6)]
                    .iter()
                    .map(|&(r, y)| {
                        let row = &x[r * C..(r + 1) * C];
                        let zl = oracle::cross_entropy(row, y, None, 0.0, ce.z_loss, ce.softcap)
                            - oracle::cross_entropy(row, y, None, 0.0, 0.0, ce.softcap);
                        let main = oracle::cross_entropy(
                            row,
                            y,
                            ce.class_weights,
                            ce.label_smoothing,
                            0.0,
                            ce.softcap,
                        );
                        main / total_w + zl / 2.0
                    })
                    .sum::<f64>()
            };
            let v = l.value(&x, C, &labels, Reduction::Mean).unwrap();
            assert_close("value", &[v], &[oracle_mean(&x)], 1e-12);
            let mut g = vec![0.0; x.len()];
            l.grad(&x, C, &labels, Reduction::Mean, &mut g[..]).unwrap();
            assert_close("grad", &g, &fd(&oracle_mean, &x, 1e-5), 1e-7);
            if ce.softcap.is_none() {
                // Hessian diagonal and H·v against differences of the kernel's gradient.
                let grad_at = |x: &[f64]| {
                    let mut g = vec![0.0; x.len()];
                    l.grad(x, C, &labels, Reduction::Mean, &mut g[..]).unwrap();
                    g
                };
                let mut h = vec![0.0; x.len()];
                l.hessian_diag(&x, C, &labels, Reduction::Mean, &mut h)
                    .unwrap();
                let hd: Vec<f64> = (0..x.len())
                    .map(|j| fd(&|x| grad_at(x)[j], &x, 1e-5)[j])
                    .collect();
                assert_close("hessian_diag", &h, &hd, 1e-7);
                let vdir = rng.vec(x.len(), 1.0);
                let mut hv = vec![0.0; x.len()];
                l.hvp(&x, C, &labels, Reduction::Mean, &vdir, &mut hv)
                    .unwrap();
                let step = |s: f64| {
                    let xs: Vec<f64> = x.iter().zip(&vdir).map(|(a, b)| a + s * b).collect();
                    grad_at(&xs)
                };
                let (gp, gm) = (step(1e-5), step(-1e-5));
                let hv_fd: Vec<f64> = gp.iter().zip(&gm).map(|(a, b)| (a - b) / 2e-5).collect();
                assert_close("hvp", &hv, &hv_fd, 1e-7);
            } else {
                let mut h = vec![0.0; x.len()];
                assert!(matches!(
                    l.hessian_diag(&x, C, &labels, Reduction::Mean, &mut h),
                    Err(Error::InvalidParameter {
                        name: "softcap",
                        ..
                    })
                ));
            }
        }
    }
}

const LABELS: [u32; ROWS] = [3, 0, 6];

/// `Σ_r f(row r, r, y_r)` as a function of the logits, for finite differences.
fn rows(f: impl Fn(&[f64], usize, usize) -> f64) -> impl Fn(&[f64]) -> f64 {
    move |x: &[f64]| {
        (0..ROWS)
            .map(|r| f(&x[r * C..(r + 1) * C], r, LABELS[r] as usize))
            .sum::<f64>()
    }
}

#[test]
fn other_row_losses_agree_with_finite_differences_of_the_oracle() {
    let mut rng = Rng(11);
    let x = rng.vec(ROWS * C, 1.5);
    let t = rng.vec(ROWS * C, 1.5);
    let probs: Vec<f64> = (0..ROWS * C).map(|_| rng.next()).collect();
    let labels = LABELS;
    let alpha: Vec<f64> = (0..C).map(|j| 0.25 + 0.1 * j as f64).collect();
    for backend in backends() {
        let mut g = vec![0.0; x.len()];
        for gamma in [0.0, 0.5, 2.0] {
            let focal = SoftmaxFocal {
                gamma,
                alpha: Some(&alpha),
                ..SoftmaxFocal::default()
            }
            .on(backend)
            .unwrap();
            let f = rows(|row, _, y| oracle::softmax_focal(row, y, gamma, alpha[y]));
            let v = focal
                .value_and_grad(&x, C, &labels, Reduction::Sum, &mut g[..])
                .unwrap();
            assert_close("focal value", &[v], &[f(&x)], 1e-12);
            assert_close("focal grad", &g, &fd(&f, &x, 1e-5), 1e-7);
        }
        let soft = SoftCrossEntropy {
            label_smoothing: 0.1,
            class_weights: Some(&alpha),
        }
        .on(backend)
        .unwrap();
        let f = rows(|row, r, _| {
            oracle::soft_cross_entropy(row, &probs[r * C..(r + 1) * C], Some(&alpha), 0.1)
        });
        let v = soft
            .value_and_grad(&x, C, &probs[..], Reduction::Sum, &mut g[..])
            .unwrap();
        assert_close("soft ce value", &[v], &[f(&x)], 1e-12);
        assert_close("soft ce grad", &g, &fd(&f, &x, 1e-5), 1e-7);
        let d = Distillation {
            alpha: 0.3,
            temperature: 3.0,
        }
        .on(backend)
        .unwrap();
        let f = rows(|row, r, y| oracle::distillation(row, &t[r * C..(r + 1) * C], y, 0.3, 3.0));
        let v = d
            .value_and_grad(
                &x,
                C,
                Teacher {
                    logits: &t,
                    labels: &labels,
                },
                Reduction::Sum,
                &mut g[..],
            )
            .unwrap();
        assert_close("distillation value", &[v], &[f(&x)], 1e-12);
        assert_close("distillation grad", &g, &fd(&f, &x, 1e-5), 1e-7);
        let mm = MultiMargin {
            p: 2,
            margin: 0.7,
            class_weights: Some(&alpha),
        }
        .on(backend)
        .unwrap();
        let f = rows(|row, _, y| oracle::multi_margin(row, y, 2, 0.7, alpha[y]));
        let v = mm
            .value_and_grad(&x, C, &labels, Reduction::Sum, &mut g[..])
            .unwrap();
        assert_close("multi_margin value", &[v], &[f(&x)], 1e-12);
        assert_close("multi_margin grad", &g, &fd(&f, &x, 1e-6), 1e-6);
        let cs = MulticlassHinge.on(backend).unwrap();
        let f = rows(|row, _, y| oracle::multiclass_hinge(row, y));
        let v = cs
            .value_and_grad(&x, C, &labels, Reduction::Sum, &mut g[..])
            .unwrap();
        assert_close("multiclass_hinge value", &[v], &[f(&x)], 1e-12);
        assert_close("multiclass_hinge grad", &g, &fd(&f, &x, 1e-6), 1e-6);
    }
}

/// CE (mean), its gradient `(p − onehot)/rows` and the row utilities against the oracle, for
/// row lengths around every lane count and one vocabulary-sized row, f32 and f64, every
/// backend; the in-place form is bit-identical to the out-of-place one.
fn sizes_case<F: Float>(backend: Backend, classes: usize, rows: usize, tol: f64) {
    let mut rng = Rng(classes as u64 * 31 + 1);
    let x64: Vec<f64> = rng.vec(rows * classes, 3.0);
    let x: Vec<F> = x64.iter().map(|&v| F::from_f64(v)).collect();
    let xs: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();
    let labels: Vec<u32> = (0..rows).map(|r| ((r * 7919) % classes) as u32).collect();
    let ce = CrossEntropy::default().on(backend).unwrap();
    let mut g = vec![F::ZERO; x.len()];
    let v = ce
        .value_and_grad(&x, classes, &labels, Reduction::Mean, &mut g[..])
        .unwrap();
    // The per-row outputs, on the pinned backend.
    let mut g_with = vec![F::ZERO; x.len()];
    let mut lse = vec![F::ZERO; rows];
    let mut pred = vec![0u32; rows];
    let v_with = ce
        .value_and_grad_with(
            &x,
            classes,
            &labels,
            Reduction::Mean,
            &mut g_with[..],
            RowOutputs {
                lse: Some(&mut lse),
                predicted: Some(&mut pred),
            },
        )
        .unwrap();
    let mut want_v = 0.0;
    let mut want_g = vec![0.0; x.len()];
    let mut want_lse = vec![0.0; rows];
    for r in 0..rows {
        let row = &xs[r * classes..(r + 1) * classes];
        let y = labels[r] as usize;
        want_lse[r] = oracle::logsumexp(row);
        want_v += oracle::cross_entropy(row, y, None, 0.0, 0.0, None) / rows as f64;
        for j in 0..classes {
            want_g[r * classes + j] =
                ((row[j] - want_lse[r]).exp() - if j == y { 1.0 } else { 0.0 }) / rows as f64;
        }
        let argmax = (0..classes).fold(0, |b, j| if row[j] > row[b] { j } else { b });
        assert_eq!(pred[r] as usize, argmax, "predicted class, row {r}");
    }
    let widen = |s: &[F]| s.iter().map(|v| v.to_f64()).collect::<Vec<_>>();
    assert_close("value", &[v.to_f64()], &[want_v], tol);
    assert_close("grad", &widen(&g), &want_g, tol);
    assert_close("value (with)", &[v_with.to_f64()], &[want_v], tol);
    assert_close("grad (with)", &widen(&g_with), &want_g, tol);
    assert_close("lse", &widen(&lse), &want_lse, tol);
    let mut inplace = x.clone();
    let v2 = ce
        .value_and_grad_in_place(&mut inplace, classes, &labels, Reduction::Mean)
        .unwrap();
    assert_eq!(
        v.to_f64().to_bits(),
        v2.to_f64().to_bits(),
        "in-place value"
    );
    assert!(
        inplace
            .iter()
            .zip(&g)
            .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits()),
        "in-place gradient differs"
    );
    let ops = RowOps.on(backend).unwrap();
    let mut out = vec![F::ZERO; x.len()];
    ops.softmax(&x, classes, &mut out).unwrap();
    let want_p: Vec<f64> = (0..x.len())
        .map(|i| (xs[i] - want_lse[i / classes]).exp())
        .collect();
    assert_close("softmax", &widen(&out), &want_p, tol);
    ops.log_softmax(&x, classes, &mut out).unwrap();
    let want_lp: Vec<f64> = (0..x.len())
        .map(|i| xs[i] - want_lse[i / classes])
        .collect();
    assert_close("log_softmax", &widen(&out), &want_lp, tol);
    let mut l = vec![F::ZERO; rows];
    ops.logsumexp(&x, classes, &mut l).unwrap();
    assert_close("logsumexp", &widen(&l), &want_lse, tol);
}

#[test]
fn every_row_length_around_the_lanes_and_a_vocabulary_row() {
    for backend in backends() {
        for classes in [
            1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000,
        ] {
            sizes_case::<f64>(backend, classes, 5, 1e-12);
            sizes_case::<f32>(backend, classes, 5, 2e-5);
        }
        sizes_case::<f64>(backend, 128_256, 1, 1e-11);
        sizes_case::<f32>(backend, 128_256, 1, 2e-5);
    }
}

#[test]
fn cross_entropy_is_shift_invariant_up_to_3e38() {
    for backend in backends() {
        let ce = CrossEntropy::default().on(backend).unwrap();
        // Multiples of 8 stay exact after adding 1e8 in f32 (its spacing there is 8).
        let base = [0.0f32, -8.0, 16.0, 8.0, -24.0];
        for offset in [0.0f32, 1e8, -1e8] {
            let x: Vec<f32> = base.iter().map(|v| v + offset).collect();
            let (mut g, mut g0) = ([0.0f32; 5], [0.0f32; 5]);
            let v = ce
                .value_and_grad(&x, 5, &[3u8], Reduction::Sum, &mut g)
                .unwrap();
            let v0 = ce
                .value_and_grad(&base, 5, &[3u8], Reduction::Sum, &mut g0)
                .unwrap();
            assert_eq!(v, v0, "offset {offset}");
            assert_eq!(g, g0, "offset {offset}");
        }
        let ln2 = core::f64::consts::LN_2;
        for big in [1e8f32, 3e38, f32::MAX] {
            let v = ce.value(&[big, big], 2, &[1u8], Reduction::Sum).unwrap();
            assert!((v as f64 - ln2).abs() < 1e-7, "[{big}, {big}] gives {v}");
            let v = ce
                .value(&[-big, -big, -big], 3, &[0u8], Reduction::Sum)
                .unwrap();
            assert!((v as f64 - 3f64.ln()).abs() < 1e-7, "[-{big}; 3] gives {v}");
        }
        // lse − x_y = 6e38 is beyond f32: +∞ with the finite gradient p − onehot.
        let mut g = [0.0f32; 2];
        let v = ce
            .value_and_grad(&[3e38f32, -3e38], 2, &[1u8], Reduction::Sum, &mut g)
            .unwrap();
        assert_eq!(v, f32::INFINITY);
        assert_eq!(g, [1.0, -1.0]);
        let v64 = CrossEntropy::default()
            .on(backend)
            .unwrap()
            .value(&[3e38f64, -3e38], 2, &[1u8], Reduction::Sum)
            .unwrap();
        assert_eq!(v64, 6e38);
    }
}

#[test]
fn negative_infinity_logits_are_masks() {
    let ninf = f64::NEG_INFINITY;
    let x = [1.0, ninf, 0.5, ninf, 2.0, -1.0];
    for backend in backends() {
        let base = CrossEntropy::default();
        let ce = base.on(backend).unwrap();
        let mut g = [9.0; 6];
        let v = ce
            .value_and_grad(&x, 3, &[0u8, 0], Reduction::Sum, &mut g)
            .unwrap();
        let finite = [1.0, 0.5];
        let want = oracle::cross_entropy(&finite, 0, None, 0.0, 0.0, None);
        // Row 1's label sits on a mask: value +∞, gradient its finite limit p − onehot.
        assert!(v == f64::INFINITY, "label on a mask gives +∞, got {v}");
        assert_eq!(g[1], 0.0, "a masked class has probability exactly 0");
        assert!(g.iter().all(|v| v.is_finite()));
        // Row 1 = [−∞, 2, −1] with label 0 (the mask): gradient p − onehot = [−1, p₁, p₂].
        assert_eq!(g[3], -1.0);
        let p1 = 1.0 / (1.0 + (-3.0f64).exp());
        assert_close("masked-label gradient", &g[4..], &[p1, 1.0 - p1], 1e-15);
        let v = ce.value(&x[..3], 3, &[0u8], Reduction::Sum).unwrap();
        assert_close("masked row", &[v], &[want], 1e-14);
        // Smoothing over all classes puts weight on the mask: +∞; over the unmasked ones
        // only: the smoothed CE of the unmasked classes.
        let smooth = CrossEntropy {
            label_smoothing: 0.2,
            ..base
        };
        let mut g = [0.0; 3];
        let v = smooth
            .on(backend)
            .unwrap()
            .value_and_grad(&x[..3], 3, &[0u8], Reduction::Sum, &mut g)
            .unwrap();
        assert_eq!(v, f64::INFINITY);
        assert!(g.iter().all(|v| v.is_finite()));
        let aware = CrossEntropy {
            smooth_unmasked_only: true,
            ..smooth
        };
        let v = aware
            .on(backend)
            .unwrap()
            .value_and_grad(&x[..3], 3, &[0u8], Reduction::Sum, &mut g)
            .unwrap();
        let want = oracle::cross_entropy(&finite, 0, None, 0.2, 0.0, None);
        assert_close("mask-aware smoothing", &[v], &[want], 1e-14);
        assert_eq!(g[1], 0.0);
        let f = |z: &[f64]| oracle::cross_entropy(z, 0, None, 0.2, 0.0, None);
        let gf = fd(&f, &finite, 1e-6);
        assert_close("mask-aware grad", &[g[0], g[2]], &gf, 1e-8);
        // Soft targets: zero target on a mask contributes 0 (xlogy).
        let soft = SoftCrossEntropy::default().on(backend).unwrap();
        let v = soft
            .value(&x[..3], 3, &[0.3, 0.0, 0.7][..], Reduction::Sum)
            .unwrap();
        assert_close(
            "xlogy",
            &[v],
            &[oracle::soft_cross_entropy(&finite, &[0.3, 0.7], None, 0.0)],
            1e-14,
        );
        // A row of masks only is an error.
        assert_eq!(
            ce.value(&[0.0, 0.0, ninf, ninf], 2, &[0u8, 1], Reduction::Sum),
            Err(Error::InvalidInput {
                name: "logits",
                index: 2
            })
        );
    }
}

#[test]
fn all_ignored_rows_give_zero_value_and_gradient() {
    for backend in backends() {
        let base = CrossEntropy {
            label_smoothing: 0.1,
            z_loss: 1e-3,
            ..CrossEntropy::default()
        };
        let ce = base.on(backend).unwrap();
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut g = [7.0f32; 4];
        let v = ce
            .value_and_grad(&x, 2, &[-100i32, -100], Reduction::Mean, &mut g)
            .unwrap();
        assert_eq!((v, g), (0.0, [0.0; 4]));
        let mut e = [7.0f32; 2];
        ce.value_elementwise(&x, 2, &[-100i64, 1], &mut e).unwrap();
        assert_eq!(e[0], 0.0);
        // Zero total class weight: also 0, not NaN (the z-loss is not class-weighted).
        let w = [0.0f32, 0.0];
        let v = CrossEntropy {
            class_weights: Some(&w),
            z_loss: 0.0,
            ..base
        }
        .on(backend)
        .unwrap()
        .value(&x, 2, &[0u32, 1], Reduction::Mean)
        .unwrap();
        assert_eq!(v, 0.0);
    }
}

#[test]
fn errors_leave_outputs_as_the_contract_says() {
    for backend in backends() {
        let base = CrossEntropy::default();
        let ce = base.on(backend).unwrap();
        let mut x = [0.5f32, 1.0, -1.0, 2.0, f32::NAN, 0.0];
        let labels = [0u32, 1];
        let nan_at = Err(Error::NonFinite {
            name: "logits",
            index: 4,
        });
        let mut g = [5.0f32; 6];
        assert_eq!(
            ce.value_and_grad(&x, 3, &labels, Reduction::Sum, &mut g[..]),
            nan_at
        );
        assert_eq!(g, [0.0; 6], "write mode: zeros");
        let mut g = [5.0f32; 6];
        assert_eq!(
            ce.value_and_grad(&x, 3, &labels, Reduction::Sum, Out::add(&mut g)),
            nan_at
        );
        assert_eq!(g, [5.0; 6], "accumulate mode: untouched");
        let before = x;
        assert_eq!(
            ce.value_and_grad_in_place(&mut x, 3, &labels, Reduction::Sum),
            nan_at
        );
        assert!(
            x.iter()
                .zip(&before)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "in place: untouched"
        );
        x[4] = f32::INFINITY;
        assert!(matches!(
            ce.value(&x, 3, &labels, Reduction::Sum),
            Err(Error::NonFinite { index: 4, .. })
        ));
        x[4] = 0.0;
        let mut g = [5.0f32; 6];
        assert_eq!(
            ce.grad(&x, 3, &[0u32, 3], Reduction::Sum, &mut g[..]),
            Err(Error::LabelOutOfRange { row: 1 })
        );
        assert_eq!(g, [5.0; 6], "validation errors write nothing");
        assert_eq!(
            ce.grad(&x, 3, &[0i32, -1], Reduction::Sum, &mut g[..]),
            Err(Error::LabelOutOfRange { row: 1 })
        );
        assert!(matches!(
            ce.grad(&x, 4, &labels, Reduction::Sum, &mut g[..]),
            Err(Error::LengthMismatch { name: "logits", .. })
        ));
        assert!(matches!(
            ce.grad(&x, 3, &labels, Reduction::Sum, &mut g[..5]),
            Err(Error::LengthMismatch { name: "grad", .. })
        ));
        assert_eq!(
            ce.value(&[], 3, &[0u32; 0], Reduction::Sum),
            Err(Error::Empty)
        );
        let bad = CrossEntropy {
            label_smoothing: 1.5,
            ..base
        }
        .on(backend)
        .unwrap();
        assert!(matches!(
            bad.value(&x, 3, &labels, Reduction::Sum),
            Err(Error::InvalidParameter {
                name: "label_smoothing",
                ..
            })
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Finite logits over the whole f32 range (with some masks) give a finite value and
    /// gradient whenever the label is not masked and the true value is representable; each
    /// gradient row sums to about 0 (softmax minus one-hot).
    #[test]
    fn extreme_logits_stay_finite(
        exps in prop::collection::vec((-38i32..=38, -1.0f32..1.0, 0u8..10), 2..40),
        label_pick in 0usize..1000,
    ) {
        let x: Vec<f32> = exps
            .iter()
            .map(|&(e, m, mask)| if mask == 0 { f32::NEG_INFINITY } else { m * 10f32.powi(e) })
            .collect();
        let c = x.len();
        let unmasked: Vec<usize> = (0..c).filter(|&j| x[j] > f32::NEG_INFINITY).collect();
        prop_assume!(!unmasked.is_empty());
        let y = unmasked[label_pick % unmasked.len()];
        let xs: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let want = oracle::cross_entropy(&xs, y, None, 0.0, 0.0, None);
        for backend in backends() {
            let ce = CrossEntropy::default().on(backend).unwrap();
            let mut g = vec![0.0f32; c];
            let v = ce.value_and_grad(&x, c, &[y as u32], Reduction::Sum, &mut g[..]).unwrap();
            if want <= f32::MAX as f64 {
                prop_assert!(v.is_finite(), "value {v} for want {want}");
                prop_assert!((v as f64 - want).abs() <= 1e-5 * want.abs().max(1.0), "{v} vs {want}");
            } else {
                prop_assert_eq!(v, f32::INFINITY);
            }
            prop_assert!(g.iter().all(|v| v.is_finite()));
            let s: f64 = g.iter().map(|&v| v as f64).sum();
            prop_assert!(s.abs() < 1e-5, "gradient row sums to {s}");
        }
    }
}
