"""Mean and standard error over replications, the way every stagesim table reports them."""
import math

import numpy as np


def mean_se(values, axis=1):
    """Mean, standard error and count over `axis` (default: the replication axis of a
    [task, replication, ...] array), ignoring NaN cells (tasks not run, e.g. in --shard parts).
    SE = sample standard deviation (ddof = 1) / sqrt(n); NaN when n < 2."""
    values = np.asarray(values, dtype=float)
    ok = ~np.isnan(values)
    n = ok.sum(axis=axis)
    total = np.where(ok, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        dev = np.where(ok, values - np.expand_dims(mean, axis), 0.0)
        var = (dev * dev).sum(axis=axis) / (n - 1)
        se = np.sqrt(var / n)
    mean = np.where(n > 0, mean, np.nan)
    se = np.where(n > 1, se, np.nan)
    return mean, se, n


def format_mean_se(mean, se):
    """'11.87 ± 0.41', '1551 ± 198': the SE to two significant digits, the mean to the same
    decimal place (the C++ run summary formats the same way)."""
    if not math.isfinite(mean):
        return "n/a"
    if not math.isfinite(se):
        return f"{mean:.4g}"
    if se == 0:
        return f"{mean:.4g} ± 0"
    decimals = max(0, 1 - math.floor(math.log10(se)))
    return f"{mean:.{decimals}f} ± {se:.{decimals}f}"
