#!/usr/bin/env python3
"""Learning curves from a stagesim results file: one line per task (variant and grid point) with a
mean +/- 2 standard-error band over replications.

    python3 plots/regret_curves.py out/quickstart.h5 -o out/quickstart.png [--metric regret]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stagesim_h5 import Results, mean_se, text  # noqa: E402  (first: picks an interpreter with h5py)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file", help="stagesim HDF5 results file")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--metric", default="regret", help="metric dataset to plot (default: regret)")
    ap.add_argument("--log", action="store_true", help="logarithmic y axis")
    args = ap.parse_args()

    res = Results(args.file)
    values = res.metric(args.metric)
    mean, se = mean_se(values)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for task in range(values.shape[0]):
        x = res.checkpoints[task]
        line, = ax.plot(x, mean[task], label=res.label(task))
        ax.fill_between(x, mean[task] - 2 * se[task], mean[task] + 2 * se[task],
                        color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("requests")
    units = text(res.f["metrics"][args.metric].attrs.get("units", ""))
    ylabel = "cumulative " + args.metric.replace("_", " ")
    ax.set_ylabel(f"{ylabel} ({units})" if units else ylabel)
    if args.log:
        ax.set_yscale("log")
    ax.set_title(f"{res.name}: mean ± 2 SE over {values.shape[1]} replications")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
