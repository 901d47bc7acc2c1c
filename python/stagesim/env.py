"""stagesim.Env: one task of an experiment stepped request by request from Python, in Gymnasium's
reset()/step() protocol (without depending on gymnasium), so an agent (e.g. a PyTorch policy)
sets the action of one pipeline stage while the world, the other stages and their learning run
exactly as `stagesim run` runs that task.

    env = stagesim.Env("experiments/examples/session_agent.toml", agent="agent")
    obs, info = env.reset(seed=0)              # seed = replication number (its streams)
    while True:
        a = policy(obs["features"])            # one weight per feature the stage sees
        obs, reward, terminated, truncated, info = env.step(a)
        if terminated or truncated:
            break

The agent's stage has type = "external": it passes on the candidates with the highest x·a. An
observation is {"index", "time", "user", "features"} of the request about to be served
(features: candidates × dim, the same matrix the stages see; the world's oracle stays hidden).
reward is the agent stage's objective (the world's primary one unless the stage sets
`objective`) summed over the served slate; info has "served" (item ids), "outcomes" (a
{objective: array per position} dict), "events" (session starts/ends the request caused, as the
sessions metric sees them) and "steps". An episode is the task's horizon of requests
(truncated = True at the end; terminated is always False: a session world's users come back,
and a session's end is an event, not the end of the episode)."""
import numpy as np

from .native import _native, _overrides, _source


class Env:
    def __init__(self, path_or_toml_text, agent="", set=None, task=0, seed=None, data_dir=None):
        """path_or_toml_text, set, seed, data_dir: as stagesim.run. task: which configuration
        (task index as in `stagesim check` / the results' task column). agent: the name of the
        `external` stage the agent drives ("" = none; step(None) then runs the pipeline as
        configured)."""
        source, is_text = _source(path_or_toml_text)
        self._s = _native().Stepper(source, is_text, _overrides(set), seed, data_dir or "",
                                    int(task), str(agent))
        self.agent = agent
        self.objectives = list(self._s.objectives)
        self.action_size = self._s.action_size
        self.horizon = self._s.horizon
        self.replication = 0

    def reset(self, seed=None, options=None):
        """Starts replication `seed` (default: the current one) from its first request; returns
        (observation, info)."""
        if seed is not None:
            if int(seed) < 0:
                raise ValueError("seed selects a replication and must be >= 0")
            self.replication = int(seed)
        self._s.reset(self.replication)
        self.action_size = self._s.action_size
        return self._s.observation(), {"steps": 0, "replication": self.replication}

    def step(self, action=None):
        """Serves the current request with `action` (a sequence of action_size weights; None
        keeps the previous action) and returns (observation, reward, terminated, truncated,
        info)."""
        a = None if action is None else np.ascontiguousarray(action, dtype=np.float64)
        self._s.step(a)
        last = self._s.last()
        out = last["outcomes"]
        info = {"served": last["served"],
                "outcomes": {name: out[:, j].copy() for j, name in enumerate(self.objectives)},
                "events": last["events"], "steps": self._s.steps}
        truncated = bool(self._s.done)
        return self._s.observation(), float(last["reward"]), False, truncated, info
