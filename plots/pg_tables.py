#!/usr/bin/env python3
"""Early-stage-ranker tables in the CA-PG paper's layout: policy value (mean ± SE over
replications) at given gradient steps, rows = estimators (variants), columns = grid values.
A dagger marks cells where some replication's training overflowed (the value is then the last
good evaluation, the "frozen" view).

    python3 plots/pg_tables.py out/table1.h5 [--at 50000,500000] [--stage esr] [-o table.md]
                               [--paper]

Gradient steps = requests / batch, with the batch read from the stage's `update_every` in the
stored configuration. Without --at: the checkpoints nearest to 10 % and 100 % of the run; each
column is labelled with the step of the checkpoint actually used.
Writes Markdown (stdout or -o) and, with --csv, a CSV. With --paper (a grid over
stages.esr.keep only): the paper's values at @50K and @500K for the same rows and columns, and
its ordering claims checked on this file's first column step — Table 6's (GRPO) when the stage
has grpo_group > 1, Table 1's otherwise.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import stagesim  # noqa: E402


# The CA-PG paper's Table 1 (policy value, mean over 10 seeds): (estimator, K) -> (@50K, @500K).
PAPER_TABLE1 = {
    ("V-PG", 5): (7.09, 7.22), ("V-PG", 10): (7.16, 7.17), ("V-PG", 20): (6.86, 6.86),
    ("V-PG-SwR", 5): (7.68, 8.33), ("V-PG-SwR", 10): (7.80, 8.54), ("V-PG-SwR", 20): (7.88, 8.74),
    ("CA-PG", 5): (7.39, 8.19), ("CA-PG", 10): (7.99, 8.44), ("CA-PG", 20): (8.39, 8.70),
    ("CA-PG-SwR", 5): (7.37, 8.11), ("CA-PG-SwR", 10): (7.94, 8.40),
    ("CA-PG-SwR", 20): (8.33, 8.62),
}


# The CA-PG paper's Table 6 (GRPO, M = 5, L = 1; only the SwR estimators are reported):
# (estimator, K) -> (@50K, @500K).
PAPER_TABLE6 = {
    ("V-PG-SwR", 20): (8.71, 8.88), ("V-PG-SwR", 50): (8.84, 8.98),
    ("V-PG-SwR", 100): (8.93, 9.02), ("V-PG-SwR", 200): (9.00, 9.06),
    ("CA-PG-SwR", 20): (8.58, 8.97), ("CA-PG-SwR", 50): (8.89, 9.07),
    ("CA-PG-SwR", 100): (9.02, 9.10), ("CA-PG-SwR", 200): (9.08, 9.11),
}

# Per table: its values and its ordering claims (a, b, K, strict: a > b, else a ≥ b).
PAPERS = {
    "Table 1": (PAPER_TABLE1, [("CA-PG", "CA-PG-SwR", 10, False),
                               ("CA-PG-SwR", "V-PG-SwR", 10, True),
                               ("V-PG-SwR", "V-PG", 10, True)]),
    # "CA-PG-SwR + GRPO achieves a better performance than V-PG-SwR in the large candidate-set
    # size regime"; at 50K "the difference becomes small".
    "Table 6": (PAPER_TABLE6, [("CA-PG-SwR", "V-PG-SwR", 100, False),
                               ("CA-PG-SwR", "V-PG-SwR", 200, False)]),
}


def paper_of(res, stage):
    """Table 6 when the stage trains with GRPO groups, Table 1 otherwise (read off the first
    task: the paper's files set grpo_group for every task alike; a group of 1 is no group)."""
    grpo = res.config(0).get("stages", {}).get(stage, {}).get("grpo_group", 0)
    return "Table 6" if int(grpo or 0) > 1 else "Table 1"


def paper_section(res, mean, se, steps, at, variants, missing, table="Table 1"):
    """The paper's table beside ours and its ordering claims, as Markdown lines."""
    paper, claims = PAPERS[table]
    axis = "stages.esr.keep"
    if list(res.grid_axes) != [axis]:
        raise SystemExit(f"{res.path}: --paper needs {table}'s grid (only {axis}); "
                         f"this file's axes: {', '.join(res.grid_axes) or 'none'}")
    n_tasks = mean.shape[0]
    ks = sorted(dict.fromkeys(int(res.tasks[axis][t]) for t in range(n_tasks)))

    def task_of(v, k):
        return next((t for t in range(n_tasks)
                     if res.tasks["variant"][t] == v and int(res.tasks[axis][t]) == k), None)

    def at_step(t, step):
        idx = int(abs(steps[t] - step).argmin())
        return mean[t, idx], se[t, idx], idx

    lines = ["", f"The paper's {table} (policy value, 10 seeds):", ""]
    header = ["estimator"] + [f"K={k} @{w}" for k in ks for w in ("50K", "500K")]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for v in variants:
        row = [v]
        for k in ks:
            p = paper.get((v, k))
            row += [f"{p[0]:.2f}", f"{p[1]:.2f}"] if p else ["", ""]
        lines.append("| " + " | ".join(row) + " |")
    step = at[0]
    when = f"@{step // 1000}K" if step % 1000 == 0 else f"@{step}"
    lines += ["", f"Ordering claims of the paper, checked here at {when} (difference ± its SE; "
              "'>' holds when the difference exceeds 2 SE, '≥' when it is not below −2 SE):",
              ""]

    def claim(a, b, k, strict):
        ta, tb = task_of(a, k), task_of(b, k)
        if ta is None or tb is None:
            return f"- K = {k}: {a} {'>' if strict else '≥'} {b} — not in this file"
        ma, sa, _ = at_step(ta, step)
        mb, sb, _ = at_step(tb, step)
        d, sd = ma - mb, (sa * sa + sb * sb) ** 0.5
        ok = d > 2 * sd if strict else d > -2 * sd
        return (f"- K = {k}: {a} {'>' if strict else '≥'} {b}: {d:+.3f} ± {sd:.3f} — here: "
                f"{'yes' if ok else 'NO'}")

    for a, b, k, strict in claims:
        lines.append(claim(a, b, k, strict))
    if table == "Table 6":
        for k in ks:
            ta, tb = task_of("CA-PG-SwR", k), task_of("V-PG-SwR", k)
            if ta is None or tb is None:
                continue
            ma, sa, _ = at_step(ta, step)
            mb, sb, _ = at_step(tb, step)
            pa, pb = paper.get(("CA-PG-SwR", k)), paper.get(("V-PG-SwR", k))
            there = f", in the paper {pa[0] - pb[0]:+.2f}" if pa and pb else ""
            lines.append(f"- K = {k}: CA-PG-SwR − V-PG-SwR here {ma - mb:+.3f} ± "
                         f"{(sa * sa + sb * sb) ** 0.5:.3f}{there}")
    overflow = res.values("esr_overflow_step") if "esr_overflow_step" in res.series else None
    for k in ks:
        t = task_of("V-PG", k)
        if t is None or overflow is None:
            continue
        _, _, idx = at_step(t, step)
        o = overflow[t, :, idx]
        n = sum(1 for x in o if x >= 0)  # -1 while training; NaN where not run
        lines.append(f"- K = {k}: V-PG overflowed by {when} in {n} of {o.shape[0]} replications")
    if table == "Table 1":
        lines.append("  (the paper: V-PG overflows at large K)")
    return lines


def batch_of(res, task, stage):
    cfg = res.config(task)
    stages = cfg.get("stages", {})
    if stage not in stages:
        raise SystemExit(f"{res.path}: no stage '{stage}'; stages: {', '.join(stages)}")
    return int(stages[stage].get("update_every", 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--at", help="gradient steps, comma-separated (default: 10%% and 100%% of the run)")
    ap.add_argument("--stage", default="esr", help="the learning stage (default: esr)")
    ap.add_argument("--metric", default="policy_value")
    ap.add_argument("-o", "--out", help="Markdown output (default: stdout)")
    ap.add_argument("--csv", help="also write the table as CSV")
    ap.add_argument("--paper", action="store_true",
                    help="add the CA-PG paper's Table 1 (or Table 6 for GRPO runs) and check its "
                    "ordering claims")
    args = ap.parse_args()

    res = stagesim.open(args.file)
    value = res.values(args.metric)
    missing = res.values("policy_value_missing") if "policy_value_missing" in res.series else None
    mean, se, _ = stagesim.mean_se(value)
    n_tasks = value.shape[0]
    steps = [res.checkpoints[t] // batch_of(res, t, args.stage) for t in range(n_tasks)]
    if args.at:
        wanted = [int(x) for x in args.at.split(",")]
    else:
        last = int(steps[0][-1])
        wanted = [max(1, last // 10), last]
    # Columns show the checkpoint actually used: the one nearest to each requested step.
    at = [int(steps[0][int(abs(steps[0] - w).argmin())]) for w in wanted]

    variants = list(dict.fromkeys(res.tasks["variant"]))
    axes = list(res.grid_axes)

    def point_of(t):
        return tuple(res.tasks[a][t] for a in axes)

    columns = list(dict.fromkeys(point_of(t) for t in range(n_tasks)))

    def cell(task, step):
        idx = int((abs(steps[task] - step)).argmin())
        s = f"{mean[task, idx]:.2f} ± {se[task, idx]:.2f}"
        if missing is not None and (missing[task, :, idx] != missing[task, :, idx]).any():
            s += " †"
        return s

    def label(col, step):
        point = ", ".join(f"{a}={v:g}" if isinstance(v, float) else f"{a}={v}"
                          for a, v in zip(axes, col))
        when = f"@{step // 1000}K" if step >= 1000 and step % 1000 == 0 else f"@{step}"
        return f"{point} {when}".strip()

    header = ["estimator"] + [label(col, step) for col in columns for step in at]
    rows = []
    for v in variants:
        row = [v or "(base)"]
        for col in columns:
            task = next((t for t in range(n_tasks) if res.tasks["variant"][t] == v
                         and point_of(t) == col), None)
            for step in at:
                row.append("" if task is None else cell(task, step))
        rows.append(row)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append(f"mean ± SE over {value.shape[1]} replications; † = training overflowed in at "
                 "least one replication (last good value kept)")
    if args.paper:
        lines += paper_section(res, mean, se, steps, at, variants, missing,
                               paper_of(res, args.stage))
    out = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(out)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(out)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)


if __name__ == "__main__":
    main()
