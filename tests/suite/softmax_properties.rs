//! Properties of the row-softmax losses on every backend: agreement with the f64 oracle and
//! with central finite differences (gradients, Hessian diagonal, Hessian–vector product),
//! row lengths around the lane counts up to a 128256-class vocabulary, shift invariance at
//! 1e8 and 3e38, `−∞` masks, all-ignored batches, the error contract, extreme logits; Poly-1
//! bit-identical to cross-entropy at ε = 0.

use crate::common::{Rng, backends};
use losskit::prelude::*;
use losskit::reference::softmax as oracle;
use proptest::prelude::*;

/// Logit-like data: sums of three uniforms, centred, times `scale`.
trait Logits {
    fn normal_ish(&mut self, scale: f64) -> f64;
    fn vec(&mut self, n: usize, scale: f64) -> Vec<f64>;
}

impl Logits for Rng {
    fn normal_ish(&mut self, scale: f64) -> f64 {
        (self.uniform() + self.uniform() + self.uniform() - 1.5) * 2.0 * scale
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
    let probs: Vec<f64> = (0..ROWS * C).map(|_| rng.uniform()).collect();
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

/// Soft-capping keeps a `−∞` logit a mask: a capped row with masks has the value, `lse`
/// and gradient of the same capped row with the masked classes removed, and each masked
/// entry of the gradient is exactly 0 (`∂z/∂x = 1 − tanh² → 0` there), in write,
/// accumulate (adds 0) and in-place modes, with and without label smoothing over the
/// unmasked classes (with class weights and a z-loss). Smoothing over all classes puts
/// weight on the masks: `+∞`, as a label on a mask, both with a gradient free of NaN and 0
/// at the masks. The naive `c·tanh(−∞/c) = −c` would give the masks a nonzero probability.
fn capped_mask_case<F: Float>(backend: Backend, classes: usize, tol: f64) {
    let mut rng = Rng(classes as u64 * 13 + 3);
    let ninf = F::from_f64(f64::NEG_INFINITY);
    // The first class, one in the middle, and the last (in a partial vector for 5 and 37).
    let masked = [0, classes / 2, classes - 1];
    let keep: Vec<usize> = (0..classes).filter(|j| !masked.contains(j)).collect();
    let full: Vec<F> = rng
        .vec(classes, 4.0)
        .into_iter()
        .enumerate()
        .map(|(j, v)| {
            if masked.contains(&j) {
                ninf
            } else {
                F::from_f64(v)
            }
        })
        .collect();
    let kept: Vec<F> = keep.iter().map(|&j| full[j]).collect();
    let w: Vec<F> = (0..classes)
        .map(|j| F::from_f64(0.5 + (j % 4) as f64 * 0.25))
        .collect();
    let w_kept: Vec<F> = keep.iter().map(|&j| w[j]).collect();
    let start: Vec<F> = (0..classes)
        .map(|j| F::from_f64(0.375 * j as f64 - 1.0))
        .collect();
    let wide = |s: &[F]| s.iter().map(|v| v.to_f64()).collect::<Vec<_>>();
    let bits = |s: &[F]| s.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
    let (y, y_kept) = (keep[1], 1u32);
    let sum = Reduction::Sum;
    for (weights, smoothing, aware, z_loss) in [
        (false, 0.0, false, 0.0),
        (false, 0.1, true, 0.0),
        (true, 0.2, true, 1e-3),
        (false, 0.1, false, 0.0),
    ] {
        let base = CrossEntropy::<F> {
            label_smoothing: smoothing,
            smooth_unmasked_only: aware,
            z_loss,
            softcap: Some(5.0),
            ..CrossEntropy::default()
        };
        let ce = CrossEntropy {
            class_weights: weights.then_some(&w[..]),
            ..base
        }
        .on(backend)
        .unwrap();
        let cut = CrossEntropy {
            class_weights: weights.then_some(&w_kept[..]),
            ..base
        }
        .on(backend)
        .unwrap();
        let what = format!(
            "{backend:?} {} C={classes} weights={weights} ε={smoothing} aware={aware}",
            core::any::type_name::<F>()
        );
        let check_masks = |name: &str, g: &[F], want: &[F]| {
            for &j in &masked {
                assert_eq!(
                    g[j].to_f64().to_bits(),
                    want[j].to_f64().to_bits(),
                    "{what}: {name}[{j}] at a mask"
                );
            }
            assert!(
                g.iter().all(|v| v.to_f64().is_finite()),
                "{what}: {name} not finite: {:?}",
                wide(g)
            );
        };
        let zeros = vec![F::ZERO; classes];
        // The value, and the gradient and lse in write mode (over a buffer of 7s).
        let v = ce.value(&full, classes, &[y as u32], sum).unwrap();
        let mut g = vec![F::from_f64(7.0); classes];
        let mut lse = [F::ZERO];
        let vg = ce
            .value_and_grad_with(
                &full,
                classes,
                &[y as u32],
                sum,
                &mut g[..],
                RowOutputs {
                    lse: Some(&mut lse),
                    predicted: None,
                },
            )
            .unwrap();
        assert_eq!(v.to_f64().to_bits(), vg.to_f64().to_bits(), "{what}: value");
        check_masks("grad", &g, &zeros);
        let mut per_row = [F::ZERO];
        ce.value_elementwise(&full, classes, &[y as u32], &mut per_row)
            .unwrap();
        let (row, total) = (per_row[0].to_f64(), v.to_f64());
        assert!(
            row == total || (row - total).abs() <= tol * total.abs(),
            "{what}: per-row value {row:e}, reduced {total:e}"
        );
        if smoothing > 0.0 && !aware {
            // ε/C of the target on each mask: +∞, with a finite gradient.
            assert_eq!(v.to_f64(), f64::INFINITY, "{what}: smoothing on a mask");
        } else {
            let mut gk = vec![F::ZERO; keep.len()];
            let mut lse_k = [F::ZERO];
            let vk = cut
                .value_and_grad_with(
                    &kept,
                    keep.len(),
                    &[y_kept],
                    sum,
                    &mut gk[..],
                    RowOutputs {
                        lse: Some(&mut lse_k),
                        predicted: None,
                    },
                )
                .unwrap();
            assert_close(
                &format!("{what}: value"),
                &[v.to_f64()],
                &[vk.to_f64()],
                tol,
            );
            assert_close(&format!("{what}: lse"), &wide(&lse), &wide(&lse_k), tol);
            let g_kept: Vec<F> = keep.iter().map(|&j| g[j]).collect();
            assert_close(&format!("{what}: grad"), &wide(&g_kept), &wide(&gk), tol);
        }
        // Accumulate mode adds exactly 0 at the masks, the written entries elsewhere.
        let mut ga = start.clone();
        let va = ce
            .value_and_grad(&full, classes, &[y as u32], sum, Out::add(&mut ga))
            .unwrap();
        assert_eq!(v.to_f64().to_bits(), va.to_f64().to_bits(), "{what}: add");
        check_masks("accumulated grad", &ga, &start);
        let want: Vec<f64> = start
            .iter()
            .zip(&g)
            .map(|(a, b)| a.to_f64() + b.to_f64())
            .collect();
        assert_close(&format!("{what}: accumulated grad"), &wide(&ga), &want, tol);
        // In place: the same bits as a separate buffer.
        let mut ip = full.clone();
        let vi = ce
            .value_and_grad_in_place(&mut ip, classes, &[y as u32], sum)
            .unwrap();
        assert_eq!(
            v.to_f64().to_bits(),
            vi.to_f64().to_bits(),
            "{what}: in place"
        );
        assert_eq!(bits(&ip), bits(&g), "{what}: in place");
        // A label on a mask: +∞ as without capping; its own entry is 0 too (dz/dx → 0).
        for &ym in &masked {
            let label = [ym as u32];
            let mut g = vec![F::from_f64(7.0); classes];
            let v = ce
                .value_and_grad(&full, classes, &label, sum, &mut g[..])
                .unwrap();
            assert_eq!(v.to_f64(), f64::INFINITY, "{what}: label {ym} on a mask");
            check_masks("grad, label on a mask", &g, &zeros);
            let mut ga = start.clone();
            ce.value_and_grad(&full, classes, &label, sum, Out::add(&mut ga))
                .unwrap();
            check_masks("accumulated grad, label on a mask", &ga, &start);
            let mut ip = full.clone();
            ce.value_and_grad_in_place(&mut ip, classes, &label, sum)
                .unwrap();
            assert_eq!(bits(&ip), bits(&g), "{what}: in place, label on a mask");
        }
    }
}

#[test]
fn soft_capped_masks_stay_masks() {
    for backend in backends() {
        for classes in [5, 37] {
            capped_mask_case::<f64>(backend, classes, 1e-12);
            capped_mask_case::<f32>(backend, classes, 1e-5);
        }
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

/// The configurations of `Poly1` the gradient checks sweep: ε at the domain's edge, the
/// paper's first try and a large one, with and without weights and smoothing.
fn poly1_configs<'w>(w: &'w [f64]) -> Vec<Poly1<'w, f64>> {
    let mut out = Vec::new();
    for epsilon in [-1.0, 1.0, 2.5] {
        let base = Poly1 {
            epsilon,
            ..Poly1::default()
        };
        out.extend([
            base,
            Poly1 {
                class_weights: Some(w),
                ..base
            },
            Poly1 {
                label_smoothing: 0.1,
                ..base
            },
            Poly1 {
                class_weights: Some(w),
                label_smoothing: 0.2,
                ..base
            },
        ]);
    }
    out
}

#[test]
fn poly1_agrees_with_the_oracle_and_finite_differences() {
    let mut rng = Rng(13);
    let x = rng.vec(ROWS * C, 2.0);
    let w: Vec<f64> = (0..C).map(|j| 0.5 + j as f64 * 0.25).collect();
    let labels = [3i64, -100, 6];
    for backend in backends() {
        for poly in poly1_configs(&w) {
            let cfg = poly;
            let poly = cfg.on(backend).unwrap();
            let row_loss = |x: &[f64], r: usize, y: usize| {
                oracle::poly1(
                    &x[r * C..(r + 1) * C],
                    y,
                    cfg.class_weights,
                    cfg.label_smoothing,
                    cfg.epsilon,
                )
            };
            let sum = |x: &[f64]| row_loss(x, 0, 3) + row_loss(x, 2, 6);
            // Mean divides by Σ w_y over the rows not ignored (the ε term included).
            let total_w: f64 = [3usize, 6]
                .iter()
                .map(|&y| cfg.class_weights.map_or(1.0, |w| w[y]))
                .sum();
            let mean = |x: &[f64]| sum(x) / total_w;
            let batch = |x: &[f64]| sum(x) / 4.0;
            for (r, f) in [
                (Reduction::Mean, &mean as &dyn Fn(&[f64]) -> f64),
                (Reduction::Sum, &sum),
                (Reduction::Divisor(4.0), &batch),
            ] {
                let what = format!("{backend} ε={} {r:?} {poly:?}", cfg.epsilon);
                let v = poly.value(&x, C, &labels, r).unwrap();
                assert_close(&format!("{what}: value"), &[v], &[f(&x)], 1e-12);
                let mut g = vec![0.0; x.len()];
                poly.grad(&x, C, &labels, r, &mut g[..]).unwrap();
                assert_close(&format!("{what}: grad"), &g, &fd(f, &x, 1e-5), 1e-7);
                let mut g2 = vec![0.0; x.len()];
                let v2 = poly.value_and_grad(&x, C, &labels, r, &mut g2[..]).unwrap();
                assert_eq!(v.to_bits(), v2.to_bits(), "{what}: value_and_grad value");
                assert_eq!(g, g2, "{what}: value_and_grad grad");
                let mut inplace = x.clone();
                let v3 = poly
                    .value_and_grad_in_place(&mut inplace, C, &labels, r)
                    .unwrap();
                assert_eq!(v.to_bits(), v3.to_bits(), "{what}: in-place value");
                assert_eq!(g, inplace, "{what}: in-place grad");
            }
            let mut per_row = [9.0; ROWS];
            poly.value_elementwise(&x, C, &labels, &mut per_row)
                .unwrap();
            assert_close(
                "per row",
                &per_row,
                &[row_loss(&x, 0, 3), 0.0, row_loss(&x, 2, 6)],
                1e-12,
            );
        }
    }
}

/// `ε = 0` takes the same path through the driver as `CrossEntropy`, with every term of the
/// ε rule exactly 0: the results are the same bits, on the narrow (C ≤ 32) and the wide
/// schedule, with weights, smoothing (also mask-aware), ignored rows and masks, in write,
/// accumulate and in-place modes.
fn poly1_zero_case<F: Float>(backend: Backend, classes: usize) {
    let rows = 9;
    let mut rng = Rng(classes as u64 + 5);
    let mut x: Vec<F> = rng
        .vec(rows * classes, 4.0)
        .into_iter()
        .map(F::from_f64)
        .collect();
    x[classes + 2] = F::from_f64(f64::NEG_INFINITY);
    let w: Vec<F> = (0..classes)
        .map(|j| F::from_f64(0.25 + (j % 5) as f64 * 0.5))
        .collect();
    let labels: Vec<i64> = (0..rows)
        .map(|r| {
            if r == 4 {
                -100
            } else {
                ((r * 3 + 1) % classes) as i64
            }
        })
        .collect();
    let bits = |v: &[F]| v.iter().map(|e| e.to_f64().to_bits()).collect::<Vec<_>>();
    for (weights, smoothing, aware) in [
        (None, 0.0, false),
        (Some(&w[..]), 0.0, false),
        (Some(&w[..]), 0.15, false),
        (None, 0.3, true),
    ] {
        let ce = CrossEntropy {
            class_weights: weights,
            label_smoothing: smoothing,
            smooth_unmasked_only: aware,
            ..CrossEntropy::default()
        }
        .on(backend)
        .unwrap();
        let poly = Poly1 {
            epsilon: 0.0,
            class_weights: weights,
            label_smoothing: smoothing,
            smooth_unmasked_only: aware,
            ..Poly1::default()
        }
        .on(backend)
        .unwrap();
        let what = format!("{backend} C={classes} {weights:?} α={smoothing} aware={aware}");
        for r in [Reduction::Mean, Reduction::Sum] {
            let a = ce.value(&x, classes, &labels, r).unwrap();
            let b = poly.value(&x, classes, &labels, r).unwrap();
            assert_eq!(a.to_f64().to_bits(), b.to_f64().to_bits(), "{what}: value");
            let start: Vec<F> = (0..x.len())
                .map(|i| F::from_f64(i as f64 * 0.125))
                .collect();
            let (mut ga, mut gb) = (start.clone(), start.clone());
            ce.value_and_grad(&x, classes, &labels, r, Out::add(&mut ga))
                .unwrap();
            poly.value_and_grad(&x, classes, &labels, r, Out::add(&mut gb))
                .unwrap();
            assert_eq!(bits(&ga), bits(&gb), "{what}: accumulated gradient");
            ce.grad(&x, classes, &labels, r, &mut ga[..]).unwrap();
            poly.grad(&x, classes, &labels, r, &mut gb[..]).unwrap();
            assert_eq!(bits(&ga), bits(&gb), "{what}: gradient");
            let (mut ia, mut ib) = (x.clone(), x.clone());
            ce.value_and_grad_in_place(&mut ia, classes, &labels, r)
                .unwrap();
            poly.value_and_grad_in_place(&mut ib, classes, &labels, r)
                .unwrap();
            assert_eq!(bits(&ia), bits(&ib), "{what}: in place");
        }
        let (mut ea, mut eb) = (vec![F::ZERO; rows], vec![F::ZERO; rows]);
        ce.value_elementwise(&x, classes, &labels, &mut ea).unwrap();
        poly.value_elementwise(&x, classes, &labels, &mut eb)
            .unwrap();
        assert_eq!(bits(&ea), bits(&eb), "{what}: per row");
    }
}

#[test]
fn poly1_with_epsilon_zero_is_cross_entropy_bit_for_bit() {
    for backend in backends() {
        for classes in [7, 40] {
            poly1_zero_case::<f32>(backend, classes);
            poly1_zero_case::<f64>(backend, classes);
        }
    }
}

#[test]
fn poly1_is_exact_for_huge_logits_and_confident_rows() {
    let ln2 = core::f64::consts::LN_2;
    for backend in backends() {
        let poly = Poly1::<f32> {
            epsilon: 1.5,
            ..Poly1::default()
        }
        .on(backend)
        .unwrap();
        // Shift invariance: multiples of 8 stay exact after adding 1e8 in f32.
        let base = [0.0f32, -8.0, 16.0, 8.0, -24.0];
        for offset in [1e8f32, -1e8] {
            let x: Vec<f32> = base.iter().map(|v| v + offset).collect();
            let (mut g, mut g0) = ([0.0f32; 5], [0.0f32; 5]);
            let v = poly
                .value_and_grad(&x, 5, &[3u8], Reduction::Sum, &mut g)
                .unwrap();
            let v0 = poly
                .value_and_grad(&base, 5, &[3u8], Reduction::Sum, &mut g0)
                .unwrap();
            assert_eq!((v, g), (v0, g0), "offset {offset}");
        }
        // p_t = 1/2 and 1/3 at the ends of the f32 range.
        for big in [1e8f32, 3e38, f32::MAX] {
            let v = poly.value(&[big, big], 2, &[1u8], Reduction::Sum).unwrap();
            assert!(
                (v as f64 - (ln2 + 0.75)).abs() < 1e-6,
                "[{big}; 2] gives {v}"
            );
            let v = poly
                .value(&[-big, -big, -big], 3, &[0u8], Reduction::Sum)
                .unwrap();
            let want = 3f64.ln() + 1.5 * 2.0 / 3.0;
            assert!((v as f64 - want).abs() < 1e-6, "[-{big}; 3] gives {v}");
        }
        // p_t → 0: 1 − p_t is exactly 1 and the gradient p − onehot (K = ε·p_y = 0).
        let mut g = [0.0f32; 2];
        let v = poly
            .value_and_grad(&[0.0f32, -1000.0], 2, &[1u8], Reduction::Sum, &mut g)
            .unwrap();
        assert_eq!((v, g), (1001.5, [1.0, -1.0]));
        // lse − x_y = 6e38 is beyond f32: +∞ with the finite gradient.
        let v = poly
            .value_and_grad(&[3e38f32, -3e38], 2, &[1u8], Reduction::Sum, &mut g)
            .unwrap();
        assert_eq!((v, g), (f32::INFINITY, [1.0, -1.0]));
        let p64 = Poly1::<f64> {
            epsilon: 1.5,
            ..Poly1::default()
        }
        .on(backend)
        .unwrap();
        let v = p64
            .value(&[3e38f64, -3e38], 2, &[1u8], Reduction::Sum)
            .unwrap();
        assert_eq!(v, 6e38);
        // p_t → 1: 1 − p_t ≈ 1e-5 to 1e-11 keeps f32's relative precision (1 − p_t formed
        // from a rounded f32 p_t would keep a few digits at best). The gradient's label
        // entry is (A + K)·p_y − (1 + K), as cross-entropy's p_y − 1: exact to a few ulp of
        // its coefficients, not relative to its tiny size.
        for gap in [12.0f32, 18.0, 25.0] {
            let x = [0.0f32, -gap, -gap - 1.0];
            let xs: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let want = oracle::poly1(&xs, 0, None, 0.0, 1.5);
            let v = poly
                .value_and_grad(&x, 3, &[0u8], Reduction::Sum, &mut [0.0f32; 3])
                .unwrap();
            assert!(
                ((v as f64 - want) / want).abs() < 1e-5,
                "gap {gap}: {v:e} vs {want:e}"
            );
            // (1 + ε·p_y)·(p − onehot), with p_y − 1 summed from the other classes.
            let lse = oracle::logsumexp(&xs);
            let p: Vec<f64> = xs.iter().map(|v| (v - lse).exp()).collect();
            let k = 1.0 + 1.5 * p[0];
            let want_g = [-k * (p[1] + p[2]), k * p[1], k * p[2]];
            let mut g = [0.0f64; 3];
            p64.grad(&xs, 3, &[0u8], Reduction::Sum, &mut g[..])
                .unwrap();
            for (j, (g, w)) in g.iter().zip(want_g).enumerate() {
                let tol = 1e-9 * w.abs() + 4.0 * f64::EPSILON * k;
                assert!((g - w).abs() <= tol, "gap {gap} grad[{j}]: {g:e} vs {w:e}");
            }
        }
        // A smoothed row at p_t → 0 and 1: 1 − p_t tends to (1 − α) + α(1 − 1/C) and α(1 − 1/C).
        let smooth = Poly1::<f64> {
            label_smoothing: 0.2,
            ..*p64.loss()
        }
        .on(backend)
        .unwrap();
        for (y, want_rest) in [(1u8, 1.0 - 0.2 / 2.0), (0, 0.2 / 2.0)] {
            let v = smooth
                .value(&[1e30, -1e30], 2, &[y], Reduction::Sum)
                .unwrap();
            let ce = oracle::cross_entropy(&[1e30, -1e30], y as usize, None, 0.2, 0.0, None);
            assert_close("smoothed extremes", &[v], &[ce + 1.5 * want_rest], 1e-15);
        }
    }
}

#[test]
fn poly1_masks_ignored_rows_and_parameters() {
    let ninf = f64::NEG_INFINITY;
    let x = [1.0, ninf, 0.5, ninf, 2.0, -1.0];
    let finite = [1.0, 0.5];
    for backend in backends() {
        let poly = Poly1 {
            epsilon: 2.0,
            ..Poly1::default()
        }
        .on(backend)
        .unwrap();
        // Row 1's label sits on a mask: +∞, with the gradient p − onehot (p_y = 0, K = 0).
        let mut g = [9.0; 6];
        let v = poly
            .value_and_grad(&x, 3, &[0u8, 0], Reduction::Sum, &mut g)
            .unwrap();
        assert_eq!(v, f64::INFINITY);
        assert_eq!((g[1], g[3]), (0.0, -1.0));
        let p1 = 1.0 / (1.0 + (-3.0f64).exp());
        assert_close("masked-label gradient", &g[4..], &[p1, 1.0 - p1], 1e-15);
        // An unmasked label: the loss of the finite classes, gradient 0 at the mask.
        let v = poly
            .value_and_grad(&x[..3], 3, &[0u8], Reduction::Sum, &mut g[..3])
            .unwrap();
        let f = |z: &[f64]| oracle::poly1(z, 0, None, 0.0, 2.0);
        assert_close("masked row", &[v], &[f(&finite)], 1e-14);
        assert_close(
            "masked row grad",
            &[g[0], g[2]],
            &fd(&f, &finite, 1e-6),
            1e-8,
        );
        assert_eq!(g[1], 0.0);
        // Smoothing over all classes puts weight on the mask (+∞, finite gradient); over
        // the unmasked ones only it is Poly-1 of the unmasked classes (U = 2).
        let smooth = Poly1 {
            label_smoothing: 0.2,
            ..*poly.loss()
        }
        .on(backend)
        .unwrap();
        let v = smooth
            .value_and_grad(&x[..3], 3, &[0u8], Reduction::Sum, &mut g[..3])
            .unwrap();
        assert_eq!(v, f64::INFINITY);
        assert!(g[..3].iter().all(|v| v.is_finite()));
        let aware = Poly1 {
            smooth_unmasked_only: true,
            ..*smooth.loss()
        }
        .on(backend)
        .unwrap();
        let v = aware
            .value_and_grad(&x[..3], 3, &[0u8], Reduction::Sum, &mut g[..3])
            .unwrap();
        let f = |z: &[f64]| oracle::poly1(z, 0, None, 0.2, 2.0);
        assert_close("mask-aware smoothing", &[v], &[f(&finite)], 1e-14);
        assert_close(
            "mask-aware grad",
            &[g[0], g[2]],
            &fd(&f, &finite, 1e-6),
            1e-8,
        );
        assert_eq!(g[1], 0.0);
        // All ignored, or zero total weight: value 0 and a zero gradient (PyTorch: NaN).
        let mut g = [7.0f32; 4];
        let p32 = Poly1::<f32> {
            epsilon: 2.0,
            label_smoothing: 0.1,
            ..Poly1::default()
        }
        .on(backend)
        .unwrap();
        let v = p32
            .value_and_grad(
                &[1.0, 2.0, 3.0, 4.0],
                2,
                &[-100i32, -100],
                Reduction::Mean,
                &mut g,
            )
            .unwrap();
        assert_eq!((v, g), (0.0, [0.0; 4]));
        let zero_w = [0.0f32, 0.0];
        let v = Poly1 {
            class_weights: Some(&zero_w),
            ..*p32.loss()
        }
        .on(backend)
        .unwrap()
        .value_and_grad(
            &[1.0, 2.0, 3.0, 4.0],
            2,
            &[0u32, 1],
            Reduction::Mean,
            &mut g,
        )
        .unwrap();
        assert_eq!((v, g), (0.0, [0.0; 4]));
        // ε: finite and ≥ −1 (−1 itself is accepted); label_smoothing in [0, 1].
        for epsilon in [
            -1.0 - 1e-12,
            -2.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert!(
                matches!(
                    Poly1 {
                        epsilon,
                        ..*poly.loss()
                    }
                    .on(backend)
                    .unwrap()
                    .value(&finite, 2, &[0u8], Reduction::Sum),
                    Err(Error::InvalidParameter {
                        name: "epsilon",
                        ..
                    })
                ),
                "ε = {epsilon}"
            );
        }
        let v = Poly1 {
            epsilon: -1.0,
            ..*poly.loss()
        }
        .on(backend)
        .unwrap()
        .value(&finite, 2, &[0u8], Reduction::Sum)
        .unwrap();
        assert_close(
            "ε = −1",
            &[v],
            &[oracle::poly1(&finite, 0, None, 0.0, -1.0)],
            1e-14,
        );
        assert!(matches!(
            Poly1 {
                label_smoothing: 1.5,
                ..*poly.loss()
            }
            .on(backend)
            .unwrap()
            .value(&finite, 2, &[0u8], Reduction::Sum),
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
    /// gradient row sums to about 0 (softmax minus one-hot); for cross-entropy and Poly-1.
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
        let want_poly = oracle::poly1(&xs, y, None, 0.0, 1.5);
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
            // Poly-1 (ε = 1.5) likewise: 1 − p_t ∈ [0, 1] never overflows or cancels.
            let poly = Poly1 { epsilon: 1.5, ..Poly1::default() }.on(backend).unwrap();
            let v = poly.value_and_grad(&x, c, &[y as u32], Reduction::Sum, &mut g[..]).unwrap();
            if want_poly <= f32::MAX as f64 {
                prop_assert!(
                    (v as f64 - want_poly).abs() <= 1e-5 * want_poly.abs().max(1.0),
                    "poly1 {v} vs {want_poly}"
                );
            } else {
                prop_assert_eq!(v, f32::INFINITY);
            }
            prop_assert!(g.iter().all(|v| v.is_finite()));
            let s: f64 = g.iter().map(|&v| v as f64).sum();
            prop_assert!(s.abs() < 2.5e-5, "poly1 gradient row sums to {s}");
        }
    }
}

/// Softmax focal loss and Poly-1 on confident rows: the label holds the largest logit and
/// the other classes' share `q` is far below the rounding of `S = 1 + q` (2⁻⁵³ in f64).
/// `1 − p_t` is that share, summed apart from the label's 1; from a rounded `p_t` the focal
/// value and the label's gradient would be exactly 0. Rows of 2 classes (narrow schedule)
/// and 40 (wide), every backend, value alone, fused, in place (Poly-1); f64 and f32.
#[test]
fn focal_and_poly1_keep_the_other_classes_share_of_a_confident_row() {
    fn case<F: Float>(backend: Backend, classes: usize, gap: f64, tol: f64) {
        let mut x = vec![F::ZERO; classes];
        x[0] = F::from_f64(gap);
        let labels = [0u32];
        // q = (C − 1)·e^−gap / (1 + (C − 1)·e^−gap), −log p_t = log1p(rest).
        let rest = (classes - 1) as f64 * (-gap).exp();
        let q = rest / (1.0 + rest);
        let nll = rest.ln_1p();
        let p_other = (-gap).exp() / (1.0 + rest);
        let gamma = 2.0;
        // ℓ = q^γ·(−log p_t); K = q^γ·(1 + γ·p_t·(−log p_t)/q); g_j = K·p_j, g_y = −K·q.
        let want = q * q * nll;
        let k = q * q * (1.0 + gamma * (1.0 / (1.0 + rest)) * nll / q);
        let focal = SoftmaxFocal::<F> {
            gamma,
            ..SoftmaxFocal::default()
        }
        .on(backend)
        .unwrap();
        let what = format!("{backend:?} {} C={classes}", core::any::type_name::<F>());
        let close = |name: &str, got: F, want: f64| {
            let got = got.to_f64();
            assert!(
                (got - want).abs() <= tol * want.abs(),
                "{name} {what}: {got:e} want {want:e}"
            );
        };
        close(
            "focal value",
            focal.value(&x, classes, &labels, Reduction::Sum).unwrap(),
            want,
        );
        let mut g = vec![F::ZERO; classes];
        let v = focal
            .value_and_grad(&x, classes, &labels, Reduction::Sum, &mut g[..])
            .unwrap();
        close("focal value (fused)", v, want);
        close("focal label grad", g[0], -k * q);
        close("focal other grad", g[1], k * p_other);
        // Poly-1 at ε = 1: ℓ = −log p_t + (1 − p_t); g_y = −(1 + p_t)·(1 − p_t)·… = a·p_y − d.
        let poly = Poly1::<F> {
            epsilon: 1.0,
            ..Poly1::default()
        }
        .on(backend)
        .unwrap();
        let mut g = vec![F::ZERO; classes];
        let v = poly
            .value_and_grad(&x, classes, &labels, Reduction::Sum, &mut g[..])
            .unwrap();
        close("poly1 value", v, nll + q);
        // ∂/∂x_y [−log p + 1 − p] = −(1 − p) − p(1 − p) = −q·(1 + p_t).
        close("poly1 label grad", g[0], -q * (1.0 + 1.0 / (1.0 + rest)));
        let mut inplace = x.clone();
        let v = poly
            .value_and_grad_in_place(&mut inplace, classes, &labels, Reduction::Sum)
            .unwrap();
        close("poly1 value (in place)", v, nll + q);
        assert_eq!(
            inplace, g,
            "{what}: in place differs from a separate buffer"
        );
    }
    for backend in backends() {
        for classes in [2, 40] {
            case::<f64>(backend, classes, 40.0, 1e-12);
            case::<f32>(backend, classes, 20.0, 1e-5);
        }
    }
}
