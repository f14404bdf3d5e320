//! The `multilabel` target: the multi-label losses (`MultiLabelBceWithLogits`, per element;
//! `MultiLabelSoftMargin`, per row) with per-class `pos_weight` and class weights, every
//! verb, write or accumulate mode, on every backend.
//!
//! Checked: no panic; an error exactly when the documented rules give one (shapes,
//! per-class tensors, output lengths, reduction; then the first element whose logit or
//! target is not finite or whose target is outside `[0, 1]`), with the buffers as
//! documented; values against the f64 reference; f32 derivatives against the f64 kernel,
//! f64 gradients against central differences; accumulate mode adding exactly the written
//! result; `value_and_grad` equal to `value` and `grad` bit for bit; backends agreeing.

use super::super::input::Input;
use super::{Budget, Want, What, agree, bits, budget, is_f32, max_of, per_class, same_error};
use super::{reduction_ok, show};
use losskit::prelude::*;
use losskit::reference::classification as rc;

const KNOWN: &[&str] = &["multilabel_bce_with_logits", "multilabel_soft_margin"];

macro_rules! names {
    ($( ($name:ident, $($rest:tt)*) ),* $(,)?) => { &[$(stringify!($name)),*] };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Value,
    Elementwise,
    Grad,
    ValueAndGrad,
    Hessian,
}

struct Case {
    loss: &'static str,
    classes: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    pos_weight: Option<Vec<f64>>,
    weights: Option<Vec<f64>>,
    verb: Verb,
    add: bool,
    reduction: Reduction,
    out_len: usize,
}

/// Runs the check on one fuzz input.
pub fn run(data: &[u8]) {
    let registered: &[&str] = losskit::for_each_row_loss!(names);
    let ml: Vec<&str> = registered
        .iter()
        .copied()
        .filter(|n| n.starts_with("multilabel_"))
        .collect();
    assert_eq!(
        ml, KNOWN,
        "a multi-label loss without checks in fuzz/src/checks/multilabel.rs"
    );
    let mut inp = Input::new(data);
    let loss = KNOWN[inp.below(2)];
    let f32 = inp.chance(128);
    let rows = if inp.chance(8) { 0 } else { 1 + inp.below(6) };
    let classes = match inp.byte() {
        0..=3 => 0,
        4..=40 => 17 + inp.below(50),
        _ => 1 + inp.below(16),
    };
    let n = rows * classes;
    let clean = inp.chance(210);
    let max = if f32 { f64::from(f32::MAX) } else { f64::MAX };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let xi = match inp.byte() % 4 {
            0 => inp.pick(&[
                0.0, 30.0, -30.0, 88.0, -104.0, 1e8, -1e38, 3e38, 710.0, -746.0,
            ]),
            _ => inp.real(),
        };
        let yi = match inp.byte() % 5 {
            0 => 0.0,
            1 => 1.0,
            2 => f64::from(inp.byte()) / 255.0,
            3 => inp.near(1.0),
            _ => inp.real(),
        };
        if clean {
            x.push(if xi.is_nan() {
                0.0
            } else {
                xi.clamp(-max, max)
            });
            y.push(if yi.is_finite() {
                yi.abs().min(1.0)
            } else {
                1.0
            });
        } else {
            x.push(xi);
            y.push(yi);
        }
    }
    if clean && n > 0 && inp.chance(24) {
        let i = inp.below(n);
        let bad = inp.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.5, 1.5]);
        if inp.chance(128) {
            x[i] = bad;
        } else {
            y[i] = bad;
        }
    }
    let pos_weight = inp.chance(100).then(|| per_class::<f64>(&mut inp, classes));
    let weights = inp.chance(100).then(|| per_class::<f64>(&mut inp, classes));
    let verb = [
        Verb::Value,
        Verb::Elementwise,
        Verb::Grad,
        Verb::ValueAndGrad,
        Verb::Hessian,
    ][inp.below(5)];
    let out_len = if verb == Verb::Elementwise && loss == "multilabel_soft_margin" {
        rows
    } else {
        n
    };
    let mut case = Case {
        loss,
        classes,
        x,
        y,
        pos_weight,
        weights,
        verb,
        add: inp.chance(100),
        reduction: super::reduction(&mut inp),
        out_len,
    };
    if inp.chance(8) {
        let len = inp.below(n + 3);
        match inp.below(3) {
            0 => case.x.truncate(len.min(n)),
            1 => case.y.truncate(len.min(n)),
            _ => case.out_len = len,
        }
    }
    if f32 {
        check::<f32>(&case);
    } else {
        check::<f64>(&case);
    }
}

