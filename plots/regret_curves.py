#!/usr/bin/env python3
"""Learning curves from a stagesim results file: one line per task (variant and grid point) with a
mean +/- 2 standard-error band over replications, and the uniform-random baseline (series
random_<metric>) as a grey dotted line where the run records one. Every curve stays visible:
distinct colours, dash patterns and markers (staggered so coinciding curves still show), and
--log for a logarithmic y axis.

    python3 plots/regret_curves.py out/quickstart.h5 -o out/quickstart.png [--metric regret] [--log]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import stagesim  # noqa: E402

DASHES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "x", "P", "*"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file", help="stagesim HDF5 results file")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--metric", default=None, help="series to plot (default: the main series)")
    ap.add_argument("--log", action="store_true", help="logarithmic y axis")
    ap.add_argument("--no-baseline", action="store_true", help="leave out random_<metric>")
    args = ap.parse_args()

    res = stagesim.open(args.file)
    metric = args.metric or res.series[0]
    values = res.values(metric)
    mean, se, _ = stagesim.mean_se(values)
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    baseline = "random_" + metric
    if baseline in res.series and not args.no_baseline:
        bmean, _, _ = stagesim.mean_se(res.values(baseline))
        shown = []
        for task in range(values.shape[0]):  # one line per distinct baseline (CRN: often one)
            if any(np.array_equal(bmean[task], b, equal_nan=True) for b in shown):
                continue
            shown.append(bmean[task])
            ax.plot(res.checkpoints[task], bmean[task], ":", color="0.45", lw=1.5,
                    label="uniform random" if len(shown) == 1 else None)
    for task in range(values.shape[0]):
        x = res.checkpoints[task]
        every = max(1, len(x) // 8)
        line, = ax.plot(x, mean[task], DASHES[task % len(DASHES)],
                        marker=MARKERS[task % len(MARKERS)], ms=5, mfc="none",
                        markevery=(task * every // max(1, values.shape[0]) % every, every),
                        lw=1.6, label=res.label(task))
        ax.fill_between(x, mean[task] - 2 * se[task], mean[task] + 2 * se[task],
                        color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("requests")
    units = res.units(metric)
    ylabel = metric.replace("_", " ")
    ax.set_ylabel(f"{ylabel} ({units})" if units else ylabel)
    if args.log:
        ax.set_yscale("log")
    name = res.attrs.get("experiment_name", "")
    ax.set_title(f"{name}: mean ± 2 SE over {values.shape[1]} replications")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, which="both" if args.log else "major")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
