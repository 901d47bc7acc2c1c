"""Imported first by every plot script: puts the checkout's python/ on sys.path (the stagesim
package reads the files) and, when this interpreter lacks h5py, pandas or matplotlib (e.g. a pyenv
or venv python), re-runs the script with Debian's /usr/bin/python3, where python3-h5py,
python3-pandas and python3-matplotlib are installed."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "python"))
try:
    import h5py  # noqa: F401
    import matplotlib  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
except ImportError as e:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise SystemExit(f"{e}: install python3-h5py python3-pandas python3-matplotlib (apt-get)")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
