#!/usr/bin/env python3
"""The KuaiRand calibration (experiments/multi_stage_rl/calibrate.toml on the shipped
KuaiRand-shaped fixture) read through the stagesim package and the plot script:
  - every distribution is a distribution (shares >= 0 summing to 1), over the declared axes;
  - fitted base rates equal the observed ones (the solve), the simulated ones are within 20 %;
  - the mean requests per session and the mean return day of the fit are within 10 % of the data's;
  - the fit file written by the run has a [session_world] and a [fit] table;
  - plots/kuairand_calibration.py writes its figure.
Exit 77 (skipped) without h5py/pandas/matplotlib."""
import os
import subprocess
import sys

stagesim_bin, source, work = sys.argv[1:4]
sys.path.insert(0, os.path.join(source, "plots"))
sys.path.insert(0, os.path.join(source, "python"))
try:
    import numpy as np
    import matplotlib  # noqa: F401  (the plot script needs it)
    import stagesim
    from _jobs import axis_values, output_array
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

os.makedirs(work, exist_ok=True)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


out = os.path.join(work, "calibrate.h5")
fit = os.path.join(work, "fit.toml")
subprocess.run([stagesim_bin, "run", "experiments/multi_stage_rl/calibrate.toml", "--out", out,
                "--quiet", "--set", f'job.params_out="{fit}"'], check=True, cwd=source)
res = stagesim.open(out)
for name, axis in [("depth", "requests"), ("return_day", "return_day"),
                   ("play_fraction", "play_fraction")]:
    for kind in ("observed", "fitted"):
        v = output_array(res, f"{kind}_{name}")[0, 0]
        check(len(v) == len(axis_values(res, axis)), f"{kind}_{name} spans axis {axis}")
        check(np.all(v >= 0) and abs(v.sum() - 1) < 1e-9, f"{kind}_{name} is a distribution")
obs = output_array(res, "observed_rate")[0, 0]
check(np.allclose(output_array(res, "fitted_rate")[0, 0], obs, rtol=1e-6), "fitted = observed rates")
check(np.all(np.abs(output_array(res, "simulated_rate")[0, 0] / obs - 1) < 0.2),
      "simulated rates within 20 % of the observed ones")
for a, b in [("observed_mean_requests", "fitted_mean_requests"),
             ("observed_mean_return_day", "fitted_mean_return_day")]:
    x, y = float(output_array(res, a)[0, 0]), float(output_array(res, b)[0, 0])
    check(abs(y / x - 1) < 0.1, f"{b} {y:.3f} within 10 % of {a} {x:.3f}")
text = open(fit).read()
check("[session_world]" in text and "[fit]" in text, "the fit file has [session_world] and [fit]")
png = os.path.join(work, "calibrate.png")
subprocess.run([sys.executable, os.path.join(source, "plots/kuairand_calibration.py"), out, "-o", png],
               check=True)
check(os.path.getsize(png) > 10000, "the plot script wrote its figure")
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
