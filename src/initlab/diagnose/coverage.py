"""Whether the chain theory covers a model, and what it leaves out.

The mean-field theory of `initlab.diagnose.expected` describes a chain of dense/conv layers and
elementwise activations. A PyTorch model is such a chain when torch.fx saw no merge (residual sum,
concatenation), no module with parameters other than those layers runs (norms, a LayerScale's
module, ...), no normalization layer is called and every diagnosed layer is dense or conv (not
attention, recurrent or an embedding). Anything else is judged on measured quantities instead
(`initlab.diagnose.measured`); `Coverage.gaps` names what theory leaves out, for the evidence.

>>> Coverage(merges=0).chain, Coverage(merges=2, untreated={"LayerNorm": 4, "Block": 2}).gaps
(True, ['2 residual additions or concatenations', 'LayerNorm x4', 'parameters outside layers in Block x2'])
>>> Coverage(merges=None, kinds={"rnn": 1}).gaps
['residual additions not counted (torch.fx did not trace the model)', 'rnn layer x1']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from initlab.diagnose.findings import Inside


@dataclass(frozen=True)
class Coverage:
    """`merges`: torch.fx's count (None: fx did not trace); `untreated`: modules with parameters that are
    not weight-bearing layers, by class; `kinds`: diagnosed layers that are not dense/conv, by kind;
    `norms`: normalization modules called (class names, with or without parameters); `inside`: what the
    pass measured inside norms, attention and recurrent layers; `calls`: (name, kind) of the modules
    called, in order."""

    merges: int | None
    untreated: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    norms: dict[str, int] = field(default_factory=dict)
    inside: Inside = field(default_factory=Inside)
    calls: tuple[tuple[str, str | None], ...] = ()  # (module name, kind) of every module called, in order

    @property
    def chain(self) -> bool:
        return self.merges == 0 and not self.untreated and not self.kinds and not self.norms

    @property
    def gaps(self) -> list[str]:
        out = []
        if self.merges is None:
            out.append("residual additions not counted (torch.fx did not trace the model)")
        elif self.merges:
            out.append(f"{self.merges} residual additions or concatenations")
        norms = dict(self.norms)
        for name, count in self.untreated.items():
            if name in norms or name.endswith("Norm") or "Norm" in name:
                norms[name] = max(count, norms.get(name, 0))
        out += [f"{name} x{count}" for name, count in norms.items()]
        out += [f"parameters outside layers in {name} x{count}" for name, count in self.untreated.items()
                if name not in norms]
        out += [f"{kind} layer x{count}" for kind, count in self.kinds.items()]
        return out


def torch_coverage(structure, captures, untreated: dict[str, int], inside: Inside) -> Coverage:
    """The coverage of a discovered torch model (`initlab.torch.discover.Structure`) and its captures."""
    kinds: dict[str, int] = {}
    for c in captures:
        if c.kind not in ("dense", "conv"):
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
    norms: dict[str, int] = {}
    for call in getattr(structure, "calls", []) or []:
        if call.kind == "norm":
            norms[call.module_type] = norms.get(call.module_type, 0) + 1
    calls = tuple((call.name, call.kind) for call in getattr(structure, "calls", []) or [])
    return Coverage(structure.merges, dict(untreated), kinds, norms, inside, calls)
