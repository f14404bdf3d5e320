//! The C boundary called from Rust with raw pointers, as C would call it: NULL, length 0,
//! misaligned and overlapping buffers, and buffers starting off the vector alignment with
//! lengths around the vector width. Ordinary tests, and the C-boundary part of
//! `scripts/miri`: under Miri every slice the checked helpers form from these pointers, and
//! every load and store the kernels make through them, is checked for UB (out of bounds,
//! misaligned, aliasing a live reference). Guard elements around every output catch a write
//! past its end even where it stays inside the allocation (which Miri cannot see).

use core::ptr::{null, null_mut};
use losskit::prelude::*;
use losskit_capi::generated::*;
use losskit_capi::*;

const OK: losskit_status = losskit_status::Ok;
const SUM: i32 = losskit_reduction::Sum as i32;
const MEAN: i32 = losskit_reduction::Mean as i32;
const WRITE: i32 = losskit_grad_mode::Write as i32;
const ADD: i32 = losskit_grad_mode::Add as i32;
const GUARD: f32 = 1234.5;

/// Lengths around the vector widths (1, 4, 8, 16 lanes and the drivers' four-way unrolling)
/// and, outside Miri, the pointwise driver's block of 2048 elements (its tails are covered
/// by the Rust-side tests of `scripts/miri`; here the boundary is the subject).
fn lengths() -> Vec<usize> {
    let mut n = vec![
        1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 67,
    ];
    if !cfg!(miri) {
        n.extend([2047, 2048, 2049]);
    }
    n
}

fn data(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 250.0 - 2.0
        })
        .collect()
}

#[test]
fn null_pointers() {
    let (p, t) = ([1.0f32, 2.0], [0.5f32, 1.0]);
    let mut v = 0.0f32;
    let mut g = [0.0f32; 2];
    // SAFETY (every call in this file): each non-NULL pointer points to the number of
    // elements passed with it, alive for the call; NULL and bad pointers are the subject.
    unsafe {
        assert_eq!(
            losskit_mse_value_f32(null(), t.as_ptr(), null(), 2, SUM, 0.0, &mut v),
            losskit_status::NullPointer
        );
        assert_eq!(
            losskit_mse_value_f32(p.as_ptr(), null(), null(), 2, SUM, 0.0, &mut v),
            losskit_status::NullPointer
        );
        assert_eq!(
            losskit_mse_value_f32(p.as_ptr(), t.as_ptr(), null(), 2, SUM, 0.0, null_mut()),
            losskit_status::NullPointer
        );
        // NULL arrays with length 0: no slice is formed from them, the call is just empty.
        assert_eq!(
            losskit_mse_value_f32(null(), null(), null(), 0, SUM, 0.0, &mut v),
            losskit_status::Empty
        );
        assert_eq!(
            losskit_mse_value_and_grad_f32(
                null(),
                null(),
                null(),
                0,
                SUM,
                0.0,
                WRITE,
                null_mut(),
                &mut v
            ),
            losskit_status::Empty
        );
        assert_eq!(
            losskit_mse_value_and_grad_f32(
                p.as_ptr(),
                t.as_ptr(),
                null(),
                2,
                SUM,
                0.0,
                WRITE,
                null_mut(),
                &mut v
            ),
            losskit_status::NullPointer
        );
        // A NULL weight is "no weights".
        assert_eq!(
            losskit_mse_value_and_grad_f32(
                p.as_ptr(),
                t.as_ptr(),
                null(),
                2,
                SUM,
                0.0,
                WRITE,
                g.as_mut_ptr(),
                &mut v
            ),
            OK
        );
        assert_eq!((v, g), (1.25, [1.0, 2.0]));
        // Rows: NULL logits, labels; NULL class weights are "no weights".
        let x = [0.0f32, 1.0, 2.0];
        let labels = [2i64];
        assert_eq!(
            losskit_cross_entropy_value_f32(
                null(),
                1,
                3,
                labels.as_ptr(),
                null(),
                -100,
                0,
                0.0,
                0,
                0.0,
                0.0,
                SUM,
                0.0,
                &mut v
            ),
            losskit_status::NullPointer
        );
        assert_eq!(
            losskit_cross_entropy_value_f32(
                x.as_ptr(),
                1,
                3,
                null(),
                null(),
                -100,
                0,
                0.0,
                0,
                0.0,
                0.0,
                SUM,
                0.0,
                &mut v
            ),
            losskit_status::NullPointer
        );
        assert_eq!(
            losskit_cross_entropy_value_f32(
                x.as_ptr(),
                1,
                3,
                labels.as_ptr(),
                null(),
                -100,
                0,
                0.0,
                0,
                0.0,
                0.0,
                SUM,
                0.0,
                &mut v
            ),
            OK
        );
        assert_eq!(
            losskit_cross_entropy_value_f32(
                null(),
                0,
                3,
                null(),
                null(),
                -100,
                0,
                0.0,
                0,
                0.0,
                0.0,
                SUM,
                0.0,
                &mut v
            ),
            losskit_status::Empty
        );
        assert_eq!(
            losskit_softmax_f32(null(), 0, 3, null_mut()),
            losskit_status::Empty
        );
    }
}

