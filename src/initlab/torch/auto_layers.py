"""How `initlab.torch.auto` fills each kind of layer: the walk over the discovered layers (see auto's
module doc for the rules: Linear/Conv by the length map, Conv1D and ConvTranspose through their
torch-layout views, attention q/k/v blocks and out_proj, RNN gate blocks, embeddings and tied layers
left alone, a token model's chain started from the measured second moment after the embeddings)."""

from __future__ import annotations

import math

import torch
from torch import nn

from initlab.init import Fans, fans, initializer
from initlab.init.laws import TRUNCATED_NORMAL_STD
from initlab.theory.finite_width import chi2_log_moments, propagate
from initlab.torch.activations import theory_activation
from initlab.torch.apply import fill
from initlab.torch.auto import AutoLayer, gains
from initlab.torch.kinds import GATES, weight_fans


def _bias_init(sigma_b2: float, distribution: str):
    """Mean 0 and variance sigma_b2 in the weights' distribution (a truncated normal: +-2 std before the
    truncation, the std divided by 0.8796 as variance_scaling does)."""
    std = math.sqrt(sigma_b2)
    spec = {"normal": f"normal(std={std!r})", "uniform": f"uniform(limit={math.sqrt(3.0) * std!r})",
            "truncated_normal": f"truncated_normal(std={std / TRUNCATED_NORMAL_STD!r}, bounds=sigma)"}[distribution]
    return initializer(spec, layout="torch")


def _draw(view: torch.Tensor, sigma_w2: float, sigma_b2: float, bias: torch.Tensor | None, fan: Fans,
          distribution: str, g: torch.Generator) -> None:
    """Weight `view` (torch layout) with variance sigma_w2 / fan_in; `bias` from sigma_b2 or zeros."""
    init = initializer(f"variance_scaling(scale={sigma_w2!r}, mode=fan_in, distribution={distribution})",
                       layout="torch")
    fill(view, init, g, fan)
    if bias is None:
        return
    if sigma_b2:
        fill(bias, _bias_init(sigma_b2, distribution), g, fan, is_bias=True)
    else:
        with torch.no_grad():
            bias.zero_()


def _orthogonal_blocks(weight: torch.Tensor, blocks: int, g: torch.Generator) -> None:
    size = weight.shape[0] // blocks
    for i in range(blocks):
        fresh = torch.empty(size, weight.shape[1], dtype=weight.dtype)
        nn.init.orthogonal_(fresh, generator=g)
        with torch.no_grad():
            weight[i * size:(i + 1) * size].copy_(fresh)


