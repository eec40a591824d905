"""Steps to target: stop a run when its recorded cost (or training accuracy) reaches a target.

Saxe et al. (2013) measure how many iterations a network needs to reach a given training cost, as a
function of depth and init. A `Target` says what "reached" means; training (`initlab.nn.train`,
`initlab.nn.ensemble.train_many`, one network at a time in the ensemble kernel too) checks it at every
recorded iteration, i.e. every `record_every`-th iteration before its update and once after the last
one, on the full-data cost that is recorded there (and the training accuracy of the same
parameters). The first recorded iteration where it holds is the run's `target_reached_at` (the
number of updates made so far); the run stops there, its parameters those of that iteration. A run
that never reaches it has `target_reached_at` None and trains to the end. With both a cost and an
accuracy, both must hold at once. A recorded cost at or below the target reaches it; an accuracy at
or above it. The check is only as fine as the recording: `record_every=1` gives the exact iteration.

>>> t = Target(cost=0.1)
>>> t.reached(0.1, None), t.reached(0.11, None), Target(cost=0.5, accuracy=0.9).reached(0.2, 0.85)
(True, False, False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from initlab._checks import number
from initlab._errors import ArgumentError


@dataclass(frozen=True)
class Target:
    cost: float | None = None      # reached when the recorded cost is <= cost
    accuracy: float | None = None  # reached when the training accuracy is >= accuracy (a fraction, 0..1)

    def __post_init__(self):
        if self.cost is not None:
            object.__setattr__(self, "cost", number("target_cost", self.cost, non_negative=True))
        if self.accuracy is not None:
            accuracy = number("target_accuracy", self.accuracy)
            if not 0 < accuracy <= 1:
                raise ArgumentError("target_accuracy", f"expected a fraction in (0, 1], got {self.accuracy!r}")
            object.__setattr__(self, "accuracy", accuracy)

    @property
    def active(self) -> bool:
        return self.cost is not None or self.accuracy is not None

    def reached(self, cost: float, accuracy: float | None) -> bool:
        """Whether a recorded (cost, training accuracy) meets every target given (False for a non-finite cost)."""
        if not self.active or not math.isfinite(cost):
            return False
        if self.cost is not None and not cost <= self.cost:
            return False
        return self.accuracy is None or (accuracy is not None and accuracy >= self.accuracy)

    def check_head(self, head_name: str) -> None:
        """An accuracy target needs a classification output (a linear output has no accuracy)."""
        if self.accuracy is not None and head_name == "linear":
            raise ArgumentError("target_accuracy", "a linear (regression) output has no accuracy; use target_cost, "
                                                   f"got target_accuracy={self.accuracy!r}")

    @property
    def kernel_bounds(self) -> tuple[float, float]:
        """(cost bound, accuracy bound) for the compiled kernel: inf / -inf where no target is given."""
        return (math.inf if self.cost is None else self.cost, -math.inf if self.accuracy is None else self.accuracy)


NO_TARGET = Target()
