#!/usr/bin/env python3
"""Writes tests/data/extra.json: conformance vectors for the losses PyTorch lacks (expectile,
pseudo-Huber) or has only in a form whose float64 result is not accurate at the edges
(BCEWithLogitsLoss / MultiLabelSoftMarginLoss with per-class weight and pos_weight),
computed from the formulas with mpmath at 50 significant digits and rounded once to float64.

Run from the repository root (needs mpmath; deterministic, so a rerun reproduces the file):

    python3 scripts/vectors_extra.py

Every input is a float32 number, so the f32 and f64 runs of the crate solve the same exact
problem; only the parameters (`tau`, `delta`) are rounded by the f32 kernels. Magnitudes stay
inside float32's range (a term beyond it is +inf in f32 by the numerics policy). The closed
forms of each gradient and Hessian are checked against mpmath's numerical derivatives of the
loss before anything is written.

Schema: tests/data/README.md. Gradients are of the reduced value (of the sum for reduction
"none"); `hess_diag` is given for "sum" and "mean".
"""
import json
import os
import random
import struct

from mpmath import diff, exp, log1p, mp, mpf, sqrt

mp.dps = 50

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "extra.json")
REDUCTIONS = ["none", "sum", "mean"]


def f32(x):
    """`x` rounded to the nearest float32 (as a Python float)."""
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def num(x):
    """An mpf rounded once to the nearest float64."""
    return float(x)


# ---------------------------------------------------------------------------------------
# Per-element formulas (value, d/dpred, d²/dpred²) in mpmath.
# ---------------------------------------------------------------------------------------


def expectile(p, t, tau):
    """|τ − 1{r<0}|·r², r = t − p (Newey & Powell; XGBoost reg:expectileerror)."""
    r = mpf(t) - mpf(p)
    w = (1 - mpf(tau)) if r < 0 else mpf(tau)
    return w * r * r, -2 * w * r, 2 * w


def pseudo_huber(p, t, delta):
    """δ²(√(1 + (r/δ)²) − 1), r = p − t (Charbonnier; XGBoost reg:pseudohubererror)."""
    r = mpf(p) - mpf(t)
    d = mpf(delta)
    s = sqrt(1 + (r / d) ** 2)
    return d * d * (s - 1), r / s, 1 / s**3


def softplus(z):
    z = mpf(z)
    # ln(1 + e^z) without forming 1 + e^z for z ≪ 0 (log1p keeps e^z's digits).
    return z + log1p(exp(-z)) if z > 0 else log1p(exp(z))


def sigmoid(x):
    return 1 / (1 + exp(-mpf(x)))


def bce_logits(x, y, pw, w):
    """w·(pw·y·softplus(−x) + (1 − y)·softplus(x)) = −w·(pw·y·ln σ(x) + (1 − y)·ln σ(−x))."""
    x, y, pw, w = mpf(x), mpf(y), mpf(pw), mpf(w)
    c = 1 + (pw - 1) * y
    value = w * (pw * y * softplus(-x) + (1 - y) * softplus(x))
    grad = w * (c * sigmoid(x) - pw * y)
    hess = w * c * sigmoid(x) * sigmoid(-x)
    return value, grad, hess


def check_derivatives(f, x, value, grad, hess, kink=False):
    """The closed forms agree with mpmath's numerical derivatives of the value."""
    scale = 1 + abs(value) + abs(mpf(x))
    g = diff(f, mpf(x))
    assert abs(g - grad) <= mpf(10) ** -25 * scale, (x, g, grad)
    if not kink:
        h = diff(f, mpf(x), 2)
        assert abs(h - hess) <= mpf(10) ** -20 * scale * scale, (x, h, hess)


# ---------------------------------------------------------------------------------------
# Cases.
# ---------------------------------------------------------------------------------------

cases = []


