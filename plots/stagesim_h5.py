"""Helpers shared by the plot scripts: open a stagesim results file and label its tasks.

Import this module before matplotlib: when the interpreter running the script lacks h5py or
matplotlib (e.g. a pyenv or venv python), it re-runs the script with Debian's /usr/bin/python3,
where python3-h5py and python3-matplotlib are installed."""
import os
import sys

try:
    import h5py
    import matplotlib  # noqa: F401
    import numpy as np
except ImportError as e:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise SystemExit(f"{e}: install python3-h5py python3-matplotlib python3-numpy (apt-get)")


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class Results:
    """A stagesim HDF5 file: tasks (grid point x variant), metrics [task, replication, checkpoint]."""

    def __init__(self, path):
        self.path = path
        self.f = h5py.File(path, "r")
        self.variants = [text(v) for v in self.f["tasks/variant"][:]]
        self.grid = {name: self.f["tasks/grid"][name][:] for name in self.f["tasks/grid"]}
        self.checkpoints = self.f["checkpoints"][:]
        self.name = text(self.f.attrs["experiment_name"])

    def metric(self, name):
        if name not in self.f["metrics"]:
            raise SystemExit(f"{self.path}: no metric '{name}'; available: "
                             + ", ".join(self.f["metrics"].keys()))
        return self.f["metrics"][name][:]

    def grid_value(self, axis, task):
        v = self.grid[axis][task]
        return text(v) if isinstance(v, (bytes, str)) else float(v)

    def label(self, task):
        parts = [self.variants[task]] if self.variants[task] else []
        for axis in self.grid:
            v = self.grid_value(axis, task)
            parts.append(f"{axis}={v:g}" if isinstance(v, float) else f"{axis}={v}")
        return ", ".join(parts) or f"task {task}"


def mean_se(values):
    """Mean and standard error over replications (axis 1) of a [task, replication, ...] array;
    NaN cells (tasks not run) are ignored."""
    n = np.sum(~np.isnan(values), axis=1)
    mean = np.nanmean(values, axis=1)
    sd = np.nanstd(values, axis=1, ddof=1) if values.shape[1] > 1 else np.zeros_like(mean)
    return mean, sd / np.sqrt(np.maximum(n, 1))
