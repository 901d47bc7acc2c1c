#!/usr/bin/env python3
"""Reads the stage log of a 4-stage cascade the way users do (h5py + pandas, no stagesim code) and
checks it against the keeps: every candidate once per request, offered counts = upstream keeps.
Exit 77 (skipped) without h5py/pandas."""
import os
import subprocess
import sys

try:
    import h5py
    import numpy as np
    import pandas as pd
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

stagesim, source, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
out = os.path.join(work, "cascade.h5")
subprocess.run([stagesim, "run", os.path.join(source, "experiments/examples/cascade_stage_log.toml"),
                "--out", out, "--quiet", "--set", "experiment.horizon=20"], check=True)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with h5py.File(out, "r") as f:
    g = f["tables/stage_log"]
    df = pd.DataFrame({k: v[:] for k, v in g.items()})
    check(len(df) == 2 * 20 * 1000, f"rows {len(df)}")
    check(g["item"].dtype == np.int64 and g["score_prerank"].dtype == np.float64, "dtypes")
    check(len(g["exposed"].attrs["description"]) > 0, "column descriptions")
    per = df.groupby(["task", "replication", "request"])
    check(per.item.nunique().eq(1000).all() and per.size().eq(1000).all(), "each candidate once")
    for s, n in [(1, 1000), (2, 200), (3, 50), (4, 10)]:
        counts = per.reached.apply(lambda r: int((r >= s).sum()))
        check(counts.eq(n).all(), f"offered to layer {s}: {counts.unique()}")
    check(per.exposed.sum().eq(3).all(), "3 exposed per request")
    exp = df[df.exposed == 1]
    check(exp.outcome_reward.notna().all() and df[df.exposed == 0].outcome_reward.isna().all(),
          "outcomes exactly on exposed rows")
    check((exp.reached == 4).all() and (exp.position_rerank >= 0).all(), "exposed reached the end")
    check((df.position_rank >= 0).groupby([df.task, df.replication, df.request]).sum().eq(10).all(),
          "rank kept 10")

if failures:
    print("FAILED: " + "; ".join(failures))
    sys.exit(1)
print("stage log checks passed")
