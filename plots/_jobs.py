"""Shared by the plot scripts of offline jobs: a job output as an array [task, replication, ...]
read through stagesim's long frame, and an axis' coordinates (/axes/<name>, one row per task)."""
import numpy as np


def output_array(res, name):
    """Output `name` as [task, replication, *axes] from res.frame(name) (NaN where not run)."""
    df = res.frame(name)
    dims = res.dims(name)
    shape = res.values(name).shape
    a = np.full(shape, np.nan)
    cols = [d + "_index" if d in res.axes else d for d in dims]
    a[tuple(df[c].to_numpy() for c in cols)] = df["value"].to_numpy()
    return a


def axis_values(res, name, task=0):
    """Coordinates of axis `name` for `task` (e.g. the recorded round counts)."""
    v = np.asarray(res.axes[name][task], dtype=float)
    return v[~np.isnan(v)]
