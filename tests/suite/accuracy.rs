//! The accuracy contract (ARCHITECTURE.md, "Accuracy contract"; the crate docs'
//! `accuracy` page): per loss and verb, the largest error measured on every backend over a
//! fixed set of inputs (the ranges the property tests draw from, plus magnitudes from
//! `1e-30` to `1e8` and the points at and beside each loss's kinks), against a reference
//! of higher precision, and a budget this test enforces.
//!
//! The error of a result `got` against the reference `want` is in units of the precision's
//! machine epsilon `ε` (`2⁻²³` for f32, `2⁻⁵²` for f64), relative to `max(|want|, 1)`:
//! `|got − want| / (ε·max(|want|, 1))`, relative error for results of magnitude 1 and above,
//! absolute below (a loss term or derivative much smaller than 1 beside terms of order 1
//! matters to a sum or an optimiser step by its absolute error). Where `want` is beyond the
//! precision's range, `got` must be the correctly signed infinity.
//!
//! References: values against the crate's f64 oracle (`losskit::reference`, naive
//! formulas) evaluated on the inputs rounded to the precision under test (for f64 the
//! figure is the disagreement of two f64 computations, the oracle's error included); f32
//! derivatives against the f64 kernel on the same rounded inputs (itself checked against
//! finite differences of the oracle by the property tests), except at a branch point where
//! the f64 derivative itself jumps (either side is then right). f64 derivatives have no
//! higher-precision reference here: they are the f32 formulas in f64, checked against
//! finite differences of the oracle (1e-6 relative) by the property tests, and are not in
//! the table.
//!
//! The table of budgets below is the contract: `cargo test --test suite accuracy` fails when
//! a measured error exceeds its budget, and when the tables in ARCHITECTURE.md and
//! `src/accuracy.md` differ from the one rendered here (it prints the rendered table).

use crate::common::{Rng, backends};
use losskit::prelude::*;
use losskit::reference::Domain;
use losskit::reference::softmax as oracle;

/// The budgets, in units of `ε` (see the module docs): f32 value, gradient, Hessian
/// diagonal; f64 value. `None`: not measured (the row losses' Hessian diagonals).
type Budget = [Option<f64>; 4];

