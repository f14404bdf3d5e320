//! The `rows` target: every `rows × classes` loss of the row drivers, with each kind of
//! target the row API offers — class labels (`CrossEntropy` with class weights, ignore
//! index, label smoothing over all or the unmasked classes, z-loss and soft-capping;
//! `Poly1`, `Nll`, `SoftmaxFocal`, `MultiMargin`, `MulticlassHinge`), soft targets
//! (`SoftCrossEntropy`) and a teacher (`Distillation`) — every verb each has (value,
//! per-row values, grad, value_and_grad, in place, Hessian diagonal, Hessian–vector product),
//! in write or accumulate mode, on every backend.
//!
//! Checked: no panic; an error exactly when the documented rules give one (a validation
//! error when a shape, length, parameter, per-class tensor or label is wrong; otherwise the
//! first bad row of an input: NaN or `+∞` — and `−∞` for the losses without masks — is
//! `NonFinite` at its first such index, a row of `−∞` only is `InvalidInput` at its first
//! index), with the buffers as documented (untouched after a validation error, in
//! accumulate mode and in place; a written gradient or per-row output reset to zeros after a
//! data error); values against the f64 reference row by row; f32 derivatives against the
//! f64 kernel; f64 gradients against central differences of the reference on moderate
//! rows; no NaN; in place bit-identical to `value_and_grad`; accumulate mode within one
//! rounding of the prior plus the written gradient; `value_and_grad` equal to `value` and
//! `grad` bit for bit; backends agreeing.

use super::super::input::Input;
use super::{Budget, Want, What, agree, bits, budget, is_f32, per_class};
use super::{same_error, show};
use losskit::prelude::*;
use losskit::reference::softmax as rs;

/// The row losses of this target, in the registry's order (the multi-label ones have a
/// target of their own).
const KNOWN: &[&str] = &[
    "cross_entropy",
    "soft_cross_entropy",
    "poly1",
    "nll",
    "softmax_focal",
    "distillation",
    "multi_margin",
    "multiclass_hinge",
];

macro_rules! names {
    ($( ($name:ident, $($rest:tt)*) ),* $(,)?) => { &[$(stringify!($name)),*] };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Value,
    Elementwise,
    Grad,
    ValueAndGrad,
    InPlace,
    Hessian,
    Hvp,
}

/// A fuzzed row call, in f64 (rounded to the precision under test later).
#[derive(Debug)]
struct Case {
    loss: &'static str,
    rows: usize,
    classes: usize,
    x: Vec<f64>,
    /// Soft targets or teacher logits (`rows × classes`).
    second: Vec<f64>,
    labels: Vec<i64>,
    weights: Option<Vec<f64>>,
    ignore_index: Option<i64>,
    smoothing: f64,
    unmasked_only: bool,
    z_loss: f64,
    softcap: Option<f64>,
    /// Poly-1's ε, focal γ, margin, distillation α.
    a: f64,
    /// Distillation's temperature; the margin loss's exponent.
    b: f64,
    verb: Verb,
    add: bool,
    reduction: Reduction,
    out_len: usize,
    v: Vec<f64>,
}

/// Runs the check on one fuzz input.
pub fn run(data: &[u8]) {
    let registered: &[&str] = losskit::for_each_row_loss!(names);
    let rows_only: Vec<&str> = registered
        .iter()
        .copied()
        .filter(|n| !n.starts_with("multilabel_"))
        .collect();
    assert_eq!(
        rows_only, KNOWN,
        "a row loss without checks in fuzz/src/checks/rows.rs"
    );
    let mut inp = Input::new(data);
    let loss = KNOWN[inp.below(KNOWN.len())];
    let f32 = inp.chance(128);
    let case = draw(&mut inp, loss, f32);
    if f32 {
        check::<f32>(&case);
    } else {
        check::<f64>(&case);
    }
}

