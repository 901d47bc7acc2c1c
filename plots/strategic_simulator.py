#!/usr/bin/env python3
"""PASTO in the simulator (experiments/strategic_parameters/simulator.toml): the objective f of
each system's traffic per window between checkpoints (mean +/- 2 SE over replications; the
fixed-parameter variants in grey, the best of them in hindsight in black), and a table of what
was deployed: f of the metrics of the requests after `learn_requests`, the paired gain over the
best fixed parameter of the same replication (the best deterministic beta on the same
requests), and the relative gain against the best mixture of the fixed parameters' measured
metric vectors (p* of f(U p) with U estimated from the fixed variants on the same requests).

    python3 plots/strategic_simulator.py out/strategic_sim.h5 -o out/strategic_sim.png
        [--table out/strategic_sim.md]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import stagesim  # noqa: E402


def objective(rank, v):
    """f(v) for the stage's objective form; v has the metrics on its last axis."""
    x = v[..., 0]
    c = np.asarray(rank.get("thresholds", []), dtype=float)
    short = np.minimum(0.0, v[..., 1:] - c)
    form = rank.get("form", "soft")
    if form == "primary":
        return x
    if form == "hard":
        return np.where(np.all(short >= 0, axis=-1), x, -np.inf)
    return x - float(rank.get("lambda", 0.0)) * np.sum(short ** 2, axis=-1)


def project_simplex(v):
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    rho = np.nonzero(u * np.arange(1, len(v) + 1) > css - 1)[0][-1]
    return np.maximum(v - (css[rho] - 1) / (rho + 1), 0)


def best_mixture(rank, u, iters=20000):
    """max_p f(U p) over the simplex by projected gradient (soft/primary; hard via a large
    penalty), U = metrics x parameters."""
    c = np.asarray(rank.get("thresholds", []), dtype=float)
    lam = float(rank.get("lambda", 0.0)) if rank.get("form", "soft") == "soft" else 1e8
    if rank.get("form") == "primary":
        lam = 0.0
    k = u.shape[1]
    best = max(range(k), key=lambda i: objective(rank, u[:, i]))
    p = np.eye(k)[best]
    lip = 2 * lam * np.sum(u[1:] ** 2) + 1e-12
    for _ in range(iters):
        v = u @ p
        d = np.concatenate([[1.0], -2 * lam * np.minimum(0.0, v[1:] - c)])
        p = project_simplex(p + (u.T @ d) / lip)
    return p


