"""Reading the HDF5 files stagesim writes, as pandas DataFrames.

Three kinds of file (the `format` root attribute says which):
  - run results (`stagesim run`, format "stagesim-results-1"): tasks (grid point x variant) and
    series /metrics/<name> with leading dimensions [task, replication]; the dataset attribute
    `dimensions` names the rest (engine metrics: checkpoint). Offline jobs' result arrays
    [task, replication, axes...] are read the same way, with each axis' coordinates from
    /axes/<axis> [task, extent] (the `kind` root attribute is "job"). Groups of equally long 1-D datasets outside
    /tasks and /metrics (e.g. a stage log) are tables, see `Results.table`;
  - files of the former `stagesim moe` (no format attribute; /grid [point, (N, d_e, c, s)] and
    [point, replication] datasets), read as tasks with four grid axes;
  - world tables (`stagesim export-world`, format "stagesim-tabular-world-v1"): q, sigma, score
    [user, item].
"""
import re
import tomllib

import h5py
import numpy as np
import pandas as pd

from .errors import FormatError
from .stats import mean_se

RESULTS_FORMAT = "stagesim-results-1"
WORLD_FORMAT = "stagesim-tabular-world-v1"
# Series whose "random_" twin is reported next to them as the uniform-random baseline.
BASELINE_PREFIX = "random_"
# Older files do not store the experiment's series order; these come first, in this order.
MAIN_SERIES = ("regret", "policy_value", "reward")
LEGACY_MOE_AXES = ("experts", "item_dim", "per_item", "subset")


def open(path):  # noqa: A001  (stagesim.open mirrors h5py.File / builtins.open)
    """Opens any HDF5 file stagesim writes and returns a Results (runs, offline jobs) or a
    WorldTables (export-world) object. The file stays open until .close() or .load()."""
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise
    except OSError as e:
        raise FormatError(f"{path}: not an HDF5 file ({e})") from None
    fmt = _text(f.attrs.get("format", ""))
    if fmt == WORLD_FORMAT:
        return WorldTables(path, f)
    if fmt == RESULTS_FORMAT or (not fmt and "grid" in f and "P_moe" in f):
        return Results(path, f)
    f.close()
    raise FormatError(f"{path}: not a stagesim output file (format attribute {fmt!r}); "
                      f"expected {RESULTS_FORMAT!r} or {WORLD_FORMAT!r}")