fn draw(inp: &mut Input<'_>, loss: &'static str, f32: bool) -> Case {
    let rows = match inp.byte() {
        0..=5 => 0,
        6..=20 => 5 + inp.below(12),
        _ => 1 + inp.below(4),
    };
    let classes = match inp.byte() {
        0..=3 => 0,
        4..=40 => 33 + inp.below(40),
        _ => 1 + inp.below(20),
    };
    let n = rows * classes;
    let clean = inp.chance(210);
    let max = if f32 { f64::from(f32::MAX) } else { f64::MAX };
    let masks = matches!(
        loss,
        "cross_entropy" | "soft_cross_entropy" | "poly1" | "softmax_focal" | "distillation" | "nll"
    );
    let logit = |inp: &mut Input<'_>, prev: f64| -> f64 {
        let x = match inp.byte() % 8 {
            0 => prev,
            1 => inp.near(prev),
            2 if masks => f64::NEG_INFINITY,
            3 => inp.pick(&[0.0, 1e8, -1e8, 3e38, -3e38, 1e38, 88.0, -88.0, 30.0, 1e-30]),
            _ => inp.real(),
        };
        if clean {
            if x.is_nan() {
                0.0
            } else if x == f64::NEG_INFINITY && masks {
                x
            } else {
                x.clamp(-max, max)
            }
        } else {
            x
        }
    };
    let mut x = Vec::with_capacity(n);
    let mut prev = 0.0;
    for _ in 0..n {
        prev = logit(inp, prev);
        x.push(prev);
    }
    let second: Vec<f64> = match loss {
        "distillation" => {
            let mut prev = 0.0;
            (0..n)
                .map(|_| {
                    prev = logit(inp, prev);
                    prev
                })
                .collect()
        }
        "soft_cross_entropy" => (0..n)
            .map(|_| {
                let t = match inp.byte() % 6 {
                    0 | 1 => 0.0,
                    2 => 1.0,
                    3 => f64::from(inp.byte()) / 255.0,
                    _ => inp.real(),
                };
                if clean {
                    if t.is_finite() { t.abs().min(1.0) } else { 0.5 }
                } else {
                    t
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let ignore_index = match inp.byte() % 4 {
        0 => None,
        1 => Some(inp.below(classes + 1) as i64),
        _ => Some(-100),
    };
    let labels = (0..rows)
        .map(|_| match inp.byte() {
            0..=5 => classes as i64,
            6..=11 => -1,
            12..=40 => ignore_index.unwrap_or(0),
            _ => inp.below(classes.max(1)) as i64,
        })
        .collect();
    let weights = if inp.chance(100) {
        Some(per_class::<f64>(inp, classes))
    } else {
        None
    };
    let verbs: &[Verb] = match loss {
        "cross_entropy" => &[
            Verb::Value,
            Verb::Elementwise,
            Verb::Grad,
            Verb::ValueAndGrad,
            Verb::InPlace,
            Verb::Hessian,
            Verb::Hvp,
        ],
        "soft_cross_entropy" => &[
            Verb::Value,
            Verb::Elementwise,
            Verb::Grad,
            Verb::ValueAndGrad,
            Verb::InPlace,
            Verb::Hessian,
        ],
        "poly1" => &[
            Verb::Value,
            Verb::Elementwise,
            Verb::Grad,
            Verb::ValueAndGrad,
            Verb::InPlace,
        ],
        "distillation" => &[Verb::Value, Verb::Grad, Verb::ValueAndGrad],
        _ => &[
            Verb::Value,
            Verb::Elementwise,
            Verb::Grad,
            Verb::ValueAndGrad,
        ],
    };
    let verb = verbs[inp.below(verbs.len())];
    let (a, b) = match loss {
        "poly1" => (inp.param(1.0), 0.0),
        "softmax_focal" => (inp.param(2.0), 0.0),
        "multi_margin" => (
            inp.param(1.0),
            f64::from(if inp.chance(16) {
                inp.byte()
            } else {
                1 + inp.byte() % 2
            }),
        ),
        "distillation" => (inp.param(0.5), inp.param(1.0)),
        _ => (0.0, 0.0),
    };
    let mut case = Case {
        loss,
        rows,
        classes,
        x,
        second,
        labels,
        weights,
        ignore_index,
        smoothing: if inp.chance(128) { inp.param(0.1) } else { 0.0 },
        unmasked_only: inp.chance(64),
        z_loss: if inp.chance(64) { inp.param(1e-4) } else { 0.0 },
        softcap: if inp.chance(48) {
            Some(inp.param(30.0))
        } else {
            None
        },
        a,
        b,
        verb,
        add: inp.chance(100),
        reduction: super::reduction(inp),
        out_len: if verb == Verb::Elementwise { rows } else { n },
        v: (0..n).map(|_| f64::from(inp.byte()) / 64.0 - 2.0).collect(),
    };
    if inp.chance(8) {
        let len = inp.below(n + 3);
        match inp.below(4) {
            0 => case.x.truncate(len.min(n)),
            1 => case.out_len = len,
            2 => case.second.truncate(len.min(case.second.len())),
            _ => case.v.truncate(len.min(n)),
        }
    }
    case
}

/// The options of one call in precision `F`.
struct Data<F> {
    x: Vec<F>,
    second: Vec<F>,
    weights: Option<Vec<F>>,
    v: Vec<F>,
}

/// Runs the closure body on `$loss` pinned to `$backend`, or unpinned (`None`).
macro_rules! pinned {
    ($loss:expr, $backend:expr, |$l:ident| $body:expr) => {
        match $backend {
            Some(b) => {
                let $l = $loss.on(b).expect("available");
                $body
            }
            None => {
                #[allow(clippy::redundant_locals)]
                let $l = $loss;
                $body
            }
        }
    };
}

/// One verb of the case's loss pinned to `backend` (`None`: unpinned), the result and the
/// output (the gradient, per-row values, or the logits overwritten in place), which starts
/// as `base`.
fn call<F: Float>(
    c: &Case,
    d: &Data<F>,
    backend: Option<Backend>,
    verb: Verb,
    add: bool,
    base: &[F],
) -> (Result<F>, Vec<F>) {
    let w = d.weights.as_deref();
    let labels = &c.labels[..];
    match c.loss {
        "cross_entropy" => {
            let l = CrossEntropy {
                class_weights: w,
                ignore_index: c.ignore_index,
                label_smoothing: c.smoothing,
                smooth_unmasked_only: c.unmasked_only,
                z_loss: c.z_loss,
                softcap: c.softcap,
            };
            pinned!(l, backend, |l| verbs_all(l, c, d, labels, verb, add, base))
        }
        "soft_cross_entropy" => {
            let l = SoftCrossEntropy {
                class_weights: w,
                label_smoothing: c.smoothing,
            };
            let t = &d.second[..];
            pinned!(l, backend, |l| verbs_soft(l, c, d, t, verb, add, base))
        }
        "poly1" => {
            let l = Poly1 {
                epsilon: c.a,
                class_weights: w,
                ignore_index: c.ignore_index,
                label_smoothing: c.smoothing,
                smooth_unmasked_only: c.unmasked_only,
            };
            pinned!(l, backend, |l| verbs_in_place(
                l, c, d, labels, verb, add, base
            ))
        }
        "nll" => {
            let l = Nll {
                class_weights: w,
                ignore_index: c.ignore_index,
            };
            pinned!(l, backend, |l| verbs_basic(
                l, c, d, labels, verb, add, base
            ))
        }
        "softmax_focal" => {
            let l = SoftmaxFocal {
                gamma: c.a,
                alpha: w,
                ignore_index: c.ignore_index,
            };
            pinned!(l, backend, |l| verbs_basic(
                l, c, d, labels, verb, add, base
            ))
        }
        "multi_margin" => {
            let l = MultiMargin {
                p: c.b as u8,
                margin: c.a,
                class_weights: w,
            };
            pinned!(l, backend, |l| verbs_basic(
                l, c, d, labels, verb, add, base
            ))
        }
        "multiclass_hinge" => {
            pinned!(MulticlassHinge, backend, |l| verbs_basic(
                l, c, d, labels, verb, add, base
            ))
        }
        "distillation" => {
            let l = Distillation {
                alpha: c.a,
                temperature: c.b,
            };
            let t = Teacher {
                logits: &d.second[..],
                labels,
            };
            pinned!(l, backend, |l| {
                let mut out = base.to_vec();
                let r = match verb {
                    Verb::Value => l.value(&d.x, c.classes, t, c.reduction),
                    Verb::Grad => l
                        .grad(&d.x, c.classes, t, c.reduction, o(&mut out, add))
                        .map(|_| F::ZERO),
                    _ => l.value_and_grad(&d.x, c.classes, t, c.reduction, o(&mut out, add)),
                };
                (r, out)
            })
        }
        other => unreachable!("{other}"),
    }
}

fn o<F: Float>(b: &mut [F], add: bool) -> Out<'_, F> {
    if add { Out::add(b) } else { Out::write(b) }
}

/// The verbs of a labelled loss with per-row values only.
fn verbs_basic<'t, F: Float, L: RowElementwise<F, &'t [i64]>>(
    l: L,
    c: &Case,
    d: &Data<F>,
    labels: &'t [i64],
    verb: Verb,
    add: bool,
    base: &[F],
) -> (Result<F>, Vec<F>) {
    let mut out = base.to_vec();
    let (x, k, r) = (&d.x[..], c.classes, c.reduction);
    let res = match verb {
        Verb::Value => l.value(x, k, labels, r),
        Verb::Elementwise => l.value_elementwise(x, k, labels, &mut out).map(|_| F::ZERO),
        Verb::Grad => l.grad(x, k, labels, r, o(&mut out, add)).map(|_| F::ZERO),
        Verb::ValueAndGrad => l.value_and_grad(x, k, labels, r, o(&mut out, add)),
        other => unreachable!("{other:?}"),
    };
    (res, out)
}

/// The verbs of a labelled loss with an in-place verb (the output starts as the logits).
fn verbs_in_place<'t, F: Float, L>(
    l: L,
    c: &Case,
    d: &Data<F>,
    labels: &'t [i64],
    verb: Verb,
    add: bool,
    base: &[F],
) -> (Result<F>, Vec<F>)
where
    L: RowElementwise<F, &'t [i64]> + RowInPlace<F, &'t [i64]>,
{
    if verb == Verb::InPlace {
        let mut out = base.to_vec();
        let res = l.value_and_grad_in_place(&mut out, c.classes, labels, c.reduction);
        return (res, out);
    }
    verbs_basic(l, c, d, labels, verb, add, base)
}

/// Every verb (cross-entropy).
fn verbs_all<'t, F: Float, L>(
    l: L,
    c: &Case,
    d: &Data<F>,
    labels: &'t [i64],
    verb: Verb,
    add: bool,
    base: &[F],
) -> (Result<F>, Vec<F>)
where
    L: RowElementwise<F, &'t [i64]>
        + RowInPlace<F, &'t [i64]>
        + RowHessianDiag<F, &'t [i64]>
        + RowHvp<F, &'t [i64]>,
{
    let mut out = base.to_vec();
    let (x, k, r) = (&d.x[..], c.classes, c.reduction);
    match verb {
        Verb::Hessian => {
            let res = l.hessian_diag(x, k, labels, r, o(&mut out, add));
            (res.map(|_| F::ZERO), out)
        }
        Verb::Hvp => {
            let res = l.hvp(x, k, labels, r, &d.v, o(&mut out, add));
            (res.map(|_| F::ZERO), out)
        }
        _ => verbs_in_place(l, c, d, labels, verb, add, base),
    }
}

