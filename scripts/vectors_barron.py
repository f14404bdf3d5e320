#!/usr/bin/env python3
"""Conformance vectors for Barron's general robust loss, computed with mpmath.

J. T. Barron, "A General and Adaptive Robust Loss Function", CVPR 2019. For the residual
x = (pred - target)/c, z = x^2, b = |alpha - 2|:

    rho            = b/alpha * ((z/b + 1)^(alpha/2) - 1)
    d rho/d pred   = x/c * (1 + z/b)^((alpha - 2)/2)
    d2 rho/d pred2 = 1/c^2 * (1 + z/b)^((alpha - 2)/2) * (1 + (alpha - 2) * z/(z + b))
    d rho/d alpha  = differentiated symbolically from the definition (see d_alpha below)

with the limits alpha = -inf (Welsch 1 - exp(-z/2)), 0 (Cauchy log(1 + z/2)) and 2 (z/2),
where d rho/d alpha is 0, L^2/4 - (L - w)/2 and +inf (z > 0) respectively.

Every quantity is evaluated at 50 significant digits from formulas without cancellation at
that precision (the expm1/log1p form for rho; d rho/d alpha at 400 digits, enough for the
cancellation of its closed form for the smallest residuals below), and each d rho/d alpha is
checked to 25 digits against mpmath's numerical differentiation of rho in alpha before it is
written.

Inputs are rounded to f32 first, so that the f32 and f64 runs of the tests see the same
inputs and differ only by the kernels' precision; cases whose results (or any per-element
term) would leave the f32 range are dropped, as f32 cannot represent them.

Usage: python3 scripts/vectors_barron.py > tests/data/barron.json
"""

import json
import random
import struct

import mpmath
from mpmath import mp, mpf

mp.dps = 50
NEG_INF = float("-inf")


