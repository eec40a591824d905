"""`Session`: the training a playground page drives, advanced a few iterations at a time.

The data and networks are built exactly as `initlab compare` / `initlab train` build them
(`load_dataset`, `build_model`, weights from the first of two streams spawned from each seed), and
training runs the same compiled ensemble kernel as `train_many`, resumed from where the last
`step` stopped (`initlab.nn.ensemble.KernelRun`). So after `step(n)` (in any number of calls) each
seed's recorded costs and current cost equal those of `initlab train --seed S --iterations n`.

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
from initlab.experiments.boundary import extent, grid
from initlab.experiments.compare import build_model, finite_or_none, load_dataset
from initlab.nn.ensemble import KernelRun
from initlab.playground.settings import Settings

BOUNDARY_RESOLUTION = 40  # a 40 x 40 grid: 1,600 probabilities per state, cheap to compute and send
MAX_STEP = 100_000  # iterations per `step` call, so one call cannot hold the machine for minutes
LIVE_CHANGES = {"lr"}  # settings applied from the next step; any other change rebuilds the session


class Session:
    """One page's training: `settings.n_seeds` networks trained together on one dataset.

    `record_every` sets how often each seed's training cost is kept for `history()` (every
    iteration by default; a long session keeps iterations / record_every costs per seed).
    """

    def __init__(self, settings: Settings | None = None, record_every: int = 1):
        self.settings = Settings() if settings is None else settings
        self.record_every = integer("record_every", record_every)
        self.reset()

    def reset(self) -> None:
        """Back to iteration 0: data drawn and networks initialized again from the seeds (bit-identical)."""
        config = self.settings.config()
        self.data = load_dataset(config)
        self.seeds = list(config.seed_list)
        self.nets = [build_model(config, self.data, config.inits[0],
                                 np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0]))
                     for seed in self.seeds]  # as `run_compare` seeds each network's weights
        d = self.data
        self._X, self._y, self._X_test, self._y_test = self.nets[0].check_data(d.X_train, d.y_train, d.X_test, d.y_test)
        self._run = KernelRun(self.nets, self._X, self._y, self.settings.optimizer)
        self._costs = np.full((len(self.nets), 0), np.nan)
        self.iteration = 0

    def update(self, **changes) -> None:
        """New settings (`Settings.replace`; a refused change raises `ArgumentError` and changes nothing).

        A change of `lr` alone applies from the next step and training goes on (the run then no
        longer matches one `initlab train` command); any other change (data, network, init, optimizer,
        seeds) resets the session, since e.g. momentum and Adam keep different moments.
        """
        settings = self.settings.replace(**changes)
        changed = {name for name in Settings.model_fields if getattr(settings, name) != getattr(self.settings, name)}
        self.settings = settings
        if not changed <= LIVE_CHANGES:
            self.reset()

    def step(self, iterations: int = 1) -> None:
        """Advance every seed by `iterations` full-batch updates (a diverged seed stays where it stopped)."""
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

    def history(self) -> dict:
        """Each seed's recorded training costs so far (null after divergence): the cost curve."""
        iterations = list(range(0, self.iteration, self.record_every))
        costs = self._costs[:, :len(iterations)]
        return {"iterations": iterations, "seeds": self.seeds,
                "costs": [[finite_or_none(float(c)) for c in row] for row in costs]}

    def state(self) -> dict:
        """A JSON-ready snapshot: per-seed training and test cost of the current weights (as
        `initlab train` computes its final cost), their mean over the seeds still training, and the
        median seed's decision boundary (class-1 probabilities on a 40 x 40 grid)."""
        self._run.write_back()
        diverged = [int(at) if at >= 0 else None for at in self._run.diverged_at]
        with np.errstate(over="ignore", invalid="ignore"):
            train = [None if at is not None else finite_or_none(net.loss(self._X, self._y))
                     for net, at in zip(self.nets, diverged)]
            test = [None if at is not None or not len(self._y_test) else
                    finite_or_none(net.loss(self._X_test, self._y_test)) for net, at in zip(self.nets, diverged)]
        alive = [c for c in train if c is not None]
        return {"iteration": self.iteration, "seeds": self.seeds, "train_cost": train, "test_cost": test,
                "diverged_at": diverged, "mean_cost": math.fsum(alive) / len(alive) if alive else None,
                "boundary": self._boundary(train)}

    def points(self) -> dict:
        """The training and test points (2-D inputs) with their labels, for drawing under the boundary."""
        d = self.data
        return {"train": {"X": np.round(d.X_train, 6).tolist(), "y": d.y_train.tolist()},
                "test": {"X": np.round(d.X_test, 6).tolist(), "y": d.y_test.tolist()}}

    def _boundary(self, costs: list[float | None]) -> dict | None:
        """The median seed's P(class 1) over the points' box, rows from the bottom; None when it cannot
        be drawn (inputs not 2-D, more than two classes, or every seed diverged)."""
        ranked = sorted((c, m) for m, c in enumerate(costs) if c is not None)
        net = self.nets[0]
        if not ranked or self.data.n_features != 2 or net.head.name != "sigmoid":
            return None
        median = ranked[(len(ranked) - 1) // 2][1]
        box = extent(self.data.X_train)
        with np.errstate(over="ignore"):
            p = expit(self.nets[median].logits(grid(box, BOUNDARY_RESOLUTION))[:, 0])
        return {"seed": self.seeds[median], "extent": box, "resolution": BOUNDARY_RESOLUTION,
                "probability": np.round(p, 4).reshape(BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION).tolist()}
