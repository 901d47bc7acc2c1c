"""stagesim from Python.

    import stagesim
    res = stagesim.open("out/quickstart.h5")        # any HDF5 file stagesim writes
    res.frame()                                      # long DataFrame: task, variant, grid axes,
                                                     #   replication, checkpoint, requests, series, value
    res.summary()                                    # mean ± SE per system at the last checkpoint
    res.config(0), res.attrs                         # resolved TOML of task 0; file attributes

    res = stagesim.run("experiments/quickstart.toml", set={"experiment.replications": 5})
    stagesim.check("experiments/two_stage/fig3.toml"), stagesim.list()

Reading needs only Debian's python3-h5py, python3-numpy and python3-pandas; run/check/list need the
compiled bindings (target stagesim_python, built when pybind11-dev is installed).
"""
try:
    import h5py  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
except ImportError as e:  # e.g. a pyenv/venv interpreter without Debian's packages
    raise ImportError(f"stagesim needs h5py, numpy and pandas ({e}): apt-get install python3-h5py "
                      "python3-numpy python3-pandas and use /usr/bin/python3") from None

from .errors import ConfigError, FormatError, IoError, TaskError
from .native import check, list, native_available, run  # noqa: A004
from .results import Results, WorldTables, open  # noqa: A004
from .stats import format_mean_se, mean_se

__all__ = ["open", "run", "check", "list", "Results", "WorldTables", "mean_se", "format_mean_se",
           "ConfigError", "IoError", "TaskError", "FormatError", "native_available"]
