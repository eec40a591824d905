"""Residual branches found by value on one forward pass: the right output layers on every family, the model
left as it was, targets= and bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import _initlab_families as F
from initlab.torch.residual import Branch, residual_branches


def branches(family: str, **kwargs) -> list[Branch]:
    factory, batch = F.FAMILIES[family]
    return residual_branches(factory(**kwargs), batch())


def test_pre_ln_transformer_branches_are_attention_and_the_mlps_last_linear_with_their_norms():
    found = branches("transformer_pre_ln")
    assert [(b.output, b.layers, b.sum_norm) for b in found] == [
        ("blocks.0.attn", ("blocks.0.ln1", "blocks.0.attn"), None),
        ("blocks.0.mlp.2", ("blocks.0.ln2", "blocks.0.mlp.0", "blocks.0.mlp.2"), None),
        ("blocks.1.attn", ("blocks.1.ln1", "blocks.1.attn"), None),
        ("blocks.1.mlp.2", ("blocks.1.ln2", "blocks.1.mlp.0", "blocks.1.mlp.2"), None)]
    assert {b.block for b in found} == {"blocks.0", "blocks.1"}


@pytest.mark.parametrize(("family", "outputs", "norms"), [
    ("transformer_post_ln", ["blocks.{i}.attn", "blocks.{i}.mlp.2"], ["blocks.{i}.ln1", "blocks.{i}.ln2"]),
    ("torch_encoder", ["layers.{i}.self_attn", "layers.{i}.linear2"], ["layers.{i}.norm1", "layers.{i}.norm2"]),
    ("hf_bert", ["encoder.layer.{i}.attention.output.dense", "encoder.layer.{i}.output.dense"],
     ["encoder.layer.{i}.attention.output.LayerNorm", "encoder.layer.{i}.output.LayerNorm"]),
])
def test_post_ln_branches_name_the_norm_their_sum_goes_into(family, outputs, norms):
    found = branches(family)
    assert [b.output for b in found] == [o.format(i=i) for i in range(2) for o in outputs]
    assert [b.sum_norm for b in found] == [n.format(i=i) for i in range(2) for n in norms]


def test_hf_gpt2_branches_are_the_two_c_proj_of_each_block():
    found = branches("hf_gpt2")
    assert [b.output for b in found] == [f"transformer.h.{i}.{p}.c_proj" for i in range(2) for p in ("attn", "mlp")]
    assert found[0].layers == ("transformer.h.0.ln_1", "transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj")
    assert all(b.sum_norm is None for b in found)


def test_hf_bert_attention_branch_holds_query_key_value_and_dense():
    found = branches("hf_bert")
    prefix = "encoder.layer.0.attention"
    assert found[0].layers == (f"{prefix}.self.query", f"{prefix}.self.key", f"{prefix}.self.value", f"{prefix}.output.dense")


def test_resnet_branches_end_in_bn2_under_relu_and_the_downsampling_block_has_its_projection_shortcut():
    found = branches("resnet")
    assert [(b.output, b.activation, b.skip) for b in found] == [
        ("3.bn2", "relu", "identity"), ("4.bn2", "relu", "identity"),
        ("5.bn2", "relu", "5.shortcut.1"), ("6.bn2", "relu", "identity")]
    assert found[2].layers == ("5.conv1", "5.bn1", "5.conv2", "5.bn2")  # the shortcut is not part of the branch


def test_mobilenet_branch_ends_in_the_projection_bn_and_contains_squeeze_excitation():
    found = branches("mobilenet")
    assert [b.output for b in found] == ["3.project.1", "4.project.1", "5.project.1"]
    assert "3.se.fc2" in found[0].layers


@pytest.mark.parametrize("family", ["lstm", "gru", "embedding", "convnext"])
def test_models_without_a_plain_residual_sum_have_no_branch(family):
    # ConvNeXt multiplies its branch by LayerScale and permutes it before the sum: documented, targets= for it.
    assert branches(family) == []


def test_a_plain_chain_has_no_branch():
    assert residual_branches(F.conv_chain(depth=4), F.images()) == []


class InPlaceBlock(nn.Module):
    """torchvision style: out = bn2(...); out += identity; out = relu(out) (the sum overwrites bn2's output)."""

    def __init__(self, c=4):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)
        self.bn2, self.relu = nn.BatchNorm2d(c), nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.conv1(x))))
        out += x
        return self.relu(out)


def test_in_place_sum_is_found_because_recorded_tensors_are_copies():
    found = residual_branches(nn.Sequential(InPlaceBlock(), InPlaceBlock()), torch.randn(2, 4, 5, 5))
    assert [(b.output, b.layers) for b in found] == [("0.bn2", ("0.conv1", "0.conv2", "0.bn2")),
                                                     ("1.bn2", ("1.conv1", "1.conv2", "1.bn2"))]


def test_a_zero_initialised_branch_is_still_found():
    model = F.transformer()
    with torch.no_grad():
        for block in model.blocks:
            block.mlp[2].weight.zero_()
            block.mlp[2].bias.zero_()
    assert [b.output for b in residual_branches(model, F.tokens())][1] == "blocks.0.mlp.2"


def test_the_model_its_modes_and_torchs_global_rng_are_left_as_they_were():
    model = F.resnet()
    model.train()
    model[3].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    residual_branches(model, F.images())
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN running stats too
    assert model.training and not model[3].training and model[4].training
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_targets_without_example_are_one_layer_branches_and_with_example_select_found_ones():
    model = F.transformer()
    assert residual_branches(model, targets=["blocks.0.mlp.2"]) == [Branch("blocks.0.mlp.2", ("blocks.0.mlp.2",))]
    chosen = residual_branches(model, F.tokens(), targets=["blocks.1.attn"])
    assert [(b.output, b.layers) for b in chosen] == [("blocks.1.attn", ("blocks.1.ln1", "blocks.1.attn"))]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, r"^example: needed: the residual branches are found on one forward pass"),
    ({"targets": ["blocks.0.nope"]}, r"^targets: not a Linear/Conv/Conv1D/attention/norm module of the model: 'blocks.0.nope'"),
    ({"targets": ["blocks.0.mlp.0"], "example": "tokens"}, r"^targets: no residual sum found for 'blocks.0.mlp.0'"),
    ({"example": torch.zeros(2, 3, 4)}, r"^example: the model's forward failed on it: "),
])
def test_bad_input_names_the_argument(kwargs, message):
    if kwargs.get("example") == "tokens":
        kwargs["example"] = F.tokens()
    with pytest.raises(ValueError, match=message):
        residual_branches(F.transformer(), **kwargs)


class TopLevelLoop(nn.Module):
    """The sums in the model's own forward, over many layers: for layer in layers: x = x + layer(x)."""

    def __init__(self, depth=64, width=4):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


def test_sums_in_the_top_level_forward_of_a_deep_model_are_found():
    found = residual_branches(TopLevelLoop(), torch.randn(2, 4))
    assert [(b.output, b.layers, b.block) for b in found] == [(f"layers.{i}", (f"layers.{i}",), "") for i in range(64)]
