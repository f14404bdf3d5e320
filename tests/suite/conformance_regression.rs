//! Every case of `tests/data/regression.json` (PyTorch float64 autograd) and
//! `tests/data/tweedie_gamma.json` (mpmath), on every backend, in f32 and f64, through every
//! verb that the case's expectations cover.

use crate::common::{
    PointwiseCheck, Prec, cast, close, fused_value_and_grad, num, nums, registered_pointwise,
    run_vectors, widen,
};
use losskit::prelude::*;
use serde_json::Value;
use std::marker::PhantomData;

fn reduction(params: &Value) -> Option<Reduction> {
    match params["reduction"].as_str().unwrap_or("mean") {
        "sum" => Some(Reduction::Sum),
        "mean" => Some(Reduction::Mean),
        _ => None,
    }
}

/// Checks a two-input pointwise loss against one case (with the case's per-element `weight`
/// input where it has one).
pub(crate) fn check_pointwise<L: PointwiseLoss, F: Float>(
    loss: L,
    case: &Value,
    prec: Prec,
) -> Result<(), String> {
    let inputs = &case["inputs"];
    let expected = &case["expected"];
    let pred: Vec<F> = cast(&nums(&inputs["pred"]));
    let target: Vec<F> = cast(&nums(&inputs["target"]));
    let weight: Option<Vec<F>> = inputs.get("weight").map(|w| cast(&nums(w)));
    let w = weight.as_deref();
    let n = pred.len();
    let err = |e: losskit::Error| format!("unexpected error {e}");
    let want_grad = nums(&expected["grad"]["pred"]);
    let mut grad = vec![F::ZERO; n];
    match reduction(&case["params"]) {
        None => {
            let mut out = vec![F::ZERO; n];
            loss.value_elementwise(&pred, &target, w, &mut out)
                .map_err(err)?;
            close("value", &widen(&out), &nums(&expected["value"]), prec)?;
            loss.grad(&pred, &target, w, Reduction::Sum, &mut grad[..])
                .map_err(err)?;
        }
        Some(r) => {
            let v = fused_value_and_grad(&loss, (&pred, &target, w), r, &mut grad)?;
            close("value", &[v.to_f64()], &[num(&expected["value"])], prec)?;
            if let Some(h) = expected.get("hess_diag") {
                let mut hess = vec![F::ZERO; n];
                loss.hessian_diag(&pred, &target, w, r, &mut hess[..])
                    .map_err(err)?;
                close("hess_diag", &widen(&hess), &nums(&h["pred"]), prec)?;
            }
        }
    }
    close("grad.pred", &widen(&grad), &want_grad, prec)?;
    if let Some(gt) = expected["grad"].get("target") {
        // For the residual losses ℓ(p − t), ∂ℓ/∂t = −∂ℓ/∂p.
        let neg: Vec<f64> = widen(&grad).iter().map(|g| -g).collect();
        close("grad.target", &neg, &nums(gt), prec)?;
    }
    Ok(())
}

fn check_gaussian<F: Float>(loss: On<GaussianNll>, case: &Value, prec: Prec) -> Result<(), String> {
    let inputs = &case["inputs"];
    let expected = &case["expected"];
    let pred: Vec<F> = cast(&nums(&inputs["pred"]));
    let target: Vec<F> = cast(&nums(&inputs["target"]));
    let var: Vec<F> = cast(&nums(&inputs["var"]));
    let n = pred.len();
    let err = |e: losskit::Error| format!("unexpected error {e}");
    let r = reduction(&case["params"]).unwrap_or(Reduction::Sum);
    let (mut gp, mut gv) = (vec![F::ZERO; n], vec![F::ZERO; n]);
    let v = loss
        .value_and_grad(
            &pred,
            &target,
            &var,
            r,
            &mut gp[..],
            Some(Out::write(&mut gv)),
        )
        .map_err(err)?;
    if reduction(&case["params"]).is_some() {
        close("value", &[v.to_f64()], &[num(&expected["value"])], prec)?;
        let v1 = loss.value(&pred, &target, &var, r).map_err(err)?;
        if v1.to_f64().to_bits() != v.to_f64().to_bits() {
            return Err("value_and_grad value differs from value".into());
        }
    } else {
        let mut out = vec![F::ZERO; n];
        loss.value_elementwise(&pred, &target, &var, &mut out)
            .map_err(err)?;
        close("value", &widen(&out), &nums(&expected["value"]), prec)?;
    }
    close(
        "grad.pred",
        &widen(&gp),
        &nums(&expected["grad"]["pred"]),
        prec,
    )?;
    close(
        "grad.var",
        &widen(&gv),
        &nums(&expected["grad"]["var"]),
        prec,
    )
}

fn run_case<F: Float>(case: &Value, backend: Backend, prec: Prec) -> Result<(), String> {
    let p = &case["params"];
    let f = |k: &str, d: f64| p.get(k).and_then(Value::as_f64).unwrap_or(d);
    let b = |k: &str, d: bool| p.get(k).and_then(Value::as_bool).unwrap_or(d);
    let on = |e: losskit::Error| format!("{e}");
    match case["loss"].as_str().unwrap() {
        "gaussian_nll" => {
            let l = GaussianNll {
                full: b("full", false),
                eps: f("eps", 1e-6),
            };
            check_gaussian::<F>(l.on(backend).map_err(on)?, case, prec)
        }
        other => registered_pointwise(other, p, backend, Pointwise::<F>(case, prec, PhantomData))
            .unwrap_or_else(|| Err(format!("no loss named {other} in losskit"))),
    }
}

/// [`check_pointwise`] in precision `F` on a case, for the registry's lookup.
pub(crate) struct Pointwise<'c, F>(pub &'c Value, pub Prec, pub PhantomData<F>);

impl<F: Float> PointwiseCheck for Pointwise<'_, F> {
    fn check<L: PointwiseLoss>(self, loss: L) -> Result<(), String> {
        check_pointwise::<L, F>(loss, self.0, self.1)
    }
}

#[test]
fn regression_vectors_pass_on_every_backend_in_f32_and_f64() {
    run_vectors("regression.json", run_case::<f64>, run_case::<f32>);
}

/// The Tweedie and gamma losses against mpmath (`scripts/vectors_tweedie_gamma.py`).
#[test]
fn tweedie_gamma_vectors_pass_on_every_backend_in_f32_and_f64() {
    run_vectors("tweedie_gamma.json", run_case::<f64>, run_case::<f32>);
}
