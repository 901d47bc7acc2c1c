"""Exceptions raised by stagesim's Python API. The compiled bindings raise these same classes, so
`except stagesim.ConfigError` works whether or not they are built."""


class ConfigError(ValueError):
    """A bad experiment file, --set override or argument (the CLI's exit code 2). The message is
    the CLI's one line: file:line:col, the key path, what is allowed."""


class IoError(OSError):
    """A file that cannot be read or written (the CLI's exit code 3)."""


class TaskError(RuntimeError):
    """A task failed while running (the CLI's exit code 1); names the task and replication."""


class FormatError(ValueError):
    """An HDF5 file that is not one stagesim writes, or lacks what was asked for."""