/// Per loss, the contract (a measured maximum rounded up to 1, 1.5, 2, 3, 5 or 7 times a
/// power of ten).
const BUDGETS: &[(&str, Budget)] = &[
    ("mse", [Some(1.5), Some(0.5), Some(0.0), Some(0.0)]),
    ("mae", [Some(0.5), Some(0.0), Some(0.0), Some(0.0)]),
    ("huber", [Some(0.7), Some(0.3), Some(0.5), Some(0.0)]),
    ("smooth_l1", [Some(0.7), Some(0.3), Some(0.5), Some(0.0)]),
    ("quantile", [Some(1.0), Some(0.3), Some(0.0), Some(0.0)]),
    ("expectile", [Some(2.0), Some(1.0), Some(0.15), Some(0.0)]),
    ("pseudo_huber", [Some(2.0), Some(1.5), Some(3.0), Some(3.0)]),
    ("log_cosh", [Some(1.5), Some(1.0), Some(1.5), Some(2.0)]),
    ("barron", [Some(7.0), Some(1.5), Some(1.0), Some(7.0)]),
    ("poisson_nll", [Some(5.0), Some(1.5), Some(0.7), Some(5.0)]),
    ("tweedie", [Some(20.0), Some(20.0), Some(20.0), Some(2.0)]),
    ("gamma", [Some(2.0), Some(2.0), Some(1.0), Some(2.0)]),
    ("bce", [Some(1.5), Some(2.0), Some(2.0), Some(0.5)]),
    (
        "bce_with_logits",
        [Some(2.0), Some(2.0), Some(1.5), Some(2.0)],
    ),
    (
        "sigmoid_focal",
        [Some(3.0), Some(3.0), Some(2.0), Some(3.0)],
    ),
    ("soft_margin", [Some(0.7), Some(0.7), Some(0.5), Some(1.0)]),
    ("hinge", [Some(0.5), Some(0.0), Some(0.0), Some(0.0)]),
    (
        "squared_hinge",
        [Some(1.5), Some(0.5), Some(0.0), Some(0.0)],
    ),
    ("smooth_hinge", [Some(1.0), Some(0.3), Some(0.5), Some(0.7)]),
    (
        "modified_huber",
        [Some(1.5), Some(0.5), Some(0.0), Some(1.0)],
    ),
    ("kl_div", [Some(1.0), Some(0.0), Some(0.0), Some(0.0)]),
    ("cross_entropy", [Some(1.0), Some(1.0), None, Some(30.0)]),
    (
        "cross_entropy (smoothing 0.1, z-loss 1e-4)",
        [Some(1.5), Some(0.7), None, Some(7.0)],
    ),
    (
        "soft_cross_entropy",
        [Some(1.5), Some(1.5), None, Some(5.0)],
    ),
    ("poly1", [Some(0.5), Some(1.0), None, Some(50.0)]),
    ("softmax_focal", [Some(0.5), Some(1.0), None, Some(2.0)]),
    ("distillation", [Some(0.7), Some(1.5), None, Some(50.0)]),
    ("multi_margin", [Some(1.5), Some(1.5), None, Some(3.0)]),
    ("multiclass_hinge", [Some(0.5), Some(0.0), None, Some(0.0)]),
    (
        "multilabel_bce_with_logits",
        [Some(0.7), Some(0.7), None, Some(5.0)],
    ),
    ("nll", [Some(0.0), Some(0.0), None, Some(0.0)]),
    (
        "multilabel_soft_margin",
        [Some(0.5), Some(0.3), None, Some(5.0)],
    ),
    ("gaussian_nll", [Some(5.0), Some(7.0), Some(0.5), Some(5.0)]),
];

/// The precision's machine epsilon and largest finite value.
fn eps_max<F: Float>() -> (f64, f64) {
    if F::MANTISSA_DIGITS == 24 {
        (f32::EPSILON as f64, f32::MAX as f64)
    } else {
        (f64::EPSILON, f64::MAX)
    }
}

