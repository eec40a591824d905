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
(`initlab.theory.finite_width`)

    chi_1 = sigma_w^2 E[act'(z)^2]       mean squared singular value of the layer Jacobian: the
                                         per-layer factor of the backward signal's variance
    slope = sigma_w^2 E[z act(z) act'(z)] d log q_next / d log q: >1 makes q = 1 unstable (gelu, silu)
    kappa = E[act^4] / E[act^2]^2 - 1    relative variance of act(z)^2 (relu 5, identity 2)

When slope > 1 (gelu 1.144, silu), q = 1 is an unstable fixed point: with zero biases no weight
variance keeps deep layers near q = 1 (a 30 x 256 gelu MLP drifts to a geometric-mean std of 3.0
at layer 30 over 20 seeds). With ``stabilize=True`` (the default) such layers get bias variance

    sigma_b^2 = 1 - 1 / slope,   sigma_w^2 = (1 - sigma_b^2) / E[act(z)^2]

which keeps q_next = sigma_w^2 E[act^2] + sigma_b^2 = 1 and makes the slope exactly 1 (marginal,
like relu); the same gelu MLP then stays within 1.00-1.13 over seeds 0..19 (`centre="mean"`; 0.97-1.02
over 100 seeds: the 20-seed excursion is sampling noise). Both forward and
backward variance stay at 1 only when E[act^2] = E[act'^2] (relu family); otherwise
`AutoResult.message` says by how much the backward signal grows or shrinks.

``centre`` says which 1 is kept. ``"mean"`` (the default; exact He for relu): E[q] = 1 at every
layer. But one network's q fluctuates around that mean (finite width, Hanin & Rolnick 2018), and
log q drifts down by r^2 kappa / (2 n) per layer of n units (Jensen; relu 5 / (2 n)), so the typical
network sits below 1: for a 30 x 256 relu MLP, E[log q] = -0.29 at layer 30 and the geometric mean
over seeds of the output std is 0.94 at layer 27 (100 seeds; 0.89 at layer 26 with seeds 0..19).
``"median"`` keeps E[log q] = 0 instead, q being one input's mean square over a layer's units: the
length map of every Linear is multiplied by exp(shift) (sigma_w^2 and sigma_b^2 both, so slope and
share stay as they are), the shift cancelling what `initlab.theory.finite_width` predicts for E[log q]:

    shift(l+1) = r^2 kappa / (2 n(l)) - c V(l) / 2 + (own(n(l)) - own(n(l+1)))   (first layer: -own(n(1)))
    V(l+1) = slope^2 V(l) + r^2 kappa / n(l),   own(n) = E[log(chi2_n / n)] ~ -1/n,

the Jensen drift, the curvature drift (V = Var log q, c the length map's curvature in log
coordinates: 0 for relu, 0.079 for gelu with its stabilizing bias, where it turns the shift
negative after 14 layers of width 256) and the layer's own chi-square term. For relu every shift
after the first is 5 / (2 n) (a factor exp(5/512) per layer at width 256). The price: E[q]
grows to exp(sum of the shifts), exp(0.29) = 1.33 at layer 30 of the 30 x 256 relu MLP, where the
typical q is 1. The batch std of a layer averages q over inputs before the log, so its geometric
mean sits a little above 1 (relu: 1.00-1.08 over 100 seeds, gelu 0.99-1.05). Only chains of nn.Linear are
corrected: a conv layer gets no shift, and a Linear after a conv only its own chi-square term.
Where a Linear has zero bias and is fed by relu, leaky relu or no activation, the exact law of its factor
on q replaces the first-order Jensen term (`initlab.theory.exact_layer`; relu at width 256: a shift of
-E log F = 0.0098287 where 5/512 = 0.0097656), and `AutoResult.predicted_spread` adds its exact
variance (relu 0.420 per layer of 16 units where 5/n gives 0.3125). Exact for Gaussian weights
(``distribution="normal"``, the default); with uniform or truncated normal weights both are
approximations (the weights' fourth moment enters at order 1/n).

Ops between layers that are not elementwise activations (pooling, normalisation, residual sums,
zero padding at conv borders) are not modelled; layers the forward never calls are left as they are.
Where the forward has residual branches, `AutoResult.depth_scheme` and the message name the depth
scheme of `initlab.torch.depth` their structure calls for (`initlab.torch.depth_advice`: scaled
residual projections for pre-norm transformers, SkipInit for branches ending in a norm, DeepNorm for
post-LN, Fixup without norms), with its Python call to make after auto; auto itself does not apply it.

The layers are found from hooks on one forward pass (`initlab.torch.discover`), so transformers, RNNs
and Hugging Face models are covered; each kind is filled as follows (one chain in first-call order):

- Linear, Conv: as above. Hugging Face Conv1D (stored (in, out)) and ConvTranspose (stored
  (in, out/groups, *k)) are filled through their torch-layout view with their own fans
  (`initlab.torch.kinds`: a transposed convolution's fan_in is in/groups * prod(kernel) / prod(stride)).
- ``nn.MultiheadAttention``: the q, k and v blocks of ``in_proj_weight`` each like a Linear fed by
  the previous activation (fan_in embed_dim, or kdim/vdim), ``out_proj`` with sigma_w^2 = 1 (the
  attention output, an average of values, taken at unit second moment: not modelled further).
- RNN/LSTM/GRU: every input-weight gate block like a Linear (layer 0 fed by the previous
  activation; deeper layers read bounded hidden states, sigma_w^2 = 1), every recurrent gate block
  orthogonal (gain 1), biases 0.
- Embeddings are left as they are, and a layer whose weight is tied to one called before it
  (GPT-2's ``lm_head``) too (`AutoResult.left_alone`). With token inputs the chain starts after the
  embeddings: the first other layer's sigma_w^2 is divided by the mean square of its input measured
  on the probe batch (the embedding output, after whatever sums and norms precede that layer), so its
  pre-activations start at q = 1; the integer ids themselves are never the theory's input.

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
from typing import TYPE_CHECKING

import torch
from torch import nn

from initlab._errors import ArgumentError, ArgumentTypeError
from initlab._checks import choice
from initlab.theory.finite_width import Step, log_q_moments
from initlab.theory.gains import gains  # noqa: F401 - re-exported: initlab.torch.auto_layers and tests use it here
from initlab.theory.meanfield import CRITICAL_TOLERANCE
from initlab.torch.apply import generator_from
from initlab.torch.kept import kept

if TYPE_CHECKING:  # imported where used: the depth schemes' modules load only for residual models
    from initlab.torch.depth_advice import DepthAdvice

DISTRIBUTIONS = ("normal", "uniform", "truncated_normal")
DTYPES = ("float", "float32", "float64", "long", "int64")
TOKEN_SAMPLES = 16  # token sequences in the probe batch: the start's second moment is measured on them
CENTRES = ("mean", "median")


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
    slope: float            # d log q_next / d log q at the layer's input
    kappa: float            # of the input activation
    share: float            # sigma_w2 E[act^2] / q_next: the part of q_next the previous layer's units carry
    curvature: float        # d^2 log q_next / d (log q)^2
    log_shift: float        # centre="median": log of the factor on sigma_w2 and sigma_b2 (else 0)
    leak: float | None = None  # input activation max(u, 0) + leak min(u, 0) and zero bias: the exact law applies

    @property
    def weight_std(self) -> float:
        return math.sqrt(self.sigma_w2 / self.fan_in)

    @property
    def step(self) -> Step:
        """The layer's length map at its input's q = 1 (`initlab.theory.finite_width.Step`)."""
        return Step(math.exp(self.log_shift), self.slope, self.share, self.kappa, self.curvature, self.leak)


def predicted_log_std_spread(widths: Sequence[int], kappa: Sequence[float], slope: Sequence[float]) -> list[float]:
    """Seed-to-seed std of log(std of one input's output vector) at each of L dense layers, to first order in 1/n.

    `widths` = n_1..n_L, the layers' output widths; `kappa`, `slope` = those of the activations
    entering layers 2..L (length L - 1; a kappa already multiplied by the squared share r^2 where
    biases carry part of q). Half the square root of `initlab.theory.finite_width.log_q_moments`'s
    variance (Hanin & Rolnick 2018, generalised):

        V_1 = 0,  V_l = slope_l^2 V_{l-1} + kappa_l / n_{l-1},
        Var log q_l = V_l + psi_1(n_l / 2),   sd(log std_l) = sqrt(Var log q_l) / 2

    For relu (kappa 5, slope 1) this is Hanin & Rolnick's 5 sum_{l<L} 1/n_l + psi_1(n_L / 2)
    (psi_1(n/2) = 2/n + 2/n^2 + ..., the exact variance of log(chi2_n / n)). Given only kappas and slopes
    this stays first order; `AutoResult.predicted_spread` knows each layer's activation and bias and uses
    the exact per-layer law where it exists (`initlab.theory.exact_layer`).

    >>> [round(s, 4) for s in predicted_log_std_spread([256] * 30, [5.0] * 29, [1.0] * 29)][-1]
    0.3789
    """
    widths = [int(n) for n in widths]
    if len(kappa) != len(widths) - 1 or len(slope) != len(widths) - 1 or min(widths, default=1) < 1:
        raise ValueError(f"widths, kappa, slope: expected L positive widths and L - 1 kappas and slopes, got "
                         f"{len(widths)} widths (min {min(widths, default=None)}), {len(kappa)}, {len(slope)}")
    steps = [Step(1.0, s, 1.0, k, 0.0) for k, s in zip(kappa, slope)]
    return [math.sqrt(v) / 2.0 for _, v in log_q_moments(steps, widths)]


@dataclass(frozen=True)
class AutoResult:
    layers: tuple[AutoLayer, ...]
    input_shape: tuple[int, ...]
    distribution: str
    stable: bool
    message: str
    dense: bool  # every layer an nn.Linear: the finite-width prediction applies
    centre: str = "mean"
    left_alone: tuple[tuple[str, str], ...] = ()  # (layer, reason): embeddings, tied layers
    depth_scheme: DepthAdvice | None = None  # the residual-depth scheme the branches call for (module doc)
    discovery: str = ""  # how the layers were found: "hooks" or "hooks+fx" (`initlab.torch.discover`)

    def rows(self) -> list[dict]:
        return [asdict(layer) | {"weight_std": layer.weight_std} for layer in self.layers]

    def predicted_spread(self) -> list[float] | None:
        """`predicted_log_std_spread` for this chain; None unless every layer is dense (nn.Linear)."""
        if not self.dense:
            return None
        moments_by_layer = log_q_moments([x.step for x in self.layers[1:]], [x.width for x in self.layers])
        return [math.sqrt(v) / 2.0 for _, v in moments_by_layer]

    def to_json(self) -> dict:
        return {"input_shape": list(self.input_shape), "distribution": self.distribution, "centre": self.centre,
                "stable": self.stable, "message": self.message, "dense": self.dense, "discovery": self.discovery,
                "layers": self.rows(),
                "predicted_log_std_spread": self.predicted_spread(),
                "left_alone": [{"name": name, "reason": reason} for name, reason in self.left_alone]} | \
            ({} if self.depth_scheme is None else {"depth_scheme": self.depth_scheme.to_json()})

    def __str__(self) -> str:
        w = [max(12, *(len(getattr(x, key)) for x in self.layers)) if self.layers else 12
             for key in ("name", "input_activation", "activation_name")]  # long names keep the columns aligned
        head = (f"{'layer':<{w[0]}} {'input act':<{w[1]}} {'act':<{w[2]}} {'fan_in':>7} {'sigma_w2':>9} "
                f"{'sigma_b2':>9} {'chi_1':>7} {'slope':>7} {'shift':>7}")
        lines = [head] + [f"{x.name:<{w[0]}} {x.input_activation:<{w[1]}} {x.activation_name:<{w[2]}} {x.fan_in:>7d} "
                          f"{x.sigma_w2:9.4f} {x.sigma_b2:9.4f} {x.chi_1:7.4f} {x.slope:7.4f} {x.log_shift:7.4f}"
                          for x in self.layers]
        return "\n".join(lines + [self.message])


def explain(found: Sequence[AutoLayer]) -> tuple[bool, str]:
    """The `stable` flag and the message: which activations break backward unit variance (chi_1 != 1)
    or make q = 1 an unstable fixed point of the length map (slope > 1), and by how much."""
    parts = []
    for name in dict.fromkeys(x.input_activation for x in found):
        fed = [x for x in found if x.input_activation == name]
        unshift = math.exp(-fed[0].log_shift)  # centre="median" scales sigma_w^2; the message is about q = 1
        chi, w2, b2, slope = (fed[0].chi_1 * unshift, fed[0].sigma_w2 * unshift, fed[0].sigma_b2 * unshift,
                              fed[0].slope)
        said = []
        if abs(chi - 1.0) > CRITICAL_TOLERANCE:
            way = "grows" if chi > 1 else "shrinks"
            said.append(f"keeping q = 1 needs sigma_w^2 = {w2:.3g}; there chi_1 = {chi:.3g}, so the backward "
                        f"signal {way} x{chi:.3g} per layer in variance (x{chi ** len(fed):.3g} over the {len(fed)} "
                        f"layer(s) it feeds); no scalar init keeps both forward and backward variance at 1 with "
                        f"{name} at q = 1")
        if b2:
            said.append(f"q = 1 is an unstable fixed point of the length map with zero biases (d q_next / d q = "
                        f"{1.0 / (1.0 - b2):.3g} > 1); bias variance "
                        f"sigma_b^2 = {b2:.3g} makes it 1 (stabilize=False keeps zero biases)")
        if slope > 1.0 + CRITICAL_TOLERANCE:
            said.append(f"q = 1 is an unstable fixed point of the length map (d q_next / d q = {slope:.3g} > 1): "
                        f"finite-width deviations of log q grow x{slope ** 2:.3g} per layer in variance, so deep "
                        "layers drift away from std 1 seed by seed (see predicted_spread)")
        if said:
            parts.append(f"{name}: " + "; and ".join(said))
    if not parts:
        return True, "stable: every layer keeps q = 1 forward (length-map slope <= 1) and chi_1 = 1 backward"
    return False, "; ".join(parts)


def _check_shape(input_shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in input_shape)
        ok = all(d >= 1 and d == e for d, e in zip(shape, input_shape)) and not isinstance(input_shape, str)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ArgumentError("input_shape", f"expected a tuple of positive integers without the batch dimension, "
                         f"e.g. (3, 32, 32), got {input_shape!r}")
    return shape


def _first_vocabulary(model: nn.Module) -> int | None:
    return next((m.num_embeddings for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))), None)


def _example(model: nn.Module, input_shape, dtype, vocab, example):
    """(input shape, example batch, argument to name on rejection): `example` as given, or one sample of
    `input_shape`: float zeros, or for ``dtype="long"`` `TOKEN_SAMPLES` sequences of token ids 0..vocab-1
    (uniform, seed 0; `vocab` defaults to the first nn.Embedding's num_embeddings)."""
    from initlab.torch.inputs import check_batch, first_tensor
    if example is not None:
        example = check_batch(example, "example")
        return tuple(first_tensor(example).shape[1:]), example, "example"
    if input_shape is None:
        raise ArgumentError("input_shape", "give input_shape (without the batch dimension) or an example batch")
    shape = _check_shape(input_shape)
    choice("dtype", str(dtype).removeprefix("torch."), DTYPES)
    if str(dtype).removeprefix("torch.") in ("float", "float32", "float64"):
        param = next(model.parameters(), None)
        return shape, torch.zeros((1, *shape), dtype=torch.get_default_dtype() if param is None else param.dtype), \
            "input_shape"
    vocab = _first_vocabulary(model) if vocab is None else vocab
    if vocab is None or isinstance(vocab, bool) or not isinstance(vocab, int) or vocab < 1:
        raise ArgumentError("vocab", f"expected a positive integer (token ids 0..vocab-1) with dtype long (the "
                            f"model has no nn.Embedding to take it from), got {vocab!r}")
    ids = torch.randint(vocab, (TOKEN_SAMPLES, *shape), generator=torch.Generator().manual_seed(0))
    return shape, ids, "input_shape"


def auto(model: nn.Module, input_shape=None, *, generator: torch.Generator | None = None, seed: int | None = None,
         distribution: str = "normal", stabilize: bool = True, centre: str = "mean", dtype: str = "float",
         vocab: int | None = None, example=None) -> AutoResult:
    """Initialise `model` in place as the module doc says; `input_shape` excludes the batch dimension.

    Weights are drawn from `distribution` (normal, uniform or truncated_normal; each with variance
    sigma_w^2 / fan_in) in execution order with one NumPy generator draw each, as
    ``initlab.torch.apply`` does for ``variance_scaling``; biases are set to 0, or drawn from the same
    distribution with variance sigma_b^2 where `stabilize` gives one (module doc). `centre` is
    ``"mean"`` (E[q] = 1) or ``"median"`` (E[log q] = 0; module doc).

    The layers are found on one forward pass in evaluation mode (modes restored) over `example` (a
    tensor or a dict of tensors), or else over one sample of `input_shape` of float zeros, or with
    ``dtype="long"`` 16 sequences of token ids drawn uniformly from 0..`vocab`-1 (seed 0; `vocab`
    defaults to the first nn.Embedding's size). The data are used only to find the layers and, for
    token inputs, the second moment the chain starts from (module doc).
    """
    from initlab.torch.discover import discover
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError("model", f"expected a torch.nn.Module, got {type(model).__name__}")
    choice("distribution", distribution, DISTRIBUTIONS)
    choice("centre", centre, CENTRES)
    g = generator_from(generator, seed)
    shape, batch, argument = _example(model, input_shape, dtype, vocab, example)
    with kept(model, buffers=False):  # discovery keeps the buffers itself
        model.eval()  # a batch of one must pass batch norm
        traced = discover(model, batch, argument, what="input")  # one pass: the layers and, via fx, the merges
    from initlab.torch.auto_layers import fill_layers  # it builds on AutoLayer and gains above
    tokens = not first_input(batch).is_floating_point()
    out, left_alone = fill_layers(traced.layers, tokens, g, distribution, stabilize, centre)
    stable, message = explain(out)
    branches = traced.merges
    if branches:  # the per-layer variances assume a chain; say so rather than call it stable
        stable, message = False, (f"not a plain chain: the forward adds or concatenates computed tensors "
                                  f"{branches} time(s) (residual connections or branches), which the length map "
                                  f"does not model, so layer variances there are not kept at 1; per layer: "
                                  f"{message}")
    elif branches is None:
        message += " (torch.fx could not trace the model: residual additions and branches, if any, were not counted)"
    depth = None
    if branches != 0:  # residual sums (or not counted): name the depth scheme they call for
        from initlab.torch.depth_advice import depth_advice
        depth = depth_advice(model, batch, branches, residual_only=True)
    if depth is not None:
        message += (f". The chain gains auto set do not cover residual depth; for these branches use the depth "
                    f"scheme {depth.scheme} ({depth.why}), after auto: {depth.python}")
    dense = all(layer.kind == "linear" for layer in traced.layers)
    return AutoResult(tuple(out), shape, distribution, stable, message, dense, centre, tuple(left_alone), depth,
                      traced.source)


def first_input(batch) -> torch.Tensor:
    from initlab.torch.inputs import first_tensor
    return first_tensor(batch)
