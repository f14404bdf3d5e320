//! Every case of `tests/data/softmax.json` (PyTorch float64 autograd) and of
//! `tests/data/poly1.json` (mpmath, `scripts/vectors_poly1.py`), on every backend, in f32 and
//! f64. Each case checks the value (per row for reduction "none") and the gradient;
//! where a loss has them, also that `value_and_grad` equals `value` and `grad` bit for bit
//! and that the in-place form equals the out-of-place one bit for bit.

use crate::common::{Prec, cast, close, nums, run_vectors, widen};
use losskit::prelude::*;
use serde_json::Value;

/// The reduction of a case: `None` for "none" (the gradient is then of the sum).
fn reduction(params: &Value, rows: usize) -> Option<Reduction> {
    match params["reduction"].as_str().unwrap_or("mean") {
        "sum" => Some(Reduction::Sum),
        "mean" => Some(Reduction::Mean),
        "batchmean" => Some(Reduction::Divisor(rows as f64)),
        _ => None,
    }
}

fn labels(case: &Value) -> Vec<i64> {
    case["inputs"]["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|v| v.as_i64().expect("integer label"))
        .collect()
}

fn input<F: Float>(case: &Value, name: &str) -> Vec<F> {
    cast(&nums(&case["inputs"][name]))
}

/// What a case computed: the value(s) and the gradient of the differentiated input.
struct Got {
    value: Vec<f64>,
    grad: Vec<f64>,
}

fn err(e: losskit::Error) -> String {
    format!("{e}")
}

/// Checks that two runs agree bit for bit.
fn same<F: Float>(what: &str, a: &[F], b: &[F]) -> Result<(), String> {
    if widen(a)
        .iter()
        .zip(widen(b))
        .all(|(x, y)| x.to_bits() == y.to_bits())
    {
        Ok(())
    } else {
        Err(format!("{what}: not bit-identical"))
    }
}

fn cross_entropy<F: Float>(case: &Value, backend: Backend) -> Result<Got, String> {
    let p = &case["params"];
    let (rows, cols) = (
        p["rows"].as_u64().unwrap() as usize,
        p["cols"].as_u64().unwrap() as usize,
    );
    let x: Vec<F> = input(case, "logits");
    let y = labels(case);
    let w: Option<Vec<F>> = case["inputs"]
        .get("class_weights")
        .map(|_| input(case, "class_weights"));
    let ce = CrossEntropy {
        class_weights: w.as_deref(),
        ignore_index: p.get("ignore_index").and_then(Value::as_i64),
        label_smoothing: p
            .get("label_smoothing")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        z_loss: p.get("z_loss").and_then(Value::as_f64).unwrap_or(0.0),
        ..CrossEntropy::default()
    }
    .on(backend)
    .map_err(err)?;
    let mut g = vec![F::ZERO; x.len()];
    match reduction(p, rows) {
        None => {
            let mut v = vec![F::ZERO; rows];
            ce.value_elementwise(&x, cols, &y, &mut v).map_err(err)?;
            ce.grad(&x, cols, &y, Reduction::Sum, &mut g[..])
                .map_err(err)?;
            Ok(Got {
                value: widen(&v),
                grad: widen(&g),
            })
        }
        Some(r) => {
            let v = ce.value(&x, cols, &y, r).map_err(err)?;
            ce.grad(&x, cols, &y, r, &mut g[..]).map_err(err)?;
            let mut g2 = vec![F::ZERO; x.len()];
            let v2 = ce
                .value_and_grad(&x, cols, &y, r, &mut g2[..])
                .map_err(err)?;
            same("value_and_grad value", &[v], &[v2])?;
            same("value_and_grad grad", &g, &g2)?;
            let mut inplace = x.clone();
            let v3 = ce
                .value_and_grad_in_place(&mut inplace, cols, &y, r)
                .map_err(err)?;
            same("in-place value", &[v], &[v3])?;
            same("in-place grad", &g, &inplace)?;
            let _ = rows;
            Ok(Got {
                value: vec![v.to_f64()],
                grad: widen(&g),
            })
        }
    }
}

fn cross_entropy_dense<F: Float>(case: &Value, backend: Backend) -> Result<Got, String> {
    let p = &case["params"];
    let (rows, cols) = (
        p["rows"].as_u64().unwrap() as usize,
        p["cols"].as_u64().unwrap() as usize,
    );
    let x: Vec<F> = input(case, "logits");
    let t: Vec<F> = input(case, "target");
    let ce = SoftCrossEntropy {
        label_smoothing: p
            .get("label_smoothing")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        ..SoftCrossEntropy::default()
    }
    .on(backend)
    .map_err(err)?;
    let mut g = vec![F::ZERO; x.len()];
    match reduction(p, rows) {
        None => {
            let mut v = vec![F::ZERO; rows];
            ce.value_elementwise(&x, cols, &t[..], &mut v)
                .map_err(err)?;
            ce.grad(&x, cols, &t[..], Reduction::Sum, &mut g[..])
                .map_err(err)?;
            Ok(Got {
                value: widen(&v),
                grad: widen(&g),
            })
        }
        Some(r) => {
            let v = ce.value(&x, cols, &t[..], r).map_err(err)?;
            ce.grad(&x, cols, &t[..], r, &mut g[..]).map_err(err)?;
            let mut g2 = vec![F::ZERO; x.len()];
            let v2 = ce
                .value_and_grad(&x, cols, &t[..], r, &mut g2[..])
                .map_err(err)?;
            same("value_and_grad value", &[v], &[v2])?;
            same("value_and_grad grad", &g, &g2)?;
            let mut inplace = x.clone();
            let v3 = ce
                .value_and_grad_in_place(&mut inplace, cols, &t[..], r)
                .map_err(err)?;
            same("in-place value", &[v], &[v3])?;
            same("in-place grad", &g, &inplace)?;
            Ok(Got {
                value: vec![v.to_f64()],
                grad: widen(&g),
            })
        }
    }
}

/// Runs a labelled loss on a case whose differentiated input is `input`.
fn check_labelled<F: Float, L: for<'y> RowElementwise<F, &'y [i64]>>(
    loss: &L,
    case: &Value,
    input_name: &str,
) -> Result<Got, String> {
    let p = &case["params"];
    let (rows, cols) = (
        p["rows"].as_u64().unwrap() as usize,
        p["cols"].as_u64().unwrap() as usize,
    );
    let x: Vec<F> = input(case, input_name);
    let y = labels(case);
    let mut g = vec![F::ZERO; x.len()];
    match reduction(p, rows) {
        None => {
            let mut v = vec![F::ZERO; rows];
            loss.value_elementwise(&x, cols, &y, &mut v).map_err(err)?;
            loss.grad(&x, cols, &y, Reduction::Sum, &mut g)
                .map_err(err)?;
            Ok(Got {
                value: widen(&v),
                grad: widen(&g),
            })
        }
        Some(r) => {
            let v = loss.value(&x, cols, &y, r).map_err(err)?;
            loss.grad(&x, cols, &y, r, &mut g).map_err(err)?;
            let mut g2 = vec![F::ZERO; x.len()];
            let v2 = loss.value_and_grad(&x, cols, &y, r, &mut g2).map_err(err)?;
            same("value_and_grad value", &[v], &[v2])?;
            same("value_and_grad grad", &g, &g2)?;
            Ok(Got {
                value: vec![v.to_f64()],
                grad: widen(&g),
            })
        }
    }
}

/// Poly-1 (`tests/data/poly1.json`): the four verbs, the in-place form bit-identical to
/// `value_and_grad`, and at `ε = 0` every result bit-identical to `CrossEntropy`'s.
fn poly1<F: Float>(case: &Value, backend: Backend) -> Result<Got, String> {
    let p = &case["params"];
    let (rows, cols) = (
        p["rows"].as_u64().unwrap() as usize,
        p["cols"].as_u64().unwrap() as usize,
    );
    let w: Option<Vec<F>> = case["inputs"]
        .get("class_weights")
        .map(|_| input(case, "class_weights"));
    let poly = Poly1 {
        epsilon: p["epsilon"].as_f64().unwrap(),
        class_weights: w.as_deref(),
        ignore_index: p.get("ignore_index").and_then(Value::as_i64),
        label_smoothing: p["label_smoothing"].as_f64().unwrap(),
        smooth_unmasked_only: p
            .get("smooth_unmasked_only")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    let pinned = poly.on(backend).map_err(err)?;
    let got = check_labelled::<F, _>(&pinned, case, "logits")?;
    if let Some(r) = reduction(p, rows) {
        let mut inplace: Vec<F> = input(case, "logits");
        let v = pinned
            .value_and_grad_in_place(&mut inplace, cols, &labels(case), r)
            .map_err(err)?;
        same("in-place value", &[v.to_f64()], &got.value)?;
        same("in-place grad", &widen(&inplace), &got.grad)?;
    }
    if poly.epsilon == 0.0 {
        let ce = CrossEntropy {
            class_weights: poly.class_weights,
            ignore_index: poly.ignore_index,
            label_smoothing: poly.label_smoothing,
            smooth_unmasked_only: poly.smooth_unmasked_only,
            ..CrossEntropy::default()
        };
        let want = check_labelled::<F, _>(&ce.on(backend).map_err(err)?, case, "logits")?;
        same("ε = 0 value vs cross_entropy", &got.value, &want.value)?;
        same("ε = 0 grad vs cross_entropy", &got.grad, &want.grad)?;
    }
    Ok(got)
}

fn kl_div<F: Float>(case: &Value, backend: Backend) -> Result<Got, String> {
    let p = &case["params"];
    let rows = p["rows"].as_u64().unwrap() as usize;
    let x: Vec<F> = input(case, "log_probs");
    let t: Vec<F> = input(case, "target");
    let kl = KlDiv {
        log_target: p["log_target"].as_bool().unwrap_or(false),
    }
    .on(backend)
    .map_err(err)?;
    let mut g = vec![F::ZERO; x.len()];
    match reduction(p, rows) {
        None => {
            let mut v = vec![F::ZERO; x.len()];
            kl.value_elementwise(&x, &t, None, &mut v).map_err(err)?;
            kl.grad(&x, &t, None, Reduction::Sum, &mut g[..])
                .map_err(err)?;
            Ok(Got {
                value: widen(&v),
                grad: widen(&g),
            })
        }
        Some(r) => {
            let (v, _) = (kl.value(&x, &t, None, r).map_err(err)?, ());
            kl.grad(&x, &t, None, r, &mut g[..]).map_err(err)?;
            Ok(Got {
                value: vec![v.to_f64()],
                grad: widen(&g),
            })
        }
    }
}

fn distillation<F: Float>(case: &Value, backend: Backend) -> Result<Got, String> {
    let p = &case["params"];
    let (rows, cols) = (
        p["rows"].as_u64().unwrap() as usize,
        p["cols"].as_u64().unwrap() as usize,
    );
    let s: Vec<F> = input(case, "student_logits");
    let t: Vec<F> = input(case, "teacher_logits");
    let y = labels(case);
    let d = Distillation {
        alpha: p["alpha"].as_f64().unwrap(),
        temperature: p["temperature"].as_f64().unwrap(),
    }
    .on(backend)
    .map_err(err)?;
    let teacher = Teacher {
        logits: &t[..],
        labels: &y[..],
    };
    let r = reduction(p, rows).expect("distillation is reduced");
    let mut g = vec![F::ZERO; s.len()];
    let v = d.value(&s, cols, teacher, r).map_err(err)?;
    d.grad(&s, cols, teacher, r, &mut g[..]).map_err(err)?;
    let mut g2 = vec![F::ZERO; s.len()];
    let v2 = d
        .value_and_grad(&s, cols, teacher, r, &mut g2[..])
        .map_err(err)?;
    same("value_and_grad value", &[v], &[v2])?;
    same("value_and_grad grad", &g, &g2)?;
    Ok(Got {
        value: vec![v.to_f64()],
        grad: widen(&g),
    })
}

/// The expected gradient of a case (its only differentiated input).
fn expected_grad(case: &Value) -> Vec<f64> {
    let g = case["expected"]["grad"].as_object().expect("grad");
    assert_eq!(g.len(), 1, "{}: one differentiated input", case["id"]);
    nums(g.values().next().unwrap())
}

fn run_case<F: Float>(case: &Value, backend: Backend, prec: Prec) -> Result<(), String> {
    let got = match case["loss"].as_str().unwrap() {
        "cross_entropy" => cross_entropy::<F>(case, backend)?,
        "cross_entropy_dense" => cross_entropy_dense::<F>(case, backend)?,
        "softmax_focal" => {
            let p = &case["params"];
            let l = SoftmaxFocal {
                gamma: p["gamma"].as_f64().unwrap(),
                ..SoftmaxFocal::default()
            }
            .on(backend)
            .map_err(err)?;
            check_labelled::<F, _>(&l, case, "logits")?
        }
        "multi_margin" => {
            let p = &case["params"];
            let l = MultiMargin {
                p: p["p"].as_u64().unwrap() as u8,
                margin: p["margin"].as_f64().unwrap(),
                ..MultiMargin::default()
            }
            .on(backend)
            .map_err(err)?;
            check_labelled::<F, _>(&l, case, "logits")?
        }
        "multiclass_hinge" => {
            check_labelled::<F, _>(&MulticlassHinge.on(backend).map_err(err)?, case, "logits")?
        }
        "nll" => {
            let w: Option<Vec<F>> = case["inputs"]
                .get("class_weights")
                .map(|_| input(case, "class_weights"));
            let l = Nll {
                class_weights: w.as_deref(),
                ..Nll::default()
            }
            .on(backend)
            .map_err(err)?;
            check_labelled::<F, _>(&l, case, "log_probs")?
        }
        "kl_div" => kl_div::<F>(case, backend)?,
        "poly1" => poly1::<F>(case, backend)?,
        "distillation" => distillation::<F>(case, backend)?,
        other => return Err(format!("no loss named {other} in losskit")),
    };
    close("value", &got.value, &nums(&case["expected"]["value"]), prec)?;
    close("grad", &got.grad, &expected_grad(case), prec)
}

#[test]
fn softmax_vectors_pass_on_every_backend_in_f32_and_f64() {
    run_vectors("softmax.json", run_case::<f64>, run_case::<f32>);
}

#[test]
fn poly1_vectors_pass_on_every_backend_in_f32_and_f64() {
    run_vectors("poly1.json", run_case::<f64>, run_case::<f32>);
}