/// The verbs of the soft-target cross-entropy.
fn verbs_soft<'t, F: Float, L>(
    l: L,
    c: &Case,
    d: &Data<F>,
    t: &'t [F],
    verb: Verb,
    add: bool,
    base: &[F],
) -> (Result<F>, Vec<F>)
where
    L: RowElementwise<F, &'t [F]> + RowInPlace<F, &'t [F]> + RowHessianDiag<F, &'t [F]>,
{
    let mut out = base.to_vec();
    let (x, k, r) = (&d.x[..], c.classes, c.reduction);
    let res = match verb {
        Verb::Value => l.value(x, k, t, r),
        Verb::Elementwise => l.value_elementwise(x, k, t, &mut out).map(|_| F::ZERO),
        Verb::Grad => l.grad(x, k, t, r, o(&mut out, add)).map(|_| F::ZERO),
        Verb::ValueAndGrad => l.value_and_grad(x, k, t, r, o(&mut out, add)),
        Verb::InPlace => l.value_and_grad_in_place(&mut out, k, t, r),
        Verb::Hessian => l
            .hessian_diag(x, k, t, r, o(&mut out, add))
            .map(|_| F::ZERO),
        Verb::Hvp => unreachable!("no hvp"),
    };
    (res, out)
}

/// Whether `x` is in `[lo, hi]` (false for NaN).
fn within(x: f64, lo: f64, hi: f64) -> bool {
    x >= lo && x <= hi
}

fn param(name: &'static str) -> Error {
    Error::InvalidParameter { name, rule: "" }
}

/// The number of rows a call sees (soft targets: from the targets' length).
fn rows_of<F>(c: &Case, d: &Data<F>) -> usize {
    if c.loss == "soft_cross_entropy" {
        d.second.len().checked_div(c.classes).unwrap_or(0)
    } else {
        c.labels.len()
    }
}

/// Whether the loss has per-class weights, and its ignore index.
fn weighted(c: &Case) -> bool {
    !matches!(c.loss, "distillation" | "multiclass_hinge")
}
fn ignore(c: &Case) -> Option<i64> {
    match c.loss {
        "cross_entropy" | "poly1" | "nll" | "softmax_focal" => c.ignore_index,
        _ => None,
    }
}

/// The class of row `r` (`None`: ignored or out of range).
fn class_of(c: &Case, r: usize) -> Option<usize> {
    let l = c.labels[r];
    if ignore(c) == Some(l) {
        None
    } else if l >= 0 && (l as usize) < c.classes {
        Some(l as usize)
    } else {
        None
    }
}

/// The errors the documented rules allow for this case: the validation errors (any one of
/// them may be reported, in the loss's order), else the data errors (the first bad row of
/// each input).
fn violations<F: Float>(c: &Case, d: &Data<F>) -> (Vec<Error>, Vec<Error>) {
    let mut v = Vec::new();
    let mut data = Vec::new();
    let (k, s) = (c.classes, c.smoothing);
    match c.loss {
        "cross_entropy" => {
            if !within(s, 0.0, 1.0) {
                v.push(param("label_smoothing"));
            }
            if !within(c.z_loss, 0.0, f64::from(f32::MAX)) {
                v.push(param("z_loss"));
            }
            if let Some(cap) = c.softcap {
                if !within(cap, f64::from(f32::MIN_POSITIVE), f64::from(f32::MAX)) {
                    v.push(param("softcap"));
                }
                if matches!(c.verb, Verb::Hessian | Verb::Hvp) {
                    v.push(param("softcap"));
                }
            }
        }
        "soft_cross_entropy" if !within(s, 0.0, 1.0) => v.push(param("label_smoothing")),
        "poly1" => {
            if !within(c.a, -1.0, f64::from(f32::MAX)) {
                v.push(param("epsilon"));
            }
            if !within(s, 0.0, 1.0) {
                v.push(param("label_smoothing"));
            }
        }
        "softmax_focal" if !within(c.a, 0.0, f64::from(f32::MAX)) => v.push(param("gamma")),
        "multi_margin" => {
            if c.b != 1.0 && c.b != 2.0 {
                v.push(param("p"));
            }
            if !within(c.a, -f64::from(f32::MAX), f64::from(f32::MAX)) {
                v.push(param("margin"));
            }
        }
        "distillation" => {
            if !within(c.a, 0.0, 1.0) {
                v.push(param("alpha"));
            }
            // 1/T finite in f32, T² in f64.
            let lo = f64::from(f32::MIN_POSITIVE);
            if !within(c.b, lo, 1.0 / lo) {
                v.push(param("temperature"));
            }
        }
        _ => {}
    }
    let rows = rows_of(c, d);
    let n = d.x.len();
    let mismatch = |name, expected, found| Error::LengthMismatch {
        name,
        expected,
        found,
    };
    if rows == 0 || k == 0 {
        v.push(Error::Empty);
    } else if n != rows * k {
        v.push(mismatch("logits", rows * k, n));
    }
    match c.verb {
        Verb::Elementwise if c.out_len != rows => v.push(mismatch("out", rows, c.out_len)),
        Verb::Grad | Verb::ValueAndGrad | Verb::Hessian | Verb::Hvp if c.out_len != n => {
            v.push(mismatch("grad", n, c.out_len));
            v.push(mismatch("hess", n, c.out_len));
        }
        _ => {}
    }
    if c.verb == Verb::Hvp && d.v.len() != n {
        v.push(mismatch("v", n, d.v.len()));
    }
    if c.loss == "distillation" && d.second.len() != n {
        v.push(mismatch("teacher", n, d.second.len()));
    }
    if c.loss == "soft_cross_entropy" && d.second.len() != n {
        v.push(mismatch("target", n, d.second.len()));
    }
    if weighted(c)
        && let Some(w) = &d.weights
    {
        if w.len() != k {
            v.push(mismatch("class_weights", k, w.len()));
        } else if let Some(i) = w.iter().position(|x| !super::class_weight_ok(x.to_f64())) {
            let name = "class_weights";
            v.push(if w[i].is_finite() {
                Error::InvalidInput { name, index: i }
            } else {
                Error::NonFinite { name, index: i }
            });
        }
    }
    if c.loss != "soft_cross_entropy"
        && let Some(row) = (0..c.labels.len())
            .find(|&r| class_of(c, r).is_none() && ignore(c) != Some(c.labels[r]))
    {
        v.push(Error::LabelOutOfRange { row });
    }
    if c.verb != Verb::Elementwise && !super::reduction_ok(c.reduction) {
        // Distillation computes the reduction's factor after checking the rows.
        if c.loss == "distillation" {
            data.push(param("reduction"));
        } else {
            v.push(param("reduction"));
        }
    }
    if rows == 0 || k == 0 || n != rows * k {
        return (v, data);
    }
    let masks = c.loss != "multi_margin" && c.loss != "multiclass_hinge";
    let x_name = match c.loss {
        "nll" => "log_probs",
        "distillation" => "student",
        _ => "logits",
    };
    let mut inputs: Vec<(&'static str, &[F], bool)> = vec![(x_name, &d.x[..], masks)];
    if c.loss == "distillation" && d.second.len() == n {
        inputs.push(("teacher", &d.second[..], true));
    }
    for (name, x, masks) in inputs {
        for r in 0..rows {
            let row = &x[r * k..(r + 1) * k];
            let bad = row.iter().position(|e| {
                let e = e.to_f64();
                e.is_nan() || e == f64::INFINITY || (!masks && e == f64::NEG_INFINITY)
            });
            if let Some(j) = bad {
                data.push(Error::NonFinite {
                    name,
                    index: r * k + j,
                });
                break;
            }
            if masks && c.loss != "nll" && row.iter().all(|e| e.to_f64() == f64::NEG_INFINITY) {
                data.push(Error::InvalidInput { name, index: r * k });
                break;
            }
        }
    }
    // Soft targets are probabilities: the first one that is not (NaN or ±∞: NonFinite; a
    // finite value outside [0, 1]: InvalidInput).
    if c.loss == "soft_cross_entropy"
        && let Some(i) = d
            .second
            .iter()
            .position(|t| !(t.is_finite() && (0.0..=1.0).contains(&t.to_f64())))
    {
        data.push(if d.second[i].is_finite() {
            Error::InvalidInput {
                name: "target",
                index: i,
            }
        } else {
            Error::NonFinite {
                name: "target",
                index: i,
            }
        });
    }
    (v, data)
}

/// The soft-capped logit `c·tanh(v/c)`, `−∞` kept: a mask stays a mask under the cap (the
/// kernel's rule; `c·tanh(−∞/c)` would be `−c`, a class of nonzero probability).
fn capped(cap: f64, v: f64) -> f64 {
    if v == f64::NEG_INFINITY {
        v
    } else {
        cap * (v / cap).tanh()
    }
}

/// `coef · v` with `0 · ∞ = 0` (the xlogy convention).
fn xl(coef: f64, v: f64) -> f64 {
    if coef == 0.0 { 0.0 } else { coef * v }
}

/// `−log softmax(z)ⱼ` for every `j` of a row, in shifted form (`(m − zⱼ) + ln Σ e^(zᵢ−m)`),
/// and `lse` (`+∞` entries for `−∞` logits).
fn neg_log_softmax(z: &[f64]) -> (Vec<f64>, f64) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // `ln S = log1p(S − 1)` without the largest logit's 1 (the first), so that a confident
    // row keeps the other classes' share where `S` would round it away.
    let k = z.iter().position(|&v| v == m);
    let ln_s = z
        .iter()
        .enumerate()
        .filter(|&(j, _)| Some(j) != k)
        .map(|(_, &v)| (v - m).exp())
        .sum::<f64>()
        .ln_1p();
    (z.iter().map(|&v| (m - v) + ln_s).collect(), m + ln_s)
}

