//! Every row loss of the registry (`for_each_row_loss!`), through the shape traits only, on
//! every backend, in f32 and f64, at a narrow (7 classes) and a wide (40 classes) row:
//!
//! * the fused verb and the separate ones agree bit for bit (`value` with `value_and_grad`,
//!   `grad` with `value_and_grad`'s gradient, in place with `value_and_grad`);
//! * accumulate mode adds the gradient to what the buffer held (to the last bit's rounding);
//! * a loss pinned to the active backend gives the unpinned loss's bits;
//! * `value_elementwise` sums to the `Sum` reduction; `hessian_diag` is finite and ≥ 0 (every
//!   registered row loss with it is convex in each score); `hvp` with a unit vector `eⱼ`
//!   gives the diagonal's `j`-th entry;
//! * f32 agrees with f64 to f32 accuracy;
//! * a wrong output length is `LengthMismatch` and writes nothing;
//! * no verb allocates (the counting allocator of `no_alloc.rs`), on valid rows and on a
//!   row with a NaN.
//!
//! A loss added to the registry is tested here with no edit: what its `T` is and which
//! capability traits it has come from its registry line.

use crate::common::{backends, bits};
use crate::no_alloc::allocations_during;
use losskit::loss::softmax::Teacher;
use losskit::prelude::*;
use losskit::registry::{Per, Shape};

/// A deterministic pseudo-random stream in `[-1, 1)`.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// The inputs of one case: scores, labels, soft targets (rows sum to 1), teacher logits,
/// multi-label targets in `[0, 1]`, a prior gradient for accumulate mode, a unit vector.
struct Case<F> {
    rows: usize,
    classes: usize,
    x: Vec<F>,
    labels: Vec<i64>,
    soft: Vec<F>,
    teacher: Vec<F>,
    multilabel: Vec<F>,
    prior: Vec<F>,
}

fn case<F: Float>(rows: usize, classes: usize, seed: u64) -> Case<F> {
    let mut s = Stream(seed);
    let n = rows * classes;
    let x: Vec<F> = (0..n).map(|_| F::from_f64(3.0 * s.next())).collect();
    let labels = (0..rows)
        .map(|_| ((s.next() + 1.0) * 0.5 * classes as f64) as i64 % classes as i64)
        .collect();
    let mut soft: Vec<f64> = (0..n).map(|_| s.next() + 1.0).collect();
    for row in soft.chunks_mut(classes) {
        let total: f64 = row.iter().sum();
        row.iter_mut().for_each(|t| *t /= total);
    }
    Case {
        rows,
        classes,
        x,
        labels,
        soft: soft.into_iter().map(F::from_f64).collect(),
        teacher: (0..n).map(|_| F::from_f64(2.0 * s.next())).collect(),
        multilabel: (0..n)
            .map(|i| {
                F::from_f64(if i % 3 == 0 {
                    0.5 * (s.next() + 1.0)
                } else {
                    (i % 2) as f64
                })
            })
            .collect(),
        prior: (0..n).map(|_| F::from_f64(s.next())).collect(),
    }
}

/// The targets `T` of a registry entry, from its `targets` word.
macro_rules! targets {
    (labels, $c:expr) => {
        &$c.labels[..]
    };
    (soft, $c:expr) => {
        &$c.soft[..]
    };
    (multilabel, $c:expr) => {
        &$c.multilabel[..]
    };
    (teacher, $c:expr) => {
        Teacher {
            logits: &$c.teacher[..],
            labels: &$c.labels[..],
        }
    };
}

/// The machine epsilon of `F`.
fn eps<F: Float>() -> f64 {
    if std::mem::size_of::<F>() == 4 {
        f64::from(f32::EPSILON)
    } else {
        f64::EPSILON
    }
}

/// The checks every row loss gets (`RowLoss` only); returns the `Sum` value and gradient.
fn core<F: Float, T: Copy, L: RowLoss<F, T>>(
    what: &str,
    loss: L,
    c: &Case<F>,
    t: T,
) -> (F, Vec<F>) {
    let (x, n) = (&c.x[..], c.x.len());
    let r = Reduction::Sum;
    let v = loss.value(x, c.classes, t, r).unwrap();
    let mut g = vec![F::ZERO; n];
    let v2 = loss.value_and_grad(x, c.classes, t, r, &mut g).unwrap();
    assert_eq!(
        v.to_f64().to_bits(),
        v2.to_f64().to_bits(),
        "{what}: value vs fused"
    );
    let mut g2 = vec![F::from_f64(7.0); n];
    loss.grad(x, c.classes, t, r, &mut g2).unwrap();
    assert_eq!(bits(&g), bits(&g2), "{what}: grad vs fused");
    assert!(
        v.to_f64().is_finite() && g.iter().all(|e| e.to_f64().is_finite()),
        "{what}"
    );

    // Accumulate: prior + g, rounded once per element.
    let mut acc = c.prior.clone();
    let v3 = loss
        .value_and_grad(x, c.classes, t, r, Out::add(&mut acc))
        .unwrap();
    assert_eq!(
        v.to_f64().to_bits(),
        v3.to_f64().to_bits(),
        "{what}: accumulate value"
    );
    for i in 0..n {
        let want = c.prior[i].to_f64() + g[i].to_f64();
        let ulp = eps::<F>() * (c.prior[i].to_f64().abs() + g[i].to_f64().abs());
        assert!(
            (acc[i].to_f64() - want).abs() <= ulp,
            "{what}: accumulate [{i}] {} vs {want}",
            acc[i]
        );
    }

    // A wrong length is an error that writes nothing.
    let mut short = vec![F::from_f64(5.0); n - 1];
    let e = loss.value_and_grad(x, c.classes, t, r, &mut short[..]);
    assert!(
        matches!(e, Err(Error::LengthMismatch { .. })),
        "{what}: {e:?}"
    );
    assert!(
        short.iter().all(|e| e.to_f64() == 5.0),
        "{what}: short grad written"
    );
    (v, g)
}

