"""stagesim.run / check / list: the engine in this process, through the compiled module _stagesim
(python/bindings.cpp, CMake target stagesim_python). Errors arrive as stagesim.ConfigError /
IoError / TaskError carrying the CLI's one-line message."""
import builtins
import importlib
import json
import math
import os
import shutil
import sys
import tempfile

from .errors import ConfigError
from .results import open as open_results

_module = None
_load_error = None


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    if os.environ.get("STAGESIM_BUILD"):
        yield os.path.join(os.environ["STAGESIM_BUILD"], "python")
    # A checkout: python/stagesim/ next to build/ (the README's build directory).
    yield os.path.join(os.path.dirname(os.path.dirname(here)), "build", "python")


def _native():
    global _module, _load_error
    if _module is not None:
        return _module
    try:
        _module = importlib.import_module("_stagesim")
        return _module
    except ImportError as e:
        _load_error = e
    for d in _candidates():
        if not os.path.isdir(d):
            continue
        sys.path.insert(0, d)
        try:
            _module = importlib.import_module("_stagesim")
            return _module
        except ImportError as e:
            _load_error = e
        finally:
            sys.path.remove(d)
    raise ImportError(
        "stagesim.run/check/list need the compiled bindings (_stagesim): build them with "
        "`cmake --build build --target stagesim_python` (needs Debian's pybind11-dev and "
        "python3-pybind11), or set STAGESIM_BUILD to the build directory"
        + (f" ({_load_error})" if _load_error else ""))


def native_available():
    """True when the compiled bindings can be imported."""
    try:
        _native()
        return True
    except ImportError:
        return False


def _toml_key(k):
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _toml_value(v):
    """A Python value as TOML text: bool, int, float, str, list/tuple, dict (inline table)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, (builtins.list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(x)}"
                                for k, x in v.items()) + " }"
    if hasattr(v, "item"):  # numpy scalars
        return _toml_value(v.item())
    raise TypeError(f"set: cannot write {type(v).__name__} {v!r} as a TOML value")


def _variants(variants):
    """None (all), one name, or a list of names (a name may contain commas)."""
    if variants is None:
        return []
    if isinstance(variants, str):
        return [variants]
    return [str(v) for v in variants]


def _overrides(set):
    """{key: value} (Python values) or ["key=toml", ...] (the CLI's --set syntax)."""
    if set is None:
        return []
    if isinstance(set, dict):
        return [f"{k}={_toml_value(v)}" for k, v in set.items()]
    if isinstance(set, str):
        return [set]
    return [str(s) for s in set]


def _source(path_or_text):
    """(text or path, is_text): TOML text when it has a newline or does not name a file."""
    if isinstance(path_or_text, os.PathLike):
        return os.fspath(path_or_text), False
    s = str(path_or_text)
    if "\n" in s:
        return s, True
    if os.path.exists(s) or not ("=" in s or s.lstrip().startswith("[")):
        return s, False
    return s, True


def _shard(shard):
    """(i, n) for the native run; None = the whole experiment."""
    if shard is None:
        return 0, 1
    try:
        i, n = shard
    except (TypeError, ValueError):
        raise ConfigError(
            f"shard {shard!r}: expected a pair (i, n) with 0 <= i < n, e.g. shard=(0, 8)") from None
    if any(isinstance(x, bool) or not isinstance(x, int) for x in (i, n)):
        raise ConfigError(f"shard {shard!r}: i and n must be integers, e.g. shard=(0, 8)")
    return i, n


def run(path_or_toml_text, set=None, threads=0, out=None, seed=None, data_dir=None,
        resume=False, progress=False, journal=None, checkpoint_interval=300, shard=None,
        variants=None):
    """Runs an experiment in this process and returns its stagesim.Results.

    path_or_toml_text: an experiment file, or its TOML text (errors then name "<string>:line").
    set: overrides, {"world.items": [10, 100], "stages.policy.alpha": 0.5} or ["key=value", ...].
    threads: worker threads (0 = all cores); results do not depend on it.
    out: where to write the HDF5 file; None = a temporary file, read into memory and deleted.
    seed, data_dir, resume, journal: as the CLI's --seed, --data-dir, --resume, --journal.
    checkpoint_interval: seconds between two journaled checkpoints of a long task, so that
    resume=True continues it midway (0 = at every metric checkpoint, -1 = never); as the CLI's
    --checkpoint-interval. Without out, the journal sits in the temporary directory and is
    deleted with it, so resuming needs out (or journal).
    shard: (i, n) runs only shard i of n (0-based) and writes a partial file for `stagesim merge`,
    as the CLI's --shard i/n.
    variants: build only these [[variant]]s, ["V-PG-SwR", "CA-PG-SwR"] or one name (as the
    CLI's repeatable --variant); their results are those they have in a run of the whole file."""
    m = _native()
    source, is_text = _source(path_or_toml_text)
    tmpdir = None
    if out is None:
        tmpdir = tempfile.mkdtemp(prefix="stagesim-")
        target = os.path.join(tmpdir, "results.h5")
    else:
        target = os.fspath(out)
        parent = os.path.dirname(os.path.abspath(target))
        os.makedirs(parent, exist_ok=True)
    try:
        info = m.run(source, is_text, _overrides(set), seed, data_dir or "", int(threads), target,
                     bool(progress), bool(resume), os.fspath(journal) if journal else "",
                     float(checkpoint_interval), *_shard(shard), _variants(variants))
        res = open_results(target)
        if tmpdir is not None:
            res.load()
        res.run_info = info
        return res
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def check(path_or_toml_text, set=None, seed=None, data_dir=None, variants=None):
    """Validates an experiment like `stagesim check` and returns what it would run: a dict with
    path, name, configurations, grid_axes, variants, replications, tasks, units, series
    (names), cost_flops. variants: as for run. Raises stagesim.ConfigError with the file:line
    message."""
    source, is_text = _source(path_or_toml_text)
    return _native().check(source, is_text, _overrides(set), seed, data_dir or "",
                           _variants(variants))


def list():  # noqa: A001  (stagesim.list mirrors `stagesim list`)
    """Every registered world, stage and metric type with its parameters (name, type, default,
    range, help), and the engine's own keys: {"worlds": {...}, "stages": ..., "metrics": ...,
    "engine": {section: [...]}}."""
    return _native().list()
