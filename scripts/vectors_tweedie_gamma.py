#!/usr/bin/env python3
"""Writes tests/data/tweedie_gamma.json: conformance vectors of the Tweedie and gamma losses
on log-predictions (`losskit::loss::regression::{Tweedie, Gamma}`), computed with mpmath at
60 significant digits from the float64 inputs taken as exact, then rounded once to float64.

Neither PyTorch nor a float64 library is the reference here: XGBoost, LightGBM and
scikit-learn evaluate these formulas in float32 or float64 with cancellation near the
optimum, so the values are computed from the definitions directly:

    s = pred = ln(mu), y = target, rho = power, a = rho - 1, b = 2 - rho
    tweedie, deviance = false:  l = y exp(-a s)/a + exp(b s)/b          (XGBoost reg:tweedie)
    tweedie, deviance = true:   d = 2 (y^b/((1-rho)(2-rho)) - y mu^(1-rho)/(1-rho) + mu^(2-rho)/(2-rho))
    gamma,   deviance = false:  l = y exp(-s) + s                       (XGBoost reg:gamma)
    gamma,   deviance = true:   d = 2 (ln(mu/y) + y/mu - 1)             (mean_gamma_deviance)

with their first and second derivatives in s in closed form (B - A and a A + b B with
A = y e^(-a s), B = e^(b s); 1 - y e^(-s) and y e^(-s); twice those for the deviances:
the property tests check the kernels' derivatives against finite differences of the f64
reference separately). Cases cover every power region (near 1, 1.5, near 2),
y = 0 (Tweedie), predictions near the optimum (deviances 1e-9 of the terms whose difference
they are, where a naive evaluation keeps about 7 digits), exactly at it, and predictions where e^(-a s) alone
overflows float32 (or is subnormal) while y e^(-a s) is moderate; every value stays inside
float32's range, as
the f32 run of the conformance test compares against the same numbers.

Run from the repository root:  python3 scripts/vectors_tweedie_gamma.py
(mpmath only; deterministic).
"""
import json
import os
import random

import mpmath as mp

mp.mp.dps = 60

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                   "tweedie_gamma.json")


def tweedie(s, y, rho, deviance):
    """(value, d/ds, d2/ds2)."""
    a, b = rho - 1, 2 - rho
    big_a, big_b = y * mp.exp(-a * s), mp.exp(b * s)
    nll, g, h = big_a / a + big_b / b, big_b - big_a, a * big_a + b * big_b
    if not deviance:
        return nll, g, h
    c = mp.power(y, b) / (a * b) if y != 0 else mp.mpf(0)
    return 2 * (nll - c), 2 * g, 2 * h


def gamma(s, y, deviance):
    """(value, d/ds, d2/ds2)."""
    big_a = y * mp.exp(-s)
    nll, g, h = big_a + s, 1 - big_a, big_a
    if not deviance:
        return nll, g, h
    return 2 * (nll - (1 + mp.log(y))), 2 * g, 2 * h


# Predictions near the optimum s = ln y for y = 2.5, 2.5, 1, 0.37, 1234.5: the deviance is
# about u^2/2 times y^(2-power), u = s - ln y. Offsets |u| >= 1e-4 (|ln y| + 1): closer, the
# float64 rounding of ln y alone moves the deviance by more than the test's 1e-10 (its
# condition number in y is 2/|u|); at y = 1, s = 0 it is exactly 0.
NEAR = [float(mp.log(2.5)) + 1e-3, float(mp.log(2.5)) - 1e-4, 0.0,
        float(mp.log(0.37)) + 3e-4, float(mp.log(1234.5)) - 2e-3]


def case(cid, loss, params, pred, target, note):
    """One case: value (a list for reduction "none"), grad.pred and, for sum/mean,
    hess_diag.pred, of the reduced value."""
    mp_params = {k: mp.mpf(v) for k, v in params.items() if k == "power"}
    dev = params.get("deviance", False)

    def f(s, y):
        if loss == "tweedie":
            return tweedie(s, y, mp_params["power"], dev)
        return gamma(s, y, dev)

    n = len(pred)
    vals, grads, hesses = [], [], []
    for p, t in zip(pred, target):
        v, g, h = f(mp.mpf(p), mp.mpf(t))
        vals.append(v)
        grads.append(g)
        hesses.append(h)
    red = params["reduction"]
    scale = mp.mpf(1) / n if red == "mean" else mp.mpf(1)
    expected = {"grad": {"pred": [float(g * scale) for g in grads]}}
    if red == "none":
        expected["value"] = [float(v) for v in vals]
    else:
        expected["value"] = float(mp.fsum(vals) * scale)
        expected["hess_diag"] = {"pred": [float(h * scale) for h in hesses]}
    return {"id": cid, "loss": loss, "params": params,
            "inputs": {"pred": [float(p) for p in pred], "target": [float(t) for t in target]},
            "expected": expected, "note": note}