/// The label-smoothed cross-entropy of one row from its `−log softmax` (`nlp`, of the
/// logits `z`): `(1 − ε)·w_y·nlp_y + Σⱼ (ε/K)·wⱼ·nlpⱼ` over the `K` classes smoothed (the
/// unmasked ones with `unmasked_only`), with the gradient coefficient `(1 − ε)·w_y + Σ
/// (ε/K)·wⱼ` and `K` (cross-entropy's and Poly-1's shared part).
fn smoothed(
    z: &[f64],
    nlp: &[f64],
    y: usize,
    eps: f64,
    unmasked_only: bool,
    w: &impl Fn(usize) -> f64,
) -> (f64, f64, f64) {
    let live = |j: usize| !unmasked_only || z[j] != f64::NEG_INFINITY;
    let unmasked = (0..z.len()).filter(|&j| live(j)).count() as f64;
    let share = if eps > 0.0 { eps / unmasked } else { 0.0 };
    // `c·nlpⱼ`, where `nlpⱼ = (m − zⱼ) + ln S` overflowed f64 for finite logits (`m = f64::MAX`,
    // `zⱼ = −f64::MAX`) while `c` times it may fit: from halves, `2c·(½m − ½zⱼ) + c·ln S`.
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ln_s = z.iter().position(|&v| v == m).map_or(0.0, |k| nlp[k]);
    let times_nlp = |c: f64, j: usize| {
        if c == 0.0 || nlp[j].is_finite() || z[j] == f64::NEG_INFINITY {
            xl(c, nlp[j])
        } else {
            (2.0 * c) * (0.5 * m - 0.5 * z[j]) + c * ln_s
        }
    };
    let mut main = times_nlp((1.0 - eps) * w(y), y);
    let mut coef = (1.0 - eps) * w(y);
    for j in (0..z.len()).filter(|&j| live(j)) {
        main += times_nlp(share * w(j), j);
        coef += share * w(j);
    }
    (main, coef, unmasked)
}

/// One row's reference: the main term, the z-loss term (cross-entropy), the magnitude
/// of the parts both are computed from, and the magnitude of the parts of the row's
/// derivatives before the reduction's factor (`gmag` for the main term's factor, `zmag`
/// for the z-loss term's): a gradient entry `s·(c·pⱼ − τⱼ)` is a difference of terms of
/// size `s·c`, so its rounding follows `c`, not the (possibly cancelled) result.
#[derive(Clone, Copy, Debug, Default)]
struct RowRef {
    main: f64,
    z: f64,
    mag: f64,
    gmag: f64,
    zmag: f64,
}

/// The reference of every row (`None` where the oracle cannot say), the factors of the
/// main and z-loss terms in the reduction.
struct Reference {
    rows: Vec<Option<RowRef>>,
    s1: f64,
    s2: f64,
}

fn mean_scale(r: Reduction, total: f64) -> f64 {
    match r {
        Reduction::Mean => {
            if total > 0.0 {
                1.0 / total
            } else {
                0.0
            }
        }
        r => r.scale(1).unwrap_or(f64::NAN),
    }
}

