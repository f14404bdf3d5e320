#!/usr/bin/env python3
"""Conformance vectors of the Poly-1 loss: writes tests/data/poly1.json.

    python3 scripts/vectors_poly1.py            # from the repository root

Poly-1 (Leng et al., "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
Functions", ICLR 2022) is cross-entropy plus eps * (1 - p_t). PyTorch has no such loss, so
the expectations are computed here with mpmath at 50 significant digits, from the formula:

    CE  = sum_j w[j] t[j] (lse - x[j])        PyTorch's CrossEntropyLoss(weight, label_smoothing)
    p_t = sum_j t[j] p[j]                     the paper's code: p_t against the smoothed target
    l   = CE + eps * w[y] * (1 - p_t)         t = (1 - alpha) onehot(y) + alpha / U

with p = softmax(x), lse = log sum_j exp x[j], U = C (or, with smooth_unmasked_only, the
number of finite logits, t being 0 at -inf logits). The class weight of the row's label
scales the eps term (losskit's choice, see src/loss/softmax/poly1.rs). Reductions: "none"
(one value per row, 0 for an ignored row), "sum", "mean" (divided by the sum of w[y] over the
rows that are not ignored; 0 when that is 0, where PyTorch gives NaN).

Gradients are d(reduced value)/d(logits) ("none": of the sum of the rows), by mpmath's
numerical differentiation of that formula (mp.diff at 50 digits), and checked here against
the closed form to 1e-30, so a slip in either is caught before the file is written. A -inf
logit (a mask) has gradient 0. The inputs are doubles; cases with huge logits use values
that are exact in f32 too, so the f32 tests see the same problem.
"""

import json
import os
import random

import mpmath
from mpmath import mp, mpf

mp.dps = 50

NINF = float("-inf")


def row_terms(x, y, w, alpha, eps, aware):
    """Value of one row and the pieces of its gradient (mpf; x may hold -inf)."""
    c = len(x)
    finite = [j for j in range(c) if x[j] != NINF]
    u = len(finite) if aware else c
    # Shifted by the max (s = x - m, exact for doubles): lse - x[j] = ln S - s[j] keeps its
    # digits where x is near 3e38 and lse - x is near 1.
    m = max(x[j] for j in finite)
    s = [x[j] - m if x[j] != NINF else NINF for j in range(c)]
    ln_s = mp.log(mp.fsum(mp.exp(s[j]) for j in finite))
    p = [mp.exp(s[j] - ln_s) if x[j] != NINF else mpf(0) for j in range(c)]
    wt = [mpf(w[j]) if w else mpf(1) for j in range(c)]
    t = [
        (1 - alpha if j == y else mpf(0)) + (alpha / u if (x[j] != NINF or not aware) else 0)
        for j in range(c)
    ]
    # xlogy: a zero target weight contributes 0 also at a -inf logit.
    ce = mp.fsum(wt[j] * t[j] * (ln_s - s[j]) for j in range(c) if wt[j] * t[j] != 0)
    p_t = mp.fsum(t[j] * p[j] for j in range(c))
    value = ce + eps * wt[y] * (1 - p_t)
    # Closed form, only to check mp.diff: dCE = (sum_k w t)_k p - w t; d(1 - p_t) = -(1 - alpha) p_y (e_y - p).
    a = mp.fsum(wt[k] * t[k] for k in range(c))
    k = eps * wt[y] * (1 - alpha) * p[y]
    grad = [
        (a + k) * p[j] - wt[j] * t[j] - (k if j == y else 0) if x[j] != NINF else mpf(0)
        for j in range(c)
    ]
    return value, grad


