"""auto and diagnose name the depth scheme (initlab.torch.depth) a residual model's structure calls for,
with a Python call that runs; chains get none (no field, no line)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import _initlab_families as F
import initlab
import initlab.torch.depth  # noqa: F401 - the advice's Python line calls initlab.torch.depth
from initlab.diagnose.doctor import diagnose_torch
from initlab.diagnose.present import verdict_lines
from initlab.torch.auto import auto
from initlab.torch.depth import recommend_depth_scheme
from initlab.torch.depth_advice import depth_advice, first_sample

FAMILY_SCHEMES = [("transformer_pre_ln", "scaled_residual"), ("resnet", "skipinit"), ("transformer_post_ln", "deepnorm")]


def mlp() -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


class ResidualMLP(nn.Module):
    """x + W2 relu(W1 x) per block, no norms, He init: the stream doubles per block (diagnose: exploding)."""

    def __init__(self, width: int = 32, depth: int = 10):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
                                    for _ in range(depth))
        self.head = nn.Linear(width, 2)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    m.weight.normal_(0.0, (2.0 / m.in_features) ** 0.5, generator=g)
                    m.bias.zero_()

    def forward(self, x):
        for block in self.blocks:
            x = x + block(x)
        return self.head(x)


@pytest.mark.parametrize(("family", "scheme"), FAMILY_SCHEMES)
def test_auto_names_the_depth_scheme_of_a_residual_family_in_its_result_message_and_json(family, scheme):
    factory, batch = F.FAMILIES[family]
    result = auto(factory(), example=batch(), seed=0)
    assert result.depth_scheme.scheme == scheme
    assert result.depth_scheme.python.startswith(f"initlab.torch.depth.{scheme}(model")
    assert result.message.endswith(f"The chain gains auto set do not cover residual depth; for these branches use the "
                                   f"depth scheme {scheme} ({result.depth_scheme.why}), after auto: "
                                   f"{result.depth_scheme.python}")
    assert result.to_json()["depth_scheme"] == {"scheme": scheme, "why": result.depth_scheme.why,
                                                "python": result.depth_scheme.python}
    assert str(result).endswith(result.depth_scheme.python)


def test_auto_on_a_chain_names_no_depth_scheme_and_its_message_is_unchanged():
    result = auto(mlp(), (8,), seed=0)
    assert result.depth_scheme is None and "depth_scheme" not in result.to_json()
    assert result.message == "stable: every layer keeps q = 1 forward (length-map slope <= 1) and chi_1 = 1 backward"
    assert auto(F.conv_chain(depth=10), (3, 16, 16), seed=0).depth_scheme is None  # not a residual scheme: auto's own


def test_the_depth_scheme_found_on_one_sample_is_the_one_found_on_the_whole_batch():
    for family in ("transformer_pre_ln", "resnet", "transformer_post_ln", "vit", "mobilenet"):
        factory, batch = F.FAMILIES[family]
        model, example = factory(), batch()
        whole = recommend_depth_scheme(model, example)
        advice = depth_advice(model, example, merges=None)
        assert (advice.scheme, advice.why) == (whole.scheme, whole.why), family


def test_first_sample_cuts_every_tensor_of_a_dict_batch_that_has_the_batch_dimension():
    batch = {"input_ids": torch.zeros(4, 7, dtype=torch.long), "attention_mask": torch.ones(4, 7), "scale": torch.ones(2)}
    cut = first_sample(batch)
    assert cut["input_ids"].shape == (1, 7) and cut["attention_mask"].shape == (1, 7) and cut["scale"].shape == (2,)


def test_the_python_line_auto_names_runs_and_applies_that_scheme():
    factory, batch = F.FAMILIES["transformer_pre_ln"]
    model, example = factory(), batch()
    advice = auto(model, example=example, seed=0).depth_scheme
    done = eval(advice.python, {"initlab": initlab, "model": model, "example": example})  # noqa: S307 - our own line
    assert done.scheme == "scaled_residual" and len(done.changed) == 4
    std = done.values["std_out"]  # 0.02 / sqrt(4 branches)
    assert std == pytest.approx(0.01)
    out_proj = model.get_submodule(done.changed[0][0].removesuffix(".weight")).weight
    assert out_proj.std().item() == pytest.approx(std, rel=4 * (2 / out_proj.numel()) ** 0.5)


@pytest.mark.parametrize(("family", "scheme"), FAMILY_SCHEMES)
def test_diagnose_carries_the_depth_scheme_in_its_json_and_one_line_without_changing_the_verdict(family, scheme):
    factory, batch = F.FAMILIES[family]
    d = diagnose_torch(factory(), batch())
    assert d.verdict == "ok", d.evidence  # library defaults stay ok: the verdict rules are unchanged
    depth = d.to_json()["depth_scheme"]
    assert depth["scheme"] == scheme and depth["role"] == "advice"
    assert depth["python"].startswith(f"initlab.torch.depth.{scheme}(model")
    assert verdict_lines(d)[-1] == f"depth: [bold]{scheme}[/] - {depth['why']}; in Python: {depth['python']}"


def test_diagnose_on_a_chain_has_no_depth_field_or_line():
    d = diagnose_torch(mlp(), torch.randn(32, 8, generator=torch.Generator().manual_seed(0)))
    assert d.depth_scheme is None and "depth_scheme" not in d.to_json()
    assert not any(line.startswith("depth") for line in verdict_lines(d))


def test_a_stream_fix_stays_the_recommendation_and_the_depth_scheme_is_shown_as_its_alternative():
    d = diagnose_torch(ResidualMLP(), torch.randn(64, 32, generator=torch.Generator().manual_seed(0)))
    assert d.verdict == "exploding", d.evidence
    assert d.recommendation["layers"] == [f"blocks.{i}.2" for i in range(10)] and d.recommendation["residual_stream"]
    assert d.depth_scheme["scheme"] == "fixup" and d.depth_scheme["role"] == "alternative"  # no norms: Fixup
    lines = verdict_lines(d)
    assert lines[-1].startswith("depth (alternative to the fix above): [bold]fixup[/] - 10 residual branches")
    assert any(line.startswith("recommended: [bold]normal(std=") for line in lines)
    from initlab.report.diagnosis import build_diagnosis_report
    page = build_diagnosis_report(d, figure=None)
    assert "Depth scheme (alternative to the fix above): <code>fixup</code>" in page
    assert "<code>initlab.torch.depth.fixup(model, example, seed=0)</code>" in page
