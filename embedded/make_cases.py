#!/usr/bin/env python3
"""Writes src/cases.rs: the firmware's conformance subset, a few float64 cases (PyTorch's,
mpmath's for Tweedie and gamma) of every pointwise loss from ../tests/data/*.json (sum and mean reductions, lengths 7 and 8),
hand-computed cases for the losses PyTorch lacks (expectile, pseudo-Huber), and row cases:
cross-entropy from ../tests/data/softmax.json (a label, label smoothing, ignore_index with
class weights), and softmax and multi-label BCE computed here in float64 with Python's math
(every case runs in f32 and f64).
Run from this directory:  python3 make_cases.py > src/cases.rs && cargo fmt"""
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data")

# C-API call arguments (after `len`) per loss, from a case's params.
def params(loss, p):
    if loss in ("huber",):
        return [p.get("delta", 1.0)]
    if loss == "smooth_l1":
        return [p.get("beta", 1.0)]
    if loss in ("quantile", "expectile"):
        return [p["tau"]]
    if loss == "pseudo_huber":
        return [p["delta"]]
    if loss == "poisson_nll":
        return [int(p.get("log_input", True)), int(p.get("full", False)), p.get("eps", 1e-8)]
    if loss == "gaussian_nll":
        return [int(p.get("full", False)), p.get("eps", 1e-6)]
    if loss == "tweedie":
        return [p["power"], int(p["deviance"])]
    if loss == "gamma":
        return [int(p["deviance"])]
    return []


def lit(x):
    if isinstance(x, int):
        return f"{x}"
    r = repr(float(x))
    return r if ("." in r or "e" in r) else r + ".0"


def arr(xs):
    return "&[" + ", ".join(lit(float(x)) for x in xs) + "]"


def hand_cases():
    """Expectile and pseudo-Huber from their formulas (float64)."""
    pred = [0.3, -1.2, 2.5, 0.0, 4.0, -0.7, 1.1]
    target = [1.0, -2.0, 2.5, 0.5, -1.0, 0.2, 3.0]
    out = []
    tau = 0.2
    v, g = 0.0, []
    for p, t in zip(pred, target):
        u = t - p
        c = abs(tau - (1.0 if u < 0 else 0.0))
        v += c * u * u
        g.append(-2.0 * c * u)
    out.append(("expectile-hand", "expectile", {"tau": tau, "reduction": "sum"}, pred, target, None, v, g))
    d = 1.5
    v, g = 0.0, []
    for p, t in zip(pred, target):
        r = p - t
        s = math.sqrt(1.0 + (r / d) ** 2)
        v += d * d * (s - 1.0)
        g.append(r / s)
    out.append(("pseudo_huber-hand", "pseudo_huber", {"delta": d, "reduction": "sum"}, pred, target, None, v, g))
    return out


cases = []
seen = {}
for f in sorted(os.listdir(DATA)):
    if not f.endswith(".json"):
        continue
    for c in json.load(open(os.path.join(DATA, f)))["cases"]:
        if "pred" not in c["inputs"]:
            continue  # row losses (softmax.json): see row_cases()
        red = c["params"].get("reduction")
        n = len(c["inputs"]["pred"])
        key = (c["loss"], red)
        if red in ("sum", "mean") and n in (7, 8) and key not in seen:
            seen[key] = True
            inp = c["inputs"]
            cases.append((c["id"], c["loss"], c["params"], inp["pred"], inp["target"],
                          inp.get("var"), c["expected"]["value"], c["expected"]["grad"]["pred"]))
cases += hand_cases()