def _text(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.dtype.kind in "SO":
        return [_text(x) for x in v]
    return v


def _attr_value(v):
    v = _text(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _read_strings(d):
    return list(d.asstr()[:]) if h5py.check_string_dtype(d.dtype) else [_text(x) for x in d[:]]


def _lines(s):
    return [x for x in (s or "").split("\n") if x]


def _linked_values(text):
    """The key = value pairs of a linked grid axis' value as stored (an inline table,
    '{ "stages.nominators.features" = 5, "world.dim" = 10 }'), or {} when it is not one."""
    text = text.strip()
    try:
        if text.startswith("{"):
            v = tomllib.loads("v = " + text)["v"]
        else:  # pairs without braces, one after the other
            parts = re.split(r"\s+(?=(?:\"[^\"]*\"|[A-Za-z0-9_-]+)\s*=)", text)
            v = tomllib.loads("\n".join(parts))
    except tomllib.TOMLDecodeError:
        return {}
    return v if isinstance(v, dict) else {}


def _lookup(cfg, key):
    node = cfg
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


class Results:
    """A run's results. Attributes:
      attrs         root attributes (experiment name/text, seed, version, times, ...) as a dict
      tasks         DataFrame indexed by task: variant, each grid axis (a linked axis also as its
                    key paths), horizon
      series        the series names, main series first (the experiment's order)
      replications  replications per task
      checkpoints   [task, checkpoint] request counts (None for files without checkpoints)
      axes          offline jobs: axis name -> [task, index] coordinates (e.g. epochs, K of HR@K)
      done          [task, replication] bool: cells that hold results (all but in --shard parts)
    """

    def __init__(self, path, f=None):
        self.path = str(path)
        self._f = f if f is not None else h5py.File(path, "r")
        self._cache = {}
        self._configs = {}
        self._tables = None  # set by load()
        f = self._f
        self.attrs = {k: _attr_value(v) for k, v in f.attrs.items()}
        if "tasks" in f:
            self.kind = "results"
            self._read_tasks(f)
        else:
            self.kind = "moe"
            self._read_legacy_moe(f)

    # ---- schema ------------------------------------------------------------------------------

    def _read_tasks(self, f):
        variants = _read_strings(f["tasks/variant"])
        T = len(variants)
        cols = {"variant": variants}
        grid = f["tasks/grid"] if "tasks/grid" in f else {}
        order = _lines(self.attrs.get("grid_axes", "")) or list(grid)
        order = [a.replace("/", "_") for a in order if a.replace("/", "_") in grid]
        order += [a for a in grid if a not in order]
        self.grid_axes = order
        linked = {}
        for axis in order:
            d = grid[axis]
            if h5py.check_string_dtype(d.dtype):
                vals = _read_strings(d)
                cols[axis] = vals
                parsed = [_linked_values(v) for v in vals]
                if all(parsed):
                    for key in parsed[0]:
                        if all(key in p for p in parsed):
                            linked.setdefault(key, [p[key] for p in parsed])
            else:
                cols[axis] = self._typed_axis(f, axis, d[:])
        for key, vals in linked.items():
            if key not in cols:
                cols[key] = vals
        self.linked_keys = [k for k in linked if k not in order]
        if "tasks/horizon" in f:
            cols["horizon"] = f["tasks/horizon"][:]
        self.tasks = pd.DataFrame(cols, index=pd.RangeIndex(T, name="task"))
        self._resolved = f["tasks/resolved"] if "tasks/resolved" in f else None
        self.checkpoints = f["checkpoints"][:] if "checkpoints" in f else None
        # Job axes: coordinates per task (NaN past a task's own extent).
        self.axes = {a: f["axes"][a][:] for a in f["axes"]} if "axes" in f else {}
        self.replications = int(self.attrs.get("replications", 0))
        names = list(f["metrics"]) if "metrics" in f else []
        stored = [s.replace("/", "_") for s in _lines(self.attrs.get("series", ""))]
        self.series = [s for s in stored if s in names]
        rest = [s for s in names if s not in self.series]
        rest.sort(key=lambda s: (MAIN_SERIES.index(s) if s in MAIN_SERIES else len(MAIN_SERIES), s))
        self.series += rest
        self._datasets = {s: f["metrics"][s] for s in names}
        if "tasks/done" in f:
            self.done = f["tasks/done"][:].astype(bool)
        else:
            self.done = np.ones((T, self.replications), dtype=bool)
        if not self.replications:
            self.replications = self.done.shape[1]

    @staticmethod
    def _typed_axis(f, axis, values):
        """Numeric axes are stored as float64; an axis whose key is an integer in the resolved
        configuration (world.items) comes back as integers."""
        if "tasks/resolved" not in f or not len(values) or not np.all(values == np.round(values)):
            return values
        try:
            v = _lookup(tomllib.loads(_text(f["tasks/resolved"][0])), axis)
        except (KeyError, tomllib.TOMLDecodeError):
            return values
        return values.astype(np.int64) if isinstance(v, int) and not isinstance(v, bool) else values

    def _read_legacy_moe(self, f):
        grid = f["grid"][:]
        cols = {"variant": [""] * grid.shape[0]}
        for j, axis in enumerate(LEGACY_MOE_AXES[: grid.shape[1]]):
            cols[axis] = grid[:, j].astype(np.int64)
        self.grid_axes = list(LEGACY_MOE_AXES[: grid.shape[1]])
        self.linked_keys = []
        self.tasks = pd.DataFrame(cols, index=pd.RangeIndex(grid.shape[0], name="task"))
        self._resolved = None
        self.checkpoints = None
        self.axes = {}
        names = [n for n in f if n != "grid" and isinstance(f[n], h5py.Dataset)]
        self.series = names
        self._datasets = {s: f[s] for s in names}
        self.replications = f[names[0]].shape[1] if names else 0
        self.done = np.ones((grid.shape[0], self.replications), dtype=bool)

    # ---- series ------------------------------------------------------------------------------

    def _dataset(self, series):
        if series not in self._datasets:
            raise FormatError(f"{self.path}: no series {series!r}; available: "
                              + ", ".join(self.series))
        return self._datasets[series]

    def dims(self, series):
        """Axis names of a series, e.g. ('task', 'replication', 'checkpoint')."""
        if ("dims", series) not in self._cache:
            d = self._dataset(series)
            text = _text(d.attrs.get("dimensions", "")) if hasattr(d, "attrs") else ""
            names = [x.strip() for x in text.split(",") if x.strip()]
            if len(names) != d.ndim:
                default = ["task", "replication", "checkpoint"] if self.kind == "results" else \
                    ["task", "replication"]
                names = default[: d.ndim] + [f"axis{i}" for i in range(len(default), d.ndim)]
            self._cache[("dims", series)] = tuple(names)
        return self._cache[("dims", series)]

    def units(self, series):
        return _text(self._dataset(series).attrs.get("units", ""))

    def description(self, series):
        return _text(self._dataset(series).attrs.get("description", ""))

    def values(self, series):
        """The raw array of a series, [task, replication, ...] float64 (NaN where not run)."""
        if ("values", series) not in self._cache:
            self._cache[("values", series)] = np.asarray(self._dataset(series)[()], dtype=float)
        return self._cache[("values", series)]

    def _series_list(self, series):
        if series is None:
            return list(self.series)
        if isinstance(series, str):
            series = [series]
        for s in series:
            self._dataset(s)
        return list(series)

    def frame(self, series=None, done_only=True):
        """A long DataFrame, one row per (task, replication, checkpoint, series): columns task,
        variant, each grid axis, replication, checkpoint, requests, series, value (series
        without checkpoints have their own trailing axes instead). `series`: a name or a list
        (default: all). Cells not run (--shard parts) are left out unless done_only=False."""
        parts = []
        for s in self._series_list(series):
            v = self.values(s)
            dims = self.dims(s)
            idx = np.indices(v.shape).reshape(v.ndim, -1)
            cols = {"task": idx[0], "replication": idx[1]}
            for k, name in enumerate(dims[2:], start=2):
                cols[name] = idx[k]
                if name == "checkpoint" and self.checkpoints is not None:
                    cols["requests"] = self.checkpoints[idx[0], idx[k]]
                elif name in self.axes:  # a job axis: its coordinate, the index beside it
                    cols[name + "_index"] = idx[k]
                    cols[name] = self.axes[name][idx[0], idx[k]]
            cols["series"] = np.full(idx.shape[1], s, dtype=object)
            cols["value"] = v.reshape(-1)
            df = pd.DataFrame(cols)
            for name in dims[2:]:
                if name in self.axes:  # past a task's own extent of the axis: padding, no row
                    df = df[~np.isnan(df[name].to_numpy(dtype=float))]
            if done_only:
                df = df[self.done[idx[0], idx[1]]]
            parts.append(df)
        if not parts:
            return pd.DataFrame(columns=["task", "variant", "replication", "series", "value"])
        long = pd.concat(parts, ignore_index=True)
        long = long.join(self.tasks.drop(columns=["horizon"], errors="ignore"), on="task")
        first = ["task", "variant"] + [c for c in self.tasks.columns
                                       if c not in ("variant", "horizon")]
        last = [c for c in long.columns if c not in first]
        return long[first + last].reset_index(drop=True)

    def summary(self, series=None, at=None):
        """Mean, SE and count over replications per task: by default of the main series at the
        last checkpoint. `series`: a name or a list; `at`: request count(s) (the nearest
        checkpoint of each task is used; its request count is in the `requests` column) or
        "all". Where a series X has a twin random_X (the exact uniform-random baseline on the
        same requests), its mean and SE are the columns random_mean, random_se."""
        names = self._series_list(self.series[:1] if series is None else series)
        rows = []
        for s in names:
            v = self.values(s)
            dims = self.dims(s)
            base = BASELINE_PREFIX + s if BASELINE_PREFIX + s in self._datasets else None
            bv = self.values(base) if base else None
            has_cp = len(dims) > 2 and dims[2] == "checkpoint"
            v = np.where(self.done.reshape(self.done.shape + (1,) * (v.ndim - 2)), v, np.nan)
            for task in range(v.shape[0]):
                if has_cp:
                    cps = self._checkpoint_indices(task, at, v.shape[2])
                else:
                    cps = [None]
                for cp in cps:
                    cell = v[task] if cp is None else v[task][:, cp]
                    m, se, n = mean_se(cell, axis=0)
                    rest = np.ndindex(*np.shape(m))
                    for pos in rest:
                        row = {"task": task, "series": s}
                        if cp is not None:
                            row["checkpoint"] = cp
                            if self.checkpoints is not None:
                                row["requests"] = int(self.checkpoints[task, cp])
                        extra = dims[3:] if has_cp else dims[2:]
                        for name, i in zip(extra, pos):
                            if name in self.axes:
                                row[name + "_index"] = i
                                row[name] = float(self.axes[name][task, i])
                            else:
                                row[name] = i
                        row.update(n=int(np.asarray(n)[pos]), mean=float(np.asarray(m)[pos]),
                                   se=float(np.asarray(se)[pos]))
                        if bv is not None:
                            b = bv[task] if cp is None else bv[task][:, cp]
                            b = np.where(self.done[task].reshape((-1,) + (1,) * (b.ndim - 1)),
                                         b, np.nan)
                            bm, bse, _ = mean_se(b, axis=0)
                            row.update(random_mean=float(np.asarray(bm)[pos]),
                                       random_se=float(np.asarray(bse)[pos]))
                        rows.append(row)
        out = pd.DataFrame(rows)
        if out.empty:
            return out
        # A series the system does not have (e.g. a single stage's regret_ranker) is no row.
        out = out[out["n"] > 0].reset_index(drop=True)
        out = out.join(self.tasks.drop(columns=["horizon"], errors="ignore"), on="task")
        first = ["task", "variant"] + [c for c in self.tasks.columns
                                       if c not in ("variant", "horizon")]
        return out[first + [c for c in out.columns if c not in first]]

    def _checkpoint_indices(self, task, at, count):
        if at is None:
            return [count - 1]
        if isinstance(at, str):
            if at != "all":
                raise ValueError("at: request count(s) or 'all'")
            return list(range(count))
        wanted = [at] if np.isscalar(at) else list(at)
        steps = self.checkpoints[task] if self.checkpoints is not None else np.arange(count)
        return [int(np.abs(steps - w).argmin()) for w in wanted]

    # ---- configurations ----------------------------------------------------------------------

    def config(self, task):
        """The task's resolved configuration (every default filled in) as a dict."""
        if self._resolved is None:
            raise FormatError(f"{self.path}: this file stores no resolved configurations "
                              "(written by an early `stagesim moe`)")
        task = int(task)
        if task not in self._configs:
            if not 0 <= task < len(self.tasks):
                raise IndexError(f"task {task} out of range (0..{len(self.tasks) - 1})")
            self._configs[task] = tomllib.loads(_text(self._resolved[task]))
        return self._configs[task]

    def param(self, key, default=KeyError):
        """A key path of the resolved configurations, e.g. "world.items", one value per task."""
        out = []
        for t in range(len(self.tasks)):
            try:
                out.append(_lookup(self.config(t), key))
            except KeyError:
                if default is KeyError:
                    raise KeyError(f"{self.path}: task {t} has no key {key!r}") from None
                out.append(default)
        return out

    def label(self, task):
        """'U+U, items=100, dim=10, features=5' (variant, then grid values; linked axes by their
        keys' last component)."""
        row = self.tasks.loc[int(task)]
        parts = [row["variant"]] if row["variant"] else []
        keys = [a for a in self.grid_axes if a not in self._linked_axes()] + self.linked_keys
        short = [k.split(".")[-1] for k in keys]
        for k, s in zip(keys, short):
            v = row[k]
            name = s if short.count(s) == 1 else k
            parts.append(f"{name}={v:g}" if isinstance(v, (float, np.floating)) else f"{name}={v}")
        return ", ".join(parts) or f"task {task}"

    def _linked_axes(self):
        return {a for a in self.grid_axes
                if self.tasks[a].dtype == object and self.linked_keys
                and all(_linked_values(v) for v in self.tasks[a])}

    # ---- tables (stage logs, per-event records) ----------------------------------------------

    def tables(self):
        """Names of the tables in the file: groups (outside /tasks and /metrics) whose datasets
        are 1-D and equally long, one row per record."""
        if self._tables is not None:
            return list(self._tables)
        found = []

        def visit(name, obj):
            if isinstance(obj, h5py.Group) and name.split("/")[0] not in ("tasks", "metrics"):
                cols = [o for o in obj.values() if isinstance(o, h5py.Dataset)]
                if cols and all(c.ndim == 1 for c in cols) and len({c.shape for c in cols}) == 1:
                    found.append(name)

        self._file().visititems(visit)
        return found

    def table(self, name, labels=True):
        """A table as a DataFrame, one column per dataset. With labels=True and a `task` column,
        the task's variant and grid values are joined on."""
        if name not in self.tables():
            raise FormatError(f"{self.path}: no table {name!r}; tables: "
                              + (", ".join(self.tables()) or "none"))
        if self._tables is not None:
            df = self._tables[name].copy()
        else:
            cols = {}
            for key, d in self._file()[name].items():
                cols[key] = _read_strings(d) if h5py.check_string_dtype(d.dtype) else d[:]
            df = pd.DataFrame(cols)
        if labels and "task" in df:
            df = df.join(self.tasks.drop(columns=["horizon"], errors="ignore"), on="task")
        return df

    def stage_log(self, table=None):
        """The stage log (the `stage_log` metric's records) as a DataFrame: /stage_log itself, or
        its sub-table `table` when it holds several."""
        names = [t for t in self.tables() if t == "stage_log" or t.startswith("stage_log/")]
        if not names:
            raise FormatError(f"{self.path}: no stage log; add [metrics.stage_log] to the "
                              "experiment")
        if table is not None:
            return self.table(f"stage_log/{table}")
        if "stage_log" in names:
            return self.table("stage_log")
        raise FormatError(f"{self.path}: the stage log has several tables; pass table= one of "
                          + ", ".join(t.split("/", 1)[1] for t in names))

    # ---- file handling -----------------------------------------------------------------------

    def _file(self):
        if self._f is None or not self._f.id.valid:
            self._f = h5py.File(self.path, "r")
            self._datasets = {s: (self._f["metrics"][s] if self.kind == "results" else self._f[s])
                              for s in self._datasets}
            if self._resolved is not None:
                self._resolved = self._f["tasks/resolved"]
        return self._f

    def load(self):
        """Reads everything into memory and closes the file (it may then be deleted)."""
        self._file()
        for s in self.series:
            self.values(s)
            self.dims(s)
            self._cache[("units", s)] = self.units(s)
            self._cache[("description", s)] = self.description(s)
        if self._resolved is not None:
            self._resolved = _read_strings(self._resolved)
        self._datasets = {s: _Loaded(self._cache[("values", s)], {
            "units": self._cache[("units", s)], "description": self._cache[("description", s)],
            "dimensions": ", ".join(self._cache[("dims", s)])}) for s in self.series}
        tables = {t: self.table(t, labels=False) for t in self.tables()}
        self._tables = tables
        self.close()
        return self

    def close(self):
        if self._f is not None and self._f.id.valid:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        name = self.attrs.get("experiment_name", "")
        return (f"<stagesim.Results {name!r}: {len(self.tasks)} tasks x {self.replications} "
                f"replications, series {', '.join(self.series)} ({self.path})>")


class _Loaded:
    """A series held in memory after Results.load(): what the reader uses of an h5py dataset."""

    def __init__(self, values, attrs):
        self._values = values
        self.attrs = attrs
        self.ndim = values.ndim
        self.shape = values.shape

    def __getitem__(self, key):
        return self._values[key]


class WorldTables:
    """A world's tables from `stagesim export-world`: q (expected rewards), and sigma / score
    where the world has them, each [user, item]."""

    def __init__(self, path, f):
        self.path = str(path)
        self.attrs = {k: _attr_value(v) for k, v in f.attrs.items()}
        self.kind = "world"
        self.series = [n for n in ("q", "sigma", "score") if n in f]
        self._values = {n: f[n][()] for n in self.series}
        f.close()

    def values(self, series):
        if series not in self._values:
            raise FormatError(f"{self.path}: no table {series!r}; available: "
                              + ", ".join(self.series))
        return self._values[series]

    def dims(self, series):
        return ("user", "item")

    def frame(self, series=None):
        """Long DataFrame: user, item, series, value."""
        parts = []
        for s in [series] if isinstance(series, str) else (series or self.series):
            v = self.values(s)
            u, i = np.indices(v.shape).reshape(2, -1)
            parts.append(pd.DataFrame({"user": u, "item": i, "series": s, "value": v.reshape(-1)}))
        return pd.concat(parts, ignore_index=True)

    def summary(self, series=None):
        """Per table: users, items, mean, standard deviation, min, max of the entries."""
        rows = []
        for s in [series] if isinstance(series, str) else (series or self.series):
            v = self.values(s)
            rows.append(dict(series=s, users=v.shape[0], items=v.shape[1], mean=float(v.mean()),
                             std=float(v.std()), min=float(v.min()), max=float(v.max())))
        return pd.DataFrame(rows)

    def config(self, task=None):
        """The resolved configuration of the world's task."""
        return tomllib.loads(self.attrs.get("resolved", ""))

    def load(self):
        return self

    def close(self):
        pass

    def __repr__(self):
        q = self._values.get("q")
        shape = "x".join(map(str, q.shape)) if q is not None else "?"
        return f"<stagesim.WorldTables {shape} ({', '.join(self.series)}) ({self.path})>"