/// The error of `got` against `want` in units of `ε·max(|want|, 1)` (∞ for a wrong
/// infinity or a NaN; 0 where `want` is NaN: outside the oracle's domain).
fn units<F: Float>(got: f64, want: f64) -> f64 {
    let (eps, max) = eps_max::<F>();
    if want.is_nan() {
        return 0.0;
    }
    if want.abs() > max {
        return if got == want.signum() * f64::INFINITY {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if !got.is_finite() {
        return f64::INFINITY;
    }
    (got - want).abs() / (eps * want.abs().max(1.0))
}

/// The largest errors of one loss in one precision: value, gradient, Hessian diagonal.
#[derive(Clone, Copy, Default, Debug)]
struct Worst([f64; 3]);

impl Worst {
    fn see(&mut self, verb: usize, e: f64, what: impl FnOnce() -> String) {
        assert!(e.is_finite(), "{}: not finite or wrong infinity", what());
        if e > self.0[verb] {
            self.0[verb] = e;
        }
    }
}

/// The input pairs of a pointwise loss: residual-like data (±3, a few far), magnitudes
/// from 1e-30 to 1e8 of either sign, exact zeros and points at and beside the kinks the
/// regression losses have at r ∈ {0, ±0.5, ±1, ±1.5}; then moved onto `domain`.
fn pointwise_inputs(domain: Domain, n: usize) -> Vec<(f64, f64)> {
    let mut rng = Rng(0xacc0_2026_0000_0001);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let k = out.len() % 10;
        let t = rng.unit() * 3.0;
        let p = match k {
            0..=5 => rng.unit() * 3.0,
            6 | 7 => {
                let mag = libm::pow(10.0, -30.0 + 38.0 * rng.uniform());
                if rng.unit() < 0.0 { -mag } else { mag }
            }
            8 => t + [0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5][rng.bits() as usize % 7],
            _ => t + [0.0, 0.5, -0.5, 1.0, -1.0, 1.5][rng.bits() as usize % 6] + rng.unit() * 1e-6,
        };
        out.push(domain.place(p, t));
    }
    out
}

/// Measures a pointwise loss in precision `F` on every backend.
fn pointwise<L: PointwiseLoss, F: Float>(
    name: &str,
    loss: L,
    oracle: fn(f64, f64) -> f64,
    domain: Domain,
) -> Worst {
    let pairs = pointwise_inputs(domain, 4000);
    let p: Vec<F> = pairs.iter().map(|x| F::from_f64(x.0)).collect();
    let t: Vec<F> = pairs.iter().map(|x| F::from_f64(x.1)).collect();
    let pf: Vec<f64> = p.iter().map(|x| x.to_f64()).collect();
    let tf: Vec<f64> = t.iter().map(|x| x.to_f64()).collect();
    let n = p.len();
    let f32_precision = F::MANTISSA_DIGITS == 24;
    // The f64 kernel's derivatives on the rounded inputs (the f32 reference), and beside
    // them (2⁻²⁰ of the inputs' magnitude either way, beyond f32's rounding of `p − t`):
    // where those differ by more than rounding, the input sits on a branch point of the
    // derivative and either side is right.
    let reference = loss.on(Backend::Portable).unwrap();
    let (mut g64, mut h64) = (vec![0.0; n], vec![0.0; n]);
    reference
        .grad(&pf, &tf, None, Reduction::Sum, &mut g64[..])
        .unwrap();
    reference
        .hessian_diag(&pf, &tf, None, Reduction::Sum, &mut h64[..])
        .unwrap();
    // One element at a time: a shifted input may leave the domain (then None: skipped).
    let beside = |shift: f64| -> Vec<Option<(f64, f64)>> {
        (0..n)
            .map(|i| {
                let p = [pf[i] + shift * pf[i].abs().max(tf[i].abs()).max(1.0)];
                let t = &tf[i..=i];
                let (mut g, mut h) = ([0.0], [0.0]);
                let ok = reference
                    .grad(&p, t, None, Reduction::Sum, &mut g[..])
                    .is_ok()
                    && reference
                        .hessian_diag(&p, t, None, Reduction::Sum, &mut h[..])
                        .is_ok();
                ok.then_some((g[0], h[0]))
            })
            .collect()
    };
    let (up, down) = (
        beside(libm::ldexp(1.0, -20)),
        beside(-libm::ldexp(1.0, -20)),
    );
    // A jump is of the derivative's own order; smooth change over the shift is ~1e-6.
    let jumps = |a: f64, b: Option<f64>, c: Option<f64>| match (b, c) {
        (Some(b), Some(c)) => {
            let m = a.abs().max(b.abs()).max(c.abs()).max(1.0);
            (a - b).abs() > 1e-3 * m || (a - c).abs() > 1e-3 * m
        }
        _ => true,
    };
    let mut worst = Worst::default();
    for backend in backends() {
        let l = loss.on(backend).unwrap();
        let mut v = vec![F::ZERO; n];
        l.value_elementwise(&p, &t, None, &mut v).unwrap();
        let (mut g, mut h) = (vec![F::ZERO; n], vec![F::ZERO; n]);
        l.grad(&p, &t, None, Reduction::Sum, &mut g[..]).unwrap();
        l.hessian_diag(&p, &t, None, Reduction::Sum, &mut h[..])
            .unwrap();
        for i in 0..n {
            let at = || format!("{name} [{backend}] at p={:e} t={:e}", pf[i], tf[i]);
            let want = oracle(pf[i], tf[i]);
            worst.see(0, units::<F>(v[i].to_f64(), want), || {
                format!("{} value {:e} want {want:e}", at(), v[i].to_f64())
            });
            if f32_precision {
                if !jumps(g64[i], up[i].map(|x| x.0), down[i].map(|x| x.0)) {
                    worst.see(1, units::<F>(g[i].to_f64(), g64[i]), || {
                        format!("{} grad {:e} want {:e}", at(), g[i].to_f64(), g64[i])
                    });
                }
                if !jumps(h64[i], up[i].map(|x| x.1), down[i].map(|x| x.1)) {
                    worst.see(2, units::<F>(h[i].to_f64(), h64[i]), || {
                        format!("{} hess {:e} want {:e}", at(), h[i].to_f64(), h64[i])
                    });
                }
            }
        }
    }
    worst
}

/// The Gaussian NLL (pointwise with a variance) in precision `F` on every backend: the
/// value against the oracle, both gradients (mean and variance; one column) and the
/// Hessian diagonal against the f64 kernel, on the pointwise inputs with variances from
/// 1e-8 to 1e8 and some below the clamp `ε`.
fn gaussian_nll<F: Float>() -> Worst {
    let pairs = pointwise_inputs(Domain::Real, 4000);
    let mut rng = Rng(0xacc0_2026_0000_0003);
    let var: Vec<F> = (0..pairs.len())
        .map(|i| {
            let v = if i % 8 == 7 {
                1e-7 * rng.uniform()
            } else {
                libm::pow(10.0, -8.0 + 16.0 * rng.uniform())
            };
            F::from_f64(v)
        })
        .collect();
    let p: Vec<F> = pairs.iter().map(|x| F::from_f64(x.0)).collect();
    let t: Vec<F> = pairs.iter().map(|x| F::from_f64(x.1)).collect();
    let wide = |x: &[F]| -> Vec<f64> { x.iter().map(|v| v.to_f64()).collect() };
    let (pf, tf, vf) = (wide(&p), wide(&t), wide(&var));
    let n = p.len();
    let loss = GaussianNll::default();
    let (mut gp64, mut gv64, mut h64) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let reference = loss.on(Backend::Portable).unwrap();
    reference
        .grad(
            &pf,
            &tf,
            &vf,
            Reduction::Sum,
            &mut gp64[..],
            Some(Out::write(&mut gv64[..])),
        )
        .unwrap();
    reference
        .hessian_diag(&pf, &tf, &vf, Reduction::Sum, &mut h64[..])
        .unwrap();
    let f32_precision = F::MANTISSA_DIGITS == 24;
    let mut worst = Worst::default();
    for backend in backends() {
        let l = loss.on(backend).unwrap();
        let mut v = vec![F::ZERO; n];
        l.value_elementwise(&p, &t, &var, &mut v).unwrap();
        let (mut gp, mut gv, mut h) = (vec![F::ZERO; n], vec![F::ZERO; n], vec![F::ZERO; n]);
        l.grad(
            &p,
            &t,
            &var,
            Reduction::Sum,
            &mut gp[..],
            Some(Out::write(&mut gv[..])),
        )
        .unwrap();
        l.hessian_diag(&p, &t, &var, Reduction::Sum, &mut h[..])
            .unwrap();
        for i in 0..n {
            let at = || {
                format!(
                    "gaussian_nll [{backend}] at p={:e} t={:e} var={:e}",
                    pf[i], tf[i], vf[i]
                )
            };
            let want = losskit::reference::regression::gaussian_nll(
                pf[i], tf[i], vf[i], loss.full, loss.eps,
            );
            worst.see(0, units::<F>(v[i].to_f64(), want), || {
                format!("{} value {:e} want {want:e}", at(), v[i].to_f64())
            });
            if f32_precision {
                for (what, got, want) in [("grad", gp[i], gp64[i]), ("grad_var", gv[i], gv64[i])] {
                    worst.see(1, units::<F>(got.to_f64(), want), || {
                        format!("{} {what} {:e} want {want:e}", at(), got.to_f64())
                    });
                }
                worst.see(2, units::<F>(h[i].to_f64(), h64[i]), || {
                    format!("{} hess {:e} want {:e}", at(), h[i].to_f64(), h64[i])
                });
            }
        }
    }
    worst
}

/// One row loss's measurement in precision `F`: per row, the loss's value (Sum over the
/// row) and gradient from `eval` on `backend`, against the oracle `row_oracle(x, r)` and
/// the f64 kernel (`eval64` on the portable backend).
#[allow(clippy::type_complexity)]
fn rows<F: Float>(
    name: &str,
    x: &[f64],
    classes: usize,
    eval: &dyn Fn(Backend, &[F], usize) -> (F, Vec<F>),
    eval64: &dyn Fn(Backend, &[f64], usize) -> (f64, Vec<f64>),
    row_oracle: &dyn Fn(&[f64], usize) -> f64,
) -> Worst {
    let xr: Vec<F> = x.iter().map(|&v| F::from_f64(v)).collect();
    let xf: Vec<f64> = xr.iter().map(|v| v.to_f64()).collect();
    let n_rows = x.len() / classes;
    let f32_precision = F::MANTISSA_DIGITS == 24;
    let mut worst = Worst::default();
    for backend in backends() {
        for r in 0..n_rows {
            let row = &xr[r * classes..(r + 1) * classes];
            let rowf = &xf[r * classes..(r + 1) * classes];
            let (v, g) = eval(backend, row, r);
            let at = || format!("{name} [{backend}] C={classes} row {r}: {rowf:?}");
            let want = row_oracle(rowf, r);
            worst.see(0, units::<F>(v.to_f64(), want), || {
                format!("{} value {:e} want {want:e}", at(), v.to_f64())
            });
            if f32_precision {
                let (_, g64) = eval64(Backend::Portable, rowf, r);
                for j in 0..classes {
                    worst.see(1, units::<F>(g[j].to_f64(), g64[j]), || {
                        format!("{} grad[{j}] {:e} want {:e}", at(), g[j].to_f64(), g64[j])
                    });
                }
            }
        }
    }
    worst
}

/// Logit rows for the row losses: scales 0.5, 3 and 30, and confident rows (the label's
/// logit 12 to 40 above the others), for 2, 5, 10, 33 and 100 classes.
fn row_inputs(classes: usize, labels: &[usize]) -> Vec<f64> {
    let mut rng = Rng(0xacc0_2026_0000_0002 ^ classes as u64);
    let mut x = Vec::with_capacity(labels.len() * classes);
    for (r, &y) in labels.iter().enumerate() {
        let scale = [0.5, 3.0, 30.0, 1.0][r % 4];
        let row: Vec<f64> = (0..classes).map(|_| rng.unit() * scale).collect();
        let mut row = row;
        if r % 4 == 3 {
            row[y] += 12.0 + 28.0 * rng.uniform();
        }
        x.extend(row);
    }
    x
}

/// Defines `fn eval<F>(backend, row, r, ctx) -> (value, gradient)` of one row for a row loss
/// built by `$make` (element type `F`) with targets of kind `$kind`.
macro_rules! eval_fn {
    (@fn $make:expr, |$ctx:ident, $r:ident, $c:ident| [$($bind:stmt;)*] $t:expr) => {
        fn eval<F: Float>(backend: Backend, x: &[F], $r: usize, $ctx: &Ctx) -> (F, Vec<F>) {
            let $c = x.len();
            let loss = $make.on(backend).unwrap();
            let mut g = vec![F::ZERO; $c];
            $($bind)*
            let v = loss
                .value_and_grad(x, $c, $t, Reduction::Sum, &mut g[..])
                .unwrap();
            (v, g)
        }
    };
    (labels, $make:expr) => {
        eval_fn!(@fn $make, |ctx, r, c| [let lab = [ctx.labels[r] as u32];] &lab[..]);
    };
    (soft, $make:expr) => {
        eval_fn!(@fn $make, |ctx, r, c| [let t: Vec<F> = to_f(&ctx.soft[r * c..(r + 1) * c]);] &t[..]);
    };
    (multilabel, $make:expr) => {
        eval_fn!(@fn $make, |ctx, r, c| [let t: Vec<F> = to_f(&ctx.multilabel[r * c..(r + 1) * c]);] &t[..]);
    };
    (teacher, $make:expr) => {
        eval_fn!(@fn $make, |ctx, r, c|
            [let t: Vec<F> = to_f(&ctx.teacher[r * c..(r + 1) * c]);
            let lab = [ctx.labels[r] as u32];]
            Teacher { logits: &t[..], labels: &lab[..] });
    };
}

fn to_f<F: Float>(v: &[f64]) -> Vec<F> {
    v.iter().map(|&x| F::from_f64(x)).collect()
}

/// What the row losses' evaluators read their targets from.
struct Ctx<'a> {
    labels: &'a [usize],
    soft: &'a [f64],
    teacher: &'a [f64],
    multilabel: &'a [f64],
}

