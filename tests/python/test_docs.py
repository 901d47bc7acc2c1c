#!/usr/bin/env python3
"""Docs that stay true: the README's quickstart command and its stated output against a fresh run,
and docs/two-stage.md's generated tables against short runs of some of their grid points."""
import os
import re
import subprocess
import sys
import unittest

import common
from common import QUICKSTART, SOURCE, cli, path

README = os.path.join(SOURCE, "README.md")
TWO_STAGE_DOC = os.path.join(SOURCE, "docs", "two-stage.md")
TABLES = os.path.join(SOURCE, "plots", "two_stage_tables.py")
FIG3 = os.path.join(SOURCE, "experiments", "two_stage", "fig3.toml")
NC = os.path.join(SOURCE, "experiments", "two_stage", "nominator_count.toml")


def readme_block(marker, lang):
    """The fenced block that follows '<!-- ci: MARKER -->' in the README."""
    with open(README) as fh:
        text = fh.read()
    m = re.search(rf"<!-- ci: {marker} -->.*?```{lang}\n(.*?)```", text, re.S)
    if not m:
        raise AssertionError(f"README.md: no ```{lang} block after <!-- ci: {marker} -->")
    return m.group(1)


def setting(d, s, n):
    return (f'{{ "world.dim" = {d}, "stages.nominators.features" = {s}, '
            f'"stages.nominators.replicas" = {n} }}')


class Readme(unittest.TestCase):
    def test_first_command_builds_only_the_binary_and_runs_the_quickstart(self):
        cmd = readme_block("quickstart", "sh").strip()
        self.assertEqual(len(cmd.splitlines()), 1, "one line, so it can be pasted")
        self.assertIn("--target stagesim ", cmd)
        self.assertIn("./build/stagesim run experiments/quickstart.toml --out out/quickstart.h5",
                      cmd)
        self.assertIn("plots/regret_curves.py out/quickstart.h5 -o out/quickstart.png", cmd)
        tests = readme_block("tests", "sh").strip()
        self.assertNotIn("--target", tests)
        self.assertIn("ctest", tests)
        # .ci/run runs exactly these two commands, extracted by its own function.
        for name, want in (("quickstart", cmd), ("tests", tests)):
            got = subprocess.run(
                ["bash", "-c", 'source <(sed -n "/^readme_command()/,/^}/p" .ci/run) && '
                 f"readme_command {name}"], cwd=SOURCE, capture_output=True, text=True)
            self.assertEqual(got.stdout.strip(), want, got.stderr)

    def test_stated_output_matches_a_fresh_run(self):
        expected = readme_block("quickstart-output", "")
        log = cli("run", QUICKSTART, "--out", path("quickstart.h5")).stdout
        want = [x for x in expected.splitlines() if x.startswith(("regret", "  "))]
        got = [x for x in log.splitlines() if x.startswith(("regret", "  "))]
        self.assertGreaterEqual(len(want), 4, expected)
        self.assertEqual(got, want)
        self.assertIn("wrote out/quickstart.h5 (90 tasks, 0 resumed from the journal)", expected)
        self.assertIn("wall time", expected)


class TwoStageDoc(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Panel (a): d = 10 for K = 10 and 100; panel (b): d = 40, N = 2, K = 10; the
        # nominator-count table: K = 100, s = 10, N = 1, 2, 5 (full runs: minutes; this: seconds).
        cls.fig3 = [path("fig3_a.h5"), path("fig3_b.h5")]
        cli("run", FIG3, "--quiet", "--out", cls.fig3[0], "--set", "world.items=[10, 100]",
            "--set", "setting=[" + ", ".join(setting(10, 10 // r, 5) for r in (1, 2, 5, 10)) + "]")
        cli("run", FIG3, "--quiet", "--out", cls.fig3[1], "--set", "world.items=[10]",
            "--set", "setting=[" + ", ".join(setting(40, s, 2) for s in (20, 4)) + "]")
        cls.nc = path("nc.h5")
        cli("run", NC, "--quiet", "--out", cls.nc, "--set", "world.items=[100]",
            "--set", "stages.nominators.features=[10]",
            "--set", "stages.nominators.replicas=[1, 2, 5]")

    def tables(self, doc):
        return subprocess.run([sys.executable, TABLES, "--fig3", *self.fig3, "--nominator-count",
                               self.nc, "--check", doc], capture_output=True, text=True)

    def test_documented_numbers_match_a_fresh_run(self):
        r = self.tables(TWO_STAGE_DOC)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # 8 panel-(a) cells, 2 panel-(b) cells, 3 + 3 nominator-count cells.
        self.assertIn("16 cells compared, 0 differ", r.stdout)

    def test_the_check_catches_a_stale_number(self):
        with open(TWO_STAGE_DOC) as fh:
            text = fh.read()
        m = re.search(r"(\| 100 \| 2 \| )(\d+)( ± )", text)
        self.assertIsNotNone(m, "panel (a) row K = 100, d/s = 2 not found")
        stale = text[:m.start(2)] + str(int(m.group(2)) + 1) + text[m.end(2):]
        copy = path("two-stage.md")
        with open(copy, "w") as fh:
            fh.write(stale)
        r = self.tables(copy)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("1 differ", r.stdout)


if __name__ == "__main__":
    common.main()