def evaluate(case):
    """Fills case["expected"] from its params and inputs."""
    prm, inp = case["params"], case["inputs"]
    rows, cols = prm["rows"], prm["cols"]
    alpha, eps = mpf(prm["label_smoothing"]), mpf(prm["epsilon"])
    aware = prm.get("smooth_unmasked_only", False)
    ignore = prm.get("ignore_index")
    w = inp.get("class_weights")
    x = [NINF if v == "-inf" else mpf(v) for v in inp["logits"]]
    labels = inp["labels"]
    live = [r for r in range(rows) if ignore is None or labels[r] != ignore]
    total_w = mp.fsum(mpf(w[labels[r]]) if w else mpf(1) for r in live)
    red = prm["reduction"]
    if red == "mean":
        scale = 1 / total_w if total_w > 0 else mpf(0)
    else:
        scale = mpf(1)

    def rows_of(xs):
        vals = [mpf(0)] * rows
        for r in live:
            vals[r] = row_terms(xs[r * cols:(r + 1) * cols], labels[r], w, alpha, eps, aware)[0]
        return vals

    def reduced(xs):
        return scale * mp.fsum(rows_of(xs))

    vals = rows_of(x)
    if red == "none":
        value = [float(v) for v in vals]
    else:
        value = float(scale * mp.fsum(vals))

    closed = [mpf(0)] * (rows * cols)
    for r in live:
        _, g = row_terms(x[r * cols:(r + 1) * cols], labels[r], w, alpha, eps, aware)
        for j in range(cols):
            closed[r * cols + j] = scale * g[j]
    grad = []
    for i in range(rows * cols):
        if x[i] == NINF:
            grad.append(mpf(0))
            continue

        def f(delta, i=i):
            xs = list(x)
            xs[i] = x[i] + delta
            return reduced(xs)

        # A step about 0 at 120 digits: x[i] + h stays exact even for x[i] near 3e38.
        with mp.workdps(120):
            d = +mp.diff(f, 0)
        assert abs(d - closed[i]) <= mpf(10) ** -30 * max(1, abs(closed[i])), (case["id"], i, d, closed[i])
        grad.append(d)
    case["expected"] = {"value": value, "grad": {"logits": [float(g) for g in grad]}}


NOTE = (
    "Poly-1 (Leng et al. 2022): l = CE + eps * w[y] * (1 - p_t), CE = PyTorch CrossEntropyLoss "
    "(weight, label_smoothing alpha), p_t = sum_j t[j] softmax(x)[j] with t = (1 - alpha) onehot(y) "
    "+ alpha / C; mean divides by the sum of w[y] over rows not ignored (0 if none); mpmath 50 digits"
)


def case(logits, labels, cols, reduction, epsilon, alpha=0.0, weights=None, ignore=False,
         aware=False, what=""):
    rows = len(labels)
    assert len(logits) == rows * cols
    params = {"rows": rows, "cols": cols, "reduction": reduction, "epsilon": epsilon,
              "label_smoothing": alpha}
    inputs = {"logits": ["-inf" if v == NINF else v for v in logits], "labels": labels}
    if ignore:
        params["ignore_index"] = -100
    if weights is not None:
        params["class_weights"] = True
        inputs["class_weights"] = weights
    if aware:
        params["smooth_unmasked_only"] = True
    c = {"id": None, "loss": "poly1", "params": params, "inputs": inputs, "note": NOTE}
    if what:
        c["note"] = NOTE + "; " + what
    return c


