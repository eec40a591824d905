"""DeepNorm (Wang et al. 2022, "DeepNet: Scaling Transformers to 1,000 Layers") as a model-level init."""

from __future__ import annotations

import torch
from torch import nn

from initlab._checks import integer
from initlab._errors import ArgumentError
from initlab.torch import gates
from initlab.torch.apply import generator_from
from initlab.torch.depth_result import DepthResult, found, model_modules
from initlab.torch.kinds import kind_of
from initlab.torch.residual import Branch, probe

QUERY_KEY = ("query", "key", "q", "k", "q_proj", "k_proj", "to_q", "to_k", "wq", "wk")  # layers drawn with gain 1


def deepnorm(model: nn.Module, example=None, *, encoder_layers: int | None = None, decoder_layers: int | None = None,
             encoder: str = "encoder", hook: bool = True, targets=None, generator: torch.Generator | None = None,
             seed: int | None = None) -> DepthResult:
    """DeepNorm (Wang et al. 2022, DeepNet): post-LN blocks x_{l+1} = LN(alpha x_l + f(x_l)), and in every
    branch the value projection, the attention output projection and the feed-forward layers drawn
    xavier_normal(gain=beta), the query and key projections xavier_normal(gain=1) (the paper's Figure 2
    pseudo-code; alpha and beta from `deepnorm_coefficients`).

    The stacks: without `encoder_layers` and `decoder_layers`, an encoder-only (or decoder-only: the same
    formulas) model of N = L / 2 layers (attention + feed-forward each); with both, a branch whose module
    path has a part starting with `encoder` uses the encoder's coefficients, every other the decoder's.
    q/k layers are told by name (query, key, q_proj, k_proj, ...) or as the first two blocks of
    ``nn.MultiheadAttention``'s in_proj_weight.

    alpha: with `hook` (default) each branch output is multiplied by 1/alpha (a buffer
    ``deepnorm_scale`` and a forward hook): LN(x + f(x) / alpha) = LN(alpha x + f(x)) because LayerNorm
    is invariant to the scale of its input (exactly, up to its eps), so the model computes DeepNorm without
    a change to its forward. `hook=False` only initialises (for a model whose forward has alpha already).
    Refused for pre-LN models (their sums are not normalised; DeepNorm does not apply): use scaled_residual.
    """
    modules = model_modules(model)
    probed = probe(model, example, targets=targets)
    branches = found(probed.branches, model, "deepnorm")
    pre = [b for b in branches if b.sum_norm is None]
    if pre and probed.order:
        raise ArgumentError("model", f"DeepNorm is for post-LN blocks, LN(alpha x + f(x)): the sum of branch "
                                     f"'{pre[0].output}' does not go into a norm (pre-LN); use scaled_residual")
    if encoder_layers is None and decoder_layers is None:
        stacks = {any(part.startswith(encoder) for part in b.output.split(".")) for b in branches}
        if len(stacks) == 2:  # an encoder-decoder: its decoder layers have three branches, so ask
            raise ArgumentError("encoder_layers", f"the model has branches inside and outside '{encoder}*' modules "
                                                  f"(an encoder-decoder): give encoder_layers and decoder_layers")
        coefficients = deepnorm_coefficients(encoder_layers=max(1, round(len(branches) / 2)))
    else:
        coefficients = deepnorm_coefficients(encoder_layers or 0, decoder_layers or 0)
    if hook:
        gates.check_free(modules, [b.output for b in branches], "deepnorm_scale", "deepnorm")

    def stack(branch: Branch) -> str:
        if len(coefficients) == 1:
            return next(iter(coefficients))
        return "encoder" if any(part.startswith(encoder) for part in branch.output.split(".")) else "decoder"

    g = generator_from(generator, seed)
    changed, hooks = [], []
    for b in branches:
        alpha, beta = coefficients[stack(b)]
        for name in b.layers:
            changed += _deepnorm_layer(name, modules[name], beta, g)
        if hook:
            hooks.append(gates.add(modules[b.output], "deepnorm_scale", 1.0 / alpha, "multiply_output", learned=False))
            changed.append((f"{b.output}.deepnorm_scale", f"1/alpha = {1 / alpha:.4g} on the branch output (forward hook)"))
    values = {f"{k} {v}": x for k, ab in coefficients.items() for v, x in zip(("alpha", "beta"), ab)}
    return DepthResult("deepnorm", "LN(alpha x + f(x)); v, out, FFN xavier_normal(gain=beta); q, k gain 1",
                       "Wang et al. 2022 (DeepNet)", values, tuple(branches), tuple(changed), (), tuple(hooks))


