#!/usr/bin/env python3
"""Fig. 3 of Hron et al. (2021) from stagesim results: regret at the horizon vs d/s, mean +/- 2 SE
over replications. Panel (a): N nominators fixed (default 5), one column per d; panel (b): d fixed
(default 40), one column per N; rows are the item counts K. Curves are systems: single-stage G, U
and two-stage [ranker]+[nominators] (labels derived from the stage types, e.g. U+G = LinUCB ranker,
Greedy nominators). Single-stage systems do not depend on N, so panel (b) repeats them per column.

    python3 plots/two_stage_fig3.py out/fig3.h5 [more.h5 ...] -o out/fig3.png [--csv out/fig3.csv]
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
# Two-stage curves often coincide: distinct markers keep each visible.
STYLE = {"G": ("tab:gray", "--", "s"), "U": ("k", "--", "D"), "U+U": ("tab:blue", "-", "o"),
         "U+G": ("tab:orange", "-", "^"), "G+U": ("tab:green", "-", "v"),
         "G+G": ("tab:red", "-", "x")}


def describe(cfg, variant):
    """(K, d, s, N or None, system label) of one task from its resolved configuration."""
    world, stages = cfg["world"], cfg["stages"]
    K, d = int(world["items"]), int(world["dim"])
    if "nominators" not in stages:
        raise SystemExit("expected a stage named 'nominators' (see experiments/two_stage/fig3.toml)")
    nom = stages["nominators"]
    s = nom["features"] if isinstance(nom["features"], int) else len(nom["features"][0])
    s = s or d
    ranker = stages.get("ranker")
    if ranker is None:
        return K, d, s, None, LETTER.get(nom["type"], variant or nom["type"])
    label = LETTER.get(ranker["type"], ranker["type"]) + "+" + LETTER.get(nom["type"], nom["type"])
    return K, d, s, int(nom["replicas"]), label


def collect(paths, metric):
    """One row per (file, task): configuration and the metric's final values over replications."""
    rows = []
    for path in paths:
        res = stagesim.open(path)
        values = res.values(metric)[:, :, -1]
        for task in range(values.shape[0]):
            K, d, s, N, label = describe(res.config(task), res.tasks["variant"][task])
            v = values[task]
            v = v[~np.isnan(v)]
            if v.size == 0:
                continue
            rows.append(dict(K=K, d=d, s=s, N=N, system=label, values=v))
    if not rows:
        raise SystemExit("no finished tasks in " + ", ".join(paths))
    return rows


def stats(v):
    return float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def panel_curves(rows, d, N):
    """{K: {system: [(d/s, mean, se)]}} of the tasks with this d and N; single-stage systems (no N)
    match every N, and identical configurations from several grid points are counted once."""
    out, seen = {}, set()
    for r in rows:
        if r["d"] != d or r["N"] not in (N, None):
            continue
        key = (r["K"], r["d"], r["s"], r["N"], r["system"])
        if key in seen:
            continue
        seen.add(key)
        m, se = stats(r["values"])
        out.setdefault(r["K"], {}).setdefault(r["system"], []).append((r["d"] / r["s"], m, se))
    return out


def draw_panel(subfig, rows, title, column_key, columns, fixed_value, Ks, metric):
    axes = subfig.subplots(len(Ks), len(columns), squeeze=False, sharex=True)
    subfig.suptitle(title)
    for j, col in enumerate(columns):
        curves = panel_curves(rows, col, fixed_value) if column_key == "d" else \
            panel_curves(rows, fixed_value, col)
        for i, K in enumerate(Ks):
            ax = axes[i][j]
            systems = curves.get(K, {})
            for name in sorted(systems, key=lambda n: ORDER.index(n) if n in ORDER else 99):
                pts = sorted(systems[name])
                x = np.array([p[0] for p in pts])
                m = np.array([p[1] for p in pts])
                se = np.array([p[2] for p in pts])
                color, ls, marker = STYLE.get(name, (None, "-", "o"))
                line, = ax.plot(x, m, ls, color=color, marker=marker, ms=4, lw=1.2, alpha=0.85,
                                mfc="none", label=name)
                ax.fill_between(x, m - 2 * se, m + 2 * se, color=line.get_color(), alpha=0.2,
                                linewidth=0)
            ax.set_xticks(sorted({p[0] for s in systems.values() for p in s}) or [1])
            ax.grid(alpha=0.3)
            if i == 0:
                ax.set_title(f"{column_key} = {col}")
            if i == len(Ks) - 1:
                ax.set_xlabel("d / s")
            if j == 0:
                ax.set_ylabel(f"K = {K}\n{metric} at T")
    handles, labels = axes[0][0].get_legend_handles_labels()
    return handles, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="+", help="stagesim HDF5 results file(s), e.g. fig3a.h5 fig3b.h5")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--csv", help="also write the plotted points (mean, se) as CSV")
    ap.add_argument("--metric", default="regret", help="metric at the horizon (default: regret)")
    ap.add_argument("--panel-a-n", type=int, default=5, help="N of panel (a) (default 5)")
    ap.add_argument("--panel-b-d", type=int, default=40, help="d of panel (b) (default 40)")
    args = ap.parse_args()

    rows = collect(args.files, args.metric)
    Ks = sorted({r["K"] for r in rows})
    a_cols = sorted({r["d"] for r in rows if r["N"] == args.panel_a_n})
    b_cols = sorted({r["N"] for r in rows if r["N"] is not None and r["d"] == args.panel_b_d})
    panels = []
    if a_cols:
        panels.append((f"(a) N = {args.panel_a_n}", "d", a_cols, args.panel_a_n))
    if len(b_cols) > 1 or not a_cols:
        panels.append((f"(b) d = {args.panel_b_d}", "N", b_cols, args.panel_b_d))
    widths = [len(p[2]) for p in panels]
    fig = plt.figure(figsize=(2.6 * sum(widths) + 1.0, 2.3 * len(Ks) + 1.2), layout="constrained")
    subfigs = fig.subfigures(1, len(panels), width_ratios=widths, squeeze=False)[0]
    handles = labels = None
    for sf, p in zip(subfigs, panels):
        h, lab = draw_panel(sf, rows, *p, Ks, args.metric)
        handles, labels = (h, lab) if not handles or len(h) > len(handles) else (handles, labels)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(labels))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=110, bbox_inches="tight")
    print(f"wrote {args.out}")

    if args.csv:
        seen = set()
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["K", "d", "s", "d_over_s", "N", "system", f"{args.metric}_mean",
                        f"{args.metric}_se", "replications"])
            for r in sorted(rows, key=lambda r: (r["K"], r["d"], r["N"] or 0, r["s"], r["system"])):
                key = (r["K"], r["d"], r["s"], r["N"], r["system"])
                if key in seen:
                    continue
                seen.add(key)
                m, se = stats(r["values"])
                w.writerow([r["K"], r["d"], r["s"], f"{r['d'] / r['s']:g}", r["N"] or "",
                            r["system"], f"{m:.4f}", f"{se:.4f}", r["values"].size])
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
