#!/usr/bin/env python3
"""The stagesim package (stagesim.open, Results.frame/summary/config/attrs) on the files the engine
writes: the quickstart, a grid with a linked axis, a --shard part, an offline job's file (the MoE
pool_learning job) and world tables; the raw layout as h5py users see it; and every plot script on real output."""
import math
import os
import re
import tomllib
import unittest

import common
from common import QUICKSTART, cli, path, script

import h5py
import numpy as np

import stagesim

R = 30  # the quickstart's replications
GRID_TOML = """
[experiment]
name = "grid"
seed = 7
replications = 3
horizon = 200
checkpoints = 4
[world]
type = "linear"
items = 20
dim = 4
[stages.nominators]
type = "linucb"
replicas = 2
features = 2
[stages.ranker]
type = "greedy"
input = "nominators"
[metrics.regret]
decompose = true
[grid]
"world.items" = [20, 40]
shape = [ { "world.dim" = 4, "stages.nominators.features" = 2 },
          { "world.dim" = 6, "stages.nominators.features" = 3 } ]
[[variant]]
name = "G+U"
[[variant]]
name = "G+G"
stages.nominators.type = "greedy"
"""


def setUpModule():
    global QS, QS_LOG
    QS = path("quickstart.h5")
    QS_LOG = cli("run", QUICKSTART, "--out", QS, "--threads", 2).stdout