def _deepnorm_layer(name: str, module: nn.Module, beta: float, g: torch.Generator) -> list[tuple[str, str]]:
    kind = kind_of(module)
    if kind == "norm":
        return []
    init = torch.nn.init.xavier_normal_
    out = []
    with torch.no_grad():
        if kind == "attention":
            if module.in_proj_weight is not None:
                e = module.embed_dim
                for label, rows, gain in (("q", slice(0, e), 1.0), ("k", slice(e, 2 * e), 1.0), ("v", slice(2 * e, 3 * e), beta)):
                    init(module.in_proj_weight[rows], gain, generator=g)
                    out.append((f"{name}.in_proj_weight[{label}]", f"xavier_normal(gain={gain:.4g})"))
            else:
                for label, gain in (("q", 1.0), ("k", 1.0), ("v", beta)):
                    init(getattr(module, f"{label}_proj_weight"), gain, generator=g)
                    out.append((f"{name}.{label}_proj_weight", f"xavier_normal(gain={gain:.4g})"))
            init(module.out_proj.weight, beta, generator=g)
            return out + [(f"{name}.out_proj.weight", f"xavier_normal(gain={beta:.4g})")]
        gain = 1.0 if name.rsplit(".", 1)[-1].lower() in QUERY_KEY else beta
        init(module.weight, gain, generator=g)  # symmetric in fan_in and fan_out: HF Conv1D's (in, out) is fine
    return [(f"{name}.weight", f"xavier_normal(gain={gain:.4g})")]


def deepnorm_coefficients(encoder_layers: int = 0, decoder_layers: int = 0) -> dict[str, tuple[float, float]]:
    """DeepNet's (alpha, beta) by stack (Wang et al. 2022, "DeepNet: Scaling Transformers to 1,000 Layers",
    Figure 2), N encoder and M decoder layers:

        encoder-only (M = 0):    alpha = (2N)^(1/4),              beta = (8N)^(-1/4)
        decoder-only (N = 0):    alpha = (2M)^(1/4),              beta = (8M)^(-1/4)
        encoder-decoder encoder: alpha = 0.81 (N^4 M)^(1/16),     beta = 0.87 (N^4 M)^(-1/16)
                        decoder: alpha = (3M)^(1/4),              beta = (12M)^(-1/4)

    microsoft/torchscale (the authors' code) has the same alphas and betas but the encoder-decoder
    encoder's beta, where it divides by (N^4 M)^(1/16) / 1.15, i.e. beta = 1.15 (N^4 M)^(-1/16); this
    follows the paper.

    >>> {k: tuple(round(v, 4) for v in ab) for k, ab in deepnorm_coefficients(encoder_layers=6).items()}
    {'encoder': (1.8612, 0.3799)}
    """
    n = integer("encoder_layers", encoder_layers, minimum=0)
    m = integer("decoder_layers", decoder_layers, minimum=0)
    if n == 0 and m == 0:
        raise ArgumentError("encoder_layers", "give encoder_layers or decoder_layers (a positive number of layers)")
    if m == 0:
        return {"encoder": ((2 * n) ** 0.25, (8 * n) ** -0.25)}
    if n == 0:
        return {"decoder": ((2 * m) ** 0.25, (8 * m) ** -0.25)}
    return {"encoder": (0.81 * (n**4 * m) ** (1 / 16), 0.87 * (n**4 * m) ** (-1 / 16)),
            "decoder": ((3 * m) ** 0.25, (12 * m) ** -0.25)}
