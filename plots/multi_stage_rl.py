#!/usr/bin/env python3
"""Multi-stage RL (experiments/multi_stage_rl/*.toml): a table of KuaiSim's session metrics per
learner (variant) — play time per session, depth with its 10/50/90 % quantiles, total and
average reward per session, return day, retention — as mean ± SE over replications, and a
figure: the learning curves (play time per session of fresh users after each episode) and the
depth distribution of each learner's test sessions.

    python3 plots/multi_stage_rl.py out/msrl_main.h5 --table
    python3 plots/multi_stage_rl.py out/msrl_main.h5 -o out/msrl_main.png
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import numpy as np  # noqa: E402

import stagesim  # noqa: E402
from _jobs import axis_values, output_array  # noqa: E402

COLUMNS = [("play_time", "play time / session (s)", 0), ("depth", "depth", 1),
           ("depth_q10", "q10", 0), ("depth_q50", "q50", 0), ("depth_q90", "q90", 0),
           ("total_reward", "total reward", 1), ("average_reward", "avg reward", 2),
           ("return_day", "return day", 2), ("retention", "retention", 3),
           ("user_retention", "user retention", 3)]


def mean_se(a):
    a = a[~np.isnan(a)]
    if a.size == 0:
        return np.nan, np.nan
    return a.mean(), (a.std(ddof=1) / np.sqrt(a.size) if a.size > 1 else np.nan)


def table(res):
    names = list(res.tasks["variant"])
    cols = {c: output_array(res, c)[:, :] for c, _, _ in COLUMNS}
    head = "| learner | " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    print(head)
    print("|" + "---|" * (len(COLUMNS) + 1))
    for t, n in enumerate(names):
        cells = []
        for c, _, d in COLUMNS:
            m, s = mean_se(cols[c][t])
            cells.append(f"{m:.{d}f} ± {s:.{d}f}")
        print(f"| {n} | " + " | ".join(cells) + " |")
    print(f"\n{res.replications} replications; mean ± SE over replications.")


def figure(res, out):
    import matplotlib.pyplot as plt
    names = list(res.tasks["variant"])
    curve = output_array(res, "eval_play_time")  # [task, rep, episode]
    hist = output_array(res, "depth_histogram")  # [task, rep, depth]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for t, n in enumerate(names):
        ep = axis_values(res, "episode", t)
        m = np.nanmean(curve[t], axis=0)
        se = np.nanstd(curve[t], axis=0, ddof=1) / np.sqrt(curve.shape[1])
        line, = a.plot(ep, m, label=n)
        a.fill_between(ep, m - se, m + se, color=line.get_color(), alpha=0.2, linewidth=0)
        d = axis_values(res, "depth", t)
        b.plot(d, np.nanmean(hist[t], axis=0), color=line.get_color(), label=n)
    a.set_xlabel("episode")
    a.set_ylabel("play time per session (s), fresh users")
    a.legend(fontsize=8)
    b.set_xlabel("requests per session (last bin: more)")
    b.set_ylabel("share of test sessions")
    fig.suptitle(f"{res.attrs.get('experiment_name', '')}: {res.replications} replications")
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    print(f"wrote {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("-o", "--out", help="output image (PNG or PDF)")
    ap.add_argument("--table", action="store_true", help="print the markdown table")
    args = ap.parse_args()
    res = stagesim.open(args.file)
    if args.table or not args.out:
        table(res)
    if args.out:
        figure(res, args.out)


if __name__ == "__main__":
    main()
