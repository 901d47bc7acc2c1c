"""Shared by the Python tests: arguments, the stagesim package from the checkout, running the CLI.
Each test file is a unittest module run by ctest as
    test_X.py --stagesim BIN --source SRC --build BUILD --workdir DIR
and exits 77 (ctest: skipped) when a prerequisite is missing."""
import argparse
import os
import shutil
import subprocess
import sys
import unittest

ap = argparse.ArgumentParser()
ap.add_argument("--stagesim", required=True)
ap.add_argument("--source", required=True)
ap.add_argument("--build", required=True)
ap.add_argument("--workdir", required=True)
ARGS, _rest = ap.parse_known_args()

try:
    import h5py  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as e:
    print(f"skipped: {e} (apt-get install python3-h5py python3-numpy python3-pandas "
          "python3-matplotlib)")
    sys.exit(77)

sys.path.insert(0, os.path.join(ARGS.source, "python"))
os.environ["STAGESIM_BUILD"] = ARGS.build
os.environ["PYTHONPATH"] = os.path.join(ARGS.source, "python") + os.pathsep + \
    os.environ.get("PYTHONPATH", "")

import stagesim  # noqa: E402,F401

SOURCE = ARGS.source
WORK = ARGS.workdir
QUICKSTART = os.path.join(SOURCE, "experiments", "quickstart.toml")


def fresh_workdir():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)


def path(*parts):
    return os.path.join(WORK, *parts)


def cli(*args, check=True):
    """Runs the stagesim binary; returns the CompletedProcess (stdout + stderr as text)."""
    r = subprocess.run([ARGS.stagesim, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"stagesim {' '.join(map(str, args))} exited {r.returncode}:\n"
                             f"{r.stdout}{r.stderr}")
    return r


def script(name, *args):
    """Runs a script of plots/ with this interpreter; returns its stdout."""
    r = subprocess.run([sys.executable, os.path.join(SOURCE, "plots", name), *map(str, args)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"plots/{name} {' '.join(map(str, args))} exited {r.returncode}:\n"
                             f"{r.stdout}{r.stderr}")
    return r.stdout


def main():
    fresh_workdir()
    prog = unittest.main(argv=[sys.argv[0], "-v"] + _rest, exit=False)
    sys.exit(0 if prog.result.wasSuccessful() else 1)