def main():
    rng = random.Random(20260605)
    cases = []

    def add(loss, params, pred, target, note):
        cases.append(case(f"{loss}-{len(cases)}", loss, params, pred, target, note))

    # Tweedie: compound Poisson-gamma-like targets (exact zeros, a skewed positive part).
    t_note = ("s = pred = ln mu, y = target, a = power - 1, b = 2 - power; deviance = false: "
              "l = y exp(-a s)/a + exp(b s)/b (XGBoost reg:tweedie); deviance = true: "
              "d = 2 (y^b/((1-power)(2-power)) - y mu^(1-power)/(1-power) + mu^(2-power)/(2-power)) "
              "(scikit-learn mean_tweedie_deviance); mpmath, 60 digits")
    for power in (1.01, 1.2, 1.5, 1.8, 1.99):
        for deviance in (False, True):
            for red in ("none", "sum", "mean"):
                n = 8
                target = [0.0 if rng.random() < 0.3 else rng.lognormvariate(0.5, 1.2)
                          for _ in range(n)]
                pred = [mp.log(t + 0.7) + rng.gauss(0.0, 0.8) for t in target]
                add("tweedie", {"power": power, "deviance": deviance, "reduction": red},
                    [float(p) for p in pred], target, t_note)
    for deviance in (False, True):
        # Near the optimum (NEAR), y = 0 with large |s|, a tiny y
        # far below the prediction, and (power 1.9, a = 0.9) s = -150, where e^(-a s) alone
        # overflows float32 while y e^(-a s) does not.
        y = [2.5, 2.5, 1.0, 0.37, 1234.5, 0.0, 0.0, 1e-37]
        s = NEAR + [-30.0, 25.0, -100.0]
        for power, red in ((1.3, "none"), (1.7, "sum")):
            add("tweedie", {"power": power, "deviance": deviance, "reduction": red}, s, y,
                t_note)
        add("tweedie", {"power": 1.9, "deviance": deviance, "reduction": "none"},
            [-150.0, 60.0, -5.0], [1e-36, 1e20, 3e30], t_note)

    # Gamma: positive targets, log-normal.
    g_note = ("s = pred = ln mu, y = target > 0; deviance = false: l = y exp(-s) + s "
              "(XGBoost reg:gamma); deviance = true: d = 2 (ln(mu/y) + y/mu - 1) "
              "(scikit-learn mean_gamma_deviance); mpmath, 60 digits")
    for deviance in (False, True):
        for red in ("none", "sum", "mean"):
            for _ in range(2):
                n = 8 if red != "none" else 7
                target = [rng.lognormvariate(1.0, 1.0) for _ in range(n)]
                pred = [mp.log(t) + rng.gauss(0.0, 0.7) for t in target]
                add("gamma", {"deviance": deviance, "reduction": red},
                    [float(p) for p in pred], target, g_note)
        # Near the optimum, and the float32 extremes: e^(-s) overflows float32 at s = -100
        # and is subnormal at s = 100, while y e^(-s) is moderate.
        y = [2.5, 2.5, 1.0, 0.37, 1234.5, 1e-37, 1e30, 3e-20]
        s = NEAR + [-100.0, 100.0, 40.0]
        for red in ("none", "sum"):
            add("gamma", {"deviance": deviance, "reduction": red}, s, y, g_note)

    doc = {"family": "regression",
           "generator": f"mpmath {mp.__version__} at {mp.mp.dps} digits "
                        "(scripts/vectors_tweedie_gamma.py)",
           "cases": cases}
    with open(OUT, "w") as f:
        json.dump(doc, f)
        f.write("\n")
    print(f"{len(cases)} cases -> {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