/// `b` as an output written or added into.
fn out_mode<F: Float>(b: &mut [F], add: bool) -> Out<'_, F> {
    if add { Out::add(b) } else { Out::write(b) }
}

struct Data<F> {
    x: Vec<F>,
    y: Vec<F>,
    pw: Option<Vec<F>>,
    w: Option<Vec<F>>,
}

fn call<F: Float>(
    c: &Case,
    d: &Data<F>,
    backend: Option<Backend>,
    verb: Verb,
    add: bool,
    base: &[F],
) -> (Result<F>, Vec<F>) {
    let (pw, w) = (d.pw.as_deref(), d.w.as_deref());
    macro_rules! verbs {
        ($l:expr) => {{
            let l = $l;
            let mut out = base.to_vec();
            let (x, k, y, r) = (&d.x[..], c.classes, &d.y[..], c.reduction);
            let res = match verb {
                Verb::Value => l.value(x, k, y, r),
                Verb::Elementwise => l.value_elementwise(x, k, y, &mut out).map(|_| F::ZERO),
                Verb::Grad => l.grad(x, k, y, r, out_mode(&mut out, add)).map(|_| F::ZERO),
                Verb::ValueAndGrad => l.value_and_grad(x, k, y, r, out_mode(&mut out, add)),
                Verb::Hessian => l
                    .hessian_diag(x, k, y, r, out_mode(&mut out, add))
                    .map(|_| F::ZERO),
            };
            (res, out)
        }};
    }
    macro_rules! pinned {
        ($l:expr) => {
            match backend {
                Some(b) => verbs!($l.on(b).expect("available")),
                None => verbs!($l),
            }
        };
    }
    if c.loss == "multilabel_bce_with_logits" {
        pinned!(MultiLabelBceWithLogits {
            pos_weight: pw,
            class_weights: w,
        })
    } else {
        pinned!(MultiLabelSoftMargin {
            class_weights: w,
            pos_weight: pw,
        })
    }
}

/// The allowed errors: validation errors (any of them), else the first invalid element.
fn violations<F: Float>(c: &Case, d: &Data<F>) -> (Vec<Error>, Vec<Error>) {
    let mut v = Vec::new();
    let k = c.classes;
    let n = d.x.len();
    let mismatch = |name, expected, found| Error::LengthMismatch {
        name,
        expected,
        found,
    };
    let rows = if k == 0 { 0 } else { n.div_ceil(k) };
    if k == 0 || n == 0 {
        v.push(Error::Empty);
    } else if n != rows * k {
        v.push(mismatch("logits", rows * k, n));
    }
    if d.y.len() != n {
        v.push(mismatch("target", n, d.y.len()));
    }
    for (name, t) in [("pos_weight", &d.pw), ("class_weights", &d.w)] {
        if let Some(t) = t {
            if t.len() != k {
                v.push(mismatch(name, k, t.len()));
            } else if let Some(i) = t.iter().position(|x| {
                let x = x.to_f64();
                if name == "class_weights" {
                    !super::class_weight_ok(x)
                } else {
                    !x.is_finite() || x < 0.0
                }
            }) {
                v.push(if t[i].is_finite() {
                    Error::InvalidInput { name, index: i }
                } else {
                    Error::NonFinite { name, index: i }
                });
            }
        }
    }
    let out_want = if c.verb == Verb::Elementwise && c.loss == "multilabel_soft_margin" {
        rows
    } else {
        n
    };
    let out_name = match c.verb {
        Verb::Value => None,
        Verb::Elementwise => Some("out"),
        Verb::Hessian => Some("hess"),
        _ => Some("grad"),
    };
    if let Some(name) = out_name
        && c.out_len != out_want
    {
        v.push(mismatch(name, out_want, c.out_len));
    }
    if c.verb != Verb::Elementwise && !reduction_ok(c.reduction) {
        v.push(Error::InvalidParameter {
            name: "reduction",
            rule: "",
        });
    }
    let mut data = Vec::new();
    if d.y.len() == n {
        for i in 0..n {
            let (x, y) = (d.x[i].to_f64(), d.y[i].to_f64());
            if !x.is_finite() {
                data.push(Error::NonFinite {
                    name: "pred",
                    index: i,
                });
                data.push(Error::NonFinite {
                    name: "logits",
                    index: i,
                });
                break;
            }
            if !y.is_finite() {
                data.push(Error::NonFinite {
                    name: "target",
                    index: i,
                });
                break;
            }
            if !(0.0..=1.0).contains(&y) {
                data.push(Error::InvalidInput {
                    name: "target",
                    index: i,
                });
                break;
            }
        }
    }
    (v, data)
}