fn elementwise<F: Float, T: Copy, L: RowElementwise<F, T>>(
    what: &str,
    loss: L,
    c: &Case<F>,
    t: T,
    sum: F,
) {
    // One value per row, or per element for a per-element multi-label loss (the registry's
    // shape says which).
    let name = what.split(' ').next().unwrap_or("");
    let per_element = losskit::registry::find(name)
        .is_some_and(|l| matches!(l.shape, Shape::MultiLabel { per: Per::Element }));
    let m = if per_element { c.x.len() } else { c.rows };
    let mut out = vec![F::ZERO; m];
    loss.value_elementwise(&c.x, c.classes, t, &mut out)
        .unwrap();
    let total: f64 = out.iter().map(|e| e.to_f64()).sum();
    let tol = 1e3 * eps::<F>() * (1.0 + sum.to_f64().abs());
    assert!(
        (total - sum.to_f64()).abs() <= tol,
        "{what}: elementwise sums to {total}, Sum is {sum}"
    );
}

fn in_place<F: Float, T: Copy, L: RowInPlace<F, T>>(
    what: &str,
    loss: L,
    c: &Case<F>,
    t: T,
    (v, g): (F, &[F]),
) {
    let mut x = c.x.clone();
    let v2 = loss
        .value_and_grad_in_place(&mut x, c.classes, t, Reduction::Sum)
        .unwrap();
    assert_eq!(
        v.to_f64().to_bits(),
        v2.to_f64().to_bits(),
        "{what}: in place value"
    );
    assert_eq!(bits(&x), bits(g), "{what}: in place gradient");
}

fn hessian<F: Float, T: Copy, L: RowHessianDiag<F, T>>(
    what: &str,
    loss: L,
    c: &Case<F>,
    t: T,
) -> Vec<F> {
    let mut h = vec![F::ZERO; c.x.len()];
    loss.hessian_diag(&c.x, c.classes, t, Reduction::Sum, &mut h)
        .unwrap();
    assert!(
        h.iter()
            .all(|e| e.to_f64().is_finite() && e.to_f64() >= 0.0),
        "{what}: hessian diagonal {h:?}"
    );
    h
}

fn hvp<F: Float, T: Copy, L: RowHvp<F, T> + RowHessianDiag<F, T>>(
    what: &str,
    loss: L,
    c: &Case<F>,
    t: T,
) {
    let h = hessian(what, loss, c, t);
    let n = c.x.len();
    for j in [0, c.classes / 2, n - 1] {
        let mut e = vec![F::ZERO; n];
        e[j] = F::ONE;
        let mut out = vec![F::ZERO; n];
        loss.hvp(&c.x, c.classes, t, Reduction::Sum, &e, &mut out)
            .unwrap();
        let tol = 1e2 * eps::<F>() * (1.0 + h[j].to_f64().abs());
        assert!(
            (out[j].to_f64() - h[j].to_f64()).abs() <= tol,
            "{what}: (H e_{j})_{j} = {} but the diagonal has {}",
            out[j],
            h[j]
        );
    }
}

/// Runs one capability's check (the words of the registry line).
macro_rules! capability {
    (elementwise, $what:expr, $l:expr, $c:expr, $t:expr, $v:expr, $g:expr) => {
        elementwise($what, $l, $c, $t, $v)
    };
    (in_place, $what:expr, $l:expr, $c:expr, $t:expr, $v:expr, $g:expr) => {
        in_place($what, $l, $c, $t, ($v, &$g))
    };
    (hessian, $what:expr, $l:expr, $c:expr, $t:expr, $v:expr, $g:expr) => {
        let _ = hessian($what, $l, $c, $t);
    };
    (hvp, $what:expr, $l:expr, $c:expr, $t:expr, $v:expr, $g:expr) => {
        hvp($what, $l, $c, $t)
    };
}

