//! Every case of `tests/data/classification.json` (PyTorch float64 autograd; torchvision's
//! focal loss; scikit-learn's modified Huber), on every backend, in f32 and f64, through
//! every verb that the case's expectations cover.

use crate::common::{
    PointwiseCheck, Prec, backends, bits, close, fused_value_and_grad, nums, registered_pointwise,
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

/// The name of the differentiated input: `prob`, `logits` or `scores`.
fn pred_name(inputs: &Value) -> Result<&'static str, String> {
    ["prob", "logits", "scores"]
        .into_iter()
        .find(|k| inputs.get(*k).is_some())
        .ok_or_else(|| format!("no prediction input among {inputs}"))
}

/// What a case's expectations cover, computed by the crate (widened to f64).
struct Got {
    value: Vec<f64>,
    grad: Vec<f64>,
    hess: Option<Vec<f64>>,
}

/// Runs a pointwise loss on one case in precision `F` (with the inputs first rounded to f32
/// when `round_to_f32`): value (or elementwise values), gradient, the Hessian diagonal when
/// the case has one; and checks `value_and_grad` == `value` and `grad` bit for bit.
fn compute<L: PointwiseLoss, F: Float>(
    loss: L,
    case: &Value,
    round_to_f32: bool,
) -> Result<Got, String> {
    let inputs = &case["inputs"];
    let expected = &case["expected"];
    let name = pred_name(inputs)?;
    let get = |v: &Value| -> Vec<F> {
        nums(v)
            .into_iter()
            .map(|x| F::from_f64(if round_to_f32 { x as f32 as f64 } else { x }))
            .collect()
    };
    let pred = get(&inputs[name]);
    let target = get(&inputs["target"]);
    let weight: Option<Vec<F>> = inputs.get("weight").map(get);
    let w = weight.as_deref();
    let n = pred.len();
    let err = |e: losskit::Error| format!("unexpected error {e}");
    let mut grad = vec![F::ZERO; n];
    let mut hess = None;
    let value = match reduction(&case["params"]) {
        None => {
            let mut out = vec![F::ZERO; n];
            loss.value_elementwise(&pred, &target, w, &mut out)
                .map_err(err)?;
            loss.grad(&pred, &target, w, Reduction::Sum, &mut grad[..])
                .map_err(err)?;
            let mut g2 = vec![F::ZERO; n];
            let v = loss
                .value_and_grad(&pred, &target, w, Reduction::Sum, &mut g2[..])
                .map_err(err)?;
            let v1 = loss.value(&pred, &target, w, Reduction::Sum).map_err(err)?;
            if v.to_f64().to_bits() != v1.to_f64().to_bits() || bits(&g2) != bits(&grad) {
                return Err("value_and_grad differs from value + grad".into());
            }
            widen(&out)
        }
        Some(r) => {
            let v = fused_value_and_grad(&loss, (&pred, &target, w), r, &mut grad)?;
            if expected.get("hess_diag").is_some() {
                let mut h = vec![F::ZERO; n];
                loss.hessian_diag(&pred, &target, w, r, &mut h[..])
                    .map_err(err)?;
                hess = Some(widen(&h));
            }
            vec![v.to_f64()]
        }
    };
    Ok(Got {
        value,
        grad: widen(&grad),
        hess,
    })
}

/// `close`, and for f64 also: an element may differ from PyTorch by 10⁻¹⁶ of the array's
/// largest magnitude. PyTorch's focal loss forms `1 − p_t` by subtraction, so its f64
/// gradients of confidently right elements carry absolute errors of that size (e.g.
/// `sigmoid_focal-173` grad[87]: PyTorch −1.0099402831804686e-20, exact
/// −1.00994028332011600e-20 by mpmath, this crate −1.009940283320116e-20).
fn close_f64(what: &str, got: &[f64], want: &[f64]) -> Result<(), String> {
    close(what, got, want, Prec::F64).or_else(|e| {
        let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let ok = got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(&g, &w)| (g - w).abs() <= 1e-10 * w.abs().max(1e-6 * scale) || g == w);
        if ok { Ok(()) } else { Err(e) }
    })
}