fn fail<F: Float>(c: &Case, d: &Data<F>, backend: Option<Backend>, msg: String) -> ! {
    panic!(
        "multilabel {} {} [{}] {:?} {} classes={} pos_weight={} weights={} reduction={:?}: {msg}\n  x {}\n  y {}",
        c.loss,
        if is_f32::<F>() { "f32" } else { "f64" },
        backend.map_or("unpinned".to_string(), |b| b.to_string()),
        c.verb,
        if c.add { "accumulate" } else { "write" },
        c.classes,
        d.pw.as_ref().map_or("none".into(), |w| show(w)),
        d.w.as_ref().map_or("none".into(), |w| show(w)),
        c.reduction,
        show(&d.x),
        show(&d.y),
    )
}

/// One element's weighted term in `F`: its value, the magnitude of its parts, and an absolute
/// slack for a subnormal intermediate.
struct Term {
    value: f64,
    parts: f64,
    slack: f64,
}

/// Each element's weighted term in `F` (beyond the range of `F` before weighting: ±∞; within
/// the budget of that edge: either, so its parts are infinite; a class weight of 0: 0).
fn terms<F: Float>(c: &Case, d: &Data<F>) -> Vec<Term> {
    let k = c.classes;
    let max = max_of::<F>();
    let rel = budget(c.loss, is_f32::<F>(), What::Value).rel;
    // The smallest subnormal of F: a softplus(−x) below F's normal range is formed in F
    // before the factor `1 + (pw − 1)·y` and the class weight multiply it (numerics policy
    // 2), so its rounding, up to this size, is multiplied by them too.
    let tiny = if is_f32::<F>() {
        f64::from(f32::from_bits(1))
    } else {
        f64::from_bits(1)
    };
    (0..d.x.len())
        .map(|i| {
            let (x, y) = (d.x[i].to_f64(), d.y[i].to_f64());
            let pw = d.pw.as_ref().map_or(1.0, |p| p[i % k].to_f64());
            let w = d.w.as_ref().map_or(1.0, |w| w[i % k].to_f64());
            let l = rc::bce_with_logits(x, y, pw);
            let softplus = |x: f64| {
                if x > 0.0 {
                    x + (-x).exp().ln_1p()
                } else {
                    x.exp().ln_1p()
                }
            };
            let factor = (1.0 + (pw - 1.0) * y).abs();
            let parts = ((1.0 - y) * x).abs() + factor * softplus(-x);
            let slack = 2.0 * tiny * factor * w.abs();
            // Terms are weighted in the input precision (numerics policy 2): a weighted term
            // beyond its range is ±∞, whatever the reduction's factor does afterwards; one
            // within the budget of the range's end may round either way.
            let big = l.abs().max((w * l).abs());
            if w == 0.0 {
                Term {
                    value: 0.0,
                    parts: 0.0,
                    slack: 0.0,
                }
            } else if big > max * (1.0 + 4.0 * rel) {
                Term {
                    value: (w * l).signum() * f64::INFINITY,
                    parts: f64::INFINITY,
                    slack,
                }
            } else if big >= max * (1.0 - 4.0 * rel) {
                Term {
                    value: w * l,
                    parts: f64::INFINITY,
                    slack,
                }
            } else {
                Term {
                    value: w * l,
                    parts: w * parts.max(l),
                    slack,
                }
            }
        })
        .collect()
}