#[test]
fn misaligned_pointers() {
    // Eight-byte aligned storage, viewed one byte in: no f32 or f64 may start there.
    let mut store = [0u64; 8];
    let bytes = store.as_mut_ptr().cast::<u8>();
    // SAFETY: one byte into a 64-byte allocation.
    let odd = unsafe { bytes.add(1) };
    let p = [1.0f32; 4];
    let mut v = 0.0f32;
    let mut v64 = 0.0f64;
    // SAFETY: as in `null_pointers`; the misaligned pointers are never dereferenced.
    unsafe {
        assert_eq!(
            losskit_mse_value_f32(odd.cast::<f32>(), p.as_ptr(), null(), 4, SUM, 0.0, &mut v),
            losskit_status::Misaligned
        );
        assert_eq!(
            losskit_mse_value_f32(
                p.as_ptr(),
                p.as_ptr(),
                null(),
                4,
                SUM,
                0.0,
                odd.cast::<f32>()
            ),
            losskit_status::Misaligned
        );
        // Four bytes in: aligned for f32, not for f64.
        let four = bytes.add(4);
        assert_eq!(
            losskit_mse_value_f64(
                four.cast::<f64>(),
                four.cast::<f64>(),
                null(),
                2,
                SUM,
                0.0,
                &mut v64
            ),
            losskit_status::Misaligned
        );
        assert_eq!(
            losskit_mse_value_f32(
                four.cast::<f32>().cast_const(),
                p.as_ptr(),
                null(),
                4,
                SUM,
                0.0,
                &mut v
            ),
            OK
        );
        let labels = [0i64];
        assert_eq!(
            losskit_cross_entropy_value_f32(
                p.as_ptr(),
                1,
                4,
                odd.cast::<i64>(),
                null(),
                -100,
                0,
                0.0,
                0,
                0.0,
                0.0,
                SUM,
                0.0,
                &mut v
            ),
            losskit_status::Misaligned
        );
        assert_eq!(
            losskit_cross_entropy_value_f32(
                p.as_ptr(),
                1,
                4,
                labels.as_ptr(),
                null(),
                -100,
                0,
                0.0,
                0,
                0.0,
                0.0,
                SUM,
                0.0,
                &mut v
            ),
            OK
        );
    }
}

