"""Per-layer statistics of one pass at initialization, measured next to what theory expects.

Means and stds run over every entry (samples, units, positions). Measured variances of the
weights: sigma_w2 = fan_in * mean(W^2), sigma_b2 = mean(b^2) (0 without bias).

- saturated fraction (activations with a flat side): entries within 0.01 of a value where phi'
  is ~0 (tanh |a| > 0.99; sigmoid a < 0.01 or a > 0.99; relu6 a > 5.99, its flat top: its flat
  bottom at 0 is relu's and counts as dead, not saturated);
- dead fraction (relu and relu6 only: their gradient is exactly 0 below 0; leaky_relu, PReLU and
  RReLU pass a gradient there and never die): units (conv: channels) whose pre-activation is <= 0
  on every sample and position of the batch *and* whose mean over the batch lies at least
  `DEAD_SD` = 1 sd (of the layer's pre-activations, over every unit and sample) below 0. The
  second condition keeps correlation collapse out: a deep healthy relu net makes the batch's
  inputs nearly parallel, so about half its units have one sign on the whole batch (medians of
  41-46% at depth 100-200), but their batch means are spread around 0 no wider than the layer's
  entries (law of total variance), so at most Phi(-1) = 16% of a centred layer's units lie 1 sd
  below 0. Negative biases (or a negative shift of the whole layer) put the units there; a layer
  that is exactly 0 everywhere (all upstream units dead) has sd 0 and all its units count;
- duplicates: units with identical incoming weights and bias, joined with units whose activations
  over the batch are identical, leaving out constant activation vectors (a dead relu unit is
  all zeros like every other dead unit, which is not symmetry), and kept only where the units also
  receive identical gradients dL/dz: those stay identical under training. Units that are alike
  but get different gradients (a zero-initialised last layer of a residual branch, Fixup-style,
  whose units each see their own part of the stream's gradient) separate on the first step.

>>> import numpy as np
>>> W = np.array([[1.0, 2.0], [1.0, 2.0], [0.5, 0.0]])
>>> a = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0]])
>>> c = Capture("layer 1", "dense", a, a, a, W, None, W, None, 2, 3)
>>> duplicates(c)  # units 0 and 1 share weights; unit 2 is constant
(1, 2)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from initlab.activations import find
from initlab.diagnose.capture import Capture
from initlab.diagnose.expected import Expected

SATURATION_MARGIN = 0.01
DEAD_SD = 1.0


def can_die(name: str) -> bool:
    """True for activations whose gradient is exactly 0 for every negative pre-activation (the ``dies``
    column of `initlab.activations`: relu, relu6; torch's class names too, compared in lower case)."""
    row = find(name)
    return row is not None and row.dies


def bounds(name: str) -> tuple[float | None, float | None] | None:
    """(low, high) where a saturating activation's gradient vanishes (None: not on that side; the ``flat``
    column of `initlab.activations`), for torch's class names in lower case too; None for an activation
    that does not saturate."""
    row = find(name)
    return None if row is None else row.flat


@dataclass(frozen=True)
class LayerStats:
    index: int
    name: str
    kind: str
    units: int
    positions: int  # spatial positions per sample and unit: 1 for dense, H*W for a 2-D conv
    fan_in: int
    activation: str
    pre_mean: float
    pre_std: float
    expected_pre_std: float
    band_low: float
    band_high: float
    activation_mean: float
    activation_std: float
    expected_activation_std: float
    saturated_fraction: float | None
    dead_fraction: float | None
    grad_mean: float
    grad_std: float
    expected_grad_std: float
    weight_grad_ratio: float | None
    duplicate_groups: int
    duplicate_units: int
    sigma_w2: float
    sigma_b2: float

    @property
    def pre_rms(self) -> float:
        """sqrt(mean(z^2)): what theory's sqrt(q) predicts. It equals pre_std in a wide layer, whose
        mean over units is ~0, but not in an output of one unit that barely changes over a batch
        of inputs a deep net has made nearly parallel (its std over the batch is then tiny)."""
        return math.hypot(self.pre_mean, self.pre_std)

    @property
    def grad_rms(self) -> float:
        """sqrt(mean(dz^2)): what theory's backward map propagates (`expected_grad_std` is one)."""
        return math.hypot(self.grad_mean, self.grad_std)

    @property
    def grad_norm(self) -> float:
        """rms of dL/dz times sqrt(units * positions): the root mean (over samples) squared norm of one
        sample's gradient vector. chi_1 = 1 keeps this norm from layer to layer whatever the widths and
        strides (|dx|^2 = sigma_w2 E[phi'^2] |dz|^2), while the rms per entry changes with them."""
        return self.grad_rms * math.sqrt(self.units * self.positions)

    @property
    def outside_band(self) -> bool:
        """Outside theory's band, for a model theory covers (its theory is nan where it does not:
        `initlab.diagnose.doctor.diagnose`): the rows a table marks."""
        return not self.in_band and not math.isnan(self.expected_pre_std)

    @property
    def in_band(self) -> bool:
        """Whether the measured root mean square lies inside theory's finite-width band."""
        return bool(self.band_low <= self.pre_rms <= self.band_high)

    def to_json(self) -> dict:
        """The fields as a dict; non-finite numbers become None."""
        return {key: finite_or_none(value) for key, value in asdict(self).items()}


def finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sigma_w2(c: Capture) -> float:
    with np.errstate(over="ignore"):
        return float(c.fan_in * np.mean(np.square(c.weight)))


def sigma_b2(c: Capture) -> float:
    with np.errstate(over="ignore"):
        return 0.0 if c.bias is None else float(np.mean(np.square(c.bias)))


def saturated_fraction(c: Capture) -> float | None:
    """Share of the activations within `SATURATION_MARGIN` of a flat side (module doc)."""
    if bounds(c.activation_name) is None:
        return None
    low, high = bounds(c.activation_name)
    flat = np.zeros(c.a.shape, dtype=bool)
    if low is not None:
        flat |= c.a < low + SATURATION_MARGIN
    if high is not None:
        flat |= c.a > high - SATURATION_MARGIN
    return float(np.mean(flat))


def dead_fraction(c: Capture) -> float | None:
    """Share of the units that are dead (module doc): <= 0 on the whole batch and with a batch mean
    at least `DEAD_SD` layer sds below 0."""
    if not can_die(c.activation_name):
        return None
    units = c.per_unit(c.z)
    with np.errstate(all="ignore"):
        sd = float(np.std(units))
        dead = np.all(units <= 0, axis=1) & (np.mean(units, axis=1) <= -DEAD_SD * sd)
    return float(np.mean(dead))


def _fingerprints(rows: np.ndarray) -> np.ndarray:
    """One uint64 per row, equal for equal rows: the float64 bits times fixed odd multipliers, summed
    modulo 2^64 (a multiplicative hash; -0.0 is made 0.0 first)."""
    bits = np.ascontiguousarray(rows + 0.0, dtype=np.float64).view(np.uint64)
    multipliers = np.random.default_rng(0).integers(1, 2 ** 63, size=bits.shape[1], dtype=np.uint64) * 2 + 1
    with np.errstate(over="ignore"):
        return (bits * multipliers).sum(axis=1, dtype=np.uint64)


def _groups(rows: np.ndarray) -> np.ndarray:
    """Class label (0, 1, ...) of each row, equal labels for equal rows (-0.0 equals 0.0): rows grouped by
    a hash computed in one vectorized pass, each group checked entry by entry against its first row
    (sorting whole rows, as ``np.unique(axis=0)`` does, cost half of a 50-layer diagnosis; see
    benchmarks/diagnose_duplicates.py). A group whose rows differ (a hash collision) is split exactly."""
    _, labels = np.unique(_fingerprints(rows), return_inverse=True)
    labels = labels.reshape(-1)
    counts = np.bincount(labels)
    for label in np.flatnonzero(counts > 1):
        members = np.flatnonzero(labels == label)
        if not np.all(rows[members] == rows[members[0]]):  # a collision (or NaN entries): split exactly
            exact = _exact_groups(rows[members])
            labels[members] = np.where(exact == 0, label, len(counts) + members[exact])
    return np.unique(labels, return_inverse=True)[1].reshape(-1)


def _exact_groups(rows: np.ndarray) -> np.ndarray:
    """Class labels by pairwise comparison with earlier rows (NaN equals nothing): for the rare
    colliding group only."""
    labels = np.arange(len(rows))
    for i in range(1, len(rows)):
        for j in range(i):
            if labels[j] == j and np.array_equal(rows[i], rows[j]):
                labels[i] = j
                break
    return labels


def duplicates(c: Capture) -> tuple[int, int]:
    """(groups of >= 2 identical units, units in them): connected components of the graph that
    links each unit to its weight-row class and to its activation-vector class (if not constant),
    split by the units' gradient vectors (module doc)."""
    n = c.units
    rows = c.weight if c.bias is None else np.column_stack([c.weight, c.bias])
    by_weight = _groups(rows)
    acts = c.per_unit(c.a)
    varying = np.all(np.isfinite(acts), axis=1) & np.any(acts != acts[:, :1], axis=1)
    by_act = _groups(acts[varying]) if varying.any() else np.zeros(0, dtype=np.intp)
    if by_weight.max(initial=-1) == n - 1 and len(np.unique(by_act)) == len(by_act):
        return 0, 0  # every unit unique both ways (the usual case): no graph to join
    units = np.arange(n)
    offset = n + int(by_weight.max()) + 1
    src = np.concatenate([units, units[varying]])
    dst = np.concatenate([n + by_weight, offset + by_act])
    size = offset + (int(by_act.max()) + 1 if len(by_act) else 0)
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    by_grad = _groups(c.per_unit(c.dz))  # alike units stay alike only if their gradients are alike too
    _, joint = np.unique(labels[:n] * (int(by_grad.max()) + 1) + by_grad, return_inverse=True)
    sizes = np.bincount(joint.reshape(-1))
    shared = sizes[sizes >= 2]
    return int(len(shared)), int(shared.sum())


def mean_and_std(x: np.ndarray) -> tuple[float, float]:
    """(mean, std) over every entry of `x`; inf or nan where the values overflowed."""
    with np.errstate(all="ignore"):
        return float(np.mean(x)), float(np.std(x))


def layer_stats(index: int, c: Capture, e: Expected) -> LayerStats:
    """Measured statistics of capture `c` (layer `index`, from 1) next to theory `e`."""
    pre_mean, pre_std = mean_and_std(c.z)
    act_mean, act_std = mean_and_std(c.a)
    grad_mean, grad_std = mean_and_std(c.dz)
    with np.errstate(all="ignore"):
        w_norm, g_norm = float(np.linalg.norm(c.weight)), float(np.linalg.norm(c.weight_grad))
        ratio = g_norm / w_norm if w_norm > 0 else None
    groups, dup_units = duplicates(c)
    return LayerStats(
        index=index, name=c.name, kind=c.kind, units=c.units, positions=int(np.prod(c.z.shape[2:])), fan_in=c.fan_in,
        activation=c.activation_name,
        pre_mean=pre_mean, pre_std=pre_std, expected_pre_std=e.pre_std, band_low=e.band_low,
        band_high=e.band_high, activation_mean=act_mean, activation_std=act_std,
        expected_activation_std=e.activation_std, saturated_fraction=saturated_fraction(c),
        dead_fraction=dead_fraction(c), grad_mean=grad_mean, grad_std=grad_std, expected_grad_std=e.grad_std,
        weight_grad_ratio=ratio, duplicate_groups=groups, duplicate_units=dup_units,
        sigma_w2=sigma_w2(c), sigma_b2=sigma_b2(c))
