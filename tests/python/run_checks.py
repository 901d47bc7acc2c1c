#!/usr/bin/env python3
"""Opens a stagesim output file the way users do (h5py) and runs the plot script on it.
Exit 77 (skipped) when h5py/matplotlib are not installed."""
import argparse
import os
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
    import matplotlib  # noqa: F401
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--stagesim", required=True)
ap.add_argument("--source", required=True)
ap.add_argument("--workdir", required=True)
args = ap.parse_args()

shutil.rmtree(args.workdir, ignore_errors=True)
os.makedirs(args.workdir)
out = os.path.join(args.workdir, "quickstart.h5")
subprocess.run([args.stagesim, "run", os.path.join(args.source, "experiments/quickstart.toml"),
                "--out", out, "--quiet", "--set", "experiment.replications=5"], check=True)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with h5py.File(out, "r") as f:
    check(f.attrs["format"] == "stagesim-results-1", "format attribute")
    check(int(f.attrs["replications"]) == 5, "replications attribute")
    check(int(f.attrs["master_seed"]) == 2021, "master_seed attribute")
    check("[experiment]" in f.attrs["experiment_text"], "experiment text stored")
    variants = [v.decode() for v in f["tasks/variant"][:]]
    check(variants == ["LinUCB", "Greedy", "Random"], f"variants {variants}")
    for name in ("regret", "random_regret", "reward"):
        d = f["metrics"][name]
        check(d.shape == (3, 5, 100), f"{name} shape {d.shape}")
        check(d.dtype == np.float64, f"{name} dtype")
        check(d.compression == "gzip" and d.chunks is not None, f"{name} chunked+compressed")
        check(len(d.attrs["units"]) > 0 and len(d.attrs["description"]) > 0, f"{name} attrs")
    regret = f["metrics/regret"][:]
    random_regret = f["metrics/random_regret"][:]
    check(np.all(np.diff(regret, axis=2) >= 0), "cumulative regret non-decreasing")
    # The exact random baseline depends only on the requests: equal across the three systems.
    check(np.array_equal(random_regret[0], random_regret[2]), "common random numbers")
    check(regret[2, :, -1].mean() > 100 * regret[0, :, -1].mean() / 10, "random is worst")
    check(f["checkpoints"].shape == (3, 100) and f["checkpoints"][0, -1] == 1000, "checkpoints")
    resolved = f["tasks/resolved"][0].decode()
    check("alpha = 0.1" in resolved, "resolved defaults stored")

png = os.path.join(args.workdir, "quickstart.png")
subprocess.run([sys.executable, os.path.join(args.source, "plots/regret_curves.py"), out, "-o", png],
               check=True)
with open(png, "rb") as fh:
    head = fh.read(8)
check(head == b"\x89PNG\r\n\x1a\n", "plot is a PNG")
check(os.path.getsize(png) > 10000, "plot has content")

for f in failures:
    print("FAILED:", f)
if not failures:
    print("all output checks passed")
sys.exit(1 if failures else 0)