fn reference<F: Float>(c: &Case, d: &Data<F>) -> Reference {
    let k = c.classes;
    let rows = rows_of(c, d);
    let x: Vec<f64> = d.x.iter().map(|v| v.to_f64()).collect();
    let second: Vec<f64> = d.second.iter().map(|v| v.to_f64()).collect();
    // The losses without class weights ignore the drawn ones (whatever their length).
    let w = |j: usize| match &d.weights {
        Some(w) if weighted(c) => w[j].to_f64(),
        _ => 1.0,
    };
    let (mut count, mut total) = (0usize, 0.0f64);
    let mut out = Vec::with_capacity(rows);
    for r in 0..rows {
        let xr = &x[r * k..(r + 1) * k];
        let y = class_of(c, r);
        if let Some(y) = y {
            count += 1;
            total += w(y);
        }
        let row = match (c.loss, y) {
            ("soft_cross_entropy", _) => {
                let t = &second[r * k..(r + 1) * k];
                let (nlp, _) = neg_log_softmax(xr);
                let eps = c.smoothing;
                let tau = |j: usize| w(j) * ((1.0 - eps) * t[j] + eps / k as f64);
                let main: f64 = (0..k).map(|j| xl(tau(j), nlp[j])).sum();
                let coef: f64 = (0..k).map(|j| tau(j).abs()).sum();
                Some(RowRef {
                    main,
                    z: 0.0,
                    mag: main.abs() + coef,
                    gmag: coef,
                    zmag: 0.0,
                })
            }
            ("distillation", Some(y)) => {
                let t = &second[r * k..(r + 1) * k];
                let temp = c.b;
                // Shifted before dividing (the kernel's `(x − m)/T`): `x/T` of logits near
                // ±3.4e38 rounds each to ulp(x/T) (2⁷⁵ ≈ 3.8e22 in f64), far more than the
                // differences the softmax depends on (the KL of such a row came out 33% off).
                // Halves, so that `x − m` cannot overflow where `(x − m)/T` fits.
                let shifted = |row: &[f64]| -> Vec<f64> {
                    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    row.iter()
                        .map(|v| (0.5 * v - 0.5 * m) / temp * 2.0)
                        .collect()
                };
                let s_t = shifted(xr);
                let t_t = shifted(t);
                let (nlp, _) = neg_log_softmax(xr);
                let (nlp_t, _) = neg_log_softmax(&t_t);
                // T²·KL per class as `q·(T·(Δₜ − Δₛ) + T²·(ln Sₛ − ln Sₜ))` with `Δ = x − m`
                // (as halves, `2T·(½Δₜ − ½Δₛ)`): `Δₛ/T` alone overflows f64 (`−1e300/1e-20`)
                // where T times the difference fits (the value 1e280 was wanted `+∞`).
                let half_delta = |row: &[f64]| -> Vec<f64> {
                    let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    row.iter().map(|v| 0.5 * v - 0.5 * m).collect()
                };
                let (hs, ht) = (half_delta(xr), half_delta(t));
                let (ls, lt) = (rs::logsumexp(&s_t), rs::logsumexp(&t_t));
                let t2 = temp * temp;
                let (mut kl_t2, mut parts_t2) = (0.0, 0.0);
                // xlogy decided on the logits, as the kernel: a teacher mask counts 0, a
                // student mask under a teacher logit that is not one +∞ (its probability is
                // positive even where it underflows, in f64 too), an underflowed one 0.
                for j in 0..k {
                    let q = (-nlp_t[j]).exp();
                    if t[j] == f64::NEG_INFINITY {
                        continue;
                    }
                    if xr[j] == f64::NEG_INFINITY {
                        kl_t2 = f64::INFINITY;
                    } else if q != 0.0 {
                        kl_t2 += q * ((2.0 * temp) * (ht[j] - hs[j]) + t2 * (ls - lt));
                        parts_t2 +=
                            q * ((2.0 * temp) * (hs[j].abs() + ht[j].abs()) + t2 * (ls + lt + 1.0));
                    }
                }
                let a = c.a;
                let main = xl(a, nlp[y]) + xl(1.0 - a, kl_t2);
                Some(RowRef {
                    main,
                    z: 0.0,
                    mag: main.abs() + a * (1.0 + nlp[y]) + (1.0 - a) * parts_t2,
                    // a·(p − onehot) + (1 − a)·T·(q_s − q_t).
                    gmag: a.abs() + ((1.0 - a) * temp).abs(),
                    zmag: 0.0,
                })
            }
            (_, None) => Some(RowRef::default()),
            ("cross_entropy", Some(y)) => {
                let z: Vec<f64> = match c.softcap {
                    Some(cap) => xr.iter().map(|&v| capped(cap, v)).collect(),
                    None => xr.to_vec(),
                };
                let (nlp, lse) = neg_log_softmax(&z);
                let (main, coef, _) = smoothed(&z, &nlp, y, c.smoothing, c.unmasked_only, &w);
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                // `(ζ·lse)·lse`: `lse²` alone overflows where the product fits (ζ = 1e-300,
                // lse = 1e300); `ζ·lse` overflows only where the product does (|lse| ≥ 1).
                let zl = if c.z_loss == 0.0 {
                    0.0
                } else {
                    c.z_loss * lse * lse
                };
                Some(RowRef {
                    main,
                    z: zl,
                    mag: main.abs() + coef + 2.0 * c.z_loss * (lse.abs() + 1.0) * (m.abs() + 1.0),
                    gmag: coef.abs(),
                    // 2ζ·lse·pⱼ (and 2ζ·(lse·pⱼ(1 − pⱼ) + pⱼ²) in the Hessian).
                    zmag: 2.0 * c.z_loss * (lse.abs() + 1.0),
                })
            }
            ("poly1", Some(y)) => {
                let (nlp, _) = neg_log_softmax(xr);
                let eps = c.smoothing;
                let (main, coef, unmasked) = smoothed(xr, &nlp, y, eps, c.unmasked_only, &w);
                // 1 − p_t = (1 − α)(1 − p_y) + α(1 − 1/C).
                let one_minus = (1.0 - eps) * -(-nlp[y]).exp_m1() + eps * (1.0 - 1.0 / unmasked);
                let poly = xl(c.a * w(y), one_minus);
                Some(RowRef {
                    main: main + poly,
                    z: 0.0,
                    mag: main.abs() + coef + (c.a * w(y)).abs() * 2.0,
                    gmag: coef.abs() + (c.a * w(y)).abs(),
                    zmag: 0.0,
                })
            }
            ("nll", Some(y)) => {
                let main = xl(w(y), -xr[y]);
                Some(RowRef {
                    main,
                    z: 0.0,
                    mag: main.abs(),
                    gmag: w(y).abs(),
                    zmag: 0.0,
                })
            }
            ("softmax_focal", Some(y)) => {
                let (nlp, _) = neg_log_softmax(xr);
                let q = -(-nlp[y]).exp_m1();
                let main = xl(w(y), xl(q.powf(c.a), nlp[y]));
                Some(RowRef {
                    main,
                    z: 0.0,
                    mag: main.abs() + w(y) * q.powf(c.a) * 2.0,
                    gmag: 0.0,
                    zmag: 0.0,
                })
            }
            ("multi_margin", Some(y)) => {
                // The margin in the data's precision, as the kernel (and PyTorch) use it.
                let margin = F::from_f64(c.a).to_f64();
                let main = rs::multi_margin(xr, y, c.b as i32, margin, w(y));
                // `xl`: a row of weight 0 has parts 0, also where its hinges overflow.
                let parts: f64 = xl(
                    w(y),
                    (0..k)
                        .filter(|&j| j != y)
                        .map(|j| (margin.abs() + xr[y].abs() + xr[j].abs()).powf(c.b))
                        .sum::<f64>(),
                ) / k as f64;
                // b·hʲ⁻¹·w/C per class, `h = a − x_y + xⱼ` rounded at the size of its parts.
                let gparts: f64 = xl(
                    w(y).abs(),
                    (0..k)
                        .filter(|&j| j != y)
                        .map(|j| c.b * (margin.abs() + xr[y].abs() + xr[j].abs()).powf(c.b - 1.0))
                        .sum::<f64>(),
                ) / k as f64;
                Some(RowRef {
                    main,
                    z: 0.0,
                    mag: main.abs() + parts,
                    gmag: gparts,
                    zmag: 0.0,
                })
            }
            ("multiclass_hinge", Some(y)) => {
                let main = rs::multiclass_hinge(xr, y);
                let other = (0..k)
                    .filter(|&j| j != y)
                    .map(|j| xr[j].abs())
                    .fold(0.0, f64::max);
                Some(RowRef {
                    main,
                    z: 0.0,
                    mag: main.abs() + 1.0 + other + xr[y].abs(),
                    gmag: 1.0,
                    zmag: 0.0,
                })
            }
            (other, _) => unreachable!("{other}"),
        };
        out.push(row);
    }
    let r = c.reduction;
    let (s1, s2) = match c.loss {
        "cross_entropy" | "poly1" | "nll" => (mean_scale(r, total), mean_scale(r, count as f64)),
        "softmax_focal" => (mean_scale(r, count as f64), 0.0),
        _ => (mean_scale(r, rows as f64), 0.0),
    };
    Reference { rows: out, s1, s2 }
}