def fill_layers(found, tokens: bool, g, distribution: str, stabilize: bool, centre: str):
    """Fill every discovered layer in `found` (first-call order) with `g`'s draws: (AutoLayer rows,
    (layer, reason) for the layers left alone)."""
    out: list[AutoLayer] = []
    left_alone: list[tuple[str, str]] = []
    claimed: set[int] = set()
    previous, start = None, True
    d, v = 0.0, 0.0  # E[log Q] and Var log Q of the current layer (finite_width), Q its conditional mean square
    last_linear = None
    for layer in found:
        module, kind = layer.module, layer.kind
        own = list(module.parameters())
        if any(id(p) in claimed for p in own):
            left_alone.append((layer.name, "tied to a layer called before it; auto does not rewrite a shared tensor"))
            continue
        claimed.update(id(p) for p in own)
        if kind == "embedding":
            left_alone.append((layer.name, "embedding: left as it is; the chain starts from its output's second "
                                           "moment"))
            continue
        input_scale = 1.0
        if start and tokens and layer.input_mean_square:  # the chain starts after the embeddings
            input_scale = 1.0 / layer.input_mean_square
        start = False
        row = _row_maker(out, layer, previous, input_scale)
        if kind == "attention":
            e = module.embed_dim
            sigma_w2, sigma_b2, chi, point = gains(previous, stabilize and module.in_proj_bias is not None)
            sigma_w2 *= input_scale
            for i, label in enumerate("qkv"):
                w = module.in_proj_weight[i * e:(i + 1) * e] if module.in_proj_weight is not None \
                    else getattr(module, f"{label}_proj_weight")
                b = None if module.in_proj_bias is None else module.in_proj_bias[i * e:(i + 1) * e]
                fan = Fans(int(w.shape[1]), e)
                _draw(w, sigma_w2, sigma_b2, b, fan, distribution, g)
                row(label, fan.fan_in, e, sigma_w2, sigma_b2, chi, point, 0.0)
            sigma_w2, sigma_b2, chi, point = gains(None)
            _draw(module.out_proj.weight, sigma_w2, 0.0, module.out_proj.bias, Fans(e, e), distribution, g)
            row("out_proj", e, e, sigma_w2, 0.0, chi, point, 0.0)
            d, v, last_linear = 0.0, 0.0, None
        elif kind == "rnn":
            gates = len(GATES.get(module.mode, GATES["RNN"]))
            for l in range(module.num_layers):
                act = previous if l == 0 else None  # deeper layers read bounded hidden states: not modelled
                sigma_w2, _, chi, point = gains(act)
                sigma_w2 *= input_scale if l == 0 else 1.0
                for direction in [""] + (["_reverse"] if module.bidirectional else []):
                    suffix = f"_l{l}{direction}"
                    w = getattr(module, f"weight_ih{suffix}")
                    h = module.hidden_size
                    fan = Fans(int(w.shape[1]), h)
                    for i in range(gates):
                        _draw(w[i * h:(i + 1) * h], sigma_w2, 0.0, None, fan, distribution, g)
                    _orthogonal_blocks(getattr(module, f"weight_hh{suffix}"), gates, g)
                    if module.bias:
                        with torch.no_grad():
                            getattr(module, f"bias_ih{suffix}").zero_()
                            getattr(module, f"bias_hh{suffix}").zero_()
                    row(f"weight_ih{suffix}", fan.fan_in, h, sigma_w2, 0.0, chi, point, 0.0)
            d, v, last_linear = 0.0, 0.0, None
        else:
            has_bias = getattr(module, "bias", None) is not None  # without a bias the slope cannot move
            sigma_w2, sigma_b2, chi, point = gains(previous, stabilize and has_bias)
            sigma_w2 *= input_scale  # chi_1 stays the activation's, at unit input second moment
            dense = kind == "linear"
            if last_linear is not None and dense:
                d, v = propagate(d, v, point, last_linear, curvature=True)
            else:  # the first layer, or one after another kind: its input taken as exact
                d, v = 0.0, 0.0
            shift = 0.0
            if centre == "median" and dense:  # E[log q] = E[log Q] + E[log(chi2_n / n)] = 0
                shift = -d - chi2_log_moments(int(module.weight.shape[0]))[0]
                d += shift
                sigma_w2, sigma_b2, chi = (x * math.exp(shift) for x in (sigma_w2, sigma_b2, chi))
            if kind in ("linear", "conv"):
                view, fan = module.weight, fans(tuple(module.weight.shape), "torch")
            else:  # hf_conv1d stored (in, out); conv_transpose (in, out/groups, *k): filled through a view
                view, fan = module.weight.transpose(0, 1), weight_fans(module, kind)
            _draw(view, sigma_w2, sigma_b2, module.bias if has_bias else None, fan, distribution, g)
            width = int(view.shape[0])
            row(None, int(round(fan.fan_in)), width, sigma_w2, sigma_b2, chi, point, shift)
            last_linear = width if dense else None
        previous = theory_activation(layer)
    return out, left_alone


def _row_maker(out: list, layer, previous_act, input_scale: float):
    """A function appending one AutoLayer for `layer` (or one of its blocks, `part`) to `out`."""
    input_activation = out[-1].activation_name if out else "identity"

    def row(part, fan_in, width, sigma_w2, sigma_b2, chi, point, shift):
        name = layer.name if part is None else (f"{layer.name}.{part}" if layer.name else part)
        out.append(AutoLayer(name, layer.activation_name, input_activation, int(fan_in), int(width), sigma_w2,
                             sigma_b2, chi, point.slope, point.kappa, point.share, point.curvature, shift,
                             point.leak))
    return row
