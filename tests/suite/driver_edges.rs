//! The drivers at their edges, on every backend, f32 and f64: lengths around the vector
//! widths (1, 4, 8, 16 lanes, four-way unrolled) and the pointwise driver's block of 2048,
//! slices starting 0–3 elements past a vector boundary, every verb, write and accumulate
//! mode, the error path, and guard elements around every output. Cheap enough to be the
//! drivers' part of `scripts/miri`, which checks every load and store of the lane backends
//! (full, and the padded or masked tails) for UB; natively they are one more check that no
//! output is written past its end and that the verbs agree with each other bit for bit.

use crate::common::{backends, bits, cast};
use losskit::prelude::*;

const GUARD: f64 = 1234.5;

/// Lengths around every vector width and its four-way unrolling; the block boundary
/// (2047–2049) and two blocks plus a tail (4097, the summation tree's first combination).
fn lengths() -> Vec<usize> {
    // Miri is about 1000 times slower (4 ms per element and call): there a length on each
    // side of the vector widths and of the unrolled loop (4 × 8 lanes), unaligned only, and
    // the block boundary in `pointwise_across_a_block` alone.
    if cfg!(miri) {
        return vec![1, 3, 8, 9, 17, 33];
    }
    let mut n = vec![
        1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 67,
    ];
    n.extend([2047, 2048, 2049, 4097]);
    n
}

/// Start offsets: aligned, and one and three elements past (as far as Rust aligns a `Vec`).
fn offsets() -> &'static [usize] {
    if cfg!(miri) { &[1] } else { &[0, 1, 3] }
}

fn data<F: Float>(n: usize, seed: u64) -> Vec<F> {
    let x: Vec<f64> = (0..n as u64)
        .map(|i| {
            (i.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(seed) >> 40) as f64 / 4e6 - 2.0
        })
        .collect();
    cast(&x)
}

/// `out[off..off + n]` of a buffer with guards before and after.
fn guarded<F: Float>(off: usize, n: usize) -> Vec<F> {
    vec![F::from_f64(GUARD); off + n + 1]
}

fn guards_intact<F: Float>(buf: &[F], off: usize, n: usize) -> bool {
    buf[..off]
        .iter()
        .chain(&buf[off + n..])
        .all(|x| x.to_f64() == GUARD)
}