def f32(x):
    """x rounded to the nearest f32 (as a Python float)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def consts(alpha, x):
    b = abs(alpha - 2)
    z = x * x
    u = z / b
    return b, z, u, mp.log1p(u), u / (1 + u)


def rho(x, alpha):
    """rho at the scaled residual x (mpf), alpha an mpf or -inf."""
    z = x * x
    if alpha == NEG_INF:
        return -mp.expm1(-z / 2)
    if alpha == 0:
        return mp.log1p(z / 2)
    if alpha == 2:
        return z / 2
    b = abs(alpha - 2)
    return b / alpha * mp.expm1(alpha / 2 * mp.log1p(z / b))


def rho_x(x, alpha):
    """d rho / d x."""
    if alpha == NEG_INF:
        return x * mp.exp(-x * x / 2)
    if alpha == 2:
        return x
    b, z, u, L, w = consts(alpha, x)
    return x * mp.exp((alpha - 2) / 2 * L)


def rho_xx(x, alpha):
    """d^2 rho / d x^2."""
    if alpha == NEG_INF:
        z = x * x
        return mp.exp(-z / 2) * (1 - z)
    if alpha == 2:
        return mpf(1)
    b, z, u, L, w = consts(alpha, x)
    # 1 + (alpha - 2) w, written without its cancellation for alpha near 1 and large u.
    return mp.exp((alpha - 2) / 2 * L) * (1 + (alpha - 1) * u) / (1 + u)


def near_hess_root(x, alpha):
    """Whether d2 rho/d pred2 is within 1e-4 (relative) of one of its zeros (x = c for
    Welsch, 1 + (alpha - 1) u = 0 for alpha < 1): there its relative value depends on the
    last bits of x, which no f64 evaluation of x = (pred - target)/c keeps."""
    if alpha == NEG_INF:
        return abs(1 - x * x) < 1e-4
    if alpha == 2 or alpha >= 1:
        return False
    b, z, u, L, w = consts(alpha, x)
    return abs(1 + (alpha - 1) * u) < 1e-4 * (1 + u)


def d_alpha(x, alpha):
    """d rho / d alpha (at fixed x), from the definition by the chain rule:
    with P = (1 + u)^(alpha/2), sigma = sign(alpha - 2),
    2 sigma/alpha^2 (P - 1) + b/(2 alpha) P L - sigma/2 P u/(1 + u)."""
    if alpha == NEG_INF:
        return mpf(0)
    if x == 0:
        return mpf(0)
    if alpha == 2:
        return mp.inf
    with mp.workdps(400):
        a = mpf(alpha)
        b, z, u, L, w = consts(a, mpf(x))
        if alpha == 0:
            d = L * L / 4 - (L - w) / 2
        else:
            sigma = 1 if a > 2 else -1
            P = mp.exp(a / 2 * L)
            d = 2 * sigma / a**2 * mp.expm1(a / 2 * L) + b / (2 * a) * P * L - sigma / 2 * P * w
    return +d


def d_alpha_check(x, alpha):
    """An independent d rho/d alpha: mpmath's numerical differentiation of rho in alpha, at
    200 digits (rho's expm1/log1p form has no cancellation, so the central differences are
    accurate to far more than the digits compared)."""
    if alpha in (NEG_INF, 2) or x == 0:
        return d_alpha(x, alpha)
    with mp.workdps(200):
        return mp.diff(lambda a: rho(mpf(x), a), mpf(alpha))


def agree(a, b, digits=25):
    if a == b:
        return True
    if mp.isinf(a) or mp.isinf(b):
        return False
    return abs(a - b) <= mpf(10) ** (-digits) * max(abs(a), abs(b))


F32_MAX = 3.0e38
F32_TINY = 1e-30  # below this an f32 sum of the terms has lost its relative accuracy


def fits_f32(v):
    return mp.isinf(v) or abs(v) < F32_MAX


def num(v):
    """JSON number, with infinities as strings (as tests/data/README.md)."""
    v = float(v)
    if v == float("inf"):
        return "inf"
    if v == float("-inf"):
        return "-inf"
    return v


def case(cid, alpha, c, reduction, pred, target, weight):
    pred = [f32(p) for p in pred]
    target = [f32(t) for t in target]
    weight = None if weight is None else [f32(w) for w in weight]
    n = len(pred)
    cm = mpf(c)
    al = alpha if alpha == NEG_INF else mpf(alpha)
    vals, grads, hesses, das = [], [], [], []
    for i in range(n):
        wi = mpf(1) if weight is None else mpf(weight[i])
        x = (mpf(pred[i]) - mpf(target[i])) / cm
        if near_hess_root(x, al):
            return None
        v, g, h, d = rho(x, al), rho_x(x, al) / cm, rho_xx(x, al) / cm**2, d_alpha(x, al)
        dc = d_alpha_check(x, al)
        assert agree(d, dc), (cid, alpha, c, float(x), d, dc)
        for q in (v, g, h, d):
            if not fits_f32(q):
                return None
        vals.append(wi * v)
        grads.append(wi * g)
        hesses.append(wi * h)
        das.append(0 if wi == 0 else wi * d)
    params = {"alpha": num(alpha), "scale": c, "reduction": reduction}
    inputs = {"pred": pred, "target": target}
    if weight is not None:
        inputs["weight"] = weight
    if reduction == "none":
        expected = {
            "value": [num(v) for v in vals],
            "grad": {"pred": [num(g) for g in grads]},
            "dalpha": [num(d) for d in das],
        }
    else:
        k = mpf(1) if reduction == "sum" else mpf(1) / n
        total = sum(vals) * k
        dtotal = sum(das) * k
        for q in (total, dtotal):
            if not fits_f32(q) or (q != 0 and abs(q) < F32_TINY):
                return None
        expected = {
            "value": num(total),
            "grad": {"pred": [num(g * k) for g in grads]},
            "hess_diag": {"pred": [num(h * k) for h in hesses]},
            "dalpha": num(dtotal),
        }
    return {
        "id": cid,
        "loss": "barron",
        "params": params,
        "inputs": inputs,
        "expected": expected,
        "note": "rho = |a-2|/a * (((x/c)^2/|a-2| + 1)^(a/2) - 1), x = pred - target; "
        "grad and hess_diag w.r.t. pred, dalpha = d(reduced value)/d alpha; mpmath 50 digits",
    }


# The shapes the tests must cover: the named members and limits, both sides of alpha = 0 and
# alpha = 2 (1e-8 and 1e-3 away), the formula boundaries 1 and 3, and large |alpha|
# (up to 1e12; the loss takes |alpha| <= 2^64).
ALPHAS = [NEG_INF, -1e12, -1e6, -1000.0, -30.0, -4.0, -2.0, -1.0, -0.5, -1e-3, -1e-8, 0.0, 1e-8,
          1e-3, 0.25, 0.5, 1.0, 1.0 + 1e-8, 1.5, 2.0 - 1e-3, 2.0 - 1e-8, 2.0, 2.0 + 1e-8,
          2.0 + 1e-3, 2.5, 3.0, 4.0, 10.0, 50.0, 1e10]
SCALES = [1.0, 0.3, 2.5]
# Scaled residuals from 0 through tiny (series of d/d alpha) to huge (the log1p(sqrt(u))
# path); cases leaving the f32 range are dropped per alpha.
RESIDUALS = [0.0, 1e-30, -1e-12, 3e-7, -2e-4, 0.01, -0.07, 0.3, -0.8, 1.0, 1.7, -2.6, 4.0,
             -9.0, 23.0, -150.0, 3e3, -1e6, 4e10, -1e20, 2e30]


def main():
    rng = random.Random(20190615)
    cases = []

    def add(*args):
        c = case("barron-%d" % len(cases), *args)
        if c is not None:
            cases.append(c)

    for alpha in ALPHAS:
        for c in SCALES:
            # Ordinary residuals around random targets, each reduction, with and without
            # weights (one weight 0).
            for reduction in ("none", "sum", "mean"):
                n = 7
                target = [rng.uniform(-2, 2) for _ in range(n)]
                pred = [t + c * rng.gauss(0, 1.5) for t in target]
                weight = None
                if reduction != "mean":
                    weight = [rng.uniform(0, 2) for _ in range(n)]
                    weight[3] = 0.0
                add(alpha, c, reduction, pred, target, weight)
        # The edges, one residual per element against target 0 (so the residual is exact),
        # per-element (none) and summed; one element at a time where the others would
        # leave the f32 range.
        for c in (1.0, 0.3):
            xs = [c * x for x in RESIDUALS]
            ok = [x for x in xs if case("probe", alpha, c, "none", [x], [0.0], None) is not None]
            add(alpha, c, "none", ok, [0.0] * len(ok), None)
            add(alpha, c, "sum", ok, [0.0] * len(ok), None)
    json.dump(
        {
            "family": "regression",
            "generator": "scripts/vectors_barron.py (mpmath %s, 50 digits)" % mpmath.__version__,
            "cases": cases,
        },
        __import__("sys").stdout,
    )


if __name__ == "__main__":
    main()
