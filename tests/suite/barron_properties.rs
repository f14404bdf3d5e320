//! Barron's loss across its shapes (the registry's property tests run one `α`): for `α`
//! from Welsch (`−∞`) through both sides of 0 and 2 to large `α`, on every backend in f32
//! and f64,
//! * the value against the f64 oracle, the gradient against central differences of the
//!   oracle, the Hessian diagonal against central differences of the gradient;
//! * `∂ρ/∂α` against central differences of the oracle in `α` (both precisions), against
//!   the oracle's closed form where that is well conditioned, and `≥ 0`;
//! * continuity through the members that have formulas of their own (`α` = 0, 1, 2);
//! * weights, reductions and accumulation of the `α` verbs;
//! * finite inputs of any magnitude never give NaN, and an overflowed residual gives the
//!   results at the true residual;
//! * the parameter checks and the error contract of the `α` verbs.

use crate::common::{MAGNITUDES, Rng, backends, cast, widen};
use losskit::prelude::*;
use losskit::reference::regression::{barron as oracle, barron_dalpha as oracle_dalpha};

/// Residual-like data: mostly within ±3, one in 9 up to ±120, one in 11 tiny.
trait Residuals {
    fn data(&mut self, n: usize) -> Vec<f64>;
}

impl Residuals for Rng {
    fn data(&mut self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let x = 3.0 * self.unit();
                match self.bits() % 99 {
                    k if k % 9 == 0 => 40.0 * x,
                    k if k % 11 == 0 => 1e-4 * x,
                    _ => x,
                }
            })
            .collect()
    }
}

/// Shapes on both sides of every formula boundary (0, 1, 2, 3, −2) and far out.
const ALPHAS: [f64; 30] = [
    f64::NEG_INFINITY,
    -1e4,
    -30.0,
    -4.0,
    -2.0,
    -1.5,
    -1.0,
    -0.5,
    -1e-3,
    -1e-9,
    0.0,
    1e-9,
    1e-3,
    0.3,
    0.9,
    1.0,
    1.0 + 1e-9,
    1.2,
    1.5,
    1.999,
    2.0 - 1e-9,
    2.0,
    2.0 + 1e-9,
    2.001,
    2.5,
    3.0,
    3.0 + 1e-9,
    3.5,
    5.0,
    10.0,
];

const SCALES: [f64; 2] = [1.0, 0.4];

/// The relative tolerance of precision `F`: f64 results are a few ulp from exact, f32 a
/// few dozen (inputs are rounded to f32 first, so this is the kernels' own error).
fn rel<F: Float>() -> f64 {
    if F::MANTISSA_DIGITS == 24 {
        1e-5
    } else {
        1e-12
    }
}

/// `got` within `tol` of `want` relative to `max(|want|, scale)`, or equal infinities.
fn near(got: f64, want: f64, tol: f64, scale: f64) -> bool {
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= tol * want.abs().max(scale).max(1e-300)
}

