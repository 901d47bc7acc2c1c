#!/usr/bin/env python3
"""Fig. 5 of Hron et al. (MoE vs random pools): precision@5 (top row) and recall@5 (bottom row) vs
the feature-subset size s, one column per training-set size c, one colour per item-embedding
dimension d_e; solid = MoE (learned gating), dashed = random pools. Error bars: ±2 SE over the
test products. Input: the JSON written by the MoeFig5 benchmark (docs/moe.md), one file per N.

    python3 plots/two_stage_fig5.py out/fig5_N10.json -o out/fig5_N10.png
"""
import argparse
import json
import re
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NAME = re.compile(r"MoeFig5/N:(\d+)/de:(\d+)/c:(\d+)/s:(\d+)/")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    # (N, c, d_e) -> s -> counters
    points = defaultdict(dict)
    for path in args.files:
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
