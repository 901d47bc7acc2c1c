#!/usr/bin/env python3
"""Nominator vs ranker regret as the number of nominators N grows (Hron et al. 2021, Fig. 4 bottom
row): for every two-stage task, the regret at the horizon R = R^N + R^R and the shares R^N / R and
R^R / R (mean +/- 2 SE over replications of the per-replication shares). One column per (K, d, s,
system); top row absolute regrets, bottom row shares; x = N.

    python3 plots/two_stage_shares.py out/nominator_count.h5 -o out/shares.png [--csv out/shares.csv]
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import stagesim  # noqa: E402

LETTER = {"linucb": "U", "greedy": "G", "random": "R"}


def mean_se(v):
    return float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="+", help="stagesim HDF5 results file(s)")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--csv", help="also write the table as CSV")
    ap.add_argument("--nominators", default="nominators", help="nominator stage name")
    ap.add_argument("--ranker", default="ranker", help="ranker stage name")
    args = ap.parse_args()

    groups = {}  # (K, d, s, system) -> {N: (R, R^N, R^R) arrays over replications}
    for path in args.files:
        res = stagesim.open(path)
        total = res.values("regret")[:, :, -1]
        rn = res.values("regret_" + args.nominators)[:, :, -1]
        rr = res.values("regret_" + args.ranker)[:, :, -1]
        for task in range(len(res.tasks)):
            cfg = res.config(task)
            stages = cfg["stages"]
            if args.ranker not in stages or args.nominators not in stages:
                continue  # single-stage systems have no decomposition
            nom, rk = stages[args.nominators], stages[args.ranker]
            K, d = int(cfg["world"]["items"]), int(cfg["world"]["dim"])
            s = nom["features"] if isinstance(nom["features"], int) else len(nom["features"][0])
            s = s or d
            system = LETTER.get(rk["type"], rk["type"]) + "+" + LETTER.get(nom["type"], nom["type"])
            ok = ~np.isnan(total[task])
            groups.setdefault((K, d, s, system), {})[int(nom["replicas"])] = (
                total[task][ok], rn[task][ok], rr[task][ok])
    if not groups:
        raise SystemExit("no two-stage tasks (stages '%s' and '%s') in %s"
                         % (args.nominators, args.ranker, ", ".join(args.files)))

    keys = sorted(groups)
    fig, axes = plt.subplots(2, len(keys), figsize=(3.4 * len(keys) + 0.6, 6.2), squeeze=False,
                             sharex=True)
    rows = []
    for j, key in enumerate(keys):
        K, d, s, system = key
        Ns = sorted(groups[key])
        stats = {name: [] for name in ("R", "RN", "RR", "shareN", "shareR")}
        for N in Ns:
            R, RN, RR = groups[key][N]
            share_n = np.where(R > 0, RN / np.where(R > 0, R, 1), 0.0)
            for name, v in (("R", R), ("RN", RN), ("RR", RR), ("shareN", share_n),
                            ("shareR", 1 - share_n)):
                stats[name].append(mean_se(v))
            rows.append([K, d, s, system, N, R.size] +
                        [f"{x:.4f}" for name in ("R", "RN", "RR", "shareN") for x in stats[name][-1]])
        x = np.array(Ns)
        for ax, names in ((axes[0][j], (("R", "R (total)"), ("RN", "R^N (nominators)"),
                                        ("RR", "R^R (ranker)"))),
                          (axes[1][j], (("shareN", "R^N / R"), ("shareR", "R^R / R")))):
            for name, label in names:
                m = np.array([p[0] for p in stats[name]])
                se = np.array([p[1] for p in stats[name]])
                line, = ax.plot(x, m, marker="o", ms=3, label=label)
                ax.fill_between(x, m - 2 * se, m + 2 * se, color=line.get_color(), alpha=0.2,
                                linewidth=0)
            ax.set_xscale("log")
            ax.set_xticks(Ns)
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.grid(alpha=0.3)
        axes[0][j].set_title(f"{system}: K = {K}, d = {d}, s = {s}")
        axes[1][j].set_xlabel("nominators N")
        axes[1][j].set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel("regret at T")
    axes[1][0].set_ylabel("share of regret")
    axes[0][0].legend(fontsize="small")
    axes[1][0].legend(fontsize="small")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["K", "d", "s", "system", "N", "replications", "regret_mean", "regret_se",
                        "regret_nominators_mean", "regret_nominators_se", "regret_ranker_mean",
                        "regret_ranker_se", "nominator_share_mean", "nominator_share_se"])
            w.writerows(rows)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