def add(loss, params, inputs, expected, note):
    cases.append(
        {
            "id": f"{loss}-{len(cases)}",
            "loss": loss,
            "params": params,
            "inputs": inputs,
            "expected": expected,
            "note": note,
        }
    )


NOTES = {
    "expectile": "sum or mean of weight·|tau − 1{r<0}|·r², r = target − pred; "
    "hess_diag 2·|tau − 1{r<0}| (r = 0 takes tau); mpmath 50 digits",
    "pseudo_huber": "sum or mean of weight·delta²·(sqrt(1 + (r/delta)²) − 1), r = pred − target; "
    "grad r/s, hess_diag 1/s³ with s = sqrt(1 + (r/delta)²); mpmath 50 digits",
    "multilabel_bce_with_logits": "torch BCEWithLogitsLoss(weight=class_weights[C], "
    "pos_weight=pos_weight[C]) on rows x cols: element −w_c·(pw_c·y·ln σ(x) + (1 − y)·ln σ(−x)), "
    "mean over rows·cols; hess_diag w_c·(1 + (pw_c − 1)·y)·σ(x)·σ(−x); mpmath 50 digits",
    "multilabel_soft_margin": "torch MultiLabelSoftMarginLoss(weight=class_weights[C]) extended by "
    "a per-class pos_weight as in BCEWithLogitsLoss: per row (1/cols)·Σ_c −w_c·(pw_c·y·ln σ(x) "
    "+ (1 − y)·ln σ(−x)), reductions over rows; mpmath 50 digits",
}


def pointwise(loss, param_name, param, pred, target, weight, reduction):
    """A pointwise case: `fn(p, t, param)` gives the element's value, d/dp and d²/dp²."""
    fn = {"expectile": expectile, "pseudo_huber": pseudo_huber}[loss]
    n = len(pred)
    wts = weight if weight is not None else [1.0] * n
    vals, grads, hesses = [], [], []
    for p, t, w in zip(pred, target, wts):
        v, g, h = fn(p, t, param)
        # Expectile's second derivative jumps at r = 0 (the file gives the r ≥ 0 side).
        kink = loss == "expectile" and p == t
        check_derivatives(lambda x: fn(x, t, param)[0], p, v, g, h, kink)
        vals.append(w * v)
        grads.append(w * g)
        hesses.append(w * h)
    scale = mpf(1) / n if reduction == "mean" else mpf(1)
    grad_pred = [num(g * scale) for g in grads]
    expected = {
        "value": [num(v) for v in vals] if reduction == "none" else num(sum(vals) * scale),
        # Both residual losses depend on pred − target only: d/dtarget = −d/dpred.
        "grad": {"pred": grad_pred, "target": [num(-g * scale) for g in grads]},
    }
    if reduction != "none":
        expected["hess_diag"] = {"pred": [num(h * scale) for h in hesses]}
    inputs = {"pred": pred, "target": target}
    if weight is not None:
        inputs["weight"] = weight
    add(loss, {"reduction": reduction, param_name: param}, inputs, expected, NOTES[loss])


def multilabel(loss, rows, cols, logits, target, pos_weight, class_weights, reduction):
    pw = pos_weight if pos_weight is not None else [1.0] * cols
    cw = class_weights if class_weights is not None else [1.0] * cols
    per_row = loss == "multilabel_soft_margin"
    vals, grads, hesses = [], [], []
    for i, (x, y) in enumerate(zip(logits, target)):
        c = i % cols
        v, g, h = bce_logits(x, y, pw[c], cw[c])
        if abs(x) < 100:
            # (At ±1e4 the step of a numerical derivative is lost in the value.)
            def f(z, y=y, c=c):
                return bce_logits(z, y, pw[c], cw[c])[0]

            check_derivatives(f, x, v, g, h)
        vals.append(v)
        grads.append(g)
        hesses.append(h)
    # Each element's share of the reduced value.
    if per_row:
        elem = mpf(1) / cols / (rows if reduction == "mean" else 1)
        row_vals = [sum(vals[r * cols : (r + 1) * cols]) / cols for r in range(rows)]
        value = [num(v) for v in row_vals] if reduction == "none" else num(sum(vals) * elem)
    else:
        elem = mpf(1) / (rows * cols) if reduction == "mean" else mpf(1)
        value = [num(v) for v in vals] if reduction == "none" else num(sum(vals) * elem)
    expected = {"value": value, "grad": {"logits": [num(g * elem) for g in grads]}}
    if reduction != "none":
        expected["hess_diag"] = {"logits": [num(h * elem) for h in hesses]}
    inputs = {"logits": logits, "target": target}
    if pos_weight is not None:
        inputs["pos_weight"] = pos_weight
    if class_weights is not None:
        inputs["class_weights"] = class_weights
    params = {"reduction": reduction, "rows": rows, "cols": cols}
    add(loss, params, inputs, expected, NOTES[loss])


