#!/usr/bin/env python3
"""Fig. 5 of Hron et al. (MoE vs random pools): precision@5 (top row) and recall@5 (bottom row) vs
the feature-subset size s, one column per training-set size c, one colour per item-embedding
dimension d_e; solid = MoE (learned gating), dashed = random pools. Error bars: ±2 SE over the
test products (one replication) or over replications. Input: the HDF5 file of
`stagesim run experiments/two_stage/fig5.toml` (the pool_learning job; files of the former
`stagesim moe` read too), or the JSON of the MoeFig5 benchmark (docs/moe.md).

    python3 plots/two_stage_fig5.py out/fig5.h5 -o out/fig5.png
"""
import argparse
import json
import os
import re
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import stagesim  # noqa: E402

NAME = re.compile(r"MoeFig5/N:(\d+)/de:(\d+)/c:(\d+)/s:(\d+)/")


def point_values(res, name):
    """Per task, the value of the pool_learning option `name`: its grid axis (named `name` in
    files of the former `stagesim moe`, `job.name` now), else the resolved configuration."""
    for c in res.tasks.columns:
        if c == name or c.endswith("." + name):
            return [int(v) for v in res.tasks[c]]
    try:
        return [int(v) for v in res.param("job." + name)]
    except (KeyError, stagesim.FormatError):
        raise SystemExit(f"{res.path}: no option '{name}' in the grid or the configurations")


def read_h5(path, points):
    """Pool-learning results: tasks (experts N, item_dim d_e, per_item c, subset s) and
    per-replication P@k / R@k of the MoE and the random pools."""
    res = stagesim.open(path)
    cols = [point_values(res, a) for a in ("experts", "item_dim", "per_item", "subset")]
    for task in range(len(res.tasks)):
        n, de, c, s = (col[task] for col in cols)
        cell = {}
        for metric, short in (("P5", "P"), ("R5", "R")):
            for kind in ("moe", "random"):
                v = res.values(f"{short}_{kind}")[task]
                v = v[~np.isnan(v)]
                if v.size > 1:  # SE over replications
                    mean, se, _ = stagesim.mean_se(v, axis=0)
                else:  # one replication: SE over the test products
                    mean, se = v[0], res.values(f"{short}_{kind}_se")[task][0]
                cell[f"{metric}_{kind}"] = float(mean)
                cell[f"{metric}_{kind}_se"] = float(se)
        points[(n, c, de)][s] = cell


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    # (N, c, d_e) -> s -> counters
    points = defaultdict(dict)
    for path in args.files:
        if path.endswith((".h5", ".hdf5")):
            read_h5(path, points)
            continue
        with open(path) as f:
            for b in json.load(f)["benchmarks"]:
                m = NAME.match(b["name"])
                if m:
                    n, de, c, s = map(int, m.groups())
                    points[(n, c, de)][s] = b
    if not points:
        raise SystemExit("no MoeFig5 results in " + ", ".join(args.files))
    cs = sorted({c for _, c, _ in points})
    des = sorted({de for _, _, de in points})
    ns = sorted({n for n, _, _ in points})
    colours = dict(zip(des, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(2, len(cs), figsize=(4 * len(cs), 6), squeeze=False, sharex=True)
    for j, c in enumerate(cs):
        for row, metric in enumerate(["P5", "R5"]):
            ax = axes[row][j]
            for n in ns:
                for de in des:
                    series = points.get((n, c, de))
                    if not series:
                        continue
                    s = sorted(series)
                    for kind, style in [("moe", "-"), ("random", "--")]:
                        y = [series[x][f"{metric}_{kind}"] for x in s]
                        e = [2 * series[x].get(f"{metric}_{kind}_se", 0.0) for x in s]
                        label = f"{kind} d_e={de}" + (f" N={n}" if len(ns) > 1 else "")
                        ax.errorbar(s, y, yerr=e, fmt=style, color=colours[de], label=label)
            ax.set_xscale("log")
            ax.set_title(f"c = {c}" if row == 0 else "")
            ax.set_ylabel("precision@5" if row == 0 else "recall@5")
            if row == 1:
                ax.set_xlabel("s (feature subset size)")
    axes[0][-1].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)


if __name__ == "__main__":
    main()