/// Checks a pointwise loss against one case.
///
/// f64: against PyTorch's numbers within 1e-10 relative ([`close_f64`]). f32: against
/// PyTorch's numbers within 1e-5 (scale-aware); where that fails because rounding the
/// inputs to f32 moved the exact answer (BCE at `p` within 10⁻⁴ of 1 has condition number
/// ~10⁴), against the f64 evaluation of the same f32-rounded inputs, within 1e-5.
fn check<L: PointwiseLoss, F: Float>(loss: L, case: &Value, prec: Prec) -> Result<(), String> {
    let expected = &case["expected"];
    let name = pred_name(&case["inputs"])?;
    let got = compute::<L, F>(loss, case, false)?;
    let want = Got {
        value: nums(&expected["value"]),
        grad: nums(&expected["grad"][name]),
        hess: expected.get("hess_diag").map(|h| nums(&h[name])),
    };
    let grad_name = format!("grad.{name}");
    if prec == Prec::F64 {
        close_f64("value", &got.value, &want.value)?;
        close_f64(&grad_name, &got.grad, &want.grad)?;
        if let (Some(g), Some(w)) = (&got.hess, &want.hess) {
            close_f64("hess_diag", g, w)?;
        }
        return Ok(());
    }
    let mut rounded: Option<Got> = None;
    let mut f32_check = |what: &str, pick: fn(&Got) -> Option<&Vec<f64>>| -> Result<(), String> {
        let (Some(g), Some(w)) = (pick(&got), pick(&want)) else {
            return Ok(());
        };
        close(what, g, w, prec).or_else(|e| {
            if rounded.is_none() {
                rounded = Some(compute::<L, f64>(loss, case, true)?);
            }
            let r = pick(rounded.as_ref().unwrap()).unwrap();
            close(what, g, r, prec)
                .map_err(|e2| format!("{e}; against f64 on the rounded inputs: {e2}"))
        })
    };
    f32_check("value", |g| Some(&g.value))?;
    f32_check(&grad_name, |g| Some(&g.grad))?;
    f32_check("hess_diag", |g| g.hess.as_ref())
}

fn run_case<F: Float>(case: &Value, backend: Backend, prec: Prec) -> Result<(), String> {
    let name = case["loss"].as_str().unwrap();
    registered_pointwise(
        name,
        &case["params"],
        backend,
        Classification::<F>(case, prec, PhantomData),
    )
    .unwrap_or_else(|| Err(format!("no loss named {name} in losskit")))
}

/// [`check`] in precision `F` on a case, for the registry's lookup.
struct Classification<'c, F>(&'c Value, Prec, PhantomData<F>);

impl<F: Float> PointwiseCheck for Classification<'_, F> {
    fn check<L: PointwiseLoss>(self, loss: L) -> Result<(), String> {
        check::<L, F>(loss, self.0, self.1)
    }
}

#[test]
fn classification_vectors_pass_on_every_backend_in_f32_and_f64() {
    run_vectors("classification.json", run_case::<f64>, run_case::<f32>);
}

// ---------------------------------------------------------------------------------------
// Edges: extreme logits, the focal loss at p_t = 1, BCE at the boundaries, domains.
// ---------------------------------------------------------------------------------------

/// `value_elementwise` and `grad` (Sum) at single points, every backend, one precision.
fn at<L: PointwiseLoss, F: Float>(loss: L, x: f64, y: f64) -> Vec<(f64, f64, f64)> {
    backends()
        .into_iter()
        .map(|b| {
            let l = loss.on(b).unwrap();
            let (p, t) = ([F::from_f64(x)], [F::from_f64(y)]);
            let (mut v, mut g, mut h) = ([F::ZERO], [F::ZERO], [F::ZERO]);
            l.value_elementwise(&p, &t, None, &mut v).unwrap();
            l.grad(&p, &t, None, Reduction::Sum, &mut g[..]).unwrap();
            l.hessian_diag(&p, &t, None, Reduction::Sum, &mut h[..])
                .unwrap();
            (v[0].to_f64(), g[0].to_f64(), h[0].to_f64())
        })
        .collect()
}

