"""`Session`: the training a playground page drives, advanced a few iterations at a time.

The data and networks are built exactly as `initlab compare` / `initlab train` build them
(`load_dataset`, `build_model`, weights from the first of two streams spawned from each seed, every
scheme with the same seeds), and training runs the same compiled ensemble kernel as `train_many`
over all schemes x seeds at once, resumed from where the last `step` stopped
(`initlab.nn.ensemble.KernelRun`). So after `step(n)` (in any number of calls) each network's
recorded costs and current cost equal those of `initlab compare --iterations n` with the same settings.

>>> session = Session(Settings(init="zeros", n_seeds=2, n_samples=40))
>>> session.step(30)
>>> state = session.state()
>>> state["iteration"], state["mean_cost"] == math.log(2)
(30, True)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from initlab._checks import integer
from initlab._errors import ArgumentError
from initlab.experiments.boundary import extent, grid
from initlab.experiments.compare import build_model, finite_or_none, load_dataset
from initlab.nn.ensemble import KernelRun
from initlab.playground.command import command
from initlab.playground.curves import Samples, band, thinned
from initlab.playground.settings import Settings

BOUNDARY_RESOLUTION = 40  # a 40 x 40 grid: 1,600 probabilities per state, cheap to compute and send
MAX_STEP = 100_000  # iterations per `step` call, so one call cannot hold the machine for minutes
# A REST step answers only when done and cannot be paused by its own client, so it is bounded by time too:
# its estimated time (iterations x `Settings.work` x SECONDS_PER_WORK) at most REST_STEP_SECONDS. One
# multiply-add of `work` costs ~0.17 ns of training on this project's machine (forward and backward, one
# kernel thread; 8 layers of 20 on 2,000 points x 16 seeds: 15 ms per iteration); the estimate takes
# twice that, so a refused step would have taken at least ~15 s.
REST_STEP_SECONDS, SECONDS_PER_WORK = 30, 0.35e-9
HISTORY_POINTS = 300  # points per curve in `state()["history"]`
LIVE_CHANGES = {"lr", "speed"}  # settings applied from the next step; any other change rebuilds the session


class Session:
    """One page's training: every scheme of `settings.inits` x `settings.n_seeds` seeds, on one dataset.

    Costs are recorded every `record_every` iterations at first; when more than 2 x `HISTORY_POINTS`
    are kept the interval doubles (every other point is dropped), so a long session keeps between
    300 and 600 costs per network whatever its length.
    """

    def __init__(self, settings: Settings | None = None, record_every: int = 1):
        self.settings = Settings() if settings is None else settings
        self.first_record_every = integer("record_every", record_every)
        self.reset()

    def reset(self) -> None:
        """Back to iteration 0: data drawn and networks initialized again from the seeds (bit-identical)."""
        config = self.settings.config()
        self.data = load_dataset(config)
        self.seeds = list(config.seed_list)
        self.inits = list(config.inits)
        # one network per scheme x seed, in `run_compare`'s order, each seed's weights from the same stream
        self.nets = [build_model(config, self.data, init, weights_stream(seed))
                     for init in self.inits for seed in self.seeds]
        d = self.data
        self._X, self._y, self._X_test, self._y_test = self.nets[0].check_data(d.X_train, d.y_train, d.X_test, d.y_test)
        self._run = KernelRun(self.nets, self._X, self._y, self.settings.optimizer)
        self.record_every = self.first_record_every
        self._costs = np.full((len(self.nets), 0), np.nan)
        self.iteration = 0
        self._test_samples = Samples(HISTORY_POINTS)  # the test cost at each state: no kernel records it
        self.reproducible = True  # False once lr changed during a run: no single command gives its numbers

    def update(self, **changes) -> bool:
        """New settings (`Settings.replace`; a refused change raises `ArgumentError` and changes nothing).

        A change of `lr` or `speed` alone applies from the next step and training goes on (after an
        `lr` change the run no longer matches one `initlab compare` command: `state()["reproducible"]`
        turns false); any other change (data, network, schemes, optimizer, seeds) resets the session,
        since e.g. momentum and Adam keep different moments. Returns whether the session was reset.
        """
        settings = self.settings.replace(**changes)
        changed = {name for name in Settings.model_fields if getattr(settings, name) != getattr(self.settings, name)}
        self.settings = settings
        if not changed <= LIVE_CHANGES:
            self.reset()
            return True
        if "lr" in changed and self.iteration:
            self.reproducible = False
        return False

    def step(self, iterations: int = 1) -> None:
        """Advance every network by `iterations` full-batch updates (a diverged one stays where it stopped)."""
        iterations = integer("iterations", iterations, maximum=MAX_STEP)
        start, stop = self.iteration, self.iteration + iterations
        needed = math.ceil(stop / self.record_every)
        if needed > self._costs.shape[1]:  # grow by doubling, so long sessions copy rarely
            grown = np.full((len(self.nets), max(needed, 2 * self._costs.shape[1])), np.nan)
            grown[:, :self._costs.shape[1]] = self._costs
            self._costs = grown
        with np.errstate(over="ignore", invalid="ignore"):
            self._run.advance(start, stop, self.settings.lr, self.record_every, self._costs)
        self.iteration = stop
        while math.ceil(stop / self.record_every) > 2 * HISTORY_POINTS:
            # thin: keep the costs at multiples of twice the interval (entry j is iteration j * record_every)
            self._costs = self._costs[:, ::2].copy()
            self.record_every *= 2

    def history(self) -> dict:
        """Each network's recorded training costs so far (null after divergence): the cost curves.
        `costs` has one row per seed of the first scheme, `schemes` one such list per scheme."""
        iterations = list(range(0, self.iteration, self.record_every))
        costs = [[[finite_or_none(float(c)) for c in row] for row in self._rows(s, self._costs[:, :len(iterations)])]
                 for s in range(len(self.inits))]
        return {"iterations": iterations, "seeds": self.seeds, "costs": costs[0], "schemes": costs}

    def curves(self, points: int = HISTORY_POINTS) -> dict:
        """The training cost per scheme over at most `points` recorded iterations (evenly thinned):
        mean and min..max band over the seeds still training (null where none is)."""
        iterations = np.arange(0, self.iteration, self.record_every)
        keep = thinned(len(iterations), points)
        costs = self._costs[:, keep]
        return {"iterations": iterations[keep].tolist(),
                "schemes": [band(self._rows(s, costs)) for s in range(len(self.inits))]}

    def state(self, layers: bool = True) -> dict:
        """A JSON-ready snapshot (docs/playground.md, "State"): per scheme and seed the training and
        test cost of the current weights (as `initlab train` computes its final cost), their means over
        the seeds still training, each scheme's median seed's decision boundary (class-1 probabilities
        on a 40 x 40 grid) and, with `layers`, its per-layer histograms (`initlab.playground.layers`);
        the cost curves; the command that reproduces the run. The first scheme's numbers are also at
        the top level (`train_cost`, `test_cost`, `diverged_at`, `mean_cost`)."""
        from initlab.playground.layers import RULES, layer_views
        self._run.write_back()
        n = len(self.seeds)
        diverged = [int(at) if at >= 0 else None for at in self._run.diverged_at]
        with np.errstate(over="ignore", invalid="ignore"):
            train = [None if at is not None else finite_or_none(net.loss(self._X, self._y))
                     for net, at in zip(self.nets, diverged)]
            test = [None if at is not None or not len(self._y_test) else
                    finite_or_none(net.loss(self._X_test, self._y_test)) for net, at in zip(self.nets, diverged)]
        self._test_samples.add(self.iteration, test)
        schemes, views = [], []
        for s, init in enumerate(self.inits):
            part = slice(s * n, (s + 1) * n)
            median = self._median(train[part])
            net = None if median is None else self.nets[s * n + median]
            schemes.append({"init": init, "train_cost": train[part], "test_cost": test[part],
                            "diverged_at": diverged[part], "mean_cost": _mean(train[part]),
                            "mean_test_cost": _mean(test[part]),
                            "median_seed": None if net is None else self.seeds[median],
                            "boundary": None if net is None else self._boundary(net, self.seeds[median])})
            if layers:
                views.append(None if net is None else layer_views(net, self._X, self._y))
        first = schemes[0]
        state = {"iteration": self.iteration, "seeds": self.seeds, "settings": self.settings.model_dump(mode="json"),
                 "train_cost": first["train_cost"], "test_cost": first["test_cost"],
                 "diverged_at": first["diverged_at"], "mean_cost": first["mean_cost"],
                 "boundary": first["boundary"], "schemes": schemes, "history": self.curves(),
                 "test_history": self._test_samples.curves(len(self.inits)),
                 "command": command(self.settings, self.iteration) if self.iteration else None,
                 "command_note": self._command_note(), "reproducible": self.reproducible}
        if layers:
            state["layers"], state["rules"] = views, RULES
        return state

    def _command_note(self) -> str | None:
        """What the page says next to the command, when the command does not simply give this state's costs.

        At iteration 0 there is no command: `initlab train`/`compare` train at least one iteration, and
        without `--iterations` they would train their default number, not reproduce the start."""
        if not self.iteration:
            return "nothing trained yet: after a step or play, this is the command that gives the costs shown"
        if not self.reproducible:
            return "the learning rate changed during this run: the command trains with the new one from the start"
        return None

    def points(self) -> dict:
        """The training and test points (2-D inputs) with their labels, for drawing under the boundary."""
        d = self.data
        return {"train": {"X": np.round(d.X_train, 6).tolist(), "y": d.y_train.tolist()},
                "test": {"X": np.round(d.X_test, 6).tolist(), "y": d.y_test.tolist()}}

    def _rows(self, scheme: int, costs: np.ndarray) -> np.ndarray:
        n = len(self.seeds)
        return costs[scheme * n:(scheme + 1) * n]

    @staticmethod
    def _median(costs: list[float | None]) -> int | None:
        """The index of the seed with the median cost among those still training (the lower middle one)."""
        ranked = sorted((c, m) for m, c in enumerate(costs) if c is not None)
        return ranked[(len(ranked) - 1) // 2][1] if ranked else None

    def _boundary(self, net, seed: int) -> dict | None:
        """`net`'s P(class 1) over the points' box, rows from the bottom; None when it cannot be drawn
        (inputs not 2-D or more than two classes)."""
        if self.data.n_features != 2 or net.head.name != "sigmoid":
            return None
        box = extent(self.data.X_train)
        with np.errstate(over="ignore"):
            p = expit(net.logits(grid(box, BOUNDARY_RESOLUTION))[:, 0])
        return {"seed": seed, "extent": box, "resolution": BOUNDARY_RESOLUTION,
                "probability": np.round(p, 4).reshape(BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION).tolist()}


def rest_step_limit(settings: Settings) -> int:
    """The most iterations one REST step may ask for at `settings` (`REST_STEP_SECONDS`, at most `MAX_STEP`).

    >>> rest_step_limit(Settings(hidden=(80,) * 8, n_samples=2000, n_seeds=1)), rest_step_limit(Settings())
    (951, 100000)
    """
    return max(1, min(MAX_STEP, int(REST_STEP_SECONDS / (settings.work * SECONDS_PER_WORK))))


def check_rest_step(settings: Settings, iterations: int) -> None:
    """Refuse a REST step whose estimated time is over `REST_STEP_SECONDS` (one line naming `iterations`)."""
    limit = rest_step_limit(settings)
    if iterations > limit:
        seconds = iterations * settings.work * SECONDS_PER_WORK
        raise ArgumentError("iterations", f"expected at most {limit:,} in one HTTP step at these settings (about "
                                          f"{REST_STEP_SECONDS} s: {settings.work:,} multiply-adds per iteration); "
                                          f"step in parts or use the WebSocket, which can be paused, got "
                                          f"{iterations} (about {seconds:,.0f} s)")


def weights_stream(seed: int) -> np.random.Generator:
    """The generator of a seed's weights: the first of two streams spawned from it, as `run_compare` does."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])


def _mean(values: list[float | None]) -> float | None:
    alive = [v for v in values if v is not None]
    return math.fsum(alive) / len(alive) if alive else None
