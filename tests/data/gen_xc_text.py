#!/usr/bin/env python3
"""Writes an AmazonCat-13K-shaped Extreme Classification text file, and optionally a matching dense
feature matrix, for load-time/memory measurements of the multilabel_bandit world (nothing here is
committed: the files are large).

    python3 tests/data/gen_xc_text.py OUT.txt [POINTS] [--features OUT.npy] [--dims 768]

Header "N D L" with D = 203,882 and L = 13,330 (the real file's counts); per point 1-12 labels
(mean about 5, as AmazonCat's 5.04) drawn from a Zipf-like label distribution, listed "l1,l2,...",
and about 70 sparse features "idx:value"; about 1 in 200 points has no label (the line starts with
a space). --features writes a float32 [POINTS, dims] .npy of N(0, 1) values, row-chunked.
Values are invented; deterministic (seeded). Needs numpy (Debian: python3-numpy).
"""
import argparse

import numpy as np

D, L = 203882, 13330


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("points", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--features", help="also write a dense float32 feature matrix (.npy)")
    ap.add_argument("--dims", type=int, default=768)
    args = ap.parse_args()
    rng = np.random.default_rng(13)
    weights = 1.0 / (np.arange(1, L + 1) + 5.0)
    weights /= weights.sum()
    perm = rng.permutation(L)  # label ids are not in frequency order
    chunk = 20000
    with open(args.out, "w") as f:
        f.write(f"{args.points} {D} {L}\n")
        for start in range(0, args.points, chunk):
            n = min(chunk, args.points - start)
            n_labels = np.clip(rng.poisson(4.6, n) + 1, 1, 12)
            n_labels[rng.random(n) < 0.005] = 0
            n_feat = np.clip(rng.poisson(70, n), 1, None)
            labels = perm[rng.choice(L, size=int(n_labels.sum()), p=weights)]
            feats = rng.integers(0, D, size=int(n_feat.sum()))
            values = rng.random(int(n_feat.sum()))
            lines = []
            lo = fo = 0
            for i in range(n):
                ls = np.unique(labels[lo:lo + n_labels[i]])
                lo += n_labels[i]
                fs = feats[fo:fo + n_feat[i]]
                vs = values[fo:fo + n_feat[i]]
                fo += n_feat[i]
                lines.append(",".join(map(str, ls)) + " " +
                             " ".join(f"{a}:{b:.6f}" for a, b in zip(fs, vs)) + "\n")
            f.writelines(lines)
    print(f"wrote {args.out}: {args.points} points")
    if args.features:
        m = np.lib.format.open_memmap(args.features, mode="w+", dtype="<f4",
                                      shape=(args.points, args.dims))
        for start in range(0, args.points, 50000):
            n = min(50000, args.points - start)
            m[start:start + n] = rng.standard_normal((n, args.dims), dtype=np.float32)
        m.flush()
        print(f"wrote {args.features}: {args.points} x {args.dims} float32")


if __name__ == "__main__":
    main()
