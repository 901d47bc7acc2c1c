#!/usr/bin/env python3
"""The strategic-parameter problems as offline jobs (job type strategic_rounds), in short modes of
experiments/strategic_parameters/toy.toml and synthetic.toml, read through the stagesim package
and the plot scripts:
  - problem A (200 runs, 1000 rounds): f(U p*) = 1 + 1/(4λ); PASTO's averaged iterate ends within
    0.1 of it and above every deterministic parameter (f = −8 and 0) by > 3 SE; the 25/75 % band
    of the last record lies inside [best single, optimum];
  - problem B (K = 100, m = 3; 3 problems, 2000 rounds, one noise level): no recorded value
    exceeds f(U p*) (p* is exact: relative gains <= 1 + 1e-9), the optimum beats the best single
    parameter, the deployed distribution is on the simplex, and every grid point of a replication
    faces the same U (same optimum);
  - U from a file (the worked example written as CSV) gives the built-in problem's optimum;
  - bad input (problem = "file" without a file) is exit code 2 naming the key.
Exit 77 (skipped) without h5py/pandas/matplotlib."""
import os
import subprocess
import sys

stagesim_bin, source, work = sys.argv[1:4]
sys.path.insert(0, os.path.join(source, "plots"))
sys.path.insert(0, os.path.join(source, "python"))
try:
    import numpy as np
    import stagesim
    from _jobs import axis_values, output_array
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

os.makedirs(work, exist_ok=True)
exp = os.path.join(source, "experiments/strategic_parameters")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(toml, out, *sets):
    args = [stagesim_bin, "run", toml, "--out", out, "--quiet", "--threads", "2"]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True)
    return stagesim.open(out)


# Problem A.
toy = run(os.path.join(exp, "toy.toml"), os.path.join(work, "toy.h5"),
          "experiment.replications=200", "job.rounds=1000", "job.records=20")
subprocess.run([sys.executable, os.path.join(source, "plots/strategic_toy.py"), toy.path, "-o",
                os.path.join(work, "toy.png")], check=True)
dep = output_array(toy, "deployed_value")  # [task, rep, round]
opt = output_array(toy, "optimum_value")
single = output_array(toy, "best_single_value")
variants = list(toy.tasks["variant"])
lam = 10.0
check(np.allclose(opt, 1 + 0.25 / lam, atol=1e-9), f"f(U p*) = {np.nanmean(opt):.6f} = 1 + 1/(4λ)")
check(np.all(single == 0.0), "best single parameter worth 0")
check(axis_values(toy, "round", 0)[-1] == 1000, "rounds axis ends at 1000")
p = variants.index("PASTO")
end = dep[p, :, -1]
m, se = end.mean(), end.std(ddof=1) / np.sqrt(len(end))
check(abs(m - (1 + 0.25 / lam)) < 0.1, f"PASTO's p̄ ends at {m:.4f} ± {se:.4f}, within 0.1 of p*")
check(m - 0.0 > 3 * se, "PASTO's p̄ beats every deterministic parameter (best: 0) by > 3 SE")
for t, name in enumerate(variants):
    q25, q75 = np.percentile(dep[t, :, -1], [25, 75])
    check(0.0 <= q25 <= q75 <= 1 + 0.25 / lam + 1e-12,
          f"{name}: 25/75 % band [{q25:.4f}, {q75:.4f}] inside [best single, optimum]")

# Problem B.
syn = run(os.path.join(exp, "synthetic.toml"), os.path.join(work, "syn.h5"),
          "experiment.replications=3", "job.rounds=2000", "job.records=10", "job.noise=0.5")
subprocess.run([sys.executable, os.path.join(source, "plots/strategic_synthetic.py"), syn.path,
                "-o", os.path.join(work, "syn.png")], check=True)
gain = np.concatenate([output_array(syn, "deployed_gain"), output_array(syn, "current_gain")])
opt = output_array(syn, "optimum_value")  # [task, rep]
single = output_array(syn, "best_single_value")
dist = output_array(syn, "deployed")  # [task, rep, parameter]
check(np.nanmax(gain) <= 1 + 1e-9, f"relative gains <= 1 (max {np.nanmax(gain):.6f})")
check(np.all(opt > single), "the best mixture beats the best single parameter")
check(np.allclose(opt, opt[:1]), "every grid point of a replication faces the same U")
check(np.allclose(dist.sum(axis=-1), 1) and np.all(dist >= 0), "deployed p on the simplex")
check(dist.shape[-1] == 100, "K = 100")

# U from a file: the worked example as pandas would write it (rows = parameters).
csv = os.path.join(work, "worked_example.csv")
with open(csv, "w") as fh:
    fh.write("parameter,beta,x,y\n0,1.0,2.0,-1.0\n1,5.0,0.0,1.0\n")
fil = run(os.path.join(exp, "toy.toml"), os.path.join(work, "file.h5"),
          "experiment.replications=2", "job.rounds=10", "job.problem=\"file\"",
          f"job.file=\"{csv}\"", "job.columns=[\"x\", \"y\"]")
check(np.allclose(output_array(fil, "optimum_value"), 1 + 0.25 / lam, atol=1e-9),
      "U from a CSV file: the worked example's optimum")

# Bad input: exit code 2 and the key.
bad = subprocess.run([stagesim_bin, "check", os.path.join(exp, "toy.toml"), "--set",
                      "job.problem=\"file\""], capture_output=True, text=True)
check(bad.returncode == 2 and "job.file" in bad.stderr + bad.stdout,
      f"problem = \"file\" without a file: exit {bad.returncode}, "
      f"{(bad.stderr + bad.stdout).strip()[:160]}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
