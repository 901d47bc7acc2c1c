#!/usr/bin/env python3
"""Problem A (experiments/strategic_parameters/toy.toml): f(U p) against rounds for each learner
(variant), the median and the 25/75 % band over the Monte Carlo runs, for the deployed
distribution (PASTO: the averaged iterate p̄; solid) and the last iterate p_t (dashed), with the
optimum f(U p*) and the best deterministic parameter as horizontal lines.

    python3 plots/strategic_toy.py out/strategic_toy.h5 -o out/strategic_toy.png
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import stagesim  # noqa: E402
from _jobs import axis_values, output_array  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--ymin", type=float, default=0.4, help="lower end of the y axis")
    args = ap.parse_args()

    res = stagesim.open(args.file)
    deployed = output_array(res, "deployed_value")  # [task, rep, round]
    current = output_array(res, "current_value")
    optimum = output_array(res, "optimum_value")
    single = output_array(res, "best_single_value")
    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    for t, variant in enumerate(res.tasks["variant"]):
        rounds = axis_values(res, "round", t)
        q = np.nanpercentile(deployed[t], [25, 50, 75], axis=0)
        line, = ax.plot(rounds, q[1], label=f"{variant}: deployed (median, 25–75 %)")
        ax.fill_between(rounds, q[0], q[2], color=line.get_color(), alpha=0.25, linewidth=0)
        qc = np.nanpercentile(current[t], [25, 50, 75], axis=0)
        ax.plot(rounds, qc[1], color=line.get_color(), linestyle="--", linewidth=0.9,
                label=f"{variant}: last iterate (median)")
    ax.axhline(np.nanmean(optimum), color="black", linewidth=0.8, label="f(U p*)")
    ax.axhline(np.nanmean(single), color="0.5", linestyle=":", label="best single parameter")
    ax.set_ylim(args.ymin, np.nanmean(optimum) + 0.15)
    ax.set_xlabel("round")
    ax.set_ylabel("f(U p)")
    ax.set_title(f"{res.attrs.get('experiment_name', '')}: {res.replications} runs per learner")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=150)
    print(f"wrote {args.out}")
    for t, variant in enumerate(res.tasks["variant"]):
        end = deployed[t, :, -1]
        print(f"{variant}: final deployed f = {np.nanmean(end):.4f} ± "
              f"{np.nanstd(end, ddof=1) / np.sqrt(np.sum(~np.isnan(end))):.4f} "
              f"(optimum {np.nanmean(optimum):.4f}, best single {np.nanmean(single):.4f})")


if __name__ == "__main__":
    main()