/// The measured table: per loss, [f32 value, grad, hess, f64 value].
fn measure() -> Vec<(String, [Option<f64>; 4])> {
    let mut table = Vec::new();
    macro_rules! pointwise_rows {
        ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr $(, $from:expr)?)),* $(,)?) => {
            $(
                let a = pointwise::<_, f32>(stringify!($name), $loss, $oracle, $domain);
                let b = pointwise::<_, f64>(stringify!($name), $loss, $oracle, $domain);
                table.push((
                    stringify!($name).to_string(),
                    [Some(a.0[0]), Some(a.0[1]), Some(a.0[2]), Some(b.0[0])],
                ));
            )*
        };
    }
    losskit::for_each_pointwise_loss!(pointwise_rows);
    let (a, b) = (gaussian_nll::<f32>(), gaussian_nll::<f64>());
    table.push((
        "gaussian_nll".to_string(),
        [Some(a.0[0]), Some(a.0[1]), Some(a.0[2]), Some(b.0[0])],
    ));

    const ROWS: usize = 24;
    for classes in [2usize, 5, 10, 33, 100] {
        let mut rng = Rng(0x5eed ^ classes as u64);
        let labels: Vec<usize> = (0..ROWS)
            .map(|_| (rng.bits() % classes as u64) as usize)
            .collect();
        // Targets rounded through f32, so that both precisions and the oracle see the same.
        let f32_round =
            |v: Vec<f64>| -> Vec<f64> { v.into_iter().map(|v| v as f32 as f64).collect() };
        let x = row_inputs(classes, &labels);
        let soft = f32_round({
            let mut t: Vec<f64> = (0..x.len()).map(|_| rng.uniform()).collect();
            for row in t.chunks_mut(classes) {
                let s: f64 = row.iter().sum();
                row.iter_mut().for_each(|v| *v /= s);
            }
            t
        });
        let teacher = f32_round(row_inputs(classes, &labels));
        let multilabel: Vec<f64> = (0..x.len())
            .map(|i| [0.0, 1.0, 0.25][(i * 7 + 3) % 3])
            .collect();
        let ctx = Ctx {
            labels: &labels,
            soft: &soft,
            teacher: &teacher,
            multilabel: &multilabel,
        };
        macro_rules! row_loss {
            ($name:literal, $kind:ident, $make:expr, $oracle:expr) => {{
                eval_fn!($kind, $make);
                let o = |row: &[f64], r: usize| ($oracle)(&ctx, row, r);
                let a = rows::<f32>(
                    $name,
                    &x,
                    classes,
                    &|b, row, r| eval::<f32>(b, row, r, &ctx),
                    &|b, row, r| eval::<f64>(b, row, r, &ctx),
                    &o,
                );
                let b = rows::<f64>(
                    $name,
                    &x,
                    classes,
                    &|b, row, r| eval::<f64>(b, row, r, &ctx),
                    &|b, row, r| eval::<f64>(b, row, r, &ctx),
                    &o,
                );
                merge(&mut table, $name, a, b);
            }};
        }
        row_loss!(
            "cross_entropy",
            labels,
            CrossEntropy::<F>::default(),
            |ctx: &Ctx, row: &[f64], r: usize| {
                oracle::cross_entropy(row, ctx.labels[r], None, 0.0, 0.0, None)
            }
        );
        row_loss!(
            "cross_entropy (smoothing 0.1, z-loss 1e-4)",
            labels,
            CrossEntropy::<F> {
                label_smoothing: 0.1,
                z_loss: 1e-4,
                ..CrossEntropy::default()
            },
            |ctx: &Ctx, row: &[f64], r: usize| {
                oracle::cross_entropy(row, ctx.labels[r], None, 0.1, 1e-4, None)
            }
        );
        row_loss!(
            "soft_cross_entropy",
            soft,
            SoftCrossEntropy::<F>::default(),
            |ctx: &Ctx, row: &[f64], r: usize| {
                let c = row.len();
                oracle::soft_cross_entropy(row, &ctx.soft[r * c..(r + 1) * c], None, 0.0)
            }
        );
        row_loss!(
            "poly1",
            labels,
            Poly1::<F> {
                epsilon: 1.0,
                ..Poly1::default()
            },
            |ctx: &Ctx, row: &[f64], r: usize| oracle::poly1(row, ctx.labels[r], None, 0.0, 1.0)
        );
        row_loss!(
            "softmax_focal",
            labels,
            SoftmaxFocal::<F>::default(),
            |ctx: &Ctx, row: &[f64], r: usize| {
                oracle::softmax_focal(row, ctx.labels[r], 2.0, 1.0)
            }
        );
        row_loss!(
            "distillation",
            teacher,
            Distillation {
                alpha: 0.3,
                temperature: 3.0
            },
            |ctx: &Ctx, row: &[f64], r: usize| {
                let c = row.len();
                oracle::distillation(
                    row,
                    &ctx.teacher[r * c..(r + 1) * c],
                    ctx.labels[r],
                    0.3,
                    3.0,
                )
            }
        );
        row_loss!(
            "multi_margin",
            labels,
            MultiMargin::<F> {
                p: 2,
                ..MultiMargin::default()
            },
            |ctx: &Ctx, row: &[f64], r: usize| oracle::multi_margin(
                row,
                ctx.labels[r],
                2,
                1.0,
                1.0
            )
        );
        row_loss!(
            "multiclass_hinge",
            labels,
            MulticlassHinge,
            |ctx: &Ctx, row: &[f64], r: usize| oracle::multiclass_hinge(row, ctx.labels[r])
        );
        row_loss!(
            "nll",
            labels,
            Nll::<F>::default(),
            |ctx: &Ctx, row: &[f64], r: usize| -row[ctx.labels[r]]
        );
        row_loss!(
            "multilabel_soft_margin",
            multilabel,
            MultiLabelSoftMargin::<F>::default(),
            |ctx: &Ctx, row: &[f64], r: usize| {
                let c = row.len();
                let t = &ctx.multilabel[r * c..(r + 1) * c];
                (0..c)
                    .map(|j| losskit::reference::classification::bce_with_logits(row[j], t[j], 1.0))
                    .sum::<f64>()
                    / c as f64
            }
        );
        row_loss!(
            "multilabel_bce_with_logits",
            multilabel,
            MultiLabelBceWithLogits::<F>::default(),
            |ctx: &Ctx, row: &[f64], r: usize| {
                let c = row.len();
                let t = &ctx.multilabel[r * c..(r + 1) * c];
                (0..c)
                    .map(|j| losskit::reference::classification::bce_with_logits(row[j], t[j], 1.0))
                    .sum::<f64>()
            }
        );
    }
    table
}