fn check<F: Float>(c: &Case) {
    let d = Data::<F> {
        x: c.x.iter().map(|&v| F::from_f64(v)).collect(),
        y: c.y.iter().map(|&v| F::from_f64(v)).collect(),
        pw: c
            .pos_weight
            .as_ref()
            .map(|p| p.iter().map(|&v| F::from_f64(v)).collect()),
        w: c.weights
            .as_ref()
            .map(|p| p.iter().map(|&v| F::from_f64(v)).collect()),
    };
    let base: Vec<F> = (0..c.out_len)
        .map(|i| F::from_f64(5.0 + i as f64 * 0.125))
        .collect();
    let (validation, data) = violations(c, &d);
    let f32 = is_f32::<F>();
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
                    is_v
                };
                if !allowed {
                    fail(format!(
                        "Err({e:?}), allowed: validation {validation:?}, data {data:?}"
                    ));
                }
                let keep = is_v || c.add && c.verb != Verb::Elementwise || c.verb == Verb::Value;
                if keep && bits(&out) != bits(&base) {
                    fail(format!("{e}: the buffer changed"));
                }
                if !keep && out.iter().any(|x| x.to_f64().to_bits() != 0) {
                    fail(format!("{e}: the output is not reset to zeros"));
                }
            }
            Ok(_) if !validation.is_empty() || !data.is_empty() => fail(format!(
                "{res:?}, want an error of {validation:?} / {data:?}"
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
                if let (Ok(v0), Ok(v)) = (r0, &res) {
                    let mag: f64 = terms(c, &d).iter().map(|t| t.parts).sum();
                    let s = c.reduction.scale(1).unwrap_or(1.0).abs().max(1e-300);
                    if !agree(
                        v0.to_f64(),
                        v.to_f64(),
                        mag * s,
                        budget(c.loss, f32, What::Value),
                    ) {
                        fail(format!("value {v:?} vs {v0:?} on {b0}"));
                    }
                    let scale = o0.iter().fold(0.0f64, |m, x| {
                        let x = x.to_f64().abs();
                        if x.is_finite() { m.max(x) } else { m }
                    });
                    for (i, (a, x)) in o0.iter().zip(&out).enumerate() {
                        if !agree(
                            a.to_f64(),
                            x.to_f64(),
                            scale,
                            budget(c.loss, f32, What::Grad),
                        ) {
                            fail(format!("output[{i}] {x:?} vs {a:?} on {b0}"));
                        }
                    }
                }
            }
        }
    }
}

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
    let k = c.classes;
    let n = d.x.len();
    let rows = n / k;
    let per_row = c.loss == "multilabel_soft_margin";
    let t = terms(c, d);
    // The factor of each element's term in the reduced value.
    // value_elementwise takes no reduction (any divisor is accepted and unused).
    let reduction = if c.verb == Verb::Elementwise {
        Reduction::Sum
    } else {
        c.reduction
    };
    let s = if per_row {
        reduction.scale(rows).expect("checked by expected_error") / k as f64
    } else {
        reduction.scale(n).expect("checked by expected_error")
    };
    if matches!(c.verb, Verb::Value | Verb::ValueAndGrad) {
        let b = budget(c.loss, f32, What::Value);
        let values: Vec<f64> = t.iter().map(|x| x.value).collect();
        let mag: f64 = t.iter().map(|x| x.parts).sum();
        let slack: f64 = t.iter().map(|x| x.slack).sum();
        let b = Budget {
            abs: b.abs + slack * s.abs(),
            ..b
        };
        let want = Want::of_sum::<F>(&values, s, mag * s.abs(), b);
        if let Err(e) = want.check(res.as_ref().expect("ok").to_f64(), b) {
            fail(format!("value {e}"));
        }
    }
    if c.verb == Verb::Elementwise {
        let b = budget(c.loss, f32, What::Elementwise);
        let items: Vec<(f64, f64, f64)> = if per_row {
            t.chunks(k)
                .map(|r| {
                    let (v, m, e) = r.iter().fold((0.0, 0.0, 0.0), |a, x| {
                        (a.0 + x.value, a.1 + x.parts, a.2 + x.slack)
                    });
                    (v / k as f64, m / k as f64, e / k as f64)
                })
                .collect()
        } else {
            t.iter().map(|x| (x.value, x.parts, x.slack)).collect()
        };
        for (i, &(v, m, e)) in items.iter().enumerate() {
            let b = Budget {
                abs: b.abs + e,
                ..b
            };
            let want = if v.is_nan() {
                Want::Any
            } else if v.is_infinite() {
                Want::Inf(v.signum())
            } else {
                Want::of::<F>(v, m, b)
            };
            if let Err(e) = want.check(out[i].to_f64(), b) {
                fail(format!("elementwise[{i}] {e}"));
            }
        }
    }
    if !matches!(c.verb, Verb::Grad | Verb::ValueAndGrad | Verb::Hessian) {
        return;
    }
    if c.verb == Verb::ValueAndGrad {
        let (v, _) = call(c, d, Some(backend), Verb::Value, false, &[]);
        let (g, gout) = call(c, d, Some(backend), Verb::Grad, c.add, base);
        if let Err(e) = g {
            fail(format!("grad {e:?}"));
        }
        let v = v.map(|v| v.to_f64().to_bits());
        if v != Ok(res.as_ref().expect("ok").to_f64().to_bits()) {
            fail("value differs from value_and_grad's".into());
        }
        if bits(&gout) != bits(out) {
            fail("grad's output differs from value_and_grad's, bit for bit".into());
        }
    }
    let verb = if c.verb == Verb::Hessian {
        Verb::Hessian
    } else {
        Verb::Grad
    };
    let (r, written) = call(c, d, Some(backend), verb, false, base);
    if let Err(e) = r {
        fail(format!("write mode {e:?}"));
    }
    if c.add {
        for i in 0..n {
            if (base[i] + written[i]).to_f64().to_bits() != out[i].to_f64().to_bits() {
                fail(format!(
                    "accumulate[{i}] {:?} != {:?} + {:?}",
                    out[i], base[i], written[i]
                ));
            }
        }
    }
    if let Some(i) = written.iter().position(|g| g.to_f64().is_nan()) {
        fail(format!("NaN at {i}"));
    }
    let what = if verb == Verb::Hessian {
        What::Hessian
    } else {
        What::Grad
    };
    let b = budget(c.loss, f32, what);
    if f32 {
        let wide = Data::<f64> {
            x: d.x.iter().map(|v| v.to_f64()).collect(),
            y: d.y.iter().map(|v| v.to_f64()).collect(),
            pw: d
                .pw
                .as_ref()
                .map(|p| p.iter().map(|v| v.to_f64()).collect()),
            w: d.w.as_ref().map(|p| p.iter().map(|v| v.to_f64()).collect()),
        };
        let (r, g64) = call(
            c,
            &wide,
            Some(Backend::Portable),
            verb,
            false,
            &vec![0.0; n],
        );
        if let Err(e) = r {
            fail(format!("the f64 kernel {e:?}"));
        }
        for i in 0..n {
            let (y, pw) = (wide.y[i], wide.pw.as_ref().map_or(1.0, |p| p[i % k]));
            let w = wide.w.as_ref().map_or(1.0, |p| p[i % k]);
            let parts = if verb == Verb::Grad {
                (w * s).abs() * ((1.0 + (pw - 1.0) * y).abs() + pw * y)
            } else {
                0.0
            };
            // A weight·scale rounded to a subnormal f32 loses its low bits; a term below
            // f32's normal range carries the budget's absolute error, which the factors
            // applied after it (the positive weight's `pw·y + 1 − y`, the class weight, the
            // scale) multiply.
            let factor = (w * s).abs() * (pw * y + (1.0 - y)).abs();
            // A derivative that `pw` makes subnormal (`pw = 2⁻¹⁴⁹`) is rounded to a multiple
            // of 2⁻¹⁴⁹ before the class weight and the scale multiply it.
            let floor =
                4.0 * 1.4e-45 * (1.0 + g64[i].abs() / (w * s).abs().max(1e-300) + (w * s).abs())
                    + b.abs * (factor - 1.0).max(0.0);
            let bb = Budget {
                abs: b.abs + floor,
                ..b
            };
            if let Err(e) = Want::of::<F>(g64[i], parts, bb).check(written[i].to_f64(), bb) {
                fail(format!("{what:?}[{i}]: {e} (f64 kernel)"));
            }
        }
        return;
    }
    if verb != Verb::Grad || !s.is_finite() {
        return;
    }
    for i in 0..n {
        let (x, y) = (d.x[i].to_f64(), d.y[i].to_f64());
        let pw = d.pw.as_ref().map_or(1.0, |p| p[i % k].to_f64());
        let w = d.w.as_ref().map_or(1.0, |p| p[i % k].to_f64());
        if x.abs() > 30.0 || pw > 1e6 || w > 1e6 {
            continue;
        }
        let h = 1e-5 * x.abs().max(1.0);
        let f = |x: f64| rc::bce_with_logits(x, y, pw);
        let fd = w * s * (f(x + h) - f(x - h)) / (2.0 * h);
        let parts = (w * s).abs() * ((1.0 + (pw - 1.0) * y).abs() + pw * y);
        let tol = 1e-5 * parts + (w * s).abs() * 1e-12 * (1.0 + f(x).abs()) / h + 1e-300;
        if (written[i].to_f64() - fd).abs() > tol {
            fail(format!(
                "grad[{i}] {:?}, central difference {fd:e} (tolerance {tol:e})",
                written[i]
            ));
        }
    }
}
