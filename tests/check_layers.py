#!/usr/bin/env python3
"""Fails when an #include runs back up the layers (docs/engine.md, "Layers").

    base -> data, models -> api -> generators -> worlds -> learners -> stages, metrics -> jobs
    -> engine -> bindings

A file may include its own layer's headers and those of any layer below; layers of the same rank
(data and models; stages and metrics) do not include one another.
usage: check_layers.py SOURCE_DIR
"""
import pathlib
import re
import sys

API = {"options", "select", "printable", "memory", "stage_log", "stage_context", "registry", "job",
       "metric", "stage", "world", "random", "request", "decision", "errors", "enum_table"}
# (layer, rank) by path; the first match wins.
def layer(path: str):
    if path.startswith("base/"):
        return "base", 0
    if path.startswith("environments/data/"):
        return "data", 1
    if path.startswith("models/"):
        return "models", 1
    if path.startswith("sim/"):
        stem = pathlib.PurePosixPath(path).stem
        return ("api", 2) if stem in API else ("engine", 7)
    if path.startswith("environments/generators/"):
        return "generators", 3
    if path.startswith("environments/"):
        return "worlds", 4
    if path.startswith("learners/"):
        return "learners", 5
    for d in ("policies", "metrics"):
        if path.startswith(d + "/"):
            return d, 6
    if path.startswith("jobs/"):
        return "jobs", 6.5  # an offline job may run stages and compute metrics
    if path.startswith("python/"):
        return "bindings", 8
    return None


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    bad = []
    files = 0
    for f in sorted(root.rglob("*")):
        if f.suffix not in (".cpp", ".hpp") or "build" in f.relative_to(root).parts[:1]:
            continue
        rel = f.relative_to(root).as_posix()
        own = layer(rel)
        if own is None:
            continue
        files += 1
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            m = include.match(line)
            if not m:
                continue
            target = layer(m.group(1))
            if target is None or target[0] == own[0]:
                continue
            if target[1] >= own[1]:
                bad.append(f"{rel}:{n}: {own[0]} includes {m.group(1)} ({target[0]}), "
                           f"which is not below it; move the shared code down a layer")
    for b in bad:
        print(b)
    print(f"check_layers: {files} files, {len(bad)} upward includes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