/// Folds one class count's measurement of a row loss into its table line.
fn merge(table: &mut Vec<(String, [Option<f64>; 4])>, name: &str, a: Worst, b: Worst) {
    let line = [Some(a.0[0]), Some(a.0[1]), None, Some(b.0[0])];
    match table.iter_mut().find(|(n, _)| n == name) {
        Some((_, old)) => {
            for (o, n) in old.iter_mut().zip(line) {
                if let (Some(o), Some(n)) = (o.as_mut(), n) {
                    *o = o.max(n);
                }
            }
        }
        None => table.push((name.to_string(), line)),
    }
}

/// A budget figure as the tables print it.
fn figure(x: Option<f64>) -> String {
    match x {
        None => "–".to_string(),
        Some(0.0) => "0".to_string(),
        Some(x) if x < 1e4 => format!("{x}"),
        Some(x) => format!("{x:e}"),
    }
}

/// The contract as a Markdown table (ARCHITECTURE.md and `docs/accuracy.md` hold it).
fn render() -> String {
    let mut t = String::from(
        "| loss | f32 value | f32 gradient | f32 Hessian diagonal | f64 value |\n\
         |---|---|---|---|---|\n",
    );
    for (name, b) in BUDGETS {
        t += &format!("| `{name}` |");
        for x in b {
            t += &format!(" {} |", figure(*x));
        }
        t += "\n";
    }
    t
}

