//! Every case of `tests/data/extra.json` (mpmath at 50 digits from the formulas,
//! `scripts/vectors_extra.py`; the inputs are f32 numbers, so both precisions solve the
//! same exact problem), on every backend, in f32 and f64. Expectile and pseudo-Huber go
//! through the regression runner; the multi-label losses through every verb their
//! expectations cover, checking that `value_and_grad` equals `value` and `grad` bit for bit.

use crate::common::{
    Prec, cast, close, err, nums, registered_pointwise, run_vectors, same_bits, widen,
};
use crate::conformance_regression::Pointwise;
use losskit::prelude::*;
use serde_json::Value;
use std::marker::PhantomData;

/// Runs a multi-label loss on one case: for reduction "none" the per-element (per-row for
/// the soft margin) values and the gradient of their sum; otherwise the reduced value, the
/// gradient from `grad` and from `value_and_grad`, and the Hessian diagonal.
fn check_multilabel<
    F: Float,
    L: for<'y> RowHessianDiag<F, &'y [F]> + for<'y> RowElementwise<F, &'y [F]>,
>(
    loss: &L,
    case: &Value,
    prec: Prec,
) -> Result<(), String> {
    let (inputs, expected, p) = (&case["inputs"], &case["expected"], &case["params"]);
    let cols = p["cols"].as_u64().expect("cols") as usize;
    let x: Vec<F> = cast(&nums(&inputs["logits"]));
    let y: Vec<F> = cast(&nums(&inputs["target"]));
    let want_value = nums(&expected["value"]);
    let mut g = vec![F::ZERO; x.len()];
    let reduction = match p["reduction"].as_str().expect("reduction") {
        "sum" => Reduction::Sum,
        "mean" => Reduction::Mean,
        _ => {
            // As many outputs as the expectation lists: rows · cols, or rows.
            let mut out = vec![F::ZERO; want_value.len()];
            loss.value_elementwise(&x, cols, &y[..], &mut out)
                .map_err(err)?;
            close("value", &widen(&out), &want_value, prec)?;
            loss.grad(&x, cols, &y[..], Reduction::Sum, &mut g)
                .map_err(err)?;
            return close("grad", &widen(&g), &nums(&expected["grad"]["logits"]), prec);
        }
    };
    let v = loss.value(&x, cols, &y[..], reduction).map_err(err)?;
    close("value", &[v.to_f64()], &want_value, prec)?;
    loss.grad(&x, cols, &y[..], reduction, &mut g)
        .map_err(err)?;
    close("grad", &widen(&g), &nums(&expected["grad"]["logits"]), prec)?;
    let mut g2 = vec![F::ZERO; x.len()];
    let v2 = loss
        .value_and_grad(&x, cols, &y[..], reduction, &mut g2)
        .map_err(err)?;
    same_bits("value_and_grad value", &[v], &[v2])?;
    same_bits("value_and_grad grad", &g, &g2)?;
    if let Some(h) = expected.get("hess_diag") {
        let mut hess = vec![F::ZERO; x.len()];
        loss.hessian_diag(&x, cols, &y[..], reduction, &mut hess)
            .map_err(err)?;
        close("hess_diag", &widen(&hess), &nums(&h["logits"]), prec)?;
    }
    Ok(())
}

fn run_case<F: Float>(case: &Value, backend: Backend, prec: Prec) -> Result<(), String> {
    let p = &case["params"];
    let on = |e: losskit::Error| format!("{e}");
    let per_class = |k: &str| -> Option<Vec<F>> { case["inputs"].get(k).map(|v| cast(&nums(v))) };
    let (pos_weight, class_weights) = (per_class("pos_weight"), per_class("class_weights"));
    match case["loss"].as_str().unwrap() {
        "multilabel_bce_with_logits" => {
            let l = MultiLabelBceWithLogits {
                pos_weight: pos_weight.as_deref(),
                class_weights: class_weights.as_deref(),
            };
            check_multilabel::<F, _>(&l.on(backend).map_err(on)?, case, prec)
        }
        "multilabel_soft_margin" => {
            let l = MultiLabelSoftMargin {
                pos_weight: pos_weight.as_deref(),
                class_weights: class_weights.as_deref(),
            };
            check_multilabel::<F, _>(&l.on(backend).map_err(on)?, case, prec)
        }
        other => registered_pointwise(other, p, backend, Pointwise::<F>(case, prec, PhantomData))
            .unwrap_or_else(|| Err(format!("no loss named {other} in losskit"))),
    }
}

#[test]
fn extra_vectors_pass_on_every_backend_in_f32_and_f64() {
    run_vectors("extra.json", run_case::<f64>, run_case::<f32>);
}