/// All checks of one entry in precision `$f`; returns the `Sum` value per (backend, shape).
macro_rules! run_entry {
    ($f:ty, $name:ident, $loss:expr, $kind:ident, [$($cap:ident)*]) => {{
        let mut values = Vec::new();
        for backend in backends() {
            for (classes, seed) in [(7usize, 1u64), (40, 2)] {
                let c = case::<$f>(5, classes, seed);
                let what = format!(
                    "{} {} {backend} C={classes}",
                    stringify!($name),
                    stringify!($f)
                );
                let loss = $loss;
                let pinned = loss.on(backend).unwrap();
                let (v, g) = core(&what, pinned, &c, targets!($kind, c));
                $( capability!($cap, &what, pinned, &c, targets!($kind, c), v, g); )*
                if backend == Backend::active() {
                    let (v0, g0) = core(&what, loss, &c, targets!($kind, c));
                    assert_eq!(v0.to_f64().to_bits(), v.to_f64().to_bits(), "{what}: pinned");
                    assert_eq!(bits(&g0), bits(&g), "{what}: pinned gradient");
                }
                values.push(v.to_f64());
            }
        }
        values
    }};
}

macro_rules! row_registry_tests {
    ($( ($name:ident, $loss:expr, $kind:ident, [$($cap:ident)*]) ),* $(,)?) => {
        #[test]
        fn every_registered_row_loss_through_the_shape_traits() {
            $(
                let v64 = run_entry!(f64, $name, $loss, $kind, [$($cap)*]);
                let v32 = run_entry!(f32, $name, $loss, $kind, [$($cap)*]);
                for (a, b) in v32.iter().zip(&v64) {
                    assert!(
                        (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                        "{}: f32 {a} vs f64 {b}",
                        stringify!($name)
                    );
                }
                println!("{}: checked", stringify!($name));
            )*
        }
    };
}

losskit::for_each_row_loss!(row_registry_tests);

/// One capability's verb, for the allocation count (buffers made beforehand).
macro_rules! call_capability {
    (elementwise, $name:ident, $l:expr, $c:expr, $t:expr, $b:expr) => {
        // One value per row, or per element for a per-element multi-label loss.
        let per_element = losskit::registry::find(stringify!($name))
            .is_some_and(|l| matches!(l.shape, Shape::MultiLabel { per: Per::Element }));
        let m = if per_element { $c.x.len() } else { $c.rows };
        $l.value_elementwise(&$c.x, $c.classes, $t, &mut $b.per_row[..m])
            .unwrap();
    };
    (in_place, $name:ident, $l:expr, $c:expr, $t:expr, $b:expr) => {
        $b.x.copy_from_slice(&$c.x);
        $l.value_and_grad_in_place(&mut $b.x, $c.classes, $t, Reduction::Mean)
            .unwrap();
    };
    (hessian, $name:ident, $l:expr, $c:expr, $t:expr, $b:expr) => {
        $l.hessian_diag(&$c.x, $c.classes, $t, Reduction::Sum, &mut $b.h)
            .unwrap();
    };
    (hvp, $name:ident, $l:expr, $c:expr, $t:expr, $b:expr) => {
        $l.hvp(&$c.x, $c.classes, $t, Reduction::Sum, &$c.prior, &mut $b.h)
            .unwrap();
    };
}

/// The output buffers of the allocation count.
struct Buffers {
    g: Vec<f32>,
    h: Vec<f32>,
    x: Vec<f32>,
    per_row: Vec<f32>,
}

macro_rules! row_no_alloc_test {
    ($( ($name:ident, $loss:expr, $kind:ident, [$($cap:ident)*]) ),* $(,)?) => {
        #[test]
        fn no_registered_row_loss_allocates() {
            assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
            let c = case::<f32>(5, 40, 3);
            let mut bad = c.x.clone();
            bad[47] = f32::NAN;
            let n = c.x.len();
            let mut b = Buffers { g: vec![0.0; n], h: vec![0.0; n], x: vec![0.0; n], per_row: vec![0.0; n] };
            for backend in backends() {
                $(
                    let l = $loss.on(backend).unwrap();
                    let count = allocations_during(|| {
                        let t = targets!($kind, c);
                        l.value(&c.x, c.classes, t, Reduction::Mean).unwrap();
                        l.grad(&c.x, c.classes, t, Reduction::Sum, &mut b.g).unwrap();
                        l.value_and_grad(&c.x, c.classes, t, Reduction::Mean, Out::add(&mut b.g))
                            .unwrap();
                        let e = l.value_and_grad(&bad, c.classes, t, Reduction::Sum, &mut b.g);
                        assert!(e.is_err(), "{}: NaN accepted", stringify!($name));
                        $( call_capability!($cap, $name, l, c, t, b); )*
                    });
                    assert_eq!(count, 0, "{} on {backend} allocated", stringify!($name));
                )*
            }
        }
    };
}

losskit::for_each_row_loss!(row_no_alloc_test);