/// `x` rounded up to 1, 1.5, 2, 3, 5 or 7 times a power of ten (0 stays 0).
fn round_up(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let k = libm::floor(libm::log10(x)) as i32;
    // Parsed from its decimal form, so that it prints as written (0.7, not 0.7000000000000001).
    [1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0]
        .into_iter()
        .map(|m| format!("{m}e{k}").parse::<f64>().unwrap())
        .find(|&b| b >= x)
        .unwrap_or(f64::INFINITY)
}

/// Measures every loss and checks it against its budget; also that every measured loss has
/// a budget line and every line a measurement. `LOSSKIT_ACCURACY=print` prints the table of
/// measured maxima and the budgets they round up to (what to paste into `BUDGETS`).
#[test]
fn every_loss_is_within_its_accuracy_budget() {
    let measured = measure();
    if std::env::var("LOSSKIT_ACCURACY").as_deref() == Ok("print") {
        for (name, m) in &measured {
            let b: Vec<String> = m
                .iter()
                .map(|x| match x {
                    Some(x) => format!("Some({:?})", round_up(*x)),
                    None => "None".to_string(),
                })
                .collect();
            println!("    (\"{name}\", [{}]), // measured {m:?}", b.join(", "));
        }
    }
    let mut failures = Vec::new();
    for (name, m) in &measured {
        let Some((_, budget)) = BUDGETS.iter().find(|(n, _)| n == name) else {
            failures.push(format!("{name}: measured {m:?} but no budget line"));
            continue;
        };
        for (col, (got, limit)) in m.iter().zip(budget).enumerate() {
            match (got, limit) {
                (Some(g), Some(l)) if g <= l => {}
                (None, None) => {}
                _ => failures.push(format!(
                    "{name} column {col}: measured {got:?}, budget {limit:?}"
                )),
            }
        }
    }
    for (name, _) in BUDGETS {
        if !measured.iter().any(|(n, _)| n == name) {
            failures.push(format!("{name}: a budget line without a measurement"));
        }
    }
    assert!(
        failures.is_empty(),
        "accuracy contract:\n{}",
        failures.join("\n")
    );
}

/// The tables in ARCHITECTURE.md and `docs/accuracy.md` (the crate docs' `accuracy` page)
/// are the one rendered from [`BUDGETS`], between the generated-table markers.
#[test]
fn the_documented_tables_are_the_budgets() {
    let table = render();
    for file in ["ARCHITECTURE.md", "docs/accuracy.md"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let begin = "<!-- accuracy table: generated from tests/suite/accuracy.rs -->\n";
        let start = text.find(begin).map(|i| i + begin.len());
        let end = text.find("<!-- end of accuracy table -->");
        let found = match (start, end) {
            (Some(s), Some(e)) if s <= e => &text[s..e],
            _ => "",
        };
        assert_eq!(
            found, table,
            "{file}: the accuracy table differs; it should read:\n{table}"
        );
    }
}