fn fail<F: Float>(c: &Case, d: &Data<F>, backend: Option<Backend>, msg: String) -> ! {
    panic!(
        "rows {} {} [{}] {:?} {} rows={} classes={} labels={:?} weights={} ignore={:?} smoothing={:e} unmasked_only={} z_loss={:e} softcap={:?} a={:e} b={:e} reduction={:?}: {msg}\n  x      {}\n  second {}",
        c.loss,
        if is_f32::<F>() { "f32" } else { "f64" },
        backend.map_or("unpinned".to_string(), |b| b.to_string()),
        c.verb,
        if c.add { "accumulate" } else { "write" },
        c.rows,
        c.classes,
        &c.labels[..c.labels.len().min(12)],
        d.weights.as_ref().map_or("none".to_string(), |w| show(w)),
        c.ignore_index,
        c.smoothing,
        c.unmasked_only,
        c.z_loss,
        c.softcap,
        c.a,
        c.b,
        c.reduction,
        show(&d.x),
        show(&d.second),
    )
}

/// The largest finite magnitude of each row of `g` (`classes` wide), the scale of its
/// entries' tolerance (a row's gradient entries are differences of terms of that size).
fn row_scales<F: Float>(g: &[F], classes: usize) -> Vec<f64> {
    g.chunks(classes.max(1))
        .map(|row| {
            row.iter().fold(0.0f64, |m, x| {
                let x = x.to_f64().abs();
                if x.is_finite() { m.max(x) } else { m }
            })
        })
        .collect()
}

/// Widens each row's scale to the size of the parts its derivatives are computed from
/// (see [`RowRef`]): the reduction's factors times the row's `gmag` and `zmag`. A
/// Hessian–vector product is further a difference `h·(pⱼvⱼ − pⱼ Σ p v)` whose rounding
/// follows about `|v|` times the reduction's factor and the class weight, not the size
/// of the (possibly cancelling) result. Values keep their scale.
fn derivative_scales<F: Float>(c: &Case, d: &Data<F>, reference: &Reference, scales: &mut [f64]) {
    if c.verb == Verb::Elementwise || c.verb == Verb::Value {
        return;
    }
    for (s, row) in scales.iter_mut().zip(&reference.rows) {
        if let Some(RowRef { gmag, zmag, .. }) = *row {
            let parts = reference.s1.abs() * gmag + reference.s2.abs() * zmag;
            if parts.is_finite() {
                *s = s.max(parts);
            }
        }
    }
    if c.verb != Verb::Hvp {
        return;
    }
    let factor = reference.s1.abs().max(reference.s2.abs())
        * d.weights.as_ref().map_or(1.0, |w| {
            w.iter().fold(1.0f64, |m, x| m.max(x.to_f64().abs()))
        });
    for (r, s) in scales.iter_mut().enumerate() {
        let vmax =
            d.v.get(r * c.classes..(r + 1) * c.classes)
                .unwrap_or(&[])
                .iter()
                .fold(0.0f64, |m, x| m.max(x.to_f64().abs()));
        let parts = vmax * factor;
        if parts.is_finite() {
            *s = s.max(parts);
        }
    }
}

fn check<F: Float>(c: &Case) {
    let d = Data::<F> {
        x: c.x.iter().map(|&v| F::from_f64(v)).collect(),
        second: c.second.iter().map(|&v| F::from_f64(v)).collect(),
        weights: c
            .weights
            .as_ref()
            .map(|w| w.iter().map(|&v| F::from_f64(v)).collect()),
        v: c.v.iter().map(|&v| F::from_f64(v)).collect(),
    };
    let base: Vec<F> = if c.verb == Verb::InPlace {
        d.x.clone()
    } else {
        (0..c.out_len)
            .map(|i| F::from_f64(5.0 + i as f64 * 0.125))
            .collect()
    };
    let (validation, data) = violations(c, &d);
    let mut first: Option<(Backend, Result<F>, Vec<F>)> = None;
    for backend in Backend::available() {
        let (res, out) = call(c, &d, Some(backend), c.verb, c.add, &base);
        let fail = |msg: String| fail(c, &d, Some(backend), msg);
        match &res {
            Err(e) => {
                let is_v = validation.iter().any(|v| same_error(v, e));
                let allowed = if validation.is_empty() {
                    data.iter().any(|v| same_error(v, e))
                } else {
                    is_v || (c.loss == "distillation" && data.iter().any(|v| same_error(v, e)))
                };
                if !allowed {
                    fail(format!(
                        "Err({e:?}), allowed: validation {validation:?}, data {data:?}"
                    ));
                }
                // Per-row values are always written; distillation checks its reduction
                // before writing (an error, not a data error).
                let add = c.add && c.verb != Verb::Elementwise;
                let reduction_error = matches!(
                    e,
                    Error::InvalidParameter {
                        name: "reduction",
                        ..
                    }
                );
                let keep = is_v
                    || reduction_error
                    || add
                    || c.verb == Verb::InPlace
                    || c.verb == Verb::Value;
                if keep && bits(&out) != bits(&base) {
                    fail(format!("{e}: the buffer changed"));
                }
                if !keep && out.iter().any(|x| x.to_f64().to_bits() != 0) {
                    fail(format!("{e}: the output is not reset to zeros"));
                }
            }
            Ok(_) if !validation.is_empty() || !data.is_empty() => fail(format!(
                "{res:?}, want an error of validation {validation:?}, data {data:?}"
            )),
            Ok(_) => check_ok(c, &d, backend, &res, &out, &base),
        }
        if backend == Backend::active() {
            let (r2, o2) = call(c, &d, None, c.verb, c.add, &base);
            let same = match (&res, &r2) {
                (Ok(a), Ok(b)) => a.to_f64().to_bits() == b.to_f64().to_bits(),
                (Err(a), Err(b)) => a == b,
                _ => false,
            };
            if !same || bits(&out) != bits(&o2) {
                fail(format!("unpinned {r2:?} differs from pinned {res:?}"));
            }
        }
        match &first {
            None => first = Some((backend, res, out)),
            Some((b0, r0, o0)) => {
                let (Ok(v0), Ok(v)) = (r0, &res) else {
                    if r0.is_ok() != res.is_ok() {
                        fail(format!("{res:?} vs {r0:?} on {b0}"));
                    }
                    continue;
                };
                let reference = reference(c, &d);
                let mag: f64 = reference.rows.iter().flatten().map(|r| r.mag).sum::<f64>()
                    * reference.s1.abs().max(reference.s2.abs());
                let f32 = is_f32::<F>();
                if !agree(
                    v0.to_f64(),
                    v.to_f64(),
                    mag,
                    budget(c.loss, f32, What::Value),
                ) {
                    fail(format!("value {v:?} vs {v0:?} on {b0}"));
                }
                let what = match c.verb {
                    Verb::Elementwise => What::Elementwise,
                    Verb::Hessian | Verb::Hvp => What::Hessian,
                    _ => What::Grad,
                };
                let b = budget(c.loss, f32, what);
                let width = if c.verb == Verb::Elementwise {
                    1
                } else {
                    c.classes
                };
                let mut scales = row_scales(o0, width);
                derivative_scales(c, &d, &reference, &mut scales);
                for (i, (a, x)) in o0.iter().zip(&out).enumerate() {
                    let mut s = scales[i / width.max(1)];
                    if c.verb == Verb::Elementwise {
                        s = reference.rows[i].map_or(0.0, |r| r.mag);
                    }
                    if !agree(a.to_f64(), x.to_f64(), s, b) {
                        fail(format!("{what:?}[{i}] {x:?} vs {a:?} on {b0}"));
                    }
                }
            }
        }
    }
}