#[test]
fn overlapping_buffers() {
    let mut buf = [0.5f32; 16];
    let base = buf.as_mut_ptr();
    let mut v = 0.0f32;
    // SAFETY: as in `null_pointers`; every pointer is inside `buf`. Only the calls that pass
    // (inputs overlapping inputs) form slices, all shared.
    unsafe {
        let (a, b) = (base.cast_const(), base.add(4).cast_const());
        // The gradient overlaps `pred` by one element.
        assert_eq!(
            losskit_mse_value_and_grad_f32(
                a,
                base.add(8),
                null(),
                4,
                SUM,
                0.0,
                WRITE,
                base.add(3),
                &mut v
            ),
            losskit_status::Aliasing
        );
        // The value lands inside the gradient.
        assert_eq!(
            losskit_mse_value_and_grad_f32(
                a,
                b,
                null(),
                4,
                SUM,
                0.0,
                WRITE,
                base.add(8),
                base.add(11)
            ),
            losskit_status::Aliasing
        );
        // Adjacent, not overlapping: fine.
        assert_eq!(
            losskit_mse_value_and_grad_f32(
                a,
                b,
                null(),
                4,
                SUM,
                0.0,
                WRITE,
                base.add(8),
                base.add(12)
            ),
            OK
        );
        // Inputs may overlap each other (pred == target == weight).
        assert_eq!(losskit_mse_value_f32(a, a, a, 16, SUM, 0.0, &mut v), OK);
        assert_eq!(v, 0.0);
        // Softmax's output over its own input is aliasing (the in-place verbs are separate).
        assert_eq!(losskit_softmax_f32(a, 2, 8, base), losskit_status::Aliasing);
    }
}

/// Every pointwise verb through the C functions on inputs and outputs starting 0–3 elements
/// past a 32-byte boundary (so the vector loads and the masked tails start unaligned), each
/// output between guard elements, against the Rust API bit for bit.
#[test]
fn pointwise_lengths_and_offsets() {
    for n in lengths() {
        for off in [0usize, 1, 3] {
            let (p, t, w) = (data(n + off, 1), data(n + off, 2), data(n + off, 3));
            let w: Vec<f32> = w.iter().map(|x| x.abs()).collect();
            let (p, t, w) = (&p[off..], &t[off..], &w[off..]);
            let mut g = vec![GUARD; n + off + 1];
            let mut v = 0.0f32;
            // SAFETY: as in `null_pointers`; the gradient is `g[off..off + n]`.
            let s = unsafe {
                losskit_mse_value_and_grad_f32(
                    p.as_ptr(),
                    t.as_ptr(),
                    w.as_ptr(),
                    n,
                    MEAN,
                    0.0,
                    WRITE,
                    g.as_mut_ptr().add(off),
                    &mut v,
                )
            };
            assert_eq!(s, OK);
            let mut want = vec![0.0f32; n];
            let want_v = Mse
                .value_and_grad(p, t, Some(w), Reduction::Mean, &mut want[..])
                .unwrap();
            assert_eq!(v.to_bits(), want_v.to_bits(), "n={n} off={off}");
            assert_eq!(&g[off..off + n], &want[..], "n={n} off={off}");
            assert!(
                g[..off].iter().chain(&g[off + n..]).all(|&x| x == GUARD),
                "n={n} off={off}: guard"
            );

            // Accumulate mode adds into the gradient; the Hessian and per-element verbs in f64.
            // SAFETY: as above.
            let s = unsafe {
                losskit_mse_grad_f32(
                    p.as_ptr(),
                    t.as_ptr(),
                    null(),
                    n,
                    SUM,
                    0.0,
                    ADD,
                    g.as_mut_ptr().add(off),
                )
            };
            assert_eq!(s, OK);
            assert!(
                g[..off].iter().chain(&g[off + n..]).all(|&x| x == GUARD),
                "n={n} off={off}: guard"
            );

            let (p64, t64): (Vec<f64>, Vec<f64>) = (
                p.iter().map(|&x| x as f64).collect(),
                t.iter().map(|&x| x as f64).collect(),
            );
            let mut e = vec![f64::from(GUARD); n + 2];
            let mut h = vec![f64::from(GUARD); n + 2];
            // SAFETY: as above; the outputs are `e[1..=n]`, `h[1..=n]`.
            unsafe {
                assert_eq!(
                    losskit_mse_value_elementwise_f64(
                        p64.as_ptr(),
                        t64.as_ptr(),
                        null(),
                        n,
                        e.as_mut_ptr().add(1)
                    ),
                    OK
                );
                assert_eq!(
                    losskit_mse_hessian_diag_f64(
                        p64.as_ptr(),
                        t64.as_ptr(),
                        null(),
                        n,
                        SUM,
                        0.0,
                        WRITE,
                        h.as_mut_ptr().add(1)
                    ),
                    OK
                );
            }
            for (x, y) in [(&e, 0), (&h, 1)] {
                assert_eq!(
                    (x[0], x[n + 1]),
                    (f64::from(GUARD), f64::from(GUARD)),
                    "n={n} off={off} {y}: guard"
                );
            }
            assert!(
                e[1..=n]
                    .iter()
                    .zip(&p64)
                    .zip(&t64)
                    .all(|((&e, p), t)| e == (p - t) * (p - t))
            );
            assert!(h[1..=n].iter().all(|&h| h == 2.0));
        }
    }
}