/// Value elementwise against the oracle and the gradient against its central differences,
/// the Hessian against central differences of the gradient (f64), for every shape, scale
/// and backend; the f32 kernels against the f64 ones.
#[test]
fn value_gradient_and_hessian_match_the_oracle_for_every_shape() {
    let mut rng = Rng(0x5eed_ba44_0219);
    for &alpha in &ALPHAS {
        for &c in &SCALES {
            let n = 203;
            let t = rng.data(n);
            let p: Vec<f64> = t.iter().zip(rng.data(n)).map(|(t, r)| t + c * r).collect();
            // The inputs as f32 (so that the f32 and f64 runs see the same inputs).
            let p: Vec<f64> = p.iter().map(|&x| x as f32 as f64).collect();
            let t: Vec<f64> = t.iter().map(|&x| x as f32 as f64).collect();
            let terms: Vec<f64> = p
                .iter()
                .zip(&t)
                .map(|(&a, &b)| oracle(a, b, alpha, c))
                .collect();
            let scale = terms.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            for backend in backends() {
                let l = Barron { alpha, scale: c }.on(backend).unwrap();
                let (mut v, mut g, mut h) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
                l.value_elementwise(&p, &t, None, &mut v).unwrap();
                l.grad(&p, &t, None, Reduction::Sum, &mut g[..]).unwrap();
                l.hessian_diag(&p, &t, None, Reduction::Sum, &mut h[..])
                    .unwrap();
                for i in 0..n {
                    let tag = format!("alpha={alpha} c={c} [{backend}] p={} t={}", p[i], t[i]);
                    // The oracle's definition loses digits to cancellation for small terms
                    // near α = 0 and 2: compare relative to the largest term.
                    assert!(
                        near(v[i], terms[i], 1e-12, scale * 1e-3),
                        "{tag}: value {} vs oracle {}",
                        v[i],
                        terms[i]
                    );
                    let step = 1e-6 * (p[i] - t[i]).abs().max(c);
                    let fd = (oracle(p[i] + step, t[i], alpha, c)
                        - oracle(p[i] - step, t[i], alpha, c))
                        / (2.0 * step);
                    assert!(
                        (fd - g[i]).abs() <= 1e-6 * fd.abs().max(1.0 / c),
                        "{tag}: grad {} vs fd {fd}",
                        g[i]
                    );
                    let (mut gp, mut gm) = ([0.0], [0.0]);
                    l.grad(&[p[i] + step], &[t[i]], None, Reduction::Sum, &mut gp[..])
                        .unwrap();
                    l.grad(&[p[i] - step], &[t[i]], None, Reduction::Sum, &mut gm[..])
                        .unwrap();
                    let fd2 = (gp[0] - gm[0]) / (2.0 * step);
                    assert!(
                        (fd2 - h[i]).abs() <= 1e-5 * fd2.abs().max(1.0 / (c * c)),
                        "{tag}: hess {} vs fd {fd2}",
                        h[i]
                    );
                }
                // f32: against the f64 kernel (checked above), relative to each array's
                // largest entry (the Hessian has zeros, where its relative error is not
                // defined).
                let (pf, tf): (Vec<f32>, Vec<f32>) = (cast(&p), cast(&t));
                let (mut v32, mut g32, mut h32) =
                    (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
                l.value_elementwise(&pf, &tf, None, &mut v32).unwrap();
                l.grad(&pf, &tf, None, Reduction::Sum, &mut g32[..])
                    .unwrap();
                l.hessian_diag(&pf, &tf, None, Reduction::Sum, &mut h32[..])
                    .unwrap();
                for (what, got, want) in [
                    ("value", widen(&v32), &v),
                    ("grad", widen(&g32), &g),
                    ("hess", widen(&h32), &h),
                ] {
                    let s = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                    for i in 0..n {
                        assert!(
                            near(got[i], want[i], rel::<f32>(), s),
                            "alpha={alpha} c={c} [{backend}] f32 {what}[{i}] {} vs f64 {}",
                            got[i],
                            want[i]
                        );
                    }
                }
            }
        }
    }
}

/// `∂ρ/∂α` of one element by the kernel in precision `F`.
fn d_alpha<F: Float>(l: &On<Barron>, p: f64, t: f64) -> f64 {
    let mut d = [F::ZERO];
    l.grad_alpha_elementwise(
        &[F::from_f64(p)],
        &[F::from_f64(t)],
        None,
        Reduction::Sum,
        &mut d[..],
    )
    .unwrap();
    d[0].to_f64()
}

/// `∂ρ/∂α` against central differences of the f64 oracle in `α` (away from the pole at 2,
/// which the vectors cover), in f64 and f32; against the oracle's chain-rule formula where
/// that has no cancellation; and never negative.
#[test]
fn alpha_gradient_matches_finite_differences_in_f32_and_f64() {
    let mut rng = Rng(0xa1fa);
    for &alpha in &ALPHAS {
        for &c in &SCALES {
            let n = 97;
            let t: Vec<f64> = rng.data(n).iter().map(|&x| x as f32 as f64).collect();
            let p: Vec<f64> = t
                .iter()
                .zip(rng.data(n))
                .map(|(t, r)| (t + c * r) as f32 as f64)
                .collect();
            for backend in backends() {
                let l = Barron { alpha, scale: c }.on(backend).unwrap();
                for i in 0..n {
                    let (pi, ti) = (p[i], t[i]);
                    let d64 = d_alpha::<f64>(&l, pi, ti);
                    let d32 = d_alpha::<f32>(&l, pi, ti);
                    let tag = format!("alpha={alpha} c={c} [{backend}] p={pi} t={ti}");
                    assert!(d64 >= 0.0 && d32 >= 0.0, "{tag}: negative {d64} {d32}");
                    if alpha == f64::NEG_INFINITY {
                        assert_eq!((d64, d32), (0.0, 0.0), "{tag}: Welsch");
                        continue;
                    }
                    if alpha == 2.0 {
                        let want = if pi == ti { 0.0 } else { f64::INFINITY };
                        assert_eq!((d64, d32), (want, want), "{tag}: the pole");
                        continue;
                    }
                    if (alpha - 2.0).abs() >= 1e-2 {
                        // Five-point stencil, step 1e-3 (larger for large |α|, where ρ
                        // changes on the scale of α): truncation h⁴/30 ∂⁵ρ/∂α⁵ ≲ 1e-9 of D
                        // here, rounding ≈ 2ε ρ/h.
                        let h = 1e-3 * (alpha.abs() / 10.0).max(1.0);
                        let f = |da: f64| oracle(pi, ti, alpha + da, c);
                        let fd = (8.0 * (f(h) - f(-h)) - (f(2.0 * h) - f(-2.0 * h))) / (12.0 * h);
                        let rho = oracle(pi, ti, alpha, c).abs();
                        let tol = 1e-6 * fd.abs() + 1e-14 * rho / h;
                        assert!((d64 - fd).abs() <= tol, "{tag}: f64 {d64} vs fd {fd}");
                        assert!(
                            (d32 - fd).abs() <= tol + 1e-5 * fd.abs(),
                            "{tag}: f32 {d32} vs fd {fd}"
                        );
                    }
                    // The chain-rule formula is well conditioned for u = z/b ≥ ¼ away from
                    // α = 0 and 2.
                    let x = (pi - ti) / c;
                    if alpha.abs() >= 0.1
                        && (alpha - 2.0).abs() >= 0.1
                        && x * x >= 0.25 * (alpha - 2.0).abs()
                        && alpha.abs() < 100.0
                    {
                        let want = oracle_dalpha(pi, ti, alpha, c);
                        assert!(near(d64, want, 1e-11, 0.0), "{tag}: {d64} vs oracle {want}");
                    }
                }
            }
        }
    }
}

/// The members with formulas of their own (α = 0, 1, 2 for the value and gradients, and
/// the α-derivative's formula boundaries) meet the general formulas continuously.
#[test]
fn members_meet_their_neighbours_continuously() {
    let xs = [0.0, 1e-6, 0.01, 0.5, 1.3, -4.0, 70.0, -3e5];
    for backend in backends() {
        for &(at, side) in &[
            (0.0, 1e-12),
            (1.0, 1e-12),
            (2.0, 1e-12),
            (3.0, 1e-12),
            (-2.0, 1e-12),
        ] {
            let mid = Barron {
                alpha: at,
                scale: 1.0,
            }
            .on(backend)
            .unwrap();
            for s in [-side, side] {
                let l = Barron {
                    alpha: at + s,
                    scale: 1.0,
                }
                .on(backend)
                .unwrap();
                for &x in &xs {
                    let (mut g0, mut g1, mut h0, mut h1) = ([0.0], [0.0], [0.0], [0.0]);
                    let v0 = mid.value(&[x], &[0.0], None, Reduction::Sum).unwrap();
                    let v1 = l.value(&[x], &[0.0], None, Reduction::Sum).unwrap();
                    mid.grad(&[x], &[0.0], None, Reduction::Sum, &mut g0[..])
                        .unwrap();
                    l.grad(&[x], &[0.0], None, Reduction::Sum, &mut g1[..])
                        .unwrap();
                    mid.hessian_diag(&[x], &[0.0], None, Reduction::Sum, &mut h0[..])
                        .unwrap();
                    l.hessian_diag(&[x], &[0.0], None, Reduction::Sum, &mut h1[..])
                        .unwrap();
                    let tag = format!("alpha {at} vs {} [{backend}] x={x}", at + s);
                    // A change of α by 1e-12 moves ρ by 1e-12·∂ρ/∂α (≈ ρ ln|x| at most).
                    let tol = 1e-10;
                    assert!(near(v1, v0, tol, 0.0), "{tag}: value {v1} vs {v0}");
                    assert!(
                        near(g1[0], g0[0], tol, 0.0),
                        "{tag}: grad {} vs {}",
                        g1[0],
                        g0[0]
                    );
                    // ∂²ρ/∂p² moves with α by up to u/|1 + (α − 1) u| times more (its
                    // factor 1 + (α − 1) u): compare it where u is moderate.
                    if x.abs() <= 70.0 {
                        let tol_h = tol * (1.0 + x * x);
                        assert!(
                            near(h1[0], h0[0], tol_h, 0.0),
                            "{tag}: hess {} vs {}",
                            h1[0],
                            h0[0]
                        );
                    }
                    if at != 2.0 {
                        let d0 = d_alpha::<f64>(&mid, x, 0.0);
                        let d1 = d_alpha::<f64>(&l, x, 0.0);
                        assert!(near(d1, d0, tol, 0.0), "{tag}: dalpha {d1} vs {d0}");
                    }
                }
            }
        }
    }
}

/// `grad_alpha` is `scale · Σ wᵢ ∂ρᵢ/∂α` for every reduction; the elementwise form writes
/// or adds the terms and returns the same sum; `value_and_grads` equals the separate calls.
#[test]
fn alpha_verbs_weights_reductions_and_accumulation() {
    let mut rng = Rng(99);
    let n = 1001;
    let p = rng.data(n);
    let t = rng.data(n);
    let mut w: Vec<f64> = rng.data(n).iter().map(|x| x.abs()).collect();
    w[7] = 0.0;
    for backend in backends() {
        for alpha in [-3.0, 0.0, 0.7, 1.5, 2.0, 4.0] {
            let l = Barron { alpha, scale: 0.8 }.on(backend).unwrap();
            let mut d = vec![0.0; n];
            let sum = l
                .grad_alpha_elementwise(&p, &t, None, Reduction::Sum, &mut d[..])
                .unwrap();
            let weighted: f64 = d
                .iter()
                .zip(&w)
                .map(|(d, w)| if *w == 0.0 { 0.0 } else { d * w })
                .sum();
            let mean_w = l.grad_alpha(&p, &t, Some(&w), Reduction::Mean).unwrap();
            let want = weighted / n as f64;
            assert!(
                near(mean_w, want, 1e-12, 0.0),
                "alpha={alpha}: weighted mean {mean_w} vs {want}"
            );
            let plain: f64 = d.iter().sum();
            assert!(
                near(sum, plain, 1e-12, 0.0),
                "alpha={alpha}: sum {sum} vs {plain}"
            );
            let div = l
                .grad_alpha(&p, &t, None, Reduction::Divisor(n as f64))
                .unwrap();
            let mean = l.grad_alpha(&p, &t, None, Reduction::Mean).unwrap();
            assert_eq!(div.to_bits(), mean.to_bits(), "alpha={alpha}: divisor");
            // Elementwise with weights and a reduction: each term is scale·wᵢ·∂ρᵢ/∂α.
            let mut dw = vec![0.0; n];
            let s2 = l
                .grad_alpha_elementwise(&p, &t, Some(&w), Reduction::Mean, &mut dw[..])
                .unwrap();
            assert_eq!(
                s2.to_bits(),
                mean_w.to_bits(),
                "alpha={alpha}: elementwise sum"
            );
            for i in 0..n {
                let want = if w[i] == 0.0 {
                    0.0
                } else {
                    d[i] * w[i] / n as f64
                };
                assert!(
                    near(dw[i], want, 1e-15, 0.0),
                    "alpha={alpha}: term {i}: {} vs {want}",
                    dw[i]
                );
            }
            // Accumulate: base + terms, bit for bit.
            let base = rng.data(n);
            let mut acc = base.clone();
            l.grad_alpha_elementwise(&p, &t, Some(&w), Reduction::Mean, Out::add(&mut acc))
                .unwrap();
            for i in 0..n {
                assert_eq!(acc[i].to_bits(), (base[i] + dw[i]).to_bits(), "accumulate");
            }
            // The fused call.
            let (mut g1, mut g2) = (vec![0.0; n], vec![0.0; n]);
            let (v, da) = l
                .value_and_grads(&p, &t, Some(&w), Reduction::Mean, &mut g1[..])
                .unwrap();
            let v2 = l
                .value_and_grad(&p, &t, Some(&w), Reduction::Mean, &mut g2[..])
                .unwrap();
            assert_eq!(
                (v.to_bits(), da.to_bits()),
                (v2.to_bits(), mean_w.to_bits())
            );
            assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        // At the pole a zero weight gives exactly 0, not 0·∞.
        let l = Barron {
            alpha: 2.0,
            scale: 1.0,
        }
        .on(backend)
        .unwrap();
        let d = l
            .grad_alpha(
                &[1.0f32, 0.0],
                &[0.0, 0.0],
                Some(&[0.0, 3.0]),
                Reduction::Sum,
            )
            .unwrap();
        assert_eq!(d, 0.0);
        let d = l
            .grad_alpha(
                &[1.0f32, 0.0],
                &[0.0, 0.0],
                Some(&[1.0, 0.0]),
                Reduction::Sum,
            )
            .unwrap();
        assert_eq!(d, f32::INFINITY);
    }
}

/// Finite inputs of any magnitude give no NaN in any output, for every shape (and the
/// largest `|α|`), scale and backend, in both precisions.
#[test]
fn finite_inputs_of_any_magnitude_never_give_nan() {
    let mags = MAGNITUDES;
    let vals: Vec<f32> = mags.iter().flat_map(|&m| [m, -m]).collect();
    let (mut p, mut t) = (Vec::new(), Vec::new());
    for &a in &vals {
        for &b in &vals {
            p.push(a);
            t.push(b);
        }
    }
    let p64: Vec<f64> = widen(&p);
    let t64: Vec<f64> = widen(&t);
    let big = 18446744073709551616.0; // 2^64, the largest |α|
    for &alpha in ALPHAS.iter().chain(&[-big, -1e12, 1e12, big]) {
        for c in [1.0, 0.4, 1e-18, 1e18] {
            for backend in backends() {
                let l = Barron { alpha, scale: c }.on(backend).unwrap();
                check_no_nan::<f32>(&l, &p, &t);
                check_no_nan::<f64>(&l, &p64, &t64);
            }
        }
    }
}

/// The four per-element outputs of one element (value, gradient, Hessian, `∂ρ/∂α`).
fn outputs<F: Float>(l: &On<Barron>, p: F, t: F) -> [f64; 4] {
    let (mut e, mut g, mut h, mut d) = ([F::ZERO], [F::ZERO], [F::ZERO], [F::ZERO]);
    l.value_elementwise(&[p], &[t], None, &mut e).unwrap();
    l.grad(&[p], &[t], None, Reduction::Sum, &mut g[..])
        .unwrap();
    l.hessian_diag(&[p], &[t], None, Reduction::Sum, &mut h[..])
        .unwrap();
    l.grad_alpha_elementwise(&[p], &[t], None, Reduction::Sum, &mut d[..])
        .unwrap();
    [e[0], g[0], h[0], d[0]].map(|x| x.to_f64())
}

/// A residual `p − t` (or `(p − t)/c`) beyond the float range gives the results at the true
/// residual, not a limit: f32 against the f64 kernel on the same inputs (where the
/// residual is finite), f64 at `p − t = 2·f64::MAX`, `c = 4` against `p/4 − t/4`, `c = 1` (the
/// same `x = (p − t)/c`: value and `∂ρ/∂α` equal, gradient ×4, Hessian ×16).
#[test]
fn an_overflowed_residual_gives_the_results_at_the_true_residual() {
    let big = 18446744073709551616.0; // 2^64
    for &alpha in ALPHAS.iter().chain(&[-big, big]) {
        for backend in backends() {
            for (p, t, c) in [
                (f32::MAX, -f32::MAX, 0.5),
                (-f32::MAX, 3e38, 2.0),
                (1e30, -1e30, 1e-18),
            ] {
                let l = Barron { alpha, scale: c }.on(backend).unwrap();
                let got = outputs::<f32>(&l, p, t);
                let want = outputs::<f64>(&l, p as f64, t as f64);
                for (i, what) in ["value", "grad", "hess", "dalpha"].iter().enumerate() {
                    let (g, w) = (got[i], want[i]);
                    let tag = format!("alpha={alpha} c={c} [{backend}] p={p:e} t={t:e}: {what}");
                    if w.abs() > f32::MAX as f64 {
                        assert_eq!(g, w.signum() * f64::INFINITY, "{tag}: {g:e} vs f64 {w:e}");
                    } else if w.abs() >= 1e-30 {
                        assert!(near(g, w, 2e-5, 0.0), "{tag}: {g:e} vs f64 {w:e}");
                    } else {
                        assert!(g.abs() <= 1e-29, "{tag}: {g:e} vs f64 {w:e}");
                    }
                }
            }
            // p − t overflows f64; with c = 4, x = (p − t)/4 is the x of (p/4 − t/4)/1.
            let (p, t) = (f64::MAX, -f64::MAX);
            let got = outputs::<f64>(&Barron { alpha, scale: 4.0 }.on(backend).unwrap(), p, t);
            let want = outputs::<f64>(
                &Barron { alpha, scale: 1.0 }.on(backend).unwrap(),
                p / 4.0,
                t / 4.0,
            );
            for (i, (what, f)) in [
                ("value", 1.0),
                ("grad", 4.0),
                ("hess", 16.0),
                ("dalpha", 1.0),
            ]
            .iter()
            .enumerate()
            {
                let (g, w) = (got[i] * f, want[i]);
                assert!(
                    // Both carry the rounding of exponents up to ~700 (ln of 1e308, twice).
                    (g == w) || near(g, w, 2e-12, 1e-300),
                    "alpha={alpha} [{backend}] f64 {what}: {g:e} vs {w:e}"
                );
            }
        }
    }
}

fn check_no_nan<F: Float>(l: &On<Barron>, p: &[F], t: &[F]) {
    let n = p.len();
    let (mut e, mut g, mut h, mut d) = (
        vec![F::ZERO; n],
        vec![F::ZERO; n],
        vec![F::ZERO; n],
        vec![F::ZERO; n],
    );
    l.value_elementwise(p, t, None, &mut e).unwrap();
    l.grad(p, t, None, Reduction::Mean, &mut g[..]).unwrap();
    l.hessian_diag(p, t, None, Reduction::Mean, &mut h[..])
        .unwrap();
    let da = l
        .grad_alpha_elementwise(p, t, None, Reduction::Mean, &mut d[..])
        .unwrap();
    let alpha = l.loss().alpha;
    assert!(!da.is_nan(), "alpha={alpha}: dalpha NaN");
    for i in 0..n {
        for (what, x) in [
            ("value", e[i]),
            ("grad", g[i]),
            ("hess", h[i]),
            ("dalpha", d[i]),
        ] {
            assert!(
                !x.is_nan(),
                "alpha={alpha} c={} {what} NaN at p={:e} t={:e}",
                l.loss().scale,
                p[i].to_f64(),
                t[i].to_f64()
            );
        }
        assert!(
            d[i] >= F::ZERO,
            "alpha={alpha}: negative dalpha at p={:e} t={:e}",
            p[i].to_f64(),
            t[i].to_f64()
        );
    }
}

/// The parameter checks, and the error contract of the α verbs: validation errors write
/// nothing, a non-finite input or weight is located, a written output is then zeros and an
/// accumulated one untouched.
#[test]
fn parameters_are_checked_and_alpha_verbs_keep_the_error_contract() {
    let (p, t) = ([1.0f64, 2.0, 3.0], [0.0f64; 3]);
    for (alpha, scale, name) in [
        (f64::NAN, 1.0, "alpha"),
        (f64::INFINITY, 1.0, "alpha"),
        (1.0, 0.0, "scale"),
        (1.0, -1.0, "scale"),
        (1.0, f64::NAN, "scale"),
        (1.0, f64::INFINITY, "scale"),
        (1.0, 1e-20, "scale"),
        (1.0, 1e20, "scale"),
        (1e20, 1.0, "alpha"),
        (-1e20, 1.0, "alpha"),
    ] {
        let l = Barron { alpha, scale };
        let is =
            |e: Result<f64>| matches!(e, Err(Error::InvalidParameter { name: n, .. }) if n == name);
        assert!(is(l.value(&p, &t, None, Reduction::Sum)), "{alpha} {scale}");
        assert!(
            is(l.grad_alpha(&p, &t, None, Reduction::Sum)),
            "{alpha} {scale}"
        );
        let mut d = [7.0; 3];
        assert!(is(l.grad_alpha_elementwise(
            &p,
            &t,
            None,
            Reduction::Sum,
            &mut d[..]
        )));
        assert_eq!(d, [7.0; 3], "wrote on a validation error");
        let mut g = [7.0; 3];
        assert!(matches!(
            l.value_and_grads(&p, &t, None, Reduction::Sum, &mut g[..]),
            Err(Error::InvalidParameter { .. })
        ));
        assert_eq!(g, [7.0; 3], "wrote on a validation error");
    }
    let widest = Barron {
        alpha: -18446744073709551616.0,
        scale: 9223372036854775808.0,
    };
    assert!(widest.value(&p, &t, None, Reduction::Sum).is_ok());
    let edge = Barron {
        alpha: f64::NEG_INFINITY,
        scale: 1e-18,
    };
    assert!(edge.value(&p, &t, None, Reduction::Sum).is_ok());
    for backend in backends() {
        let l = Barron {
            alpha: 0.5,
            scale: 1.0,
        }
        .on(backend)
        .unwrap();
        let mut d = [7.0; 3];
        assert_eq!(
            l.grad_alpha_elementwise(&p, &t, Some(&[1.0; 2]), Reduction::Sum, &mut d[..]),
            Err(Error::LengthMismatch {
                name: "weight",
                expected: 3,
                found: 2
            })
        );
        assert_eq!(
            l.grad_alpha_elementwise(&p, &t, None, Reduction::Sum, &mut d[..2]),
            Err(Error::LengthMismatch {
                name: "out",
                expected: 3,
                found: 2
            })
        );
        assert_eq!(
            l.grad_alpha(&p, &t, None, Reduction::Divisor(0.0)),
            Err(Error::InvalidParameter {
                name: "reduction",
                rule: "divisor must be in [2^-126, 2^126]"
            })
        );
        assert_eq!(
            l.grad_alpha(&p[..0], &t[..0], None, Reduction::Sum),
            Err(Error::Empty)
        );
        assert_eq!(d, [7.0; 3]);
        for n in [1usize, 9, 37] {
            for pos in [0, n / 2, n - 1] {
                for (which, input) in [("pred", 0), ("target", 1), ("weight", 2)] {
                    let mut ins = [vec![0.5f32; n], vec![0.25f32; n], vec![1.0f32; n]];
                    ins[input][pos] = f32::NAN;
                    let [p, t, w] = &ins;
                    let e = Err(Error::NonFinite {
                        name: which,
                        index: pos,
                    });
                    assert_eq!(l.grad_alpha(p, t, Some(w), Reduction::Mean), e);
                    let mut d = vec![7.0f32; n];
                    assert_eq!(
                        l.grad_alpha_elementwise(p, t, Some(w), Reduction::Mean, &mut d[..]),
                        e
                    );
                    assert!(d.iter().all(|&x| x == 0.0), "write mode not reset");
                    let mut d = vec![7.0f32; n];
                    assert_eq!(
                        l.grad_alpha_elementwise(p, t, Some(w), Reduction::Mean, Out::add(&mut d)),
                        e
                    );
                    assert!(d.iter().all(|&x| x == 7.0), "add mode touched");
                    let mut g = vec![7.0f32; n];
                    assert_eq!(
                        l.value_and_grads(p, t, Some(w), Reduction::Mean, &mut g[..])
                            .map(|_| ()),
                        e.map(|_: f32| ())
                    );
                    assert!(g.iter().all(|&x| x == 0.0), "write mode not reset");
                }
            }
        }
    }
}
