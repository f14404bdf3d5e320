#!/usr/bin/env python3
"""Print one markdown table from the `pointwise` or `classification` criterion bench.

Usage, from the repository root:

    cargo bench --bench pointwise
    python3 scripts/bench_table.py
    cargo bench --bench classification
    python3 scripts/bench_table.py --prefix classification/

Options: `--stat mean` (default: median) picks criterion's point estimate; `--dir PATH`
reads another criterion output directory (default: `$CARGO_TARGET_DIR/criterion`, or
`target/criterion` next to this script's repository); `--prefix` selects benchmark IDs
(default `pointwise/`; `classification/` for the classification bench).

It reads every `**/new/benchmark.json` + `**/new/estimates.json` whose ID is
`<prefix><loss>/<f32|f64>/<N>/<impl>` and prints one row per benchmark:

* time: the point estimate of one call (value_and_grad, Reduction::Mean);
* Melem/s: N / time;
* GB/s: compulsory traffic / time, 12 bytes per element for f32 (read pred and target,
  write grad), 24 for f64;
* vs scalar: scalar time / time (speedup over the naive scalar loop; > 1 is faster);
* vs floor: time / floor time (1.0 = as fast as the group's floor kernel: the streaming
  one of the pointwise groups, the lean `exp`/`ln` one of the f32 classification groups;
  "–" for groups without a floor, such as the f64 classification ones).

Ratios are taken within one run; compare them rather than absolute times across runs.
Python 3 standard library only.
"""

import argparse
import json
import os
import sys
from pathlib import Path

LOSS_ORDER = ["mse", "huber", "log_cosh", "quantile", "bce_with_logits", "sigmoid_focal",
              "cross_entropy"]
IMPL_ORDER = ["scalar", "portable", "avx2", "avx512", "floor"]
BYTES_PER_ELEM = {"f32": 12, "f64": 24}


def default_dir() -> Path:
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        return Path(target) / "criterion"
    return Path(__file__).resolve().parent.parent / "target" / "criterion"


class RowShape(int):
    """`rows x classes` of a row-loss benchmark: an int (the element count) printed as RxC."""

    def __new__(cls, rows: int, classes: int):
        obj = super().__new__(cls, rows * classes)
        obj.label = f"{rows}x{classes}"
        return obj

    def __str__(self) -> str:
        return self.label


def load(root: Path, prefix: str, stat: str):
    rows = {}
    for bench in root.glob("**/new/benchmark.json"):
        est = bench.with_name("estimates.json")
        if not est.exists():
            continue
        meta = json.loads(bench.read_text())
        full_id = meta.get("full_id", "")
        if not full_id.startswith(prefix):
            continue
        parts = full_id[len(prefix):].split("/")
        if len(parts) != 4:
            continue
        loss, prec, n, impl = parts
        try:
            # N, or rows x classes for the row losses (sorted by their product).
            n = int(n) if "x" not in n else RowShape(*map(int, n.split("x")))
        except ValueError:
            continue
        estimates = json.loads(est.read_text())
        ns = estimates[stat]["point_estimate"]
        rows[(loss, prec, n, impl)] = ns
    return rows


def fmt_time(ns: float) -> str:
    if ns < 1e3:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def order(values, preferred):
    known = [v for v in preferred if v in values]
    return known + sorted(v for v in values if v not in preferred)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=default_dir())
    ap.add_argument("--stat", choices=["median", "mean"], default="median")
    ap.add_argument("--prefix", default="pointwise/")
    args = ap.parse_args()

    rows = load(args.dir, args.prefix, args.stat)
    if not rows:
        bench = args.prefix.strip("/") or "pointwise"
        print(f"no {args.prefix}* results under {args.dir}; run `cargo bench --bench {bench}`",
              file=sys.stderr)
        return 1

    groups = {}
    for (loss, prec, n, impl), ns in rows.items():
        groups.setdefault((loss, prec, n), {})[impl] = ns

    losses = order({k[0] for k in groups}, LOSS_ORDER)
    print(f"| loss | prec | N | impl | time ({args.stat}) | Melem/s | GB/s | vs scalar | vs floor |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    for loss in losses:
        for prec in sorted({k[1] for k in groups if k[0] == loss}):
            for n in sorted({k[2] for k in groups if k[0] == loss and k[1] == prec}):
                g = groups[(loss, prec, n)]
                scalar, floor = g.get("scalar"), g.get("floor")
                for impl in order(set(g), IMPL_ORDER):
                    ns = g[impl]
                    melem = n / ns * 1e3
                    gbs = n * BYTES_PER_ELEM.get(prec, 0) / ns
                    vs_scalar = f"{scalar / ns:.2f}x" if scalar else "–"
                    vs_floor = f"{ns / floor:.2f}x" if floor else "–"
                    print(f"| {loss} | {prec} | {n} | {impl} | {fmt_time(ns)} | {melem:.0f} | "
                          f"{gbs:.1f} | {vs_scalar} | {vs_floor} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