/// A loss with a third input and an optional second gradient (NULL = not computed), and the
/// error contract at the boundary: a NaN makes the write-mode gradient zeros and leaves an
/// add-mode one untouched.
#[test]
fn aux_optional_output_and_errors() {
    for n in [1usize, 7, 8, 9, 17, 33] {
        let (p, t) = (data(n + 1, 4), data(n + 1, 5));
        let var: Vec<f32> = data(n + 1, 6).iter().map(|x| x.abs() + 0.1).collect();
        let (p, t, var) = (&p[1..], &t[1..], &var[1..]);
        let mut g = vec![GUARD; n + 2];
        let mut gv = vec![GUARD; n + 2];
        let mut v = 0.0f32;
        // SAFETY: as in `null_pointers`.
        unsafe {
            let call = |g: *mut f32, gv: *mut f32, v: &mut f32, mode: i32, pred: *const f32| {
                losskit_gaussian_nll_value_and_grad_f32(
                    pred,
                    t.as_ptr(),
                    var.as_ptr(),
                    n,
                    0,
                    1e-6,
                    SUM,
                    0.0,
                    mode,
                    g,
                    gv,
                    v,
                )
            };
            assert_eq!(
                call(g.as_mut_ptr().add(1), null_mut(), &mut v, WRITE, p.as_ptr()),
                OK
            );
            assert_eq!(
                call(
                    g.as_mut_ptr().add(1),
                    gv.as_mut_ptr().add(1),
                    &mut v,
                    WRITE,
                    p.as_ptr()
                ),
                OK
            );
            let mut want = vec![0.0f32; n];
            let want_v = GaussianNll::default()
                .value_and_grad(p, t, var, Reduction::Sum, &mut want[..], None)
                .unwrap();
            assert_eq!(
                (v.to_bits(), &g[1..=n]),
                (want_v.to_bits(), &want[..]),
                "n={n}"
            );
            assert!(
                [g[0], g[n + 1], gv[0], gv[n + 1]]
                    .iter()
                    .all(|&x| x == GUARD),
                "n={n}: guard"
            );

            let mut bad = p.to_vec();
            bad[n - 1] = f32::NAN;
            let before = g.clone();
            assert_eq!(
                call(g.as_mut_ptr().add(1), null_mut(), &mut v, ADD, bad.as_ptr()),
                losskit_status::NonFinite
            );
            assert_eq!(g, before, "n={n}: add mode untouched");
            assert_eq!(
                call(
                    g.as_mut_ptr().add(1),
                    null_mut(),
                    &mut v,
                    WRITE,
                    bad.as_ptr()
                ),
                losskit_status::NonFinite
            );
            assert!(
                g[1..=n].iter().all(|&x| x == 0.0),
                "n={n}: write mode zeroed"
            );
            assert_eq!((g[0], g[n + 1]), (GUARD, GUARD), "n={n}: guard");
        }
    }
}