class Quickstart(unittest.TestCase):
    def setUp(self):
        self.res = stagesim.open(QS)
        self.f = h5py.File(QS, "r")

    def tearDown(self):
        self.res.close()
        self.f.close()

    def test_raw_layout_as_h5py_sees_it(self):
        f = self.f
        self.assertEqual(f.attrs["format"], "stagesim-results-1")
        self.assertEqual(int(f.attrs["replications"]), R)
        self.assertEqual(int(f.attrs["master_seed"]), 2021)
        self.assertIn("[experiment]", f.attrs["experiment_text"])
        self.assertEqual(f.attrs["series"].split("\n")[0], "regret")
        variants = [v.decode() for v in f["tasks/variant"][:]]
        self.assertEqual([v.split(" ")[0] for v in variants], ["U", "U+U", "G+G"])
        for name in ("regret", "random_regret", "reward", "regret_nominators", "regret_ranker"):
            d = f["metrics"][name]
            self.assertEqual(d.shape, (3, R, 100), name)
            self.assertEqual(d.dtype, np.float64)
            self.assertTrue(d.compression == "gzip" and d.chunks is not None, name)
            self.assertTrue(d.attrs["units"] and d.attrs["description"], name)
        regret = f["metrics/regret"][:]
        self.assertTrue(np.all(np.diff(regret, axis=2) >= 0), "cumulative regret decreases")
        # The exact random baseline depends only on the requests (common random numbers).
        rr = f["metrics/random_regret"][:]
        self.assertTrue(np.array_equal(rr[0], rr[1]) and np.array_equal(rr[0], rr[2]))
        # The layers' shares add up to the regret of the two-stage systems.
        total = f["metrics/regret_nominators"][1:] + f["metrics/regret_ranker"][1:]
        np.testing.assert_allclose(total, regret[1:], rtol=1e-9, atol=1e-9)
        self.assertEqual(f["checkpoints"].shape, (3, 100))
        self.assertEqual(f["checkpoints"][0, -1], 1000)
        self.assertIn("alpha = 0.1", f["tasks/resolved"][0].decode())

    def test_the_two_stage_effect(self):
        s = self.res.summary()
        single, uu, gg = s["mean"]
        self.assertGreater(single / uu, 2.0, s)
        self.assertGreater(single / gg, 2.0, s)
        # > 5 standard errors apart, and far below the random baseline.
        self.assertGreater(single - uu, 5 * math.hypot(s["se"][0], s["se"][1]))
        self.assertTrue((s["random_mean"] > 2 * single).all())

    def test_frame_has_one_row_per_task_replication_checkpoint_series(self):
        fr = self.res.frame()
        T, P, S = 3, 100, len(self.res.series)
        self.assertEqual(S, 5)
        self.assertEqual(len(fr), T * R * P * S)
        self.assertEqual(list(fr.columns), ["task", "variant", "replication", "checkpoint",
                                            "requests", "series", "value"])
        # Back to the raw arrays, value for value.
        for name in self.res.series:
            part = fr[fr.series == name].sort_values(["task", "replication", "checkpoint"])
            raw = self.f["metrics"][name][:]
            np.testing.assert_array_equal(part["value"].to_numpy().reshape(raw.shape), raw)
        part = fr[(fr.series == "regret") & (fr.replication == 0)]
        np.testing.assert_array_equal(part["requests"].to_numpy().reshape(3, 100),
                                      self.f["checkpoints"][:])
        self.assertEqual(set(fr[fr.task == 1]["variant"]), {self.res.tasks["variant"][1]})
        self.assertEqual(len(self.res.frame("regret")), T * R * P)
        self.assertEqual(len(self.res.frame(["regret", "reward"])), 2 * T * R * P)

    def test_summary_equals_numpy_by_hand(self):
        s = self.res.summary()
        last = self.f["metrics/regret"][:, :, -1]
        rand = self.f["metrics/random_regret"][:, :, -1]
        self.assertEqual(list(s["series"]), ["regret"] * 3)
        self.assertEqual(list(s["requests"]), [1000] * 3)
        self.assertEqual(list(s["n"]), [R] * 3)
        np.testing.assert_allclose(s["mean"], last.mean(axis=1), rtol=1e-13)
        np.testing.assert_allclose(s["se"], last.std(axis=1, ddof=1) / np.sqrt(R), rtol=1e-12)
        np.testing.assert_allclose(s["random_mean"], rand.mean(axis=1), rtol=1e-13)
        np.testing.assert_allclose(s["random_se"], rand.std(axis=1, ddof=1) / np.sqrt(R),
                                   rtol=1e-12)
        # Chosen checkpoints: the nearest one's request count is reported.
        s = self.res.summary("reward", at=[500, 1000])
        self.assertEqual(list(s["requests"]), [500, 1000] * 3)
        mid = self.f["metrics/reward"][:, :, 49]
        np.testing.assert_allclose(s["mean"][::2], mid.mean(axis=1), rtol=1e-13)
        self.assertEqual(len(self.res.summary("regret", at="all")), 300)
        # A series a system does not have (single stage: no ranker) gives no row.
        s = self.res.summary("regret_ranker")
        self.assertEqual(list(s["task"]), [1, 2])

    def test_run_prints_the_same_summary(self):
        # The CLI's closing table (sim/summary.cpp) and the Python summary agree.
        s = self.res.summary()
        for _, row in s.iterrows():
            line = next(x for x in QS_LOG.splitlines() if x.strip().startswith(row["variant"]))
            self.assertIn(stagesim.format_mean_se(row["mean"], row["se"]), line)
            self.assertIn("random " + stagesim.format_mean_se(row["random_mean"],
                                                              row["random_se"]), line)
        self.assertRegex(QS_LOG, r"regret at request 1000, mean ± SE over 30 replications")
        self.assertRegex(QS_LOG.splitlines()[-1], r"^wall time \d+\.\d\d s$")

    def test_config_and_attrs(self):
        resolved = [x.decode() for x in self.f["tasks/resolved"][:]]
        for t in range(3):
            self.assertEqual(self.res.config(t), tomllib.loads(resolved[t]))
        self.assertNotIn("ranker", self.res.config(0)["stages"])
        self.assertEqual(self.res.config(1)["stages"]["ranker"]["type"], "linucb")
        self.assertEqual(self.res.config(2)["stages"]["nominators"]["type"], "greedy")
        self.assertEqual(self.res.param("stages.nominators.replicas"), [1, 5, 5])
        self.assertEqual(self.res.attrs["experiment_name"], "quickstart")
        self.assertEqual(self.res.attrs["master_seed"], 2021)
        self.assertEqual(self.res.series[0], "regret")
        self.assertEqual(self.res.dims("regret"), ("task", "replication", "checkpoint"))
        self.assertTrue(self.res.units("regret"))
        with self.assertRaises(IndexError):
            self.res.config(3)
        with self.assertRaises(stagesim.FormatError) as e:
            self.res.values("regrets")
        self.assertIn("available: regret", str(e.exception))

    def test_load_keeps_everything_after_the_file_is_gone(self):
        copy = path("copy.h5")
        with open(QS, "rb") as a, open(copy, "wb") as b:
            b.write(a.read())
        res = stagesim.open(copy).load()
        os.remove(copy)
        self.assertEqual(len(res.frame()), len(self.res.frame()))
        self.assertTrue(res.summary().equals(self.res.summary()))
        self.assertEqual(res.config(2), self.res.config(2))
        self.assertEqual(res.units("regret"), self.res.units("regret"))


