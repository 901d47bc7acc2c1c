#!/usr/bin/env python3
"""stagesim.run / check / list in this process (the pybind11 module _stagesim): the same datasets
as the CLI bit for bit, TOML text and --set as Python values, and the CLI's one-line errors as
Python exceptions. Skipped (exit 77) when the bindings are not built."""
import os
import re
import sys
import unittest

import common
from common import QUICKSTART, cli, path

import h5py
import numpy as np

import stagesim

if not stagesim.native_available():
    print("skipped: the Python bindings are not built (apt-get install pybind11-dev "
          "python3-pybind11 python3-dev, then cmake --build build --target stagesim_python)")
    sys.exit(77)

SMALL = {"experiment.replications": 4, "experiment.horizon": 300, "experiment.checkpoints": 6}
SMALL_CLI = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]


def datasets(p):
    """Every dataset of a results file: name -> numpy array (attributes with times excluded)."""
    out = {}
    with h5py.File(p, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def assert_bit_identical(test, a, b):
    da, db = datasets(a), datasets(b)
    test.assertEqual(sorted(da), sorted(db))
    for name in da:
        x, y = np.asarray(da[name]), np.asarray(db[name])
        test.assertEqual(x.dtype, y.dtype, name)
        test.assertEqual(x.shape, y.shape, name)
        if x.dtype.kind == "f":
            test.assertEqual(x.tobytes(), y.tobytes(), f"{name} differs")
        else:
            test.assertTrue(np.array_equal(x, y), f"{name} differs")


class Run(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cli_out = path("cli.h5")
        cli("run", QUICKSTART, *SMALL_CLI, "--threads", 1, "--quiet", "--out", cls.cli_out)

    def test_run_gives_the_cli_datasets_bit_for_bit(self):
        out = path("py.h5")
        res = stagesim.run(QUICKSTART, set=SMALL, threads=2, out=out)
        self.assertIsInstance(res, stagesim.Results)
        assert_bit_identical(self, out, self.cli_out)
        self.assertEqual(res.run_info["tasks"], 3 * 4)
        self.assertEqual(len(res.frame()), 3 * 4 * 6 * len(res.series))
        self.assertFalse(os.path.exists(out + ".journal"))

    def test_variants_give_the_cli_subset_bit_for_bit(self):
        names = stagesim.check(QUICKSTART)["variants"]
        pick = [names[2], names[0]]  # the file's order is kept whatever order they are given in
        out, cli_out = path("py_variants.h5"), path("cli_variants.h5")
        res = stagesim.run(QUICKSTART, set=SMALL, out=out, variants=pick)
        cli("run", QUICKSTART, *SMALL_CLI, "--variant", pick[0], "--variant", pick[1], "--quiet",
            "--out", cli_out)
        assert_bit_identical(self, out, cli_out)
        self.assertEqual(res.run_info["tasks"], 2 * 4)
        # The subset's rows are the whole run's rows 0 and 2.
        with h5py.File(out, "r") as a, h5py.File(self.cli_out, "r") as whole:
            self.assertEqual(a["metrics/regret"][()].tobytes(),
                             whole["metrics/regret"][()][[0, 2]].tobytes())
        self.assertEqual(stagesim.check(QUICKSTART, variants=pick)["variants"],
                         [names[0], names[2]])
        self.assertEqual(stagesim.check(QUICKSTART, variants=names[1])["variants"], [names[1]])
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.check(QUICKSTART, variants=["nope"])
        self.assertIn("has no [[variant]] named 'nope'; its variants are", str(e.exception))
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.check(QUICKSTART, variants=[""])
        self.assertIn("not empty, on one line", str(e.exception))

    def test_journal_and_checkpoint_interval_reach_the_run(self):
        # A journal in a directory that does not exist fails on that path: the argument is used.
        bad_journal = path("no_such_dir/run.journal")
        with self.assertRaises(stagesim.IoError) as e:
            stagesim.run(QUICKSTART, set=SMALL, out=path("j.h5"), journal=bad_journal)
        self.assertIn(bad_journal, str(e.exception))
        # Checkpoints at every metric checkpoint change nothing in the results.
        out = path("ckpt.h5")
        stagesim.run(QUICKSTART, set=SMALL, threads=1, out=out, journal=path("ckpt.journal"),
                     checkpoint_interval=0)
        assert_bit_identical(self, out, self.cli_out)
        self.assertFalse(os.path.exists(path("ckpt.journal")))

    def test_shards_merge_to_the_whole_run(self):
        parts = [path(f"part{i}.h5") for i in range(2)]
        for i, part in enumerate(parts):
            res = stagesim.run(QUICKSTART, set=SMALL, threads=1, out=part, shard=(i, 2))
            self.assertLess(res.run_info["tasks"], 3 * 4)
        merged = path("merged.h5")
        cli("merge", merged, *parts)
        assert_bit_identical(self, merged, self.cli_out)
        for bad in ((2, 2), (0, 0), (-1, 2)):
            with self.assertRaises(stagesim.ConfigError) as e:
                stagesim.run(QUICKSTART, set=SMALL, out=path("s.h5"), shard=bad)
            self.assertIn("expected i/n with 0 <= i < n, e.g. shard=(0, 8)", str(e.exception))
        for bad in ("0/2", (0,), (0.0, 2), (True, 2)):
            with self.assertRaises(stagesim.ConfigError) as e:
                stagesim.run(QUICKSTART, set=SMALL, out=path("s.h5"), shard=bad)
            self.assertIn("shard=(0, 8)", str(e.exception))

    def test_toml_text_and_set_forms(self):
        with open(QUICKSTART) as fh:
            text = fh.read()
        out = path("text.h5")
        stagesim.run(text, set=[f"{k}={v}" for k, v in SMALL.items()], out=out)
        assert_bit_identical(self, out, self.cli_out)
        with h5py.File(out, "r") as f:
            self.assertEqual(f.attrs["experiment_path"], "<string>")
            self.assertEqual(f.attrs["experiment_text"], text)

    def test_in_memory_results(self):
        before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
        res = stagesim.run(QUICKSTART, set=SMALL)
        after = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
        self.assertFalse({x for x in after - before if x.startswith("stagesim-")},
                         "temporary files left behind")
        ref = stagesim.open(self.cli_out)
        for s in ref.series:
            self.assertEqual(res.values(s).tobytes(), ref.values(s).tobytes(), s)
        self.assertTrue(res.summary().equals(ref.summary()))
        self.assertEqual(res.config(1), ref.config(1))

    def test_python_values_as_overrides(self):
        res = stagesim.run(QUICKSTART, set=dict(SMALL, **{"world.items": 40,
                                                          "stages.ranker.alpha": 0.5,
                                                          "world.noise_std": 0.0}))
        self.assertEqual(res.config(1)["world"]["items"], 40)
        self.assertEqual(res.config(1)["stages"]["ranker"]["alpha"], 0.5)
        self.assertEqual(res.config(1)["world"]["noise_std"], 0.0)
        grid = stagesim.run(QUICKSTART, set=dict(SMALL, **{"experiment.replications": 2}),
                            seed=11)
        self.assertEqual(grid.attrs["master_seed"], 11)
        self.assertEqual(grid.replications, 2)


class Errors(unittest.TestCase):
    def test_bad_key_in_a_file_names_file_line_and_key(self):
        bad = path("bad.toml")
        with open(QUICKSTART) as fh:
            lines = fh.read().split("\n")
        n = next(i for i, x in enumerate(lines) if x.startswith("dim = "))
        lines[n] = "dimm = 10"
        with open(bad, "w") as fh:
            fh.write("\n".join(lines))
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.run(bad)
        msg = str(e.exception)
        self.assertRegex(msg, rf"^{re.escape(bad)}:{n + 1}:\d+: unknown key 'world.dimm'")
        self.assertIn("did you mean 'dim'?", msg)
        self.assertNotIn("\n", msg)
        self.assertIsInstance(e.exception, ValueError)
        # The CLI says the same.
        r = cli("run", bad, "--out", path("x.h5"), check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn(msg, r.stderr)
        with self.assertRaises(stagesim.ConfigError) as e2:
            stagesim.check(bad)
        self.assertEqual(str(e2.exception), msg)

    def test_bad_key_in_text_and_in_set(self):
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.run('[experiment]\nreplications = 2\n[world]\ntype = "linear"\nitemz = 5\n'
                         '[stages.p]\ntype = "greedy"\n')
        self.assertRegex(str(e.exception), r"^<string>:5:1: unknown key 'world.itemz'")
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.run(QUICKSTART, set={"world.items": "many"})
        self.assertIn("world.items", str(e.exception))
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.run(QUICKSTART, set={"stages.ranker.alpah": 1.0})
        self.assertIn("did you mean 'alpha'", str(e.exception))
        with self.assertRaises(stagesim.ConfigError):
            stagesim.run(QUICKSTART, threads=-1)

    def test_run_options_are_checked_as_the_cli_checks_them(self):
        # One check serves both front ends; each names its own spelling of the option.
        for bad in (-2, float("nan"), float("inf")):
            with self.assertRaises(stagesim.ConfigError) as e:
                stagesim.run(QUICKSTART, set=SMALL, checkpoint_interval=bad)
            self.assertEqual(str(e.exception),
                             "checkpoint_interval must be >= 0 seconds, or -1 for no checkpoints")
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.run(QUICKSTART, set=SMALL, threads=10**6)
        self.assertRegex(str(e.exception), r"^threads 1000000 exceeds \d+ \(4 per core")
        r = cli("run", QUICKSTART, "--out", path("x.h5"), "--checkpoint-interval", "-2",
                check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--checkpoint-interval must be >= 0 seconds, or -1 for no checkpoints",
                      r.stderr)


    def test_missing_file_and_unwritable_output(self):
        with self.assertRaises(stagesim.ConfigError) as e:
            stagesim.run(path("nope.toml"))
        self.assertIn("cannot open the experiment file", str(e.exception))
        outdir = path("adir.h5")
        os.makedirs(outdir, exist_ok=True)  # a directory where the file should go
        with self.assertRaises(stagesim.IoError) as e:
            stagesim.run(QUICKSTART, set=SMALL, out=outdir)
        self.assertIsInstance(e.exception, OSError)
        self.assertIn(outdir, str(e.exception))
        # Refused before any work: no journal is left beside the directory (issue 12, item 14).
        self.assertIn("--out names a directory", str(e.exception))
        self.assertFalse(os.path.exists(outdir + ".journal"))
        with self.assertRaises(TypeError):
            stagesim.run(QUICKSTART, set={"world.items": object()})


class CheckAndList(unittest.TestCase):
    def test_check(self):
        info = stagesim.check(QUICKSTART)
        self.assertEqual(info["configurations"], 3)
        self.assertEqual(info["replications"], 30)
        self.assertEqual(info["tasks"], 90)
        self.assertEqual(info["units"], 30)
        self.assertEqual(info["series"][0], "regret")
        self.assertIn("random_regret", info["series"])
        self.assertEqual(len(info["variants"]), 3)
        self.assertGreater(info["cost_flops"], 0)
        fig3 = os.path.join(common.SOURCE, "experiments/two_stage/fig3.toml")
        big = stagesim.check(fig3, set={"experiment.replications": 3})
        self.assertEqual(big["grid_axes"], ["setting", "world.items"])  # the engine's order
        self.assertEqual(big["tasks"], big["configurations"] * 3)
        # The CLI counts the same.
        out = cli("check", fig3, "--set", "experiment.replications=3").stdout
        self.assertIn(f"{big['configurations']} configurations", out)
        self.assertIn(f"= {big['tasks']} tasks in {big['units']} units", out)

    def test_list(self):
        reg = stagesim.list()
        self.assertEqual(set(reg), {"worlds", "stages", "metrics", "engine"})
        text = cli("list").stdout
        for kind in ("worlds", "stages", "metrics"):
            for name, entry in reg[kind].items():
                self.assertIn(f"  {name} — {entry['help']}", text)
        alpha = next(p for p in reg["stages"]["linucb"]["params"] if p["name"] == "alpha")
        self.assertEqual(float(alpha["default"]), 0.1)
        self.assertIn("experiment", " ".join(reg["engine"]))


if __name__ == "__main__":
    common.main()