#[test]
fn bce_with_logits_at_extreme_logits() {
    let l = BceWithLogits::default();
    let lw = BceWithLogits { pos_weight: 3.0 };
    for big in [1e38, f32::MAX as f64] {
        // Confidently right: value e^−|x| underflows to 0, gradient −0/+0, Hessian 0.
        for (v, g, h) in at::<_, f32>(l, big, 1.0)
            .into_iter()
            .chain(at::<_, f32>(l, -big, 0.0))
            .chain(at::<_, f64>(l, big, 1.0))
        {
            assert_eq!((v, g.abs(), h), (0.0, 0.0, 0.0));
        }
        // Confidently wrong: value |x|, gradient ±1.
        for (v, g, h) in at::<_, f32>(l, big, 0.0) {
            assert_eq!((v, g, h), (big as f32 as f64, 1.0, 0.0));
        }
        for (v, g, _) in at::<_, f32>(l, -big, 1.0) {
            assert_eq!((v, g), (big as f32 as f64, -1.0));
        }
        // pos_weight 3: 3·|x| (+∞ in f32 where it is beyond the range), the gradient is
        // exactly −3.
        for (v, g, _) in at::<_, f32>(lw, -big, 1.0) {
            let want = (3.0 * (big as f32 as f64)) as f32 as f64;
            assert_eq!((v, g), (want, -3.0));
        }
        for (v, g, _) in at::<_, f64>(lw, -big, 1.0) {
            assert_eq!((v, g), (3.0 * big, -3.0));
        }
        // A soft target: (1 − y)·x for x → +big, finite.
        for (v, g, _) in at::<_, f64>(l, big, 0.25) {
            assert_eq!((v, g), (0.75 * big, 0.75));
        }
    }
    // Accurate where PyTorch's form cancels: x = −20, y = 0 is ln(1 + e^−20).
    for (v, g, _) in at::<_, f64>(l, -20.0, 0.0) {
        let want = libm::log1p(libm::exp(-20.0));
        assert!((v - want).abs() <= 1e-15 * want, "{v} vs {want}");
        assert!((g - 1.0 / (1.0 + libm::exp(20.0))).abs() <= 1e-15 * g);
    }
    // And the gradient's small side is not rounded away: x = 40, y = 1 gives −σ(−40).
    for (_, g, _) in at::<_, f64>(l, 40.0, 1.0) {
        let want = -1.0 / (1.0 + libm::exp(40.0));
        assert!((g - want).abs() <= 1e-15 * want.abs(), "{g} vs {want}");
    }
}

#[test]
fn infinite_logits_are_non_finite_errors() {
    for x in [f32::INFINITY, f32::NEG_INFINITY] {
        for y in [0.0f32, 1.0] {
            let mut g = [0.0f32];
            let e = BceWithLogits::default().value_and_grad(
                &[x],
                &[y],
                None,
                Reduction::Sum,
                &mut g[..],
            );
            assert_eq!(
                e,
                Err(Error::NonFinite {
                    name: "pred",
                    index: 0
                })
            );
            let e = SigmoidFocal::default().value(&[x], &[y], None, Reduction::Sum);
            assert_eq!(
                e,
                Err(Error::NonFinite {
                    name: "pred",
                    index: 0
                })
            );
        }
    }
}

#[test]
fn focal_gradient_is_finite_at_p_t_one_for_small_gamma() {
    for gamma in [0.0, 0.25, 0.5, 1.0, 2.0, 3.5] {
        for alpha in [-1.0, 0.25] {
            let l = SigmoidFocal { alpha, gamma };
            // p_t = 1 in the working precision: x far on the right side of its label.
            for (x, y) in [(200.0, 1.0), (-200.0, 0.0), (1e38, 1.0), (-1e38, 0.0)] {
                for (v, g, h) in at::<_, f32>(l, x, y)
                    .into_iter()
                    .chain(at::<_, f64>(l, x, y))
                {
                    assert!(
                        v.is_finite() && g.is_finite() && h.is_finite(),
                        "γ={gamma} α={alpha} x={x} y={y}: {v} {g} {h}"
                    );
                    assert!((0.0..1e-80).contains(&v), "{v}");
                }
            }
            // At γ = 0 the gradient is BCE's, α_t·(p − y): at x = 30, y = 1 it is −α_t·σ(−30).
            if gamma == 0.0 {
                let at_ = if alpha < 0.0 { 1.0 } else { alpha };
                for (_, g, _) in at::<_, f64>(l, 30.0, 1.0) {
                    let want = -at_ / (1.0 + libm::exp(30.0));
                    assert!((g - want).abs() <= 1e-15 * want.abs(), "{g} vs {want}");
                }
            }
            // Confidently wrong at ±1e38: finite value (α_t·|x|), gradient ±α_t.
            for (v, g, h) in at::<_, f32>(l, 1e38, 0.0) {
                let at_ = if alpha < 0.0 { 1.0 } else { 1.0 - alpha };
                assert_eq!(v, (at_ * 1e38f32 as f64) as f32 as f64);
                assert!((g - at_).abs() <= 1e-6, "{g}");
                assert!(h.is_finite());
            }
        }
    }
}

