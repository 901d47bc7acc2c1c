#!/usr/bin/env python3
"""Paired differences of two FS-LTR rows over replications (mean ± SD, in % points): row A of
file A minus row B of file B at K = 50, for HR, P and NDCG. Rows of files run with the same
experiment seed and pipeline options share each replication's pipeline, requests and test
positives (the job keys them by those, not by the learner), so the pairing is meaningful.

    python3 plots/fsltr_paired.py out/fsltr_table3.h5 "Retr FS-LR" out/fsltr_rankflow5.h5 "Retr RankFlow-5"
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _env  # noqa: E402,F401

import stagesim  # noqa: E402


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    fa, ra, fb, rb = sys.argv[1:]
    a, b = stagesim.open(fa), stagesim.open(fb)
    ia, ib = list(a.tasks["variant"]).index(ra), list(b.tasks["variant"]).index(rb)
    ka = [int(k) for k in a.axes["k"][0]].index(50)
    kb = [int(k) for k in b.axes["k"][0]].index(50)
    cells = []
    for m, lab in [("hr", "HR@50"), ("precision", "P@50"), ("ndcg", "NDCG@50")]:
        d = 100 * (a.values(m)[ia, :, ka] - b.values(m)[ib, :, kb])
        cells.append(f"{lab} {d.mean():+.2f} ± {d.std(ddof=1):.2f}")
    print(f"{ra} − {rb} ({len(d)} replications): " + ", ".join(cells))


if __name__ == "__main__":
    main()