/// The checks of a successful call on one backend.
fn check_ok<F: Float>(
    c: &Case,
    d: &Data<F>,
    backend: Backend,
    res: &Result<F>,
    out: &[F],
    base: &[F],
) {
    let fail = |msg: String| fail(c, d, Some(backend), msg);
    let f32 = is_f32::<F>();
    let reference = reference(c, d);
    let (s1, s2) = (reference.s1, reference.s2);
    let zero_check = |what: &str, got: f64, want: f64| {
        // A value computed as exactly 0 where the true one is a normal number (softmax focal
        // in f64 did so for confident rows before `RowStats::rest`).
        if got == 0.0
            && want.abs()
                >= 1e3 * f64::from(f32::MIN_POSITIVE).max(if f32 { 0.0 } else { f64::MIN_POSITIVE })
            && want.is_finite()
        {
            fail(format!(
                "{what} is exactly 0 where the reference is {want:e}"
            ));
        }
    };
    if matches!(c.verb, Verb::Value | Verb::ValueAndGrad | Verb::InPlace) {
        let b = budget(c.loss, f32, What::Value);
        let v = res.as_ref().expect("ok").to_f64();
        if reference.rows.iter().all(Option::is_some) {
            let rows: Vec<RowRef> = reference.rows.iter().flatten().copied().collect();
            let values: Vec<f64> = rows.iter().map(|r| xl(s1, r.main) + xl(s2, r.z)).collect();
            let sum: f64 = values.iter().sum();
            let mag: f64 = rows.iter().map(|r| r.mag).sum::<f64>() * s1.abs().max(s2.abs());
            let want = Want::of_sum::<F>(&values, 1.0, mag, b);
            if let Err(e) = want.check(v, b) {
                fail(format!("value {e}"));
            }
            zero_check("the value", v, sum);
        } else if v.is_nan() {
            fail("value NaN".into());
        }
    }
    if c.verb == Verb::Elementwise {
        let b = budget(c.loss, f32, What::Elementwise);
        for (r, row) in reference.rows.iter().enumerate() {
            let got = out[r].to_f64();
            let Some(row) = row else {
                if got.is_nan() {
                    fail(format!("row {r}: NaN"));
                }
                continue;
            };
            let v = row.main + row.z;
            let want = if v.is_infinite() {
                Want::Inf(v.signum())
            } else {
                Want::of::<F>(v, row.mag, b)
            };
            if let Err(e) = want.check(got, b) {
                fail(format!("row {r}: {e}"));
            }
            zero_check("a row's value", got, v);
        }
    }
    let derivative = matches!(
        c.verb,
        Verb::Grad | Verb::ValueAndGrad | Verb::InPlace | Verb::Hessian | Verb::Hvp
    );
    if !derivative {
        return;
    }
    // The written result (in place: the overwritten logits).
    let wverb = match c.verb {
        Verb::ValueAndGrad | Verb::InPlace => Verb::ValueAndGrad,
        v => v,
    };
    let zeros = vec![F::from_f64(5.0); d.x.len()];
    let (wr, written) = call(c, d, Some(backend), wverb, false, &zeros);
    let wv = match wr {
        Ok(v) => v,
        Err(e) => {
            fail(format!("write mode: {e:?}"));
            return;
        }
    };
    if c.verb == Verb::InPlace {
        if bits(&written) != bits(out)
            || wv.to_f64().to_bits() != res.as_ref().expect("ok").to_f64().to_bits()
        {
            fail("in place differs from value_and_grad, bit for bit".into());
        }
    } else if c.add {
        for i in 0..out.len() {
            let want = base[i].to_f64() + written[i].to_f64();
            let ulp = if f32 {
                f64::from(f32::EPSILON)
            } else {
                f64::EPSILON
            };
            let tol = ulp * (base[i].to_f64().abs() + written[i].to_f64().abs());
            let got = out[i].to_f64();
            // The same infinity, or NaN where the written result is NaN (a Hessian–vector
            // product's vector is not validated: NaN in it propagates), is the sum.
            let same_special = (!want.is_finite() && got.to_bits() == want.to_bits())
                || (want.is_nan() && got.is_nan());
            if !same_special && ((got - want).abs().is_nan() || (got - want).abs() > tol) {
                fail(format!("accumulate[{i}] {:?}, want {want:e}", out[i]));
            }
        }
        if c.verb == Verb::ValueAndGrad
            && wv.to_f64().to_bits() != res.as_ref().expect("ok").to_f64().to_bits()
        {
            fail("accumulate mode's value differs from write mode's".into());
        }
    }
    if c.verb == Verb::ValueAndGrad {
        let (v, _) = call(c, d, Some(backend), Verb::Value, false, &[]);
        let (g, gout) = call(c, d, Some(backend), Verb::Grad, c.add, base);
        if let Err(e) = g {
            fail(format!("grad: {e:?}"));
        }
        if v.map(|v| v.to_f64().to_bits()) != Ok(res.as_ref().expect("ok").to_f64().to_bits()) {
            fail(format!("value {v:?} differs from value_and_grad's {res:?}"));
        }
        if bits(&gout) != bits(out) {
            fail("grad's output differs from value_and_grad's, bit for bit".into());
        }
    }
    if let Some(i) = written.iter().position(|g| g.to_f64().is_nan()) {
        fail(format!("NaN at {i}"));
    }
    let what = if matches!(c.verb, Verb::Hessian | Verb::Hvp) {
        What::Hessian
    } else {
        What::Grad
    };
    let b = budget(c.loss, f32, what);
    if f32 {
        let wide = Data::<f64> {
            x: d.x.iter().map(|v| v.to_f64()).collect(),
            second: d.second.iter().map(|v| v.to_f64()).collect(),
            weights: d
                .weights
                .as_ref()
                .map(|w| w.iter().map(|v| v.to_f64()).collect()),
            v: d.v.iter().map(|v| v.to_f64()).collect(),
        };
        let (r, g64) = call(
            c,
            &wide,
            Some(Backend::Portable),
            wverb,
            false,
            &vec![0.0; d.x.len()],
        );
        if let Err(e) = r {
            fail(format!("the f64 kernel: {e:?}"));
        }
        let mut scales = row_scales(&g64, c.classes);
        derivative_scales(c, d, &reference, &mut scales);
        let alternatives = hinge_alternatives(c, d, reference.s1, &g64);
        for (i, g) in written.iter().enumerate() {
            let scale = scales[i / c.classes];
            let bb = Budget {
                abs: b.abs + 1e-44,
                ..b
            };
            let got = g.to_f64();
            let check = |want: f64| Want::of::<F>(want, scale, bb).check(got, bb);
            if let Err(e) = check(g64[i])
                && !alternatives[i].iter().any(|&w| check(w).is_ok())
            {
                fail(format!("{what:?}[{i}]: {e} (f64 kernel)"));
            }
        }
        return;
    }
    let moderate_rows = c.x.iter().all(|v| v.is_finite() && v.abs() < 1e150)
        && d.weights
            .as_ref()
            .is_none_or(|w| w.iter().all(|v| v.to_f64().abs() < 1e300));
    // Multi-margin's entries are bounded by the row's `s·gmag` (`gmag` sums
    // `p·w_y·(|margin| + |x_y| + |xⱼ|)^(p−1)/C`, above every `|∂ℓ/∂xⱼ|` and their sum at the
    // label): finite wherever that bound is. Its margin, like a logit, can make the true
    // gradient overflow (`2·w_y·h/C` with `h ≈ margin`), so the other losses' guard, on
    // moderate logits and weights alone, does not apply to it.
    let bounded_rows = |i: usize| {
        reference
            .rows
            .get(i / c.classes.max(1))
            .copied()
            .flatten()
            .is_some_and(|r| reference.s1.abs() * r.gmag < 0.25 * f64::MAX)
    };
    let not_finite = |i: usize| !written[i].to_f64().is_finite();
    if c.loss == "multi_margin" {
        if what == What::Grad
            && let Some(i) = (0..written.len()).find(|&i| not_finite(i) && bounded_rows(i))
        {
            fail(format!("gradient[{i}] not finite"));
        }
    } else if moderate_rows
        && what == What::Grad
        && c.z_loss < 1e100
        && (c.loss != "distillation" || within(c.b, 1e-100, 1e100))
        && let Some(i) = (0..written.len()).find(|&i| not_finite(i))
    {
        fail(format!("gradient[{i}] not finite"));
    }
    if what == What::Grad {
        central_differences(c, d, &reference, &written, b, &fail);
    }
}

