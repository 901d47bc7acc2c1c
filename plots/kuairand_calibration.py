#!/usr/bin/env python3
"""The session world's fit to KuaiRand (experiments/multi_stage_rl/calibrate.toml): observed vs
fitted distributions of requests per session (session = user-day), return days, the watched
fraction, and the seven behaviours' base rates (log scale), for task 0, replication 0.

    stagesim run experiments/multi_stage_rl/calibrate.toml --out out/calibrate.h5
    python3 plots/kuairand_calibration.py out/calibrate.h5 -o out/calibrate.png
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

BEHAVIOURS = ["click", "long_view", "like", "comment", "forward", "follow", "hate"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--task", type=int, default=0)
    args = ap.parse_args()

    res = stagesim.open(args.file)
    t = args.task

    def pair(name, axis):
        return (axis_values(res, axis, t), output_array(res, "observed_" + name)[t, 0],
                output_array(res, "fitted_" + name)[t, 0])

    def scalar(name):
        return float(output_array(res, name)[t, 0])

    fig, axes = plt.subplots(2, 2, figsize=(10.0, 7.0))
    ax = axes[0, 0]
    x, obs, fit = pair("depth", "requests")
    ax.bar(x, obs, width=0.8, alpha=0.5, label="observed (user-days; each user weighs 1)")
    ax.plot(x, fit, "o-", ms=3, color="C3", label="fitted (simulated sessions)")
    ax.set_xlabel(f"requests per session (last bin: {int(x[-1])} or more)")
    ax.set_ylabel("share of sessions")
    ax.set_title(f"depth: mean {scalar('observed_mean_requests'):.2f} observed, "
                 f"{scalar('fitted_mean_requests'):.2f} fitted")
    ax.legend()

    ax = axes[0, 1]
    x, obs, fit = pair("return_day", "return_day")
    ax.bar(x, obs, width=0.8, alpha=0.5, label="observed gaps between active days")
    ax.plot(x, fit, "o-", ms=3, color="C3", label="fitted (posterior predictive)")
    ax.set_xlabel("return day (gap in days)")
    ax.set_ylabel("share of gaps")
    beyond = scalar("gaps_beyond")
    ax.set_title(f"return: mean {scalar('observed_mean_return_day'):.2f} observed, "
                 f"{scalar('fitted_mean_return_day'):.2f} fitted"
                 + (f" ({beyond:.0f} longer gaps not fitted)" if beyond > 0 else ""))
    ax.legend()

    ax = axes[1, 0]
    x, obs, fit = pair("play_fraction", "play_fraction")
    ax.bar(x, obs, width=0.08, alpha=0.5, label="observed min(play / duration, 1)")
    ax.plot(x, fit, "o-", ms=3, color="C3", label="fitted")
    ax.set_xlabel("watched fraction")
    ax.set_ylabel("share of exposures")
    ax.set_title(f"play time: {scalar('observed_play_seconds'):.1f} s observed, "
                 f"{scalar('fitted_play_seconds'):.1f} s fitted per exposure")
    ax.legend()

    ax = axes[1, 1]
    obs = output_array(res, "observed_rate")[t, 0]
    fit = output_array(res, "fitted_rate")[t, 0]
    sim = output_array(res, "simulated_rate")[t, 0]
    i = np.arange(len(BEHAVIOURS))
    ax.bar(i - 0.25, obs, width=0.25, label="observed")
    ax.bar(i, fit, width=0.25, label="fitted E σ(offset + affinity)")
    ax.bar(i + 0.25, sim, width=0.25, label="simulated exposures")
    ax.set_yscale("log")
    ax.set_xticks(i, BEHAVIOURS, rotation=30)
    ax.set_ylabel("base rate")
    ax.set_title("behaviours (random exposure)")
    ax.legend(fontsize=8)

    fig.suptitle(f"session world fitted to {res.attrs.get('experiment_file', args.file)}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
