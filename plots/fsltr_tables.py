#!/usr/bin/env python3
"""FS-LTR tables in the paper's layout (Tables 3-5): one row per variant (stage, method), columns
HR / NDCG / R / P @K as mean (± SD over replications) in percent, with an unpaired two-sided
t-test (Welch) of each stage's FS-LR row against that stage's best other row on every column;
'*' marks p < 0.05 where FS-LR is better. Reads the HDF5 output of the `full_stage_ltr` job.

    python3 plots/fsltr_tables.py out/fsltr_table3.h5 [--paper] [-o table.md]

--paper adds the paper's Table 3 HR@50 values next to ours (variants named "Retr BPR", ...).
Metric names are explicit: R = macro recall, P = precision, NDCG normalised (see
docs/full-stage-ltr.md for the micro recall and unnormalised DCG outputs).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401  (first: the package path and an interpreter with h5py)

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

import stagesim  # noqa: E402

PAPER_HR50 = {"Retr BPR": 35.59, "Retr SSM": 37.88, "Retr RankFlow": 38.64, "Retr FS-RN": 38.60,
              "Retr FS-LR": 40.75, "Prerank BCE": 32.57, "Prerank RankFlow": 39.22,
              "Prerank FS-LR": 40.16}
COLUMNS = [("hr", "HR"), ("ndcg", "NDCG"), ("recall", "R"), ("precision", "P")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--paper", action="store_true")
    ap.add_argument("-o", "--out")
    a = ap.parse_args()
    res = stagesim.open(a.file)
    names = list(res.tasks["variant"])
    # A file without [[variant]] names: "stage method" from each task's resolved configuration.
    stages = res.param("job.stage", default="")
    methods = res.param("job.method", default="")
    names = [n or f"{st} {me}".strip() for n, st, me in zip(names, stages, methods)]
    ks = [int(k) for k in res.axes["k"][0] if np.isfinite(k)]
    data = {m: 100.0 * res.values(m) for m, _ in COLUMNS}  # [task, rep, k]
    stage = [n.split()[0] if " " in n else "" for n in names]
    cols = [(m, lab, j, k) for j, k in enumerate(ks) for m, lab in COLUMNS]
    head = ["Stage", "Method"] + [f"{lab}@{k}" for m, lab, j, k in cols]
    if a.paper:
        head.append("paper HR@50")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t, n in enumerate(names):
        row = [stage[t], n.split(" ", 1)[-1]]
        fs = n.endswith("FS-LR")
        for m, lab, j, k in cols:
            x = data[m][t, :, j]
            x = x[np.isfinite(x)]
            cell = f"{x.mean():.2f} (± {x.std(ddof=1) if len(x) > 1 else 0:.2f})"
            if fs:
                others = [u for u in range(len(names)) if stage[u] == stage[t] and u != t]
                if others:
                    best = max(others, key=lambda u: np.nanmean(data[m][u, :, j]))
                    y = data[m][best, :, j]
                    y = y[np.isfinite(y)]
                    if len(x) > 1 and len(y) > 1:
                        p = stats.ttest_ind(x, y, equal_var=False).pvalue
                        if x.mean() > y.mean() and p < 0.05:
                            cell += "*"
            row.append(cell)
        if a.paper:
            row.append(f"{PAPER_HR50[n]:.2f}" if n in PAPER_HR50 else "")
        lines.append("| " + " | ".join(row) + " |")
    reps = data["hr"].shape[1]
    lines.append("")
    lines.append(f"{reps} replications; mean (± SD) in %; * = FS-LR better than the stage's best "
                 "other method with p < 0.05 (Welch's unpaired t-test).")
    text = "\n".join(lines) + "\n"
    if a.out:
        open(a.out, "w").write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