fn pointwise<F: Float>() {
    for backend in backends() {
        let l = Mse.on(backend).unwrap();
        for n in lengths() {
            for &off in offsets() {
                let (p, t, w) = (
                    data::<F>(n + off, 1),
                    data::<F>(n + off, 2),
                    data::<F>(n + off, 3),
                );
                let w: Vec<F> = w.iter().map(|&x| F::from_f64(x.to_f64().abs())).collect();
                let (p, t, w) = (&p[off..], &t[off..], &w[off..]);
                let what = format!("[{backend}] n={n} off={off}");
                for weight in [None, Some(w)] {
                    let v = l.value(p, t, weight, Reduction::Mean).unwrap();
                    let mut g = guarded::<F>(off, n);
                    let vg = l
                        .value_and_grad(p, t, weight, Reduction::Mean, &mut g[off..off + n])
                        .unwrap();
                    assert_eq!(v.to_f64().to_bits(), vg.to_f64().to_bits(), "{what}: value");
                    assert!(guards_intact(&g, off, n), "{what}: guard");
                    let mut g2 = guarded::<F>(off, n);
                    l.grad(p, t, weight, Reduction::Mean, &mut g2[off..off + n])
                        .unwrap();
                    assert_eq!(bits(&g), bits(&g2), "{what}: grad");
                    // Accumulate: the same gradient added to itself doubles it exactly.
                    l.grad(
                        p,
                        t,
                        weight,
                        Reduction::Mean,
                        Out::add(&mut g2[off..off + n]),
                    )
                    .unwrap();
                    let twice: Vec<F> = g[off..off + n]
                        .iter()
                        .map(|&x| F::from_f64(2.0 * x.to_f64()))
                        .collect();
                    assert_eq!(bits(&g2[off..off + n]), bits(&twice), "{what}: accumulate");
                    assert!(guards_intact(&g2, off, n), "{what}: guard");
                    let mut e = guarded::<F>(off, n);
                    l.value_elementwise(p, t, weight, &mut e[off..off + n])
                        .unwrap();
                    assert!(guards_intact(&e, off, n), "{what}: guard");
                    let mut h = guarded::<F>(off, n);
                    l.hessian_diag(p, t, weight, Reduction::Sum, &mut h[off..off + n])
                        .unwrap();
                    assert!(guards_intact(&h, off, n), "{what}: guard");
                }
                // The error path: a NaN in the last element (the tail, where there is one).
                let mut bad = p.to_vec();
                bad[n - 1] = F::from_f64(f64::NAN);
                let mut g = guarded::<F>(off, n);
                let e = l.value_and_grad(&bad, t, None, Reduction::Sum, &mut g[off..off + n]);
                assert_eq!(
                    e,
                    Err(Error::NonFinite {
                        name: "pred",
                        index: n - 1
                    }),
                    "{what}"
                );
                assert!(
                    g[off..off + n].iter().all(|x| x.to_f64() == 0.0),
                    "{what}: zeroed"
                );
                assert!(guards_intact(&g, off, n), "{what}: guard");
                let e = l.grad(
                    &bad,
                    t,
                    None,
                    Reduction::Sum,
                    Out::add(&mut g[off..off + n]),
                );
                assert!(e.is_err(), "{what}");
                assert!(
                    g[off..off + n].iter().all(|x| x.to_f64() == 0.0),
                    "{what}: untouched"
                );
            }
        }
    }
}

#[test]
fn pointwise_lengths_offsets_verbs_f32() {
    pointwise::<f32>();
}

#[test]
fn pointwise_lengths_offsets_verbs_f64() {
    pointwise::<f64>();
}

/// One block of 2048 elements and one more, unaligned, weighted, into a guarded gradient:
/// the loads and stores at the block's end and the next block's one-element tail.
fn across_a_block<F: Float>() {
    let (n, off) = (2049, 1);
    for backend in backends() {
        let l = Mse.on(backend).unwrap();
        let (p, t, w) = (
            data::<F>(n + off, 1),
            data::<F>(n + off, 2),
            data::<F>(n + off, 3),
        );
        let w: Vec<F> = w.iter().map(|&x| F::from_f64(x.to_f64().abs())).collect();
        let mut g = guarded::<F>(off, n);
        let v = l
            .value_and_grad(
                &p[off..],
                &t[off..],
                Some(&w[off..]),
                Reduction::Sum,
                &mut g[off..off + n],
            )
            .unwrap();
        assert!(
            v.to_f64().is_finite() && guards_intact(&g, off, n),
            "[{backend}]"
        );
    }
}

#[test]
fn pointwise_across_a_block() {
    across_a_block::<f32>();
    // 9 s under Miri: f64 takes the same path, with other lane types.
    if !cfg!(miri) {
        across_a_block::<f64>();
    }
}