#[test]
fn bce_at_the_boundaries() {
    // (p, y) → (value, gradient): the −100 log clamp, the 1e−12 gradient guard.
    let cases = [
        (0.0, 1.0, 100.0, -1e12),
        (1.0, 0.0, 100.0, 1e12),
        (0.0, 0.0, 0.0, 1.0),
        (1.0, 1.0, 0.0, -1.0),
        (0.0, 0.5, 50.0, -0.5e12 + 0.5),
    ];
    for (p, y, v_want, g_want) in cases {
        for (v, g, h) in at::<_, f64>(Bce, p, y) {
            assert_eq!(v, v_want, "p={p} y={y}");
            assert!(
                (g - g_want).abs() <= 1e-15 * g_want.abs(),
                "p={p} y={y}: {g}"
            );
            assert!(h.is_finite() && h > 0.0);
        }
        for (v, g, h) in at::<_, f32>(Bce, p, y) {
            assert!(
                (v - v_want).abs() <= 1e-5 * v_want.max(1.0),
                "f32 p={p} y={y}"
            );
            assert!(
                (g - g_want).abs() <= 1e-6 * g_want.abs(),
                "f32 p={p} y={y}: {g}"
            );
            assert!(h.is_finite() && h > 0.0);
        }
    }
}

#[test]
fn inputs_outside_the_domain_are_located() {
    let bad = |r: losskit::Result<f64>| match r {
        Err(Error::InvalidInput { name, index }) => Some((name, index)),
        _ => None,
    };
    let p = [0.5, 0.5, 0.5];
    assert_eq!(
        bad(Bce.value(&[0.5, 1.5, 0.5], &[1.0; 3], None, Reduction::Sum)),
        Some(("pred", 1))
    );
    assert_eq!(
        bad(Bce.value(&[0.5, -0.0, -1e-30], &[1.0; 3], None, Reduction::Sum)),
        Some(("pred", 2))
    );
    assert_eq!(
        bad(Bce.value(&p, &[0.0, 1.0, 1.0 + 1e-15], None, Reduction::Sum)),
        Some(("target", 2))
    );
    assert_eq!(
        bad(BceWithLogits::default().value(&p, &[0.0, -0.5, 1.0], None, Reduction::Sum)),
        Some(("target", 1))
    );
    assert_eq!(
        bad(SigmoidFocal::default().value(&p, &[2.0, 0.5, 1.0], None, Reduction::Sum)),
        Some(("target", 0))
    );
    for t in [0.0, 0.5, 2.0, -2.0] {
        let y = [1.0, -1.0, t];
        let want = Some(("target", 2));
        assert_eq!(bad(SoftMargin.value(&p, &y, None, Reduction::Sum)), want);
        assert_eq!(bad(Hinge.value(&p, &y, None, Reduction::Sum)), want);
        assert_eq!(bad(SquaredHinge.value(&p, &y, None, Reduction::Sum)), want);
        assert_eq!(bad(SmoothHinge.value(&p, &y, None, Reduction::Sum)), want);
        assert_eq!(bad(ModifiedHuber.value(&p, &y, None, Reduction::Sum)), want);
    }
}

