"""What one pass measured inside the modules the chain theory does not model (data only: no torch, so the
verdict rules import it on the NumPy engine's path too); `initlab.diagnose.inside` records it.

>>> role("blocks.3.mlp.0"), role("transformer.h.11.attn.c_proj"), role("head")
('blocks.#.mlp.0', 'transformer.h.#.attn.c_proj', 'head')
>>> behind("1.pwconv2", [SmallScale("1.gamma", 1e-6, "1", "LayerScale")]).parameter
'1.gamma'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ONE_HOT = 0.99  # a softmax weight above this on one key: the row is saturated
SMALL = 1e-3    # a branch scale whose entries are all below this is intentionally small


@dataclass(frozen=True)
class NormInput:
    name: str
    module_type: str
    rms: float
    stream: bool  # its input is its parent module's own input: a pre-norm block reading the residual stream


@dataclass(frozen=True)
class AttentionLogits:
    name: str
    std: float
    saturated: float  # share of query rows with a softmax weight > ONE_HOT on one key
    heads: int
    keys: int


@dataclass(frozen=True)
class Gates:
    name: str
    module_type: str
    saturated: float  # share of gate entries within SATURATION_MARGIN of a flat side
    by_gate: dict[str, float]


@dataclass(frozen=True)
class SmallScale:
    parameter: str
    value: float  # the largest |entry|
    block: str    # the module whose layers are behind it ("" for the whole model)
    what: str


@dataclass
class Inside:
    norms: list[NormInput] = field(default_factory=list)
    attention: list[AttentionLogits] = field(default_factory=list)
    gates: list[Gates] = field(default_factory=list)
    small: list[SmallScale] = field(default_factory=list)


def behind(layer: str, scales: list[SmallScale]) -> SmallScale | None:
    """The small scale whose block holds `layer` (a module name), if any."""
    for scale in scales:
        if scale.block == "" or layer == scale.block or layer.startswith(scale.block + "."):
            return scale
    return None


def role(name: str) -> str:
    """A layer's role across repeated blocks: its name with the first (outermost) index replaced by '#',
    the block's; indices further in name places inside the block ('blocks.3.mlp.0' -> 'blocks.#.mlp.0';
    torchvision's 'layer2.1.conv1' -> 'layer2.#.conv1'). `initlab.diagnose.measured` compares layers of one
    role and one shape (an EfficientNet's 'features.#.0...' is block 0 of every stage: several shapes)."""
    return re.sub(r"(?<![^.])\d+(?![^.])", "#", name, count=1)
