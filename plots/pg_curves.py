#!/usr/bin/env python3
"""Learning curves of early-stage rankers: policy value vs gradient steps, mean ± 2 SE, one panel
per grid point, one curve per estimator (variant); overflowed replications keep their last good
value (the "frozen" view, as the paper plots).

    python3 plots/pg_curves.py out/table1.h5 -o out/table1.png [--stage esr]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import matplotlib.pyplot as plt  # noqa: E402

import stagesim  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--stage", default="esr")
    ap.add_argument("--metric", default="policy_value")
    args = ap.parse_args()
    res = stagesim.open(args.file)
    value = res.values(args.metric)
    mean, se, _ = stagesim.mean_se(value)
    axes = list(res.grid_axes)

    def point_of(t):
        return tuple(res.tasks[a][t] for a in axes)

    points = list(dict.fromkeys(point_of(t) for t in range(value.shape[0])))
    fig, panels = plt.subplots(1, len(points), figsize=(4.2 * len(points), 3.6), squeeze=False)
    for p, point in enumerate(points):
        ax = panels[0][p]
        for t in range(value.shape[0]):
            if point_of(t) != point:
                continue
            cfg = res.config(t)
            batch = int(cfg["stages"][args.stage].get("update_every", 1))
            x = res.checkpoints[t] / batch
            line, = ax.plot(x, mean[t], label=res.tasks["variant"][t] or f"task {t}")
            ax.fill_between(x, mean[t] - 2 * se[t], mean[t] + 2 * se[t], color=line.get_color(),
                            alpha=0.2, linewidth=0)
        ax.set_title(", ".join(f"{a}={v:g}" if isinstance(v, float) else f"{a}={v}"
                               for a, v in zip(axes, point)) or res.name)
        ax.set_xlabel("gradient steps")
        ax.grid(alpha=0.3)
    panels[0][0].set_ylabel(args.metric.replace("_", " "))
    panels[0][-1].legend(fontsize="small")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