#[test]
fn parameters_are_checked() {
    let x = [0.0f64];
    let y = [1.0f64];
    let param = |r: losskit::Result<f64>| match r {
        Err(Error::InvalidParameter { name, .. }) => Some(name),
        _ => None,
    };
    for pw in [-1.0, f64::NAN, f64::INFINITY] {
        let l = BceWithLogits { pos_weight: pw };
        assert_eq!(
            param(l.value(&x, &y, None, Reduction::Sum)),
            Some("pos_weight")
        );
    }
    // α outside [0, 1] is an error, but for −1 (`SigmoidFocal::UNBALANCED`): torchvision takes
    // every negative α as "off", so a mistyped −0.25 would silently drop the balancing.
    for (alpha, gamma, name) in [
        (1.5, 2.0, "alpha"),
        (-0.25, 2.0, "alpha"),
        (-1.5, 2.0, "alpha"),
        (-1e-300, 2.0, "alpha"),
        (f64::NAN, 2.0, "alpha"),
        (f64::NEG_INFINITY, 2.0, "alpha"),
        (0.25, -0.5, "gamma"),
        (0.25, f64::INFINITY, "gamma"),
    ] {
        let l = SigmoidFocal { alpha, gamma };
        assert_eq!(param(l.value(&x, &y, None, Reduction::Sum)), Some(name));
    }
    assert!(
        SigmoidFocal {
            alpha: SigmoidFocal::UNBALANCED,
            gamma: 2.0
        }
        .value(&x, &y, None, Reduction::Sum)
        .is_ok()
    );
    // α = 1 and α = 0 are valid (only one class counted), as are γ = 0 and pos_weight = 0.
    assert!(
        SigmoidFocal {
            alpha: 1.0,
            gamma: 0.0
        }
        .value(&x, &y, None, Reduction::Sum)
        .is_ok()
    );
    assert!(
        BceWithLogits { pos_weight: 0.0 }
            .value(&x, &y, None, Reduction::Sum)
            .is_ok()
    );
}

/// Multi-label BCE with per-class `pos_weight` and `weight` broadcast over rows
/// (`BCEWithLogitsLoss(weight=[C], pos_weight=[C])`) and `MultiLabelSoftMarginLoss`, against
/// the f64 formulas evaluated per element.
mod multilabel {
    use super::*;

    /// Deterministic inputs: logits in about ±12, soft targets, per-class weights.
    fn data(rows: usize, classes: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ (rows * 131 + classes) as u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = rows * classes;
        let x = (0..n).map(|_| (next() - 0.5) * 24.0).collect();
        let y = (0..n)
            .map(|i| {
                if i % 3 == 0 {
                    next()
                } else {
                    (next() < 0.4) as u8 as f64
                }
            })
            .collect();
        let pw = (0..classes)
            .map(|c| if c == 1 { 0.0 } else { 0.25 + 4.0 * next() })
            .collect();
        let w = (0..classes).map(|_| 2.0 * next()).collect();
        (x, y, pw, w)
    }