class OtherOutputs(unittest.TestCase):
    def test_grid_axes_and_linked_keys_become_columns(self):
        toml = path("grid.toml")
        with open(toml, "w") as fh:
            fh.write(GRID_TOML)
        out = path("grid.h5")
        cli("run", toml, "--out", out, "--quiet")
        res = stagesim.open(out)
        self.assertEqual(res.grid_axes, ["shape", "world.items"])  # the engine's (sorted) order
        self.assertEqual(list(res.tasks.columns), ["variant", "shape", "world.items",
                                                   "stages.nominators.features", "world.dim",
                                                   "horizon"])
        self.assertEqual(res.tasks["world.items"].dtype, np.int64)
        self.assertEqual(len(res.tasks), 8)
        fr = res.frame("regret")
        self.assertEqual(len(fr), 8 * 3 * 4)
        for t in range(8):
            cfg = res.config(t)
            row = res.tasks.loc[t]
            self.assertEqual(cfg["world"]["items"], row["world.items"])
            self.assertEqual(cfg["world"]["dim"], row["world.dim"])
            self.assertEqual(cfg["stages"]["nominators"]["features"],
                             row["stages.nominators.features"])
            self.assertEqual(cfg["stages"]["nominators"]["type"],
                             "linucb" if row["variant"] == "G+U" else "greedy")
        sub = fr[(fr["world.items"] == 40) & (fr["world.dim"] == 6) & (fr.variant == "G+G")]
        self.assertEqual(sub["task"].nunique(), 1)
        self.assertEqual(res.label(0), "G+U, items=20, features=2, dim=4")

    def test_shard_part_leaves_out_cells_not_run(self):
        out = path("part.h5")
        cli("run", QUICKSTART, "--out", out, "--quiet", "--shard", "0/2",
            "--set", "experiment.replications=4", "--set", "experiment.horizon=100",
            "--set", "experiment.checkpoints=10")
        res = stagesim.open(out)
        done = res.done
        self.assertTrue(0 < done.sum() < done.size)
        self.assertEqual(len(res.frame("regret")), done.sum() * 10)
        self.assertEqual(len(res.frame("regret", done_only=False)), done.size * 10)
        s = res.summary()
        np.testing.assert_array_equal(s["n"], done.sum(axis=1)[s["task"]])
        raw = res.values("regret")[:, :, -1]
        for _, row in s.iterrows():
            v = raw[row["task"]][done[row["task"]]]
            self.assertAlmostEqual(row["mean"], v.mean(), places=10)

    def test_job_file(self):
        toml = path("moe.toml")
        with open(toml, "w") as fh:
            fh.write("""[experiment]
seed = 5
replications = 2
[world]
type = "multilabel_bandit"
source = "synthetic"
products = 1500
dim = 20
feature_dims = 20
items = 50
[job]
type = "pool_learning"
experts = 4
item_dim = 5
per_item = 20
test_users = 500
max_epochs = 2
[grid]
"job.subset" = [5, 20]
""")
        out = path("moe.h5")
        cli("run", toml, "--out", out, "--quiet", "--threads", 2)
        res = stagesim.open(out)
        self.assertEqual(res.attrs["kind"], "job")
        self.assertEqual(list(res.tasks.columns), ["variant", "job.subset"])
        self.assertEqual(list(res.tasks["job.subset"]), [5, 20])
        self.assertEqual(res.param("job.experts"), [4, 4])
        self.assertEqual(res.config(1)["job"]["subset"], 20)
        self.assertEqual(len(res.series), 15)
        self.assertEqual(res.dims("validation_objective_moe"),
                         ("task", "replication", "epoch"))
        # Scalars: one row per (task, replication); curves: one per epoch, with coordinates.
        fr = res.frame("P_moe")
        self.assertEqual(len(fr), 2 * 2)
        self.assertNotIn("checkpoint", fr.columns)
        curve = res.frame("validation_objective_moe")
        self.assertEqual(sorted(set(curve["epoch"])), [1.0, 2.0])
        self.assertEqual(sorted(set(curve["epoch_index"])), [0, 1])
        pools = res.frame("learned_pool")
        items = res.values("learned_pool").shape[2]
        self.assertEqual(res.axes["item"].shape, (2, items))
        self.assertEqual(len(pools), 2 * 2 * items)
        self.assertTrue(set(pools["value"]) <= {0.0, 1.0, 2.0, 3.0})
        s = res.summary("P_moe")
        with h5py.File(out, "r") as f:
            raw = f["metrics/P_moe"][:]
            self.assertEqual(f["axes/epoch"].shape, (2, 2))
        np.testing.assert_allclose(s["mean"], raw.mean(axis=1), rtol=1e-13)
        np.testing.assert_allclose(s["se"], raw.std(axis=1, ddof=1) / np.sqrt(2), rtol=1e-12)
        s = res.summary("validation_objective_moe")
        self.assertEqual(len(s), 2 * 2)
        self.assertEqual(sorted(set(s["epoch"])), [1.0, 2.0])
        script("two_stage_fig5.py", out, "-o", path("fig5.png"))
        self.assertTrue(os.path.getsize(path("fig5.png")) > 5000)

    def test_world_tables(self):
        toml = path("emb.toml")
        with open(toml, "w") as fh:
            fh.write('[world]\ntype = "embedding"\nusers = 30\nitems = 40\ndim = 4\nitems_equal_users = false\n'
                     '[stages.p]\ntype = "random"\n')
        out = path("world.h5")
        cli("export-world", toml, "--out", out)
        w = stagesim.open(out)
        self.assertIsInstance(w, stagesim.WorldTables)
        with h5py.File(out, "r") as f:
            q = f["q"][:]
        self.assertEqual(q.shape, (30, 40))
        fr = w.frame("q")
        self.assertEqual(len(fr), 30 * 40)
        np.testing.assert_array_equal(fr["value"].to_numpy().reshape(30, 40), q)
        self.assertAlmostEqual(float(w.summary("q")["mean"][0]), float(q.mean()), places=12)
        self.assertEqual(w.config()["world"]["users"], 30)

    def test_not_a_stagesim_file(self):
        other = path("other.h5")
        with h5py.File(other, "w") as f:
            f["x"] = np.arange(3)
        with self.assertRaises(stagesim.FormatError) as e:
            stagesim.open(other)
        self.assertIn("not a stagesim output file", str(e.exception))
        with self.assertRaises(FileNotFoundError):
            stagesim.open(path("missing.h5"))

    def test_tables_of_records(self):
        # The layout documented for per-record groups (e.g. a stage log): equally long 1-D
        # datasets; a `task` column gets the task's labels.
        copy = path("with_table.h5")
        with open(QS, "rb") as a, open(copy, "wb") as b:
            b.write(a.read())
        with h5py.File(copy, "a") as f:
            g = f.create_group("stage_log")
            g["task"] = np.array([0, 1, 1, 2])
            g["item"] = np.array([5, 7, 9, 11])
            g["stage"] = np.array(["nominators", "ranker", "ranker", "ranker"], dtype=object)
        res = stagesim.open(copy)
        self.assertEqual(res.tables(), ["stage_log"])
        log = res.stage_log()
        self.assertEqual(list(log["item"]), [5, 7, 9, 11])
        self.assertEqual(list(log["stage"]), ["nominators", "ranker", "ranker", "ranker"])
        self.assertEqual(log["variant"][1], res.tasks["variant"][1])
        res.load()
        self.assertEqual(list(res.stage_log()["item"]), [5, 7, 9, 11])
        with self.assertRaises(stagesim.FormatError):
            stagesim.open(QS).stage_log()