def main():
    rng = random.Random(20220425)
    cases = []
    # Ordinary rows: shapes around the narrow (C <= 32) and wide schedules, every reduction,
    # eps at the domain's edge (-1), small, the paper's first try (1) and ImageNet's (2).
    configs = [
        dict(epsilon=1.0),
        dict(epsilon=2.0, weights=True),
        dict(epsilon=1.0, alpha=0.1),
        dict(epsilon=-1.0, alpha=0.2, weights=True),
        dict(epsilon=0.5, alpha=0.1, weights=True, ignore=True),
    ]
    for rows, cols in [(1, 2), (3, 5), (4, 10), (2, 37), (5, 3)]:
        for reduction in ["none", "sum", "mean"]:
            logits = [rng.gauss(0.0, 2.5) for _ in range(rows * cols)]
            labels = [rng.randrange(cols) for _ in range(rows)]
            weights = [rng.uniform(0.25, 2.0) for _ in range(cols)]
            for cfg in configs:
                lab = list(labels)
                if cfg.get("ignore") and rows > 1:
                    lab[rows // 2] = -100
                cases.append(case(logits, lab, cols, reduction, cfg["epsilon"],
                                  cfg.get("alpha", 0.0),
                                  weights if cfg.get("weights") else None,
                                  cfg.get("ignore", False)))

    # eps = 0 is cross-entropy (the conformance test also checks it bit for bit).
    logits = [rng.gauss(0.0, 2.0) for _ in range(3 * 6)]
    weights = [rng.uniform(0.25, 2.0) for _ in range(6)]
    for reduction in ["none", "mean"]:
        cases.append(case(logits, [1, 4, 0], 6, reduction, 0.0, what="eps = 0: cross-entropy"))
        cases.append(case(logits, [1, -100, 5], 6, reduction, 0.0, 0.1, weights, True,
                          what="eps = 0: cross-entropy with weights, smoothing, an ignored row"))
    # A large eps (no upper bound) and eps = -1 with smoothing and uneven weights.
    cases.append(case(logits, [2, 3, 0], 6, "sum", 100.0, what="large eps"))
    cases.append(case(logits, [2, 3, 0], 6, "none", -1.0, 0.3, [4.0, 0.25, 1, 1, 1, 0.5],
                      what="eps = -1 with smoothing and uneven weights"))

    # Ignored rows and zero weights.
    cases.append(case([0.5, -1.0, 2.0, 1.5, 0.0, -0.5], [-100, -100], 3, "mean", 1.0, 0.1,
                      ignore=True, what="all rows ignored: mean 0, gradient 0"))
    cases.append(case([0.5, -1.0, 2.0, 1.5, 0.0, -0.5], [-100, -100], 3, "none", 1.0,
                      ignore=True, what="all rows ignored: zeros"))
    cases.append(case([0.5, -1.0, 2.0, 1.5, 0.0, -0.5], [0, 2], 3, "mean", 1.0, 0.1,
                      [0.0, 1.0, 0.0], what="zero total weight of the labels: mean 0, gradient 0"))
    cases.append(case([0.5, -1.0, 2.0, 1.5, 0.0, -0.5, 3.0, 0.25, -2.0], [0, -100, 1], 3, "mean",
                      2.0, 0.0, [0.5, 3.0, 1.0], True, what="an ignored row among weighted ones"))
    # One class: p_y = 1, value 0, gradient exactly 0 (with smoothing the gradient is 0 to
    # an ulp of its coefficients only, which a relative f64 check cannot accept at 0).
    cases.append(case([3.0, -7.0], [0, 0], 1, "sum", 2.0, what="one class"))

    # Huge logits (exact in f32): shift invariance at 1e8, the ends of the f32 range.
    big = [1e8, 1e8 - 8, 1e8 + 16, 1e8 + 8, -1e8, -1e8 + 24, -1e8 - 8, -1e8 + 8]
    cases.append(case(big, [0, 3], 4, "mean", 1.0, what="offset 1e8 and -1e8"))
    cases.append(case(big, [2, 1], 4, "none", 2.0, 0.1, [0.5, 1.0, 2.0, 1.5],
                      what="offset 1e8 with smoothing and weights"))
    f32max = 3.4028234663852886e38
    cases.append(case([3e38, 3e38], [1], 2, "none", 1.0, what="[3e38, 3e38]: ln 2 + eps/2"))
    cases.append(case([-3e38, -3e38, -3e38], [2], 3, "sum", 1.5, 0.2,
                      what="[-3e38] * 3: ln 3 + eps (1 - p_t)"))
    cases.append(case([f32max, f32max, f32max, f32max], [0, 1], 2, "mean", 2.0,
                      what="f32::MAX rows"))
    two100 = 2.0 ** 100
    cases.append(case([two100, -two100, two100, -two100], [0, 1], 2, "none", 1.0, 0.1,
                      what="+-2^100 with smoothing: p_y = 1 and p_y = 0"))
    cases.append(case([0.0, -1000.0, 0.5, 1.0], [1, 0], 2, "sum", 1.0,
                      what="p_y = exp(-1000): 1 - p_t = 1"))
    # Confident rows (1 - p_t about 5e-5 .. 5e-6), beside an ordinary row: 1 - p_t must not be
    # formed from a rounded p_t.
    cases.append(case([0.0, -10.0, -12.0, 0.3, 0.1, -0.2], [0, 2], 3, "none", 2.0,
                      what="a confident row (1 - p_t ~ 5e-5)"))
    cases.append(case([1e8, 1e8 - 16, 1e8 - 8, 0.3, 0.1, -0.2], [0, 1], 3, "mean", 1.0, 0.0,
                      [1.0, 2.0, 0.5], what="a confident row at 1e8 (1 - p_t ~ 3.4e-4)"))

    # Masks: -inf logits have probability 0 and gradient 0.
    ninf = NINF
    cases.append(case([1.0, ninf, 0.5, 2.0, -1.0, ninf], [0, 1], 3, "none", 2.0,
                      what="-inf masks off the label"))
    cases.append(case([1.0, ninf, 0.5, ninf, 2.0, -1.0, 0.0, 0.0, ninf], [2, 1, 0], 3, "mean",
                      1.0, 0.2, [1.0, 0.5, 2.0], aware=True,
                      what="smooth_unmasked_only: alpha over the finite logits"))

    for i, c in enumerate(cases):
        c["id"] = f"poly1-{i}"
        evaluate(c)
    out = {
        "family": "poly1",
        "generator": "scripts/vectors_poly1.py (mpmath %s, %d digits)" % (mpmath.__version__, mp.dps),
        "cases": cases,
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "data", "poly1.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