/// The row functions on class counts around the vector widths, logits starting off the
/// vector alignment: separate gradient, in place, multi-label, and a row utility.
#[test]
fn rows_around_the_vector_width() {
    let rows = 3;
    for classes in [1usize, 2, 7, 8, 9, 16, 17, 33] {
        let n = rows * classes;
        let x = data(n + 1, 7);
        let x = &x[1..];
        let labels: Vec<i64> = (0..rows as i64).map(|r| r % classes as i64).collect();
        let cw: Vec<f32> = (0..classes).map(|j| 0.5 + j as f32 / 8.0).collect();
        let mut g = vec![GUARD; n + 2];
        let mut v = 0.0f32;
        // SAFETY: as in `null_pointers`.
        let s = unsafe {
            losskit_cross_entropy_value_and_grad_f32(
                x.as_ptr(),
                rows,
                classes,
                labels.as_ptr(),
                cw.as_ptr(),
                -100,
                0,
                0.1,
                0,
                0.0,
                0.0,
                MEAN,
                0.0,
                WRITE,
                g.as_mut_ptr().add(1),
                &mut v,
            )
        };
        assert_eq!(s, OK);
        let ce = CrossEntropy {
            class_weights: Some(&cw[..]),
            label_smoothing: 0.1,
            ..Default::default()
        };
        let mut want = vec![0.0f32; n];
        let want_v = ce
            .value_and_grad(x, classes, &labels[..], Reduction::Mean, &mut want[..])
            .unwrap();
        assert_eq!(
            (v.to_bits(), &g[1..=n]),
            (want_v.to_bits(), &want[..]),
            "C={classes}"
        );
        assert_eq!((g[0], g[n + 1]), (GUARD, GUARD), "C={classes}: guard");

        // In place, f64: the logits become the gradient.
        let mut x64: Vec<f64> = [GUARD]
            .iter()
            .chain(x)
            .chain([&GUARD])
            .map(|&e| f64::from(e))
            .collect();
        let mut v64 = 0.0f64;
        // SAFETY: as in `null_pointers`; the logits are `x64[1..=n]`.
        let s = unsafe {
            losskit_cross_entropy_value_and_grad_in_place_f64(
                x64.as_mut_ptr().add(1),
                rows,
                classes,
                labels.as_ptr(),
                null(),
                -100,
                0,
                0.0,
                0,
                0.0,
                0.0,
                SUM,
                0.0,
                &mut v64,
            )
        };
        assert_eq!(s, OK);
        assert!(
            v64.is_finite() && x64[1..=n].iter().all(|x| x.is_finite()),
            "C={classes}"
        );
        assert_eq!(
            (x64[0], x64[n + 1]),
            (f64::from(GUARD), f64::from(GUARD)),
            "C={classes}: guard"
        );

        // Multi-label, f32, into an unaligned gradient.
        let y: Vec<f32> = (0..n).map(|i| (i % 3 == 0) as u8 as f32).collect();
        let mut gm = vec![GUARD; n + 2];
        // SAFETY: as in `null_pointers`.
        let s = unsafe {
            losskit_multilabel_bce_with_logits_value_and_grad_f32(
                x.as_ptr(),
                rows,
                classes,
                y.as_ptr(),
                null(),
                null(),
                SUM,
                0.0,
                WRITE,
                gm.as_mut_ptr().add(1),
                &mut v,
            )
        };
        assert_eq!(s, OK);
        assert_eq!((gm[0], gm[n + 1]), (GUARD, GUARD), "C={classes}: guard");

        // Softmax of each row, into an output between guards.
        let mut sm = vec![GUARD; n + 2];
        // SAFETY: as in `null_pointers`.
        assert_eq!(
            unsafe { losskit_softmax_f32(x.as_ptr(), rows, classes, sm.as_mut_ptr().add(1)) },
            OK
        );
        assert_eq!((sm[0], sm[n + 1]), (GUARD, GUARD), "C={classes}: guard");
        for r in sm[1..=n].chunks(classes) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-5, "C={classes}");
        }
    }
}