class PlotScripts(unittest.TestCase):
    """Every script of plots/ reads its input through the package."""

    def png(self, name):
        p = path(name)
        with open(p, "rb") as fh:
            self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(p), 10000)

    def test_sources_use_the_package(self):
        plots = os.path.join(common.SOURCE, "plots")
        for name in sorted(os.listdir(plots)):
            if name.endswith(".py") and not name.startswith("_"):
                with open(os.path.join(plots, name)) as fh:
                    src = fh.read()
                self.assertIn("stagesim", src, name)
                self.assertIsNone(re.search(r"h5py\.File\(", src), f"{name} opens files itself")

    def test_regret_curves(self):
        script("regret_curves.py", QS, "-o", path("qs.png"), "--log")
        self.png("qs.png")

    def test_fig3_and_shares(self):
        fig3 = os.path.join(common.SOURCE, "experiments/two_stage/fig3.toml")
        out = path("fig3.h5")
        cli("run", fig3, "--out", out, "--quiet", "--set", "world.items=[10]",
            "--set", "experiment.replications=2", "--set", "experiment.horizon=200",
            "--set", 'setting=[{ "world.dim" = 10, "stages.nominators.features" = 5, '
                     '"stages.nominators.replicas" = 2 }, { "world.dim" = 10, '
                     '"stages.nominators.features" = 2, "stages.nominators.replicas" = 2 }]')
        script("two_stage_fig3.py", out, "-o", path("fig3.png"), "--csv", path("fig3.csv"),
               "--panel-a-n", 2, "--panel-b-d", 10)
        self.png("fig3.png")
        with open(path("fig3.csv")) as fh:
            rows = fh.read().splitlines()
        self.assertEqual(len(rows), 1 + 2 * 6)
        script("two_stage_shares.py", out, "-o", path("shares.png"), "--csv", path("sh.csv"))
        self.png("shares.png")
        script("two_stage_fig4.py", out, "-o", path("fig4.png"), "--csv", path("fig4.csv"))
        self.png("fig4.png")

    @staticmethod
    def tiny_pg_run(name, checkpoints, keep):
        """The experiment file's systems on a 60 × 60 world for 10 steps, 2 replications."""
        out = path(name + ".h5")
        cli("run", os.path.join(common.SOURCE, f"experiments/early_stage_pg/{name}.toml"),
            "--out", out, "--quiet", "--set", "experiment.replications=2",
            "--set", "experiment.horizon=1280", "--set", f"experiment.checkpoints={checkpoints}",
            "--set", "world.users=60", "--set", "world.items=60",
            "--set", "metrics.policy_value.requests=100", "--set", f"stages.esr.keep=[{keep}]")
        return out

    def test_pg_curves_and_tables(self):
        out = self.tiny_pg_run("table1", 3, 5)
        script("pg_curves.py", out, "-o", path("pg.png"))
        self.png("pg.png")
        table = script("pg_tables.py", out)
        self.assertIn("± ", table)
        res = stagesim.open(out)
        self.assertEqual(table.count("\n| "), len(set(res.tasks["variant"])))
        paper = script("pg_tables.py", out, "--paper")
        self.assertIn("| V-PG | 7.09 | 7.22 |", paper)  # the paper's K = 5 row, @50K and @500K
        self.assertIn("- K = 10: CA-PG ≥ CA-PG-SwR — not in this file", paper)
        self.assertRegex(paper, r"- K = 5: V-PG overflowed by @\S+ in [012] of 2 replications")

    def test_pg_tables_grpo_paper(self):
        out = self.tiny_pg_run("table6", 2, 20)
        paper = script("pg_tables.py", out, "--paper")
        # GRPO runs are compared with the paper's Table 6 (SwR rows only, @50K and @500K).
        self.assertIn("The paper's Table 6", paper)
        self.assertIn("| V-PG-SwR | 8.71 | 8.88 |", paper)
        self.assertIn("| V-PG |  |  |", paper)
        self.assertIn("- K = 200: CA-PG-SwR ≥ V-PG-SwR — not in this file", paper)
        self.assertRegex(paper, r"- K = 20: CA-PG-SwR − V-PG-SwR here [-+]\d\.\d{3} ± \d\.\d{3}, "
                                r"in the paper -0\.13")
        self.assertNotIn("V-PG overflows at large K", paper)


if __name__ == "__main__":
    common.main()
