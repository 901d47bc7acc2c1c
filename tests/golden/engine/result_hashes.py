#!/usr/bin/env python3
"""Golden result hashes: runs each experiment family in a short mode and prints one line per result
dataset, `case dataset sha256(float64 little-endian values)`. Layout-independent (values only), so
refactors of the engine must reproduce every number bit for bit.

  result_hashes.py STAGESIM SRC_DIR WORK_DIR            # print
  result_hashes.py STAGESIM SRC_DIR WORK_DIR --check F  # compare with a stored file, exit 1 on drift
                                                       # (hashes-<isa>.txt beside F when it exists)
"""
import hashlib
import os
import subprocess
import sys

import h5py
import numpy as np

F3 = ["--set", "world.items=[10,100]", "--set", "experiment.replications=3",
      "--set", "experiment.horizon=300", "--set", "experiment.checkpoints=3"]
T1 = ["--set", "experiment.horizon=2560", "--set", "experiment.replications=2",
      "--set", "experiment.checkpoints=2", "--set", "stages.esr.keep=[5,10]",
      "--set", "metrics.policy_value.requests=200"]
T4 = ["--set", "experiment.horizon=1280", "--set", "experiment.replications=2",
      "--set", "experiment.checkpoints=2", "--set", "stages.esr.keep=[2,4]",
      "--set", "metrics.policy_value.requests=100"]

CASES = [
    ("quickstart", "experiments/single_stage.toml", ["--set", "experiment.replications=5"], None),
    ("fig3", "experiments/two_stage/fig3.toml", F3, None),
    ("prop2", "experiments/two_stage/proposition2_bandit.toml",
     ["--set", "experiment.replications=20", "--set", "experiment.horizon=3000"], None),
    ("table1", "experiments/early_stage_pg/table1.toml", T1, None),
    ("table4", "experiments/early_stage_pg/table4.toml", T4, "tests/fixtures/kuairec"),
    ("moe", "tests/golden/engine/moe_small.toml", [], None),
]


def digest(a):
    a = np.ascontiguousarray(np.asarray(a, dtype="<f8"))
    return hashlib.sha256(a.tobytes()).hexdigest()[:24]


def datasets(path):
    out = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiu":
                if name.startswith(("metrics/", "results/", "checkpoints")) or "/" not in name:
                    out.append((name, digest(obj[()])))
        f.visititems(visit)
    return sorted(out)


def run_case(exe, src, work, name, exp, args, data_dir):
    out = os.path.join(work, name + ".h5")
    for p in (out, out + ".journal"):
        if os.path.exists(p):
            os.remove(p)
    cmd = [exe, "run", os.path.join(src, exp), "--out", out, "--quiet", "--threads", "2"] + args
    if data_dir:
        cmd += ["--data-dir", os.path.join(src, data_dir)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return datasets(out)


def isa():
    """The vector ISA a -march=native build used: hashes are only comparable on the same one."""
    try:
        flags = open("/proc/cpuinfo").read().split()
    except OSError:
        return "unknown"
    return "+".join(f for f in ("avx2", "fma", "avx512f") if f in flags) or "baseline"


def main():
    exe, src, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    lines = []
    for name, exp, args, dd in CASES:
        for ds, h in run_case(exe, src, work, name, exp, args, dd):
            lines.append(f"{name} {ds} {h}")
    if "--check" in sys.argv:
        path = sys.argv[sys.argv.index("--check") + 1]
        # Hashes for this machine's ISA, when made (hashes-<isa>.txt beside the given file).
        own = os.path.join(os.path.dirname(path), f"hashes-{isa()}.txt")
        if os.path.exists(own):
            path = own
        stored = open(path).read().split("\n")
        want = [l.split("=", 1)[1] for l in stored if l.startswith("# isa=")]
        if want and want[0] != isa():
            print(f"skipped: hashes were made on isa={want[0]}, this machine is {isa()}")
            return 77
        # "# stale CASE ..." marks cases whose hashes changed by intent but could not be remade
        # on this ISA (no such machine at hand): they are reported, not compared.
        stale = {c for l in stored if l.startswith("# stale ") for c in l.split()[2:]}
        stored = [l for l in stored if l and not l.startswith("#") and l.split()[0] not in stale]
        lines = [l for l in lines if l.split()[0] not in stale]
        if stale:
            print(f"not compared (hashes stale on isa={isa()}, remake them there): "
                  + " ".join(sorted(stale)))
        bad = sorted(set(stored) ^ set(lines))
        if bad:
            print("golden result drift (- stored, + now):")
            for l in bad:
                print(("- " if l in stored else "+ ") + l)
            return 1
        print(f"{len(lines)} golden result datasets identical")
        return 0
    print(f"# isa={isa()}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
