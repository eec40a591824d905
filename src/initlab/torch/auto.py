"""Data-free analytic initialization: weight variances that keep every layer's pre-activation second moment at 1.

Inputs are assumed to have unit second moment per entry, biases are 0 (but see slope > 1 below) and the
layers form a chain:
the input of layer l is act(output of layer l-1), where act is the elementwise activation that
`initlab.torch.layers` finds after layer l-1 (the identity if none). With Var W = sigma_w^2 / fan_in
(torch's fan_in = in_features, or in_channels * prod(kernel)), a layer maps the second moment q of
its input's pre-activations to (the length map, Poole et al. 2016)

    q_next = sigma_w^2 E[act(sqrt(q) z)^2],   z ~ N(0, 1),

so q = 1 is kept by sigma_w^2 = 1 / E[act(z)^2]: 1 for the first layer and after no activation,
2 after relu (He et al. 2015), 2 / (1 + s^2) after leaky_relu, and by quadrature for any other
activation, a user's own included (`initlab.torch.activations`). At q = 1 each layer also reports

    chi_1 = sigma_w^2 E[act'(z)^2]       mean squared singular value of the layer Jacobian: the
                                         per-layer factor of the backward signal's variance
    slope = sigma_w^2 E[z act(z) act'(z)] d q_next / d q: >1 makes q = 1 unstable (gelu, silu)
    kappa = E[act^4] / E[act^2]^2 - 1    relative variance of act(z)^2 (relu 5, identity 2)

When slope > 1 (gelu 1.144, silu), q = 1 is an unstable fixed point: with zero biases no weight
variance keeps deep layers near q = 1 (a 30 x 256 gelu MLP drifts to a geometric-mean std of ~2.8
over seeds). With ``stabilize=True`` (the default) such layers get bias variance sigma_b^2 and

    sigma_b^2 = 1 - 1 / slope,   sigma_w^2 = (1 - sigma_b^2) / E[act(z)^2]

which keeps q_next = sigma_w^2 E[act^2] + sigma_b^2 = 1 and makes the slope exactly 1 (marginal,
like relu); the same gelu MLP then stays within 1.00-1.08. Both forward and backward variance stay
at 1 only when E[act^2] = E[act'^2] (relu family); otherwise `AutoResult.message` says by how much
the backward signal grows or shrinks. Ops between layers
that are not elementwise activations (pooling, normalisation, residual sums, zero padding at conv
borders) are not modelled; layers the forward never calls are left as they are.

>>> import torch
>>> net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
>>> result = auto(net, (8,), seed=0)
>>> [layer.sigma_w2 for layer in result.layers], result.stable
([1.0, 2.0], True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from initlab._checks import choice
from initlab.init import fans, initializer
from initlab.theory import Activation, activation
from initlab.theory.meanfield import CRITICAL_TOLERANCE
from initlab.theory.quadrature import expect
from initlab.torch.activations import theory_activation
from initlab.torch.apply import fill, generator_from
from initlab.torch.trace import first_line, layers

DISTRIBUTIONS = ("normal", "uniform", "truncated_normal")


@dataclass(frozen=True)
class AutoLayer:
    name: str
    activation_name: str    # the activation applied to this layer's output
    input_activation: str   # the one applied to its input ("identity" for the first layer)
    fan_in: int
    width: int              # out_features / out_channels
    sigma_w2: float         # Var W = sigma_w2 / fan_in, i.e. gain^2
    sigma_b2: float         # Var b (0 unless stabilizing an unstable fixed point)
    chi_1: float
    slope: float
    kappa: float

    @property
    def weight_std(self) -> float:
        return math.sqrt(self.sigma_w2 / self.fan_in)


def moments(act: Activation | None, stabilize: bool = False) -> tuple[float, float, float, float, float]:
    """(sigma_w^2, sigma_b^2, chi_1, slope, kappa) at q = 1 for a layer fed by `act` (None: identity);
    with `stabilize`, a slope > 1 is brought to 1 by bias variance (module doc)."""
    act = activation("linear") if act is None else act
    m2 = act.second_moment(1.0)
    if not (math.isfinite(m2) and m2 > 0):
        raise ValueError(f"model: activation '{act.name}' has E[act(z)^2] = {m2:g} at q = 1; "
                         "no weight variance brings the next layer back to q = 1")
    if act.slope is not None:  # homogeneous: z act'(z) = act(z), and E[act^4] = 3 (1 + s^4) / 2
        mixed, m4 = m2, 1.5 * (1.0 + act.slope ** 4)
    else:
        mixed = expect(lambda u: u * act.phi(u) * act.dphi(u), 1.0)
        m4 = expect(lambda u: act.phi(u) ** 4, 1.0)
    sigma_b2 = 1.0 - m2 / mixed if stabilize and mixed > m2 * (1.0 + CRITICAL_TOLERANCE) else 0.0
    sigma_w2 = (1.0 - sigma_b2) / m2
    slope = 1.0 if sigma_b2 else sigma_w2 * mixed
    return sigma_w2, sigma_b2, sigma_w2 * act.derivative_moment(1.0), slope, m4 / (m2 * m2) - 1.0


def predicted_log_std_spread(widths: Sequence[int], kappa: Sequence[float], slope: Sequence[float]) -> list[float]:
    """Seed-to-seed std of log(std of one input's output vector) at each of L dense layers, to first order in 1/n.

    `widths` = n_1..n_L, the layers' output widths; `kappa`, `slope` = those of the activations
    entering layers 2..L (length L - 1). With q_l the mean square of layer l's output for a fixed
    input, written q_l = Q_l chi^2_{n_l} / n_l (Q_l its conditional mean given the previous layers),
    (finite-width fluctuations, Hanin & Rolnick 2018):

        V_1 = 0,  V_l = slope_l^2 V_{l-1} + kappa_l / n_{l-1}     (V_l = Var log Q_l)
        Var log q_l = V_l + 2 / n_l,   sd(log std_l) = sqrt(Var log q_l) / 2

    For relu (kappa 5, slope 1) this is Hanin & Rolnick's 5 sum_{l<L} 1/n_l + 2/n_L.

    >>> [round(s, 4) for s in predicted_log_std_spread([256] * 30, [5.0] * 29, [1.0] * 29)][-1]
    0.3789
    """
    widths = [int(n) for n in widths]
    if len(kappa) != len(widths) - 1 or len(slope) != len(widths) - 1 or min(widths, default=1) < 1:
        raise ValueError(f"widths, kappa, slope: expected L positive widths and L - 1 kappas and slopes, got "
                         f"{len(widths)} widths (min {min(widths, default=None)}), {len(kappa)}, {len(slope)}")
    v, out = 0.0, []
    for index, n in enumerate(widths):
        if index:
            v = slope[index - 1] ** 2 * v + kappa[index - 1] / widths[index - 1]
        out.append(math.sqrt(v + 2.0 / n) / 2.0)
    return out


@dataclass(frozen=True)
class AutoResult:
    layers: tuple[AutoLayer, ...]
    input_shape: tuple[int, ...]
    distribution: str
    stable: bool
    message: str
    dense: bool  # every layer an nn.Linear: the finite-width prediction applies

    def rows(self) -> list[dict]:
        return [asdict(layer) | {"weight_std": layer.weight_std} for layer in self.layers]

    def predicted_spread(self) -> list[float] | None:
        """`predicted_log_std_spread` for this chain; None unless every layer is dense (nn.Linear)."""
        if not self.dense:
            return None
        widths, rest = [x.width for x in self.layers], self.layers[1:]
        # bias variance dilutes the activation's noise in q_next by the share (1 - sigma_b^2) it carries
        return predicted_log_std_spread(widths, [x.kappa * (1.0 - x.sigma_b2) ** 2 for x in rest],
                                        [x.slope for x in rest])

    def to_json(self) -> dict:
        return {"input_shape": list(self.input_shape), "distribution": self.distribution, "stable": self.stable,
                "message": self.message, "dense": self.dense, "layers": self.rows(),
                "predicted_log_std_spread": self.predicted_spread()}

    def __str__(self) -> str:
        head = (f"{'layer':<12} {'input act':<12} {'act':<12} {'fan_in':>7} {'sigma_w2':>9} {'sigma_b2':>9} "
                f"{'chi_1':>7} {'slope':>7}")
        lines = [head] + [f"{x.name:<12} {x.input_activation:<12} {x.activation_name:<12} {x.fan_in:>7d} "
                          f"{x.sigma_w2:9.4f} {x.sigma_b2:9.4f} {x.chi_1:7.4f} {x.slope:7.4f}" for x in self.layers]
        return "\n".join(lines + [self.message])


def explain(found: Sequence[AutoLayer]) -> tuple[bool, str]:
    """The `stable` flag and the message: which activations break backward unit variance (chi_1 != 1)
    or make q = 1 an unstable fixed point of the length map (slope > 1), and by how much."""
    parts = []
    for name in dict.fromkeys(x.input_activation for x in found):
        fed = [x for x in found if x.input_activation == name]
        chi, w2, slope = fed[0].chi_1, fed[0].sigma_w2, fed[0].slope
        said = []
        if abs(chi - 1.0) > CRITICAL_TOLERANCE:
            way = "grows" if chi > 1 else "shrinks"
            said.append(f"keeping q = 1 needs sigma_w^2 = {w2:.3g}; there chi_1 = {chi:.3g}, so the backward "
                        f"signal {way} x{chi:.3g} per layer in variance (x{chi ** len(fed):.3g} over the {len(fed)} "
                        f"layer(s) it feeds); no scalar init keeps both forward and backward variance at 1 with "
                        f"{name} at q = 1")
        if fed[0].sigma_b2:
            said.append(f"q = 1 is an unstable fixed point of the length map with zero biases (d q_next / d q = "
                        f"{1.0 / (1.0 - fed[0].sigma_b2):.3g} > 1); bias variance "
                        f"sigma_b^2 = {fed[0].sigma_b2:.3g} makes it 1 (stabilize=False keeps zero biases)")
        if slope > 1.0 + CRITICAL_TOLERANCE:
            said.append(f"q = 1 is an unstable fixed point of the length map (d q_next / d q = {slope:.3g} > 1): "
                        f"finite-width deviations of log q grow x{slope ** 2:.3g} per layer in variance, so deep "
                        "layers drift away from std 1 seed by seed (see predicted_spread)")
        if said:
            parts.append(f"{name}: " + "; and ".join(said))
    if not parts:
        return True, "stable: every layer keeps q = 1 forward (length-map slope <= 1) and chi_1 = 1 backward"
    return False, "; ".join(parts)


def _check_input(model: nn.Module, input_shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in input_shape)
        ok = all(d >= 1 and d == e for d, e in zip(shape, input_shape)) and not isinstance(input_shape, str)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"input_shape: expected a tuple of positive integers without the batch dimension, "
                         f"e.g. (3, 32, 32), got {input_shape!r}")
    param = next(model.parameters(), None)
    example = torch.zeros((1, *shape), dtype=torch.get_default_dtype() if param is None else param.dtype)
    modes = {m: m.training for m in model.modules()}
    model.eval()  # a batch of one must pass batch norm; train/eval flags are restored below
    try:
        with torch.no_grad():
            model(example)
    except Exception as error:
        raise ValueError(f"input_shape: the model rejected input of shape {list(example.shape)}: "
                         f"{first_line(error)}") from None
    finally:
        for m, training in modes.items():
            m.train(training)
    return shape


def _bias_init(sigma_b2: float, distribution: str):
    std = math.sqrt(sigma_b2)
    spec = f"uniform(limit={math.sqrt(3.0) * std!r})" if distribution == "uniform" else f"normal(std={std!r})"
    return initializer(spec, layout="torch")


def auto(model: nn.Module, input_shape, *, generator: torch.Generator | None = None, seed: int | None = None,
         distribution: str = "normal", stabilize: bool = True) -> AutoResult:
    """Initialise `model` in place as the module doc says; `input_shape` excludes the batch dimension.

    Weights are drawn from `distribution` (normal, uniform or truncated_normal; each with variance
    sigma_w^2 / fan_in) in execution order with one NumPy generator draw each, as
    ``initlab.torch.apply`` does for ``variance_scaling``; biases are set to 0, or drawn from the same
    distribution with variance sigma_b^2 where `stabilize` gives one (module doc).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    choice("distribution", distribution, DISTRIBUTIONS)
    g = generator_from(generator, seed)
    shape = _check_input(model, input_shape)
    found, out, previous = layers(model), [], None
    for layer in found:
        has_bias = layer.module.bias is not None  # without one, the slope cannot be moved
        sigma_w2, sigma_b2, chi, slope, kappa = moments(previous, stabilize and has_bias)
        weight = layer.module.weight
        fan = fans(tuple(weight.shape), "torch")
        init = initializer(f"variance_scaling(scale={sigma_w2!r}, mode=fan_in, distribution={distribution})",
                           layout="torch")
        fill(weight, init, g, fan)
        if sigma_b2:
            fill(layer.module.bias, _bias_init(sigma_b2, distribution), g, fan, is_bias=True)
        elif has_bias:
            nn.init.zeros_(layer.module.bias)
        width = weight.shape[0]
        out.append(AutoLayer(layer.name, layer.activation_name, out[-1].activation_name if out else "identity",
                             int(fan.fan_in), int(width), sigma_w2, sigma_b2, chi, slope, kappa))
        previous = theory_activation(layer)
    stable, message = explain(out)
    dense = all(isinstance(layer.module, nn.Linear) for layer in found)
    return AutoResult(tuple(out), shape, distribution, stable, message, dense)