    fn sigma(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// Per element: (value, ∂/∂x, ∂²/∂x²) in f64.
    fn reference(x: f64, y: f64, pw: f64, w: f64) -> (f64, f64, f64) {
        let c = 1.0 + (pw - 1.0) * y;
        (
            w * losskit::reference::classification::bce_with_logits(x, y, pw),
            w * (c * sigma(x) - pw * y),
            w * c * sigma(x) * sigma(-x),
        )
    }

    fn cast<F: Float>(x: &[f64]) -> Vec<F> {
        x.iter().map(|&v| F::from_f64(v)).collect()
    }

    fn check_shape<F: Float>(
        backend: Backend,
        prec: Prec,
        rows: usize,
        classes: usize,
    ) -> Result<(), String> {
        let (x, y, pw, w) = data(rows, classes);
        let (xf, yf, pwf, wf) = (cast::<F>(&x), cast::<F>(&y), cast::<F>(&pw), cast::<F>(&w));
        // The reference runs on the inputs as the precision under test holds them.
        let (x, y, pw, w) = (widen(&xf), widen(&yf), widen(&pwf), widen(&wf));
        let n = rows * classes;
        for (use_pw, use_w) in [(false, false), (true, false), (false, true), (true, true)] {
            let at = |i: usize| {
                let c = i % classes;
                reference(
                    x[i],
                    y[i],
                    if use_pw { pw[c] } else { 1.0 },
                    if use_w { w[c] } else { 1.0 },
                )
            };
            let want: Vec<(f64, f64, f64)> = (0..n).map(at).collect();
            let sum: f64 = want.iter().map(|t| t.0).sum();
            let loss = MultiLabelBceWithLogits {
                pos_weight: use_pw.then_some(&pwf[..]),
                class_weights: use_w.then_some(&wf[..]),
            }
            .on(backend)
            .map_err(|e| e.to_string())?;
            let tag = format!("{backend:?} {rows}x{classes} pw={use_pw} w={use_w}");
            for (red, scale) in [
                (Reduction::Mean, 1.0 / n as f64),
                (Reduction::Sum, 1.0),
                (Reduction::Divisor(3.0), 1.0 / 3.0),
            ] {
                let mut g = vec![F::ZERO; n];
                let v = loss
                    .value_and_grad(&xf, classes, &yf, red, &mut g[..])
                    .map_err(|e| format!("{tag}: {e}"))?;
                close(
                    &format!("{tag} {red:?} value"),
                    &[v.to_f64()],
                    &[sum * scale],
                    prec,
                )?;
                let gw: Vec<f64> = want.iter().map(|t| t.1 * scale).collect();
                close(&format!("{tag} {red:?} grad"), &widen(&g), &gw, prec)?;
                let mut h = vec![F::ZERO; n];
                loss.hessian_diag(&xf, classes, &yf, red, &mut h[..])
                    .map_err(|e| format!("{tag}: {e}"))?;
                let hw: Vec<f64> = want.iter().map(|t| t.2 * scale).collect();
                close(&format!("{tag} {red:?} hess"), &widen(&h), &hw, prec)?;
                // The fused verb is the separate verbs, bit for bit.
                let mut g2 = vec![F::ZERO; n];
                loss.grad(&xf, classes, &yf, red, &mut g2[..])
                    .map_err(|e| e.to_string())?;
                let v2 = loss
                    .value(&xf, classes, &yf, red)
                    .map_err(|e| e.to_string())?;
                if bits(&g) != bits(&g2) || v.to_f64().to_bits() != v2.to_f64().to_bits() {
                    return Err(format!("{tag} {red:?}: value_and_grad != (value, grad)"));
                }
            }
            let mut out = vec![F::ZERO; n];
            loss.value_elementwise(&xf, classes, &yf, &mut out)
                .map_err(|e| e.to_string())?;
            let ew: Vec<f64> = want.iter().map(|t| t.0).collect();
            close(&format!("{tag} elementwise"), &widen(&out), &ew, prec)?;

            // The soft margin averages each row over its classes, then reduces over rows.
            let sm = MultiLabelSoftMargin {
                pos_weight: use_pw.then_some(&pwf[..]),
                class_weights: use_w.then_some(&wf[..]),
            }
            .on(backend)
            .map_err(|e| e.to_string())?;
            let per_row: Vec<f64> = ew
                .chunks(classes)
                .map(|r| r.iter().sum::<f64>() / classes as f64)
                .collect();
            let mut out = vec![F::ZERO; rows];
            sm.value_elementwise(&xf, classes, &yf, &mut out)
                .map_err(|e| e.to_string())?;
            close(
                &format!("{tag} soft margin per row"),
                &widen(&out),
                &per_row,
                prec,
            )?;
            for (red, div) in [
                (Reduction::Mean, rows as f64),
                (Reduction::Sum, 1.0),
                (Reduction::Divisor(5.0), 5.0),
            ] {
                let mut g = vec![F::ZERO; n];
                let v = sm
                    .value_and_grad(&xf, classes, &yf, red, &mut g[..])
                    .map_err(|e| e.to_string())?;
                let total: f64 = per_row.iter().sum();
                close(
                    &format!("{tag} soft margin {red:?}"),
                    &[v.to_f64()],
                    &[total / div],
                    prec,
                )?;
                let gw: Vec<f64> = want.iter().map(|t| t.1 / (classes as f64 * div)).collect();
                close(
                    &format!("{tag} soft margin {red:?} grad"),
                    &widen(&g),
                    &gw,
                    prec,
                )?;
            }
        }
        Ok(())
    }

    #[test]
    fn per_class_tensors_broadcast_over_rows_on_every_backend() {
        let mut failures = Vec::new();
        for backend in backends() {
            for (rows, classes) in [(1, 1), (1, 9), (3, 2), (4, 7), (5, 8), (2, 17), (6, 33)] {
                for r in [
                    check_shape::<f64>(backend, Prec::F64, rows, classes),
                    check_shape::<f32>(backend, Prec::F32, rows, classes),
                ] {
                    if let Err(e) = r {
                        failures.push(e);
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn errors_name_the_flattened_index_and_leave_outputs_as_promised() {
        let classes = 5;
        let (x, y, pw, _) = data(4, classes);
        let loss = MultiLabelBceWithLogits {
            pos_weight: Some(&pw[..]),
            ..Default::default()
        };
        // NaN at row 2, class 3.
        let mut bad = x.clone();
        bad[2 * classes + 3] = f64::NAN;
        let mut g = vec![7.0; x.len()];
        assert_eq!(
            loss.value_and_grad(&bad, classes, &y, Reduction::Mean, &mut g[..]),
            Err(Error::NonFinite {
                name: "pred",
                index: 13
            })
        );
        assert!(
            g.iter().all(|&v| v == 0.0),
            "write mode resets the gradient"
        );
        let mut g = vec![7.0; x.len()];
        assert_eq!(
            loss.grad(&bad, classes, &y, Reduction::Mean, Out::add(&mut g)),
            Err(Error::NonFinite {
                name: "pred",
                index: 13
            })
        );
        assert!(
            g.iter().all(|&v| v == 7.0),
            "accumulate mode leaves the gradient alone"
        );
        // A target outside [0, 1] in the last row.
        let mut yb = y.clone();
        yb[3 * classes + 1] = 1.5;
        assert_eq!(
            loss.value(&x, classes, &yb, Reduction::Sum),
            Err(Error::InvalidInput {
                name: "target",
                index: 16
            })
        );
        let mut per_row = vec![7.0; 4];
        assert_eq!(
            MultiLabelSoftMargin::default().value_elementwise(&x, classes, &yb, &mut per_row),
            Err(Error::InvalidInput {
                name: "target",
                index: 16
            })
        );
        assert_eq!(per_row, [0.0; 4]);
        // Per-class tensors are checked before anything runs.
        let mut pwb = pw.clone();
        pwb[2] = -1.0;
        let l = MultiLabelBceWithLogits {
            pos_weight: Some(&pwb[..]),
            ..Default::default()
        };
        let mut g = vec![7.0; x.len()];
        assert_eq!(
            l.grad(&x, classes, &y, Reduction::Mean, &mut g[..]),
            Err(Error::InvalidInput {
                name: "pos_weight",
                index: 2
            })
        );
        assert_eq!(g, vec![7.0; x.len()]);
        let l = MultiLabelBceWithLogits {
            class_weights: Some(&pw[..4]),
            ..Default::default()
        };
        assert_eq!(
            l.value(&x, classes, &y, Reduction::Mean),
            Err(Error::LengthMismatch {
                name: "class_weights",
                expected: 5,
                found: 4
            })
        );
        let plain = MultiLabelBceWithLogits::<f64>::default();
        assert_eq!(
            plain.value(&x[..7], classes, &y[..7], Reduction::Mean),
            Err(Error::LengthMismatch {
                name: "logits",
                expected: 10,
                found: 7
            })
        );
        assert_eq!(plain.value(&x, 0, &y, Reduction::Mean), Err(Error::Empty));
        assert_eq!(plain.value(&[], 3, &[], Reduction::Mean), Err(Error::Empty));
        assert_eq!(
            plain.value(&x, classes, &y[1..], Reduction::Mean),
            Err(Error::LengthMismatch {
                name: "target",
                expected: 20,
                found: 19
            })
        );
        let mut short = vec![0.0; 3];
        assert_eq!(
            MultiLabelSoftMargin::default().value_elementwise(&x, classes, &y, &mut short),
            Err(Error::LengthMismatch {
                name: "out",
                expected: 4,
                found: 3
            })
        );
    }

    #[test]
    fn extreme_logits_stay_finite() {
        // |x| = 1e38 in f32 with every pos_weight: the true values are finite (or +inf
        // only where w₊·y·|x| overflows, not here).
        let x = [1e38f32, -1e38, 3.0e38, -3.0e38];
        let y = [0.0f32, 1.0, 1.0, 0.0];
        let pw = [0.5f32, 0.5];
        let l = MultiLabelBceWithLogits {
            pos_weight: Some(&pw[..]),
            ..Default::default()
        };
        let mut g = [0.0f32; 4];
        let v = l
            .value_and_grad(&x, 2, &y, Reduction::Sum, &mut g[..])
            .unwrap();
        assert!(v.is_finite(), "{v}");
        assert_eq!(g, [1.0, -0.5, 0.0, 0.0]);
    }
}