def load(res, stage):
    """The fusion ranker's series as arrays (through stagesim's long frame): running means of
    every metric [task, rep, checkpoint, metric], the deployed means at the last checkpoint
    [task, rep, metric], the checkpoints, the stage's resolved options, and which tasks are
    fixed-parameter competitors."""
    rank = res.config(0)["stages"][stage]
    m = len(rank.get("thresholds", [])) + 1
    names = [f"{stage}_mean_{j}" for j in range(m)] + [f"{stage}_deployed_mean_{j}"
                                                        for j in range(m)]
    df = res.frame(names)
    T, R = len(res.tasks), res.replications
    C = int(df["checkpoint"].max()) + 1
    arr = {}
    for name, g in df.groupby("series"):
        a = np.full((T, R, C), np.nan)
        a[g["task"].to_numpy(), g["replication"].to_numpy(), g["checkpoint"].to_numpy()] = \
            g["value"].to_numpy()
        arr[name] = a
    means = np.stack([arr[f"{stage}_mean_{j}"] for j in range(m)], axis=-1)
    dep = np.stack([arr[f"{stage}_deployed_mean_{j}"][:, :, -1] for j in range(m)], axis=-1)
    fixed = [t for t in range(T) if res.config(t)["stages"][stage].get("learner") == "fixed"]
    return {"rank": rank, "learn": int(rank.get("learn_requests", 0)), "means": means,
            "deployed": dep, "checkpoints": res.checkpoints[0].astype(float),
            "variants": list(res.tasks["variant"]), "fixed": fixed,
            "learners": [t for t in range(T) if t not in fixed]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("-o", "--out", required=True, help="output image (PNG or PDF)")
    ap.add_argument("--table", help="also write the deployed-value table (Markdown)")
    ap.add_argument("--stage", default="rank", help="name of the fusion_ranker stage")
    args = ap.parse_args()

    res = stagesim.open(args.file)
    s = args.stage
    d = load(res, s)
    rank, learn, means, dep, cp = d["rank"], d["learn"], d["means"], d["deployed"], d["checkpoints"]
    variants = d["variants"]
    # Window means from the running means: (n_c m_c − n_{c−1} m_{c−1}) / (n_c − n_{c−1}).
    n = cp[None, None, :, None]
    prev_n = np.concatenate([[0.0], cp[:-1]])[None, None, :, None]
    prev_m = np.concatenate([np.zeros_like(means[:, :, :1]), means[:, :, :-1]], axis=2)
    window = (n * means - prev_n * prev_m) / (n - prev_n)
    f_window = objective(rank, window)  # [task, rep, checkpoint]

    tasks, fixed, learners = range(len(variants)), d["fixed"], d["learners"]
    f_dep = objective(rank, dep)  # [task, rep]
    reps = f_dep.shape[1]
    best_fixed = np.array([max(fixed, key=lambda t: f_dep[t, r]) for r in range(reps)]) if fixed else []

    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    mid = 0.5 * (cp + np.concatenate([[0.0], cp[:-1]]))
    for t in fixed:
        ax.plot(mid, np.nanmean(f_window[t], axis=0), color="0.75", linewidth=0.8)
    if fixed:
        bf = np.array([f_window[best_fixed[r], r] for r in range(reps)])
        ax.plot(mid, bf.mean(axis=0), color="black", label="best fixed β (hindsight)")
    for t in learners:
        mean = np.nanmean(f_window[t], axis=0)
        se = np.nanstd(f_window[t], axis=0, ddof=1) / np.sqrt(reps) if reps > 1 else 0 * mean
        line, = ax.plot(mid, mean, label=variants[t])
        ax.fill_between(mid, mean - 2 * se, mean + 2 * se, color=line.get_color(), alpha=0.2,
                        linewidth=0)
    if learn:
        ax.axvline(learn, color="0.4", linestyle=":", linewidth=1)
    lo = np.nanmin([np.nanmean(f_window[t], axis=0).min() for t in learners] or [0])
    top = np.nanmax(np.nanmean(f_window, axis=1))
    ax.set_ylim(max(lo, top - 3 * abs(top) - 1e-9), top + 0.1 * abs(top))
    ax.set_xlabel("requests")
    ax.set_ylabel("f of the window's mean metrics")
    ax.set_title(f"{res.attrs.get('experiment_name', '')}: objective per window (dotted: learning stops)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=150)
    print(f"wrote {args.out}")

    rows = ["| system | deployed f | watch | like | gain vs best fixed | relative gain |",
            "|---|---|---|---|---|---|"]
    mix = []
    if fixed:
        for r in range(reps):
            u = dep[fixed, r, :].T  # metrics x fixed parameters, measured on the same requests
            mix.append(objective(rank, u @ best_mixture(rank, u)))
    mix = np.array(mix)
    for t in tasks:
        fd = f_dep[t]
        line = (f"| {variants[t]} | {fd.mean():.4f} ± {fd.std(ddof=1) / np.sqrt(reps):.4f} | "
                f"{dep[t, :, 0].mean():.4f} | {dep[t, :, 1].mean():.4f} |")
        if fixed:
            best = np.array([f_dep[best_fixed[r], r] for r in range(reps)])
            gain = fd - best
            gap = mix - best
            rel = np.where(gap > 1e-9, gain / np.where(gap > 1e-9, gap, 1.0), np.nan)
            line += (f" {gain.mean():+.4f} ± {gain.std(ddof=1) / np.sqrt(reps):.4f} | "
                     f"{np.mean(rel):+.2f} ± {np.std(rel, ddof=1) / np.sqrt(reps):.2f} |")
        else:
            line += " | |"
        rows.append(line)
    if fixed:
        rows.append(f"| best mixture of the fixed β's (estimated U) | {mix.mean():.4f} | | | | 1 |")
    table = "\n".join(rows)
    print(table)
    if args.table:
        with open(args.table, "w") as fh:
            fh.write(table + "\n")
        print(f"wrote {args.table}")


if __name__ == "__main__":
    main()