/// The driver of a loss with a third input and a second, optional gradient.
fn aux<F: Float>() {
    for backend in backends() {
        let l = GaussianNll::default().on(backend).unwrap();
        for n in [1usize, 3, 7, 8, 9, 16, 17, 33, 67] {
            for &off in offsets() {
                let (p, t) = (data::<F>(n + off, 4), data::<F>(n + off, 5));
                let var: Vec<F> = data::<F>(n + off, 6)
                    .iter()
                    .map(|&x| F::from_f64(x.to_f64().abs() + 0.1))
                    .collect();
                let (p, t, var) = (&p[off..], &t[off..], &var[off..]);
                let what = format!("[{backend}] n={n} off={off}");
                let v = l.value(p, t, var, Reduction::Sum).unwrap();
                let (mut g, mut ga) = (guarded::<F>(off, n), guarded::<F>(off, n));
                let vg = l
                    .value_and_grad(
                        p,
                        t,
                        var,
                        Reduction::Sum,
                        &mut g[off..off + n],
                        Some(Out::write(&mut ga[off..off + n])),
                    )
                    .unwrap();
                assert_eq!(v.to_f64().to_bits(), vg.to_f64().to_bits(), "{what}: value");
                assert!(
                    guards_intact(&g, off, n) && guards_intact(&ga, off, n),
                    "{what}: guard"
                );
                let mut h = guarded::<F>(off, n);
                l.hessian_diag(p, t, var, Reduction::Sum, &mut h[off..off + n])
                    .unwrap();
                assert!(guards_intact(&h, off, n), "{what}: guard");
            }
        }
    }
}

#[test]
fn aux_lengths_and_offsets() {
    aux::<f32>();
    aux::<f64>();
}

/// The row-softmax driver on class counts around the vector widths (its padded tail in every
/// pass), enough rows for the narrow schedule's blocks at small class counts, separate and
/// in place, and the multi-label driver.
fn rows<F: Float>() {
    for backend in backends() {
        let ce = CrossEntropy::<F>::default().on(backend).unwrap();
        let ml = MultiLabelBceWithLogits::<F>::default().on(backend).unwrap();
        // Under Miri: below and above a vector, and beyond the narrow schedule (≤ 32 classes).
        let counts: &[usize] = if cfg!(miri) {
            &[1, 3, 9, 33]
        } else {
            &[1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 65]
        };
        for &classes in counts {
            // Several narrow blocks (of up to 32 rows) and a partial one where the schedule
            // applies (under Miri one and a row); fewer, longer rows above it.
            let rows = match classes {
                ..=8 if cfg!(miri) => 33,
                ..=8 => 37,
                _ => 3,
            };
            let n = rows * classes;
            let x = data::<F>(n + 1, 7);
            let x = &x[1..];
            let labels: Vec<u32> = (0..rows as u32).map(|r| r % classes as u32).collect();
            let what = format!("[{backend}] C={classes}");
            let v = ce.value(x, classes, &labels[..], Reduction::Mean).unwrap();
            let mut g = guarded::<F>(1, n);
            let vg = ce
                .value_and_grad(x, classes, &labels[..], Reduction::Mean, &mut g[1..=n])
                .unwrap();
            assert_eq!(v.to_f64().to_bits(), vg.to_f64().to_bits(), "{what}: value");
            assert!(guards_intact(&g, 1, n), "{what}: guard");
            let mut inplace: Vec<F> = [F::from_f64(GUARD)]
                .into_iter()
                .chain(x.iter().copied())
                .chain([F::from_f64(GUARD)])
                .collect();
            let vi = ce
                .value_and_grad_in_place(&mut inplace[1..=n], classes, &labels[..], Reduction::Mean)
                .unwrap();
            assert_eq!(
                vi.to_f64().to_bits(),
                v.to_f64().to_bits(),
                "{what}: in place"
            );
            assert_eq!(bits(&inplace), bits(&g), "{what}: in place gradient");
            let mut e = guarded::<F>(1, rows);
            ce.value_elementwise(x, classes, &labels[..], &mut e[1..=rows])
                .unwrap();
            assert!(guards_intact(&e, 1, rows), "{what}: guard");

            let y: Vec<F> = (0..n)
                .map(|i| F::from_f64((i % 3 == 0) as u8 as f64))
                .collect();
            let mut gm = guarded::<F>(1, n);
            ml.value_and_grad(x, classes, &y[..], Reduction::Sum, &mut gm[1..=n])
                .unwrap();
            assert!(guards_intact(&gm, 1, n), "{what}: multi-label guard");
        }
    }
}

#[test]
fn rows_around_the_vector_width() {
    rows::<f32>();
    rows::<f64>();
}
