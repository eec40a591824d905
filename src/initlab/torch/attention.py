"""Attention logits recomputed from what a forward hook sees: the queries and keys of an
``nn.MultiheadAttention`` (from its inputs and in-projection weights) or of a Hugging Face style
self-attention module (from the outputs of its query/key projections), split into heads, and the
scaling the module applies to q.k. Masks are not applied: these are statements about scale.

Used by `initlab.diagnose.inside` (logit std and softmax saturation at init) and
`initlab.torch.coordcheck` (logit rms against width).

>>> import torch
>>> m = torch.nn.MultiheadAttention(8, 2, batch_first=True)
>>> q, k = mha_query_key(m, torch.ones(3, 5, 8), torch.ones(3, 5, 8))
>>> q.shape, mha_scaling(m)
(torch.Size([3, 2, 5, 4]), 0.5)
"""

from __future__ import annotations

import torch
from torch import nn


def heads(module: nn.Module) -> tuple[int, int] | None:
    """(number of heads, head size) of a module that says so (``num_heads``/``num_attention_heads`` and
    ``head_dim``/``attention_head_size``), else None."""
    count = getattr(module, "num_heads", getattr(module, "num_attention_heads", None))
    dim = getattr(module, "head_dim", getattr(module, "attention_head_size", None))
    return (int(count), int(dim)) if isinstance(count, int) and isinstance(dim, int) else None


def hf_projections(module: nn.Module) -> dict[str, nn.Module] | None:
    """The query/key (or fused GPT-2 ``c_attn``) projections of a Hugging Face style self-attention module:
    {"q": ..., "k": ...} or {"c_attn": ...}; None for any other module."""
    if heads(module) is None:
        return None
    children = dict(module.named_children())
    if "c_attn" in children and type(children["c_attn"]).__name__ == "Conv1D":
        return {"c_attn": children["c_attn"]}
    for q, k in (("query", "key"), ("q_proj", "k_proj")):
        if isinstance(children.get(q), nn.Linear) and isinstance(children.get(k), nn.Linear):
            return {"q": children[q], "k": children[k]}
    return None


def split_heads(x: torch.Tensor, count: int, dim: int) -> torch.Tensor:
    """(batch, length, count * dim) -> (batch, count, length, dim)."""
    return x.reshape(*x.shape[:-1], count, dim).transpose(-2, -3)


def mha_query_key(m: nn.MultiheadAttention, query: torch.Tensor, key: torch.Tensor):
    """q and k, (batch, heads, length, head_dim), of ``m`` called on `query` and `key` (its forward
    arguments: batch-first or not, or unbatched)."""
    if not m.batch_first and query.dim() == 3:
        query, key = query.transpose(0, 1), key.transpose(0, 1)
    if query.dim() == 2:  # unbatched (length, embed)
        query, key = query[None], key[None]
    e = m.embed_dim
    if m.in_proj_weight is not None:
        wq, wk = m.in_proj_weight[:e], m.in_proj_weight[e:2 * e]
    else:
        wq, wk = m.q_proj_weight, m.k_proj_weight
    bq, bk = (None, None) if m.in_proj_bias is None else (m.in_proj_bias[:e], m.in_proj_bias[e:2 * e])
    q = nn.functional.linear(query, wq, bq)
    k = nn.functional.linear(key, wk, bk)
    return split_heads(q, m.num_heads, m.head_dim), split_heads(k, m.num_heads, m.head_dim)


def mha_scaling(m: nn.MultiheadAttention) -> float:
    return m.head_dim ** -0.5


def hf_query_key(module: nn.Module, outputs: dict[str, torch.Tensor]):
    """q and k, (batch, heads, length, head_dim), from the recorded outputs of `hf_projections`."""
    count, dim = heads(module)
    if "c_attn" in outputs:
        q, k = outputs["c_attn"].split(count * dim, dim=-1)[:2]
    else:
        q, k = outputs["q"], outputs["k"]
    return split_heads(q, count, dim), split_heads(k, count, dim)


def hf_scaling(module: nn.Module) -> float:
    """The module's ``scaling`` attribute, else 1/sqrt(head size)."""
    return float(getattr(module, "scaling", heads(module)[1] ** -0.5))