rng = random.Random(20250611)


def normal(n, sd):
    return [f32(rng.gauss(0.0, sd)) for _ in range(n)]


def regression_inputs(n):
    """Residuals of a few units, with a few targets far out (as regression.json)."""
    pred = normal(n, 2.5)
    target = [f32(t + (20.0 if rng.random() < 0.2 else 0.0)) for t in normal(n, 2.5)]
    return pred, target


# Expectile: ordinary residuals at lengths 1, 7 and 33 (past four vectors of eight lanes
# plus a tail), tau on both sides of ½; per-element weights with zeros.
ordinary = [regression_inputs(n) for n in (1, 7, 33)]
for pred, target in ordinary:
    for tau in (0.5, 0.2, 0.9):
        for red in REDUCTIONS:
            pointwise("expectile", "tau", tau, pred, target, None, red)
for pred, target in ordinary[1:]:
    weight = [f32(rng.choice([0.0, 0.5, 1.0, 2.0, 3.25])) for _ in pred]
    for red in REDUCTIONS:
        pointwise("expectile", "tau", 0.2, pred, target, weight, red)

# Expectile edges: residuals of ±1e18 (r² = 1e36, inside f32), ±1e-12, exactly 0 (the
# kink of the Hessian: r = 0 takes tau), a residual between large equal-scale inputs; tau
# exactly 0 and 1 (a zero side contributes exactly 0), and 1e-6 from either end.
edge_pred = [f32(x) for x in (0.0, 0.0, 1e-12, -1e-12, 1.5, 1000000.5, 16777216.0, 3.0, -2.0)]
edge_target = [f32(x) for x in (1e18, -1e18, 0.0, 0.0, 1.5, 1000000.0, 16777218.0, -1.0, 0.5)]
for tau in (0.0, 1e-6, 0.5, 0.999999, 1.0):
    for red in REDUCTIONS:
        pointwise("expectile", "tau", tau, edge_pred, edge_target, None, red)
edge_weight = [f32(x) for x in (0.5, 2.0, 1.0, 0.0, 1.0, 3.0, 0.25, 1.0, 1.5)]
for red in REDUCTIONS:
    pointwise("expectile", "tau", 1e-6, edge_pred, edge_target, edge_weight, red)

# Pseudo-Huber: the same ordinary residuals, delta below, at and above them.
for pred, target in ordinary:
    for delta in (1.0, 0.3, 2.5):
        for red in REDUCTIONS:
            pointwise("pseudo_huber", "delta", delta, pred, target, None, red)
for pred, target in ordinary[1:]:
    weight = [f32(rng.choice([0.0, 0.5, 1.0, 2.0, 3.25])) for _ in pred]
    for red in REDUCTIONS:
        pointwise("pseudo_huber", "delta", 1.0, pred, target, weight, red)

