#!/usr/bin/env python3
"""stagesim.Env: a task stepped from Python in Gymnasium's reset/step protocol. Without actions it
reproduces the CLI's run of the same task bit for bit; an action that scores by the true click
logit earns more than its negation; episodes replay exactly; bad actions and names raise the
one-line ConfigError. Skipped (exit 77) when the bindings are not built."""
import math
import os
import sys
import unittest

import common
from common import SOURCE, cli, path

import numpy as np

import stagesim

if not stagesim.native_available():
    print("skipped: the Python bindings are not built (apt-get install pybind11-dev "
          "python3-pybind11 python3-dev, then cmake --build build --target stagesim_python)")
    sys.exit(77)

AGENT = os.path.join(SOURCE, "experiments", "examples", "session_agent.toml")
SHORT = {"experiment.horizon": 600, "experiment.checkpoints": 1}


def episode(env, seed, action=None):
    """Steps one whole episode; returns per-step rewards, click/watch totals in serving order,
    the served slates and the session events."""
    obs, info = env.reset(seed=seed)
    rewards, served, events = [], [], []
    click = watch = 0.0
    while True:
        a = action(obs) if callable(action) else action
        obs, r, terminated, truncated, info = env.step(a)
        rewards.append(r)
        served.append(info["served"])
        events.extend(info["events"])
        for c, w in zip(info["outcomes"]["click"], info["outcomes"]["watch_time"]):
            click += c
            watch += w
        assert not terminated
        if truncated:
            return np.array(rewards), click, watch, served, events


class Env(unittest.TestCase):
    def test_without_actions_it_is_the_cli_run_of_the_same_task(self):
        out = path("agent.h5")
        cli("run", AGENT, "--quiet", "--out", out,
            *[x for k, v in SHORT.items() for x in ("--set", f"{k}={v}")])
        res = stagesim.open(out)
        f = res.frame()
        env = stagesim.Env(AGENT, set=SHORT)  # no agent: the external stage acts at random
        self.assertEqual(env.objectives, ["click", "watch_time"])
        for rep in (0, 3):
            rewards, click, watch, _, events = episode(env, rep)
            self.assertEqual(len(rewards), 600)
            last = f[(f.replication == rep) & (f.requests == 600)]
            got = {s: float(last[last.series == s].value.iloc[0])
                   for s in ("reward", "reward_watch_time", "sessions")}
            self.assertEqual(click, got["reward"])  # exactly: same requests, same draws
            self.assertEqual(watch, got["reward_watch_time"])
            self.assertEqual(rewards.sum(), click)
            # "sessions" counts completed sessions: the end events.
            self.assertEqual(sum(e["kind"] == "end" for e in events), got["sessions"])
            self.assertGreater(got["sessions"], 10)

    def test_an_action_scoring_the_click_logit_beats_its_negation(self):
        # The world's features are z = scale·θ_u ⊙ x_a and P(click) = sigmoid(bias + Σ_j z_j), so
        # a = 1 ranks the retrieved candidates by click probability and a = −1 against it.
        env = stagesim.Env(AGENT, agent="agent", set=SHORT)
        self.assertEqual(env.action_size, 6)
        good = [episode(env, s, np.ones(6))[0].mean() for s in range(4)]
        bad = [episode(env, s, -np.ones(6))[0].mean() for s in range(4)]
        diff = np.array(good) - np.array(bad)  # paired by replication (same users, streams)
        se = diff.std(ddof=1) / math.sqrt(len(diff))
        self.assertGreater(diff.mean(), 3 * se, (good, bad))
        self.assertGreater(diff.min(), 0, (good, bad))

    def test_an_episode_replays_exactly_and_actions_persist(self):
        env = stagesim.Env(AGENT, agent="agent", set={"experiment.horizon": 200})
        first = episode(env, 2, lambda obs: obs["features"].mean(axis=0))
        again = episode(env, 2, lambda obs: obs["features"].mean(axis=0))
        np.testing.assert_array_equal(first[0], again[0])
        self.assertEqual(first[3], again[3])
        # Setting the action once and passing None afterwards keeps it in force.
        env.reset(seed=1)
        _, r0, _, _, i0 = env.step(np.ones(6))
        kept = [env.step(None) for _ in range(50)]
        again = episode(env, 1, np.ones(6))
        self.assertEqual([i0["served"]] + [k[4]["served"] for k in kept], again[3][:51])
        obs, _ = env.reset(seed=1)
        self.assertEqual(obs["features"].shape, (100, 6))
        self.assertEqual(obs["index"], 0)

    def test_bad_actions_names_and_steps_raise_one_line_errors(self):
        env = stagesim.Env(AGENT, agent="agent", set={"experiment.horizon": 2, "experiment.checkpoints": 1})
        env.reset()
        with self.assertRaisesRegex(stagesim.ConfigError, "has 3 values.*needs that many"):
            env.step([1.0, 2.0, 3.0])
        with self.assertRaisesRegex(stagesim.ConfigError, "non-finite"):
            env.step([1, 1, 1, 1, 1, float("nan")])
        with self.assertRaisesRegex(stagesim.ConfigError, "1-D array"):
            env.step(np.ones((2, 3)))
        env.step(np.ones(6))
        env.step(None)
        with self.assertRaisesRegex(stagesim.ConfigError, "episode is over.*reset"):
            env.step(None)
        with self.assertRaisesRegex(stagesim.ConfigError, "'retrieve' \\(type 'linucb'\\) takes "
                                    "no action.*external"):
            stagesim.Env(AGENT, agent="retrieve")
        with self.assertRaisesRegex(stagesim.ConfigError, "no stage 'ranker'.*'retrieve', "
                                    "'agent'"):
            stagesim.Env(AGENT, agent="ranker")
        with self.assertRaisesRegex(stagesim.ConfigError, "task 5 does not exist"):
            stagesim.Env(AGENT, task=5)
        with self.assertRaisesRegex(stagesim.ConfigError, "replication 9 does not exist"):
            env.reset(seed=9)
        with self.assertRaisesRegex(stagesim.ConfigError, "no stage is driven"):
            e = stagesim.Env(AGENT)
            e.reset()
            e.step(np.ones(6))
        with self.assertRaisesRegex(stagesim.ConfigError, r"<string>:\d+"):
            stagesim.Env("[experiment]\nname = 1\n")


if __name__ == "__main__":
    common.main()
