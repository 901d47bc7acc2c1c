#!/usr/bin/env python3
"""Early-stage-ranker tables in the CA-PG paper's layout: policy value (mean ± SE over
replications) at given gradient steps, rows = estimators (variants), columns = grid values.
A dagger marks cells where some replication's training overflowed (the value is then the last
good evaluation, the "frozen" view).

    python3 plots/pg_tables.py out/table1.h5 [--at 50000,500000] [--stage esr] [-o table.md]

Gradient steps = requests / batch, with the batch read from the stage's `update_every` in the
stored configuration. Without --at: the checkpoints nearest to 10 % and 100 % of the run; each
column is labelled with the step of the checkpoint actually used.
Writes Markdown (stdout or -o) and, with --csv, a CSV.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import stagesim  # noqa: E402


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
