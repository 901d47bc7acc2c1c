#!/usr/bin/env python3
"""Fig. 4 of Hron et al. (2021) from stagesim results (experiments/two_stage/fig4*.toml): for each
number of arms K two rows, columns = number of nominators N, x = d/s (log scale):
  - regret at the horizon divided by the regret of a uniformly random agent on the same rounds
    (series `random_regret`), per system (G, U single stage; U+U, U+G, G+U, G+G two stage);
  - the shares of nominator and ranker regret, R^N / R and R^R / R, of one two-stage system
    (default U+U; the paper's "all two-stage systems perform similarly here").
Points are means over replications of the per-replication ratios, bands +/- 2 standard errors.
Single-stage systems do not depend on N; every column shows them.

    python3 plots/two_stage_fig4.py out/fig4.h5 [more.h5 ...] -o out/fig4.png [--csv out/fig4.csv]
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
ORDER = ["G", "U", "U+U", "U+G", "G+U", "G+G"]
STYLE = {"G": ("tab:gray", "--"), "U": ("k", "--"), "U+U": ("tab:blue", "-"),
         "U+G": ("tab:orange", "-"), "G+U": ("tab:green", "-"), "G+G": ("tab:red", "-")}


def describe(cfg, variant, nominators, ranker):
    """(K, d, s, N or None, system label) of one task from its resolved configuration."""
    world, stages = cfg["world"], cfg["stages"]
    if nominators not in stages:
        raise SystemExit(f"expected a stage named '{nominators}' "
                         "(see experiments/two_stage/fig4.toml), or pass --nominators")
    nom = stages[nominators]
    K = int(world["items"])
    # d: the columns the world serves (multilabel_bandit: feature_dims, else the generated dim).
    d = int(world.get("feature_dims", 0)) or int(world.get("dim", 0)) or None
    s = nom["features"] if isinstance(nom["features"], int) else len(nom["features"][0])
    rk = stages.get(ranker)
    if rk is None:
        return K, d, s, None, LETTER.get(nom["type"], variant or nom["type"])
    label = LETTER.get(rk["type"], rk["type"]) + "+" + LETTER.get(nom["type"], nom["type"])
    return K, d, s, int(nom["replicas"]), label


def collect(paths, nominators, ranker):
    rows = []
    for path in paths:
        res = stagesim.open(path)
        regret = res.values("regret")[:, :, -1]
        random = res.values("random_regret")[:, :, -1]
        names = res.series
        rn = res.values("regret_" + nominators)[:, :, -1] if "regret_" + nominators in names else None
        rr = res.values("regret_" + ranker)[:, :, -1] if "regret_" + ranker in names else None
        for task in range(regret.shape[0]):
            K, d, s, N, label = describe(res.config(task), res.tasks["variant"][task], nominators,
                                         ranker)
            ok = ~np.isnan(regret[task]) & (random[task] > 0)
            if not ok.any():
                continue
            row = dict(K=K, d=d, s=s, N=N, system=label, ratio=regret[task][ok] / random[task][ok])
            if N is not None and rn is not None and rr is not None:
                total = regret[task][ok]
                with np.errstate(invalid="ignore", divide="ignore"):
                    row["share_n"] = np.where(total > 0, rn[task][ok] / total, np.nan)
                    row["share_r"] = np.where(total > 0, rr[task][ok] / total, np.nan)
            rows.append(row)
    if not rows:
        raise SystemExit("no finished tasks in " + ", ".join(paths))
    d_all = {r["d"] for r in rows if r["d"]}
    d_fallback = max(r["s"] for r in rows)
    for r in rows:  # files without feature_dims: s = 0 means all columns, i.e. s = d
        r["d"] = r["d"] or (max(d_all) if d_all else d_fallback)
        r["s"] = r["s"] or r["d"]
    return rows


def stats(v):
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.nan, np.nan
    return float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def curves(rows, K, N, key):
    """{system: sorted [(d/s, mean, se)]} at this K and N (single-stage rows match every N);
    identical configurations listed at several grid points are counted once."""
    out, seen = {}, set()
    for r in rows:
        if r["K"] != K or r["N"] not in (N, None) or key not in r:
            continue
        ident = (r["d"], r["s"], r["N"], r["system"])
        if ident in seen:
            continue
        seen.add(ident)
        m, se = stats(r[key])
        out.setdefault(r["system"], []).append((r["d"] / r["s"], m, se))
    return {k: sorted(v) for k, v in out.items()}


def band(ax, pts, label, color, ls):
    x = np.array([p[0] for p in pts])
    m = np.array([p[1] for p in pts])
    se = np.array([p[2] for p in pts])
    line, = ax.plot(x, m, ls, color=color, marker="o", ms=3, label=label)
    ax.fill_between(x, m - 2 * se, m + 2 * se, color=line.get_color(), alpha=0.2, linewidth=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="+", help="stagesim HDF5 results file(s)")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--csv", help="also write the plotted points (mean, se) as CSV")
    ap.add_argument("--shares-system", default="U+U",
                    help="two-stage system whose R^N / R^R shares are shown (default U+U)")
    ap.add_argument("--nominators", default="nominators", help="nominator stage name")
    ap.add_argument("--ranker", default="ranker", help="ranker stage name")
    args = ap.parse_args()

    rows = collect(args.files, args.nominators, args.ranker)
    Ks = sorted({r["K"] for r in rows})
    Ns = sorted({r["N"] for r in rows if r["N"] is not None}) or [None]
    ds = sorted({r["d"] for r in rows})
    fig, axes = plt.subplots(2 * len(Ks), len(Ns), squeeze=False, sharex=True,
                             figsize=(2.8 * len(Ns) + 1.0, 2.2 * 2 * len(Ks) + 1.0),
                             layout="constrained")
    fig.suptitle("regret at T / random regret vs d/s (d = " + ", ".join(map(str, ds)) + ")")
    points = []
    for i, K in enumerate(Ks):
        for j, N in enumerate(Ns):
            ax = axes[2 * i][j]
            systems = curves(rows, K, N, "ratio")
            for name in sorted(systems, key=lambda n: ORDER.index(n) if n in ORDER else 99):
                color, ls = STYLE.get(name, (None, "-"))
                band(ax, systems[name], name, color, ls)
                points += [("ratio", K, N, name, *p) for p in systems[name]]
            ax.set_title(f"K = {K}, N = {N}" if N is not None else f"K = {K}")
            if j == 0:
                ax.set_ylabel("regret / random regret")
            sx = axes[2 * i + 1][j]
            shares = [(key, lab, col) for key, lab, col in
                      (("share_n", "$R^N$", "tab:purple"), ("share_r", "$R^R$", "tab:brown"))]
            for key, lab, col in shares:
                c = curves([r for r in rows if r["system"] == args.shares_system], K, N, key)
                if args.shares_system in c:
                    band(sx, c[args.shares_system], lab, col, "-")
                    points += [(key, K, N, args.shares_system, *p) for p in c[args.shares_system]]
            sx.set_ylim(-0.05, 1.05)
            if j == 0:
                sx.set_ylabel(f"{args.shares_system}: share of regret")
        for ax in axes[2 * i]:
            ax.grid(alpha=0.3)
        for ax in axes[2 * i + 1]:
            ax.grid(alpha=0.3)
    xs = sorted({p[4] for p in points}) or [1]
    for ax in axes.flat:
        ax.set_xscale("log")
        ax.set_xticks(xs)
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.minorticks_off()
    for ax in axes[-1]:
        ax.set_xlabel("d / s")
    h1, l1 = axes[0][0].get_legend_handles_labels()
    h2, l2 = axes[1][0].get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=len(l1) + len(l2))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=110, bbox_inches="tight")
    print(f"wrote {args.out}")

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["quantity", "K", "N", "system", "d_over_s", "mean", "se"])
            for q, K, N, name, x, m, se in points:
                w.writerow([q, K, "" if N is None else N, name, f"{x:g}", f"{m:.6f}", f"{se:.6f}"])
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
