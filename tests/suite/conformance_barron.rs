//! Every case of `tests/data/barron.json` (mpmath, 50 digits: `scripts/vectors_barron.py`)
//! on every backend, in f32 and f64: the value (reduced or per element), the gradient and
//! Hessian diagonal with respect to `pred`, and the gradient with respect to `α` through
//! each of its verbs, with weights where the case has them.

use crate::common::{
    Prec, cast, close, fused_value_and_grad, num, nums, run_vectors, same_bits, widen,
};
use losskit::prelude::*;
use serde_json::Value;

fn run_case<F: Float>(case: &Value, backend: Backend, prec: Prec) -> Result<(), String> {
    let p = &case["params"];
    let inputs = &case["inputs"];
    let expected = &case["expected"];
    let loss = Barron {
        alpha: num(&p["alpha"]),
        scale: num(&p["scale"]),
    }
    .on(backend)
    .map_err(|e| format!("{e}"))?;
    let pred: Vec<F> = cast(&nums(&inputs["pred"]));
    let target: Vec<F> = cast(&nums(&inputs["target"]));
    let weight: Option<Vec<F>> = inputs.get("weight").map(|w| cast(&nums(w)));
    let w = weight.as_deref();
    let n = pred.len();
    let err = |e: losskit::Error| format!("unexpected error {e}");
    let mut grad = vec![F::ZERO; n];
    let mut dalpha = vec![F::ZERO; n];
    match p["reduction"].as_str().unwrap() {
        "none" => {
            let mut out = vec![F::ZERO; n];
            loss.value_elementwise(&pred, &target, w, &mut out)
                .map_err(err)?;
            close("value", &widen(&out), &nums(&expected["value"]), prec)?;
            loss.grad(&pred, &target, w, Reduction::Sum, &mut grad[..])
                .map_err(err)?;
            let total = loss
                .grad_alpha_elementwise(&pred, &target, w, Reduction::Sum, &mut dalpha[..])
                .map_err(err)?;
            let want = nums(&expected["dalpha"]);
            close("dalpha", &widen(&dalpha), &want, prec)?;
            let sum = loss
                .grad_alpha(&pred, &target, w, Reduction::Sum)
                .map_err(err)?;
            if sum.to_f64().to_bits() != total.to_f64().to_bits() {
                return Err(format!(
                    "grad_alpha {sum} != grad_alpha_elementwise's sum {total}"
                ));
            }
            let want_sum: f64 = want.iter().sum();
            close("dalpha sum", &[total.to_f64()], &[want_sum], prec)?;
        }
        r => {
            let r = if r == "sum" {
                Reduction::Sum
            } else {
                Reduction::Mean
            };
            let v = fused_value_and_grad(&loss, (&pred, &target, w), r, &mut grad)?;
            close("value", &[v.to_f64()], &[num(&expected["value"])], prec)?;
            let mut hess = vec![F::ZERO; n];
            loss.hessian_diag(&pred, &target, w, r, &mut hess[..])
                .map_err(err)?;
            close(
                "hess_diag",
                &widen(&hess),
                &nums(&expected["hess_diag"]["pred"]),
                prec,
            )?;
            let d = loss.grad_alpha(&pred, &target, w, r).map_err(err)?;
            close("dalpha", &[d.to_f64()], &[num(&expected["dalpha"])], prec)?;
            // The fused call returns what the separate ones do, bit for bit.
            let mut g3 = vec![F::ZERO; n];
            let (v3, d3) = loss
                .value_and_grads(&pred, &target, w, r, &mut g3[..])
                .map_err(err)?;
            if (v3.to_f64().to_bits(), d3.to_f64().to_bits())
                != (v.to_f64().to_bits(), d.to_f64().to_bits())
            {
                return Err(format!("value_and_grads ({v3}, {d3}) != ({v}, {d})"));
            }
            same_bits("value_and_grads's gradient", &grad, &g3)?;
            // The elementwise form sums to the same dL/dα; its elements carry the reduction.
            let d4 = loss
                .grad_alpha_elementwise(&pred, &target, w, r, &mut dalpha[..])
                .map_err(err)?;
            if d4.to_f64().to_bits() != d.to_f64().to_bits() {
                return Err(format!(
                    "grad_alpha_elementwise's sum {d4} != grad_alpha {d}"
                ));
            }
        }
    }
    close(
        "grad.pred",
        &widen(&grad),
        &nums(&expected["grad"]["pred"]),
        prec,
    )
}

#[test]
fn barron_vectors_pass_on_every_backend_in_f32_and_f64() {
    run_vectors("barron.json", run_case::<f64>, run_case::<f32>);
}