/// The other results an f32 gradient entry of multi-margin with `p = 1` may have, beside
/// the f64 kernel's: where a hinge `h = margin − x_y + xⱼ` is within a few f32 roundings
/// of its parts from 0, or within a few 2⁻¹⁴⁹ (the f32 kernel halves the parts, which
/// rounds below the normal range; the margin is rounded to f32 too, as the f32 kernel
/// computes with it), f32 may take the other side of the derivative's step `s·w_y/C` (numerics policy 5:
/// the subgradient is 0 at the hinge). Such an entry is 0 or the step; the label's entry,
/// minus the sum of the others, is off by up to as many steps as the row has such hinges.
/// Elsewhere, and for `p = 2` (whose derivative is continuous there), none.
fn hinge_alternatives<F: Float>(c: &Case, d: &Data<F>, s1: f64, g64: &[f64]) -> Vec<Vec<f64>> {
    let k = c.classes;
    let mut alt = vec![Vec::new(); g64.len()];
    if c.loss != "multi_margin" || c.b != 1.0 || k == 0 {
        return alt;
    }
    for r in 0..g64.len() / k {
        let Some(y) = class_of(c, r) else {
            continue;
        };
        let x: Vec<f64> = d.x[r * k..(r + 1) * k].iter().map(|v| v.to_f64()).collect();
        let w = d.weights.as_ref().map_or(1.0, |w| w[y].to_f64());
        let step = s1 * w / k as f64;
        let mut near = 0i32;
        for j in (0..k).filter(|&j| j != y) {
            let parts = c.a.abs() + x[y].abs() + x[j].abs();
            // Halving is exact in the normal range only: each part below it rounds by up
            // to 2⁻¹⁵⁰ (a margin of 2⁻¹⁴⁹ halves to 0), so the floor is a few 2⁻¹⁴⁹.
            let within_rounding = 8.0 * f64::from(f32::EPSILON) * parts + 2f64.powi(-147);
            if (c.a - x[y] + x[j]).abs() <= within_rounding {
                near += 1;
                alt[r * k + j] = vec![0.0, step];
            }
        }
        alt[r * k + y] = (-near..=near)
            .map(|m| g64[r * k + y] + f64::from(m) * step)
            .collect();
    }
    alt
}

/// f64 gradients against central differences of the row reference, on moderate rows with
/// moderate parameters, away from the margin losses' kinks.
fn central_differences<F: Float>(
    c: &Case,
    d: &Data<F>,
    reference: &Reference,
    g: &[F],
    b: Budget,
    fail: &dyn Fn(String),
) {
    let k = c.classes;
    let tame = |x: f64| x == 0.0 || within(x.abs(), 1e-3, 1e3);
    let params_tame = tame(c.a)
        && tame(c.b)
        && tame(c.z_loss)
        && tame(c.smoothing)
        && c.softcap.is_none_or(tame)
        && d.weights
            .as_ref()
            .is_none_or(|w| w.iter().all(|v| tame(v.to_f64())));
    if !params_tame
        || d.x.len() > 96
        || !d.x.iter().all(|v| v.to_f64().abs() <= 30.0)
        || !reference.s1.is_finite()
        || !reference.s2.is_finite()
    {
        return;
    }
    let rows = rows_of(c, d);
    for r in 0..rows {
        let Some(y) = class_of(c, r).or(if c.loss == "soft_cross_entropy" {
            Some(0)
        } else {
            None
        }) else {
            continue;
        };
        let row: Vec<f64> = d.x[r * k..(r + 1) * k].iter().map(|v| v.to_f64()).collect();
        // Kinks of the margin losses: a hinge at 0, ties of the largest other logit.
        let kink = match c.loss {
            "multi_margin" => (0..k).any(|j| j != y && (c.a - row[y] + row[j]).abs() < 1e-3),
            "multiclass_hinge" => {
                let mut other: Vec<f64> = (0..k).filter(|&j| j != y).map(|j| row[j]).collect();
                other.sort_by(|a, b| b.total_cmp(a));
                other
                    .first()
                    .is_some_and(|m| (1.0 + m - row[y]).abs() < 1e-3)
                    || (other.len() > 1 && (other[0] - other[1]).abs() < 1e-3)
            }
            _ => false,
        };
        if kink {
            continue;
        }
        let value = |xs: &[f64]| -> Option<f64> {
            let mut dd = Data::<f64> {
                x: d.x.iter().map(|v| v.to_f64()).collect(),
                second: d.second.iter().map(|v| v.to_f64()).collect(),
                weights: d
                    .weights
                    .as_ref()
                    .map(|w| w.iter().map(|v| v.to_f64()).collect()),
                v: Vec::new(),
            };
            dd.x[r * k..(r + 1) * k].copy_from_slice(xs);
            let rf = reference_row(c, &dd, r)?;
            Some(xl(reference.s1, rf.main) + xl(reference.s2, rf.z))
        };
        for j in 0..k {
            let h = 1e-5 * row[j].abs().max(1.0);
            let at = |dx: f64| {
                let mut xs = row.clone();
                xs[j] += dx;
                value(&xs)
            };
            let (Some(a), Some(bm), Some(a2), Some(b2), Some(l)) =
                (at(h), at(-h), at(h / 2.0), at(-h / 2.0), at(0.0))
            else {
                continue;
            };
            let (fd, fd2) = ((a - bm) / (2.0 * h), (a2 - b2) / h);
            let parts = reference.rows[r].map_or(0.0, |rr| rr.mag)
                * reference.s1.abs().max(reference.s2.abs());
            let noise = 1e-13 * (parts + l.abs()) / h;
            if !(fd.is_finite() && fd2.is_finite())
                || (fd - fd2).abs() > 1e-4 * fd.abs() + noise + 1e-12
            {
                continue;
            }
            let got = g[r * k + j].to_f64();
            let tol =
                b.rel * fd.abs().max(parts / (1.0 + row[j].abs())) + 10.0 * noise + 1e-12 * parts;
            if (got - fd).abs().is_nan() || (got - fd).abs() > tol {
                fail(format!(
                    "grad[{}] {got:e}, central difference {fd:e} (tolerance {tol:e})",
                    r * k + j
                ));
            }
        }
    }
}

/// The reference of row `r` alone.
fn reference_row(c: &Case, d: &Data<f64>, r: usize) -> Option<RowRef> {
    reference(c, d).rows.get(r).copied().flatten()
}
