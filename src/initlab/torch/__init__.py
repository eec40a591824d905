"""PyTorch adapter: initialise a model's layers with initlab.

- `layers(model, example)`: the weight-bearing layers (Linear, Conv, ConvTranspose, Hugging Face Conv1D,
  MultiheadAttention, RNN/LSTM/GRU, Embedding) in execution order, each with the elementwise activation
  on its output, from forward hooks on one pass over `example` (a tensor or a dict of tensors) with
  torch.fx as an extra source (`initlab.torch.discover`); without an example, from torch.fx alone
  (`initlab.torch.trace`).
- `apply(model, scheme, bias)`: any initlab scheme on every parameter with a layer rule (Linear,
  Conv, ConvTranspose, HF Conv1D, attention q/k/v, RNN gates; embeddings, norms by their own
  arguments), in registration order; torch.nn.init's own schemes give torch's exact numbers for the
  same torch.Generator; tied tensors are never silently rewritten (`initlab.torch.apply`).
  `initialise(...)` does the same and returns an `ApplyResult`: per parameter what was done (spec,
  blocks, fans) or why it was left alone.
- `lsuv(model, batch)`: layer-sequential unit variance, data-driven (Mishkin & Matas 2016), calibrated
  in training mode; attention q/k/v/out projections and RNN gate blocks each on their own;
  buffers, modes and torch's global RNG are left as they were.
- `auto(model, input_shape, centre="mean")` (token models: ``dtype="long"``, or ``example=``):
  analytic, data-free variances keeping every
  pre-activation's second moment at 1 in expectation (He et al. 2015; Poole et al. 2016), or with
  ``centre="median"`` its log at 0 (finite-width drift removed), with the backward slope chi_1 and
  an honest stability message; `predicted_log_std_spread` gives the finite-width seed-to-seed
  spread (Hanin & Rolnick 2018; `initlab.theory.finite_width`).
- `audit(model)`: every parameter tensor's shape, fans, mean, std, the named scheme its values match
  (KS test against the registry) and flags (zero, constant, tied, identical, non-finite, std off)
  (`initlab.torch.audit`).
- `initlab.torch.measure`: deep MLPs over many seeds, the measurements behind the README's table.
- `initlab.torch.depth`: depth schemes for residual networks (scaled residual projections, Fixup,
  SkipInit/ReZero, DeepNorm, depth-muP, delta-orthogonal convolutions) and `recommend_depth_scheme`;
  residual branches are found by value on one forward pass (`initlab.torch.residual`).
- `initlab.torch.mup`: muP on an unmodified model (initialization, per-layer learning rates of
  Tensor Programs V's Adam and SGD tables, the readout multiplier, attention scaled 1/sqrt(d) found,
  depth-muP's 1/sqrt(L)); `initlab.torch.coordcheck` checks it.

Randomness is always explicit: a ``torch.Generator`` or an int ``seed``, never torch's global RNG.
Importing ``initlab`` never imports torch; only ``initlab.torch`` does.

>>> import torch
>>> from initlab.torch import apply, auto, layers
>>> net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
>>> [(t.name, t.activation_name) for t in layers(net)]
[('0', 'tanh'), ('2', 'identity')]
>>> round(auto(net, (3,), seed=0).layers[1].sigma_w2, 4)
2.5362
>>> apply(net, "xavier_uniform", seed=0) is net
True
"""

from initlab.torch.apply import TiedParameterWarning, apply, initialise
from initlab.torch.apply_result import ApplyResult
from initlab.torch.audit import Audit, AuditRow, audit
from initlab.torch.auto import AutoResult, auto, predicted_log_std_spread
from initlab.torch.lsuv import LsuvResult, lsuv
from initlab.torch.trace import TracedLayer, layers

__all__ = ["ApplyResult", "Audit", "AuditRow", "AutoResult", "LsuvResult", "TiedParameterWarning", "TracedLayer", "apply",
           "audit", "auto", "initialise", "layers", "lsuv", "predicted_log_std_spread"]