def row_cases():
    """(id, kernels, x, t, labels, per-class, classes, reduction, value or None, out)."""
    soft = {c["id"]: c for c in json.load(open(os.path.join(DATA, "softmax.json")))["cases"]}
    out = []
    for cid in ("cross_entropy-70", "cross_entropy-72", "cross_entropy-60"):
        c = soft[cid]
        p, inp = c["params"], c["inputs"]
        kern = (f"row_kernels!(ce losskit_cross_entropy_value_and_grad_f32, "
                f"losskit_cross_entropy_value_and_grad_f64; {lit(p.get('label_smoothing', 0.0))})")
        out.append((cid, kern, inp["logits"], [], inp["labels"], inp.get("class_weights", []),
                    p["cols"], {"mean": 0, "sum": 1}[p["reduction"]], c["expected"]["value"],
                    c["expected"]["grad"]["logits"]))
    # softmax of 2 rows x 4: exp(x - m) / fsum(exp(x - m)), m the row's max.
    x = [1.0, 2.0, -3.0, 0.5, 10.0, 10.0, 9.0, -3.0]
    sm = []
    for r in range(2):
        row = x[r * 4:(r + 1) * 4]
        m = max(row)
        s = math.fsum(math.exp(e - m) for e in row)
        sm += [math.exp(e - m) / s for e in row]
    out.append(("softmax-python", "row_kernels!(softmax losskit_softmax_f32, losskit_softmax_f64)",
                x, [], [], [], 4, 0, None, sm))
    # Multi-label BCE on logits, 2 rows x 3, pos_weight q and class weights w per class, MEAN:
    # l = w (q y softplus(-x) + (1 - y) softplus(x)), dl/dx = w ((1 + (q - 1) y) sigmoid(x) - q y).
    x = [1.5, -2.0, 0.25, -1.0, 0.75, 3.0]
    y = [1.0, 0.0, 0.25, 0.0, 1.0, 1.0]
    q, w = [1.0, 2.0, 0.5], [1.0, 0.5, 2.0]
    sp = lambda z: max(z, 0.0) + math.log1p(math.exp(-abs(z)))
    sg = lambda z: 1.0 / (1.0 + math.exp(-z))
    n = len(x)
    val = math.fsum(w[i % 3] * (q[i % 3] * y[i] * sp(-x[i]) + (1 - y[i]) * sp(x[i])) for i in range(n)) / n
    grad = [w[i % 3] * ((1 + (q[i % 3] - 1) * y[i]) * sg(x[i]) - q[i % 3] * y[i]) / n for i in range(n)]
    kern = ("row_kernels!(ml losskit_multilabel_bce_with_logits_value_and_grad_f32, "
            "losskit_multilabel_bce_with_logits_value_and_grad_f64)")
    out.append(("multilabel_bce_with_logits-python", kern, x, y, [], q + w, 3, 0, val, grad))
    return out

print("// Generated by make_cases.py from ../tests/data (PyTorch float64 autograd) and, for")
print("// expectile, pseudo-Huber, softmax and multi-label BCE, their formulas. Do not edit.")
print("use crate::{Case, RowCase, kernels, row_kernels};\n")
print("pub static CASES: &[Case] = &[")
for cid, loss, p, pred, target, aux, value, grad in cases:
    red = {"mean": 0, "sum": 1}[p.get("reduction", "sum")]
    args = ", ".join(lit(x) for x in params(loss, p))
    fns = f"losskit_{loss}_value_and_grad_f32, losskit_{loss}_value_and_grad_f64"
    kind = "aux" if aux is not None else "pw"
    print("    Case {")
    print(f"        id: \"{cid}\",")
    print(f"        kernels: kernels!({kind} {fns}; {args}),")
    print(f"        pred: {arr(pred)},")
    print(f"        target: {arr(target)},")
    print(f"        aux: {arr(aux or [])},")
    print(f"        reduction: {red},")
    print(f"        value: {lit(value)},")
    print(f"        grad: {arr(grad)},")
    print("    },")
print("];")

print()
print("pub static ROW_CASES: &[RowCase] = &[")
for cid, kern, x, t, labels, per_class, classes, red, value, o in row_cases():
    print("    RowCase {")
    print(f"        id: \"{cid}\",")
    print(f"        kernels: {kern},")
    print(f"        x: {arr(x)},")
    print(f"        t: {arr(t)},")
    print(f"        labels: &[{', '.join(str(int(v)) for v in labels)}],")
    print(f"        per_class: {arr(per_class)},")
    print(f"        classes: {classes},")
    print(f"        reduction: {red},")
    print(f"        value: {'None' if value is None else 'Some(' + lit(value) + ')'},")
    print(f"        out: {arr(o)},")
    print("    },")
print("];")