# Pseudo-Huber edges: residuals far beyond delta (1e30: q above 2^60 even at delta = 1e3;
# 1e10 and −3e8: between f32's 2^27 and f64's 2^60 cut-over), tiny and zero residuals, a
# residual between large inputs; delta from 1e-20 (q = 1e50 overflows f32: s is taken as
# q = +inf there, the value stays delta·|r|) to 1e3.
ph_pred = [f32(x) for x in (1e30, -1e30, 1e10, -3e8, 1e-12, 1.5, 1000000.5, 5.0, -0.75)]
ph_target = [f32(x) for x in (0.0, 0.0, 0.0, 0.0, 0.0, 1.5, 1000000.0, 0.0, 0.0)]
for delta in (1e-20, 1e-3, 1.0, 1e3):
    for red in REDUCTIONS:
        pointwise("pseudo_huber", "delta", delta, ph_pred, ph_target, None, red)
for red in REDUCTIONS:
    pointwise("pseudo_huber", "delta", 1e-3, ph_pred, ph_target, edge_weight, red)


# Multi-label: shapes 1x1, 3x5, 2x17 (a row past two vectors of eight lanes) and 4x9; hard
# and soft targets; every combination of per-class pos_weight and class weights (with a
# zero of each).
def targets(n):
    return [f32(rng.choice([0.0, 1.0, 0.0, 1.0, rng.random()])) for _ in range(n)]


def per_class(cols, choices):
    return [f32(rng.choice(choices)) for _ in range(cols)]


shapes = [(1, 1), (3, 5), (2, 17), (4, 9)]
ml_ordinary = []
for rows, cols in shapes:
    logits = normal(rows * cols, 3.0)
    ml_ordinary.append(
        (
            rows,
            cols,
            logits,
            targets(rows * cols),
            per_class(cols, [0.0, 0.5, 1.0, 2.0, 4.0, 10.0]) if cols > 1 else [3.0],
            per_class(cols, [0.0, 0.25, 1.0, 1.5, 3.0]) if cols > 1 else [0.5],
        )
    )

# Edges, 3 rows x 8 classes: logits ±1e4 and ±40 on both sides of hard targets (confidently
# right: value and gradient e^−|x|, underflowing to 0 at 1e4; confidently wrong: |x| and ±1
# times the weights), ±20, 0 and soft targets; an ordinary row.
ml_edge_logits = [
    *(1e4, -1e4, 40.0, -40.0, 1e4, -1e4, 40.0, -40.0),
    *(1e4, -1e4, 40.0, -40.0, 20.0, -20.0, 0.0, 1e-3),
    *normal(8, 3.0),
]
ml_edge_target = [
    *(0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0),
    *(0.25, 0.75, 0.5, 0.1, 1.0, 0.0, 0.5, 0.3),
    *(0.0, 1.0, 0.5, 1.0, 0.0, 0.0, 1.0, 0.9),
]
ml_edge = (
    3,
    8,
    [f32(x) for x in ml_edge_logits],
    [f32(x) for x in ml_edge_target],
    [f32(x) for x in (0.0, 1.0, 3.5, 10.0, 0.5, 1.0, 2.0, 0.25)],
    [f32(x) for x in (1.0, 0.0, 2.0, 0.5, 1.0, 3.0, 0.25, 1.0)],
)

for loss in ("multilabel_bce_with_logits", "multilabel_soft_margin"):
    for rows, cols, logits, target, pw, cw in [*ml_ordinary, ml_edge]:
        for use_pw in (False, True):
            for use_cw in (False, True):
                for red in REDUCTIONS:
                    multilabel(
                        loss,
                        rows,
                        cols,
                        logits,
                        target,
                        pw if use_pw else None,
                        cw if use_cw else None,
                        red,
                    )

doc = {
    "family": "extra",
    "generator": "scripts/vectors_extra.py: mpmath 50 digits from the formulas, rounded once to "
    "float64; inputs are float32 numbers",
    "cases": cases,
}
with open(OUT, "w") as f:
    json.dump(doc, f)
print(f"{len(cases)} cases -> tests/data/extra.json")
