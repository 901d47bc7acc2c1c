#!/usr/bin/env python3
"""Problem B (experiments/strategic_parameters/synthetic.toml): PASTO's relative gain
(f(U p) − f(best single)) / (f(U p*) − f(best single)) against rounds (log scale), mean ± 2 SE
over replications, one panel per noise level σ. Top row: the step sizes γ at the grid's middle ε;
bottom row: the exploration shares ε at the middle γ. Solid: the averaged iterate p̄ (deployed);
dashed: the last iterate p_t.

    python3 plots/strategic_synthetic.py out/strategic_synthetic.h5 -o out/strategic_synthetic.png
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
    args = ap.parse_args()

    res = stagesim.open(args.file)
    dep = output_array(res, "deployed_gain")  # [task, rep, round]
    cur = output_array(res, "current_gain")
    noise = np.asarray(res.param("job.noise"), dtype=float)
    step = np.asarray(res.param("job.step"), dtype=float)
    explore = np.asarray(res.param("job.explore"), dtype=float)
    noises, steps, explores = np.unique(noise), np.unique(step), np.unique(explore)
    mid_step, mid_explore = steps[len(steps) // 2], explores[len(explores) // 2]
    fig, axes = plt.subplots(2, len(noises), figsize=(4.2 * len(noises), 7.2), squeeze=False,
                             sharey=True)
    for col, sigma in enumerate(noises):
        rows = [("γ", steps, lambda v: (step == v) & (explore == mid_explore), f"ε = {mid_explore:g}"),
                ("ε", explores, lambda v: (explore == v) & (step == mid_step), f"γ = {mid_step:g}")]
        for row, (sym, values, pick, fixed) in enumerate(rows):
            ax = axes[row][col]
            for v in values:
                tasks = np.nonzero(pick(v) & (noise == sigma))[0]
                if not len(tasks):
                    continue
                t = tasks[0]
                rounds = axis_values(res, "round", t)
                keep = rounds > 0
                n = np.sum(~np.isnan(dep[t]), axis=0)
                m = np.nanmean(dep[t], axis=0)
                se = np.nanstd(dep[t], axis=0, ddof=1) / np.sqrt(np.maximum(n, 1))
                line, = ax.plot(rounds[keep], m[keep], label=f"{sym} = {v:g}")
                ax.fill_between(rounds[keep], (m - 2 * se)[keep], (m + 2 * se)[keep],
                                color=line.get_color(), alpha=0.2, linewidth=0)
                ax.plot(rounds[keep], np.nanmean(cur[t], axis=0)[keep], color=line.get_color(),
                        linestyle="--", linewidth=0.8)
            ax.set_xscale("log")
            ax.axhline(1.0, color="black", linewidth=0.6)
            ax.axhline(0.0, color="0.5", linewidth=0.6, linestyle=":")
            ax.set_title(f"σ = {sigma:g}, {fixed}", fontsize=9)
            ax.set_xlabel("round")
            if col == 0:
                ax.set_ylabel("relative gain (solid p̄, dashed p_t)")
            ax.legend(fontsize=7)
    axes[0][0].set_ylim(-1.0, 1.1)
    fig.suptitle(f"{res.attrs.get('experiment_name', '')}: {res.replications} problems per point")
    fig.tight_layout()
    fig.savefig(args.out, dpi=150)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
