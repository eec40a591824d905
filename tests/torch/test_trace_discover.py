"""`initlab.torch.discover`: layers from forward hooks on one real pass, torch.fx as an extra source."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import _initlab_families as families
from initlab.torch import layers
from initlab.torch.discover import Call, discover
from initlab.torch.inputs import select_output
from initlab.torch.trace import structure


def summary(s) -> list[tuple[str, str, str]]:
    return [(t.name, t.kind, t.activation_name) for t in s.layers]


class Branchy(nn.Module):
    """Control flow on the data: torch.fx cannot trace it, hooks see the branch that ran."""

    def __init__(self):
        super().__init__()
        self.fc, self.act, self.other = nn.Linear(3, 4), nn.Tanh(), nn.Linear(3, 4)

    def forward(self, x):
        return self.act(self.fc(x)) if x.sum() > 0 else self.other(x)


def test_control_flow_is_discovered_from_the_branch_that_ran_without_fx():
    s = discover(Branchy(), torch.ones(2, 3))
    assert (s.source, s.merges) == ("hooks", None)
    assert summary(s) == [("fc", "linear", "tanh")]
    assert s.layers[0].input_shape == (2, 3) and s.layers[0].output_shape == (2, 4)
    assert summary(discover(Branchy(), -torch.ones(2, 3))) == [("other", "linear", "identity")]


def test_fx_adds_functional_activations_and_merges_when_it_traces():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

        def forward(self, x):
            return x + self.b(torch.relu(self.a(x)))

    s = discover(Residual(), torch.zeros(2, 4))
    assert (s.source, s.merges) == ("hooks+fx", 1)
    assert summary(s) == [("a", "linear", "relu"), ("b", "linear", "identity")]  # relu: fx's, hooks cannot see it


def test_calls_list_every_module_called_with_its_kind_in_first_call_order():
    net = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.GELU(), nn.Dropout(0.1), nn.Linear(8, 2))
    s = discover(net, torch.zeros(3, 4))
    assert s.calls == [Call("0", "Linear", "linear"), Call("1", "LayerNorm", "norm"), Call("2", "GELU", None),
                       Call("3", "Dropout", None), Call("4", "Linear", "linear")]
    assert all(isinstance(c, tuple) and len(c) == 3 for c in s.calls)


def test_activation_is_the_next_module_reading_the_very_output_through_dropout():
    net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Identity(), nn.SiLU(), nn.Linear(8, 8), nn.Softmax(-1))
    net.train()  # dropout returns a new tensor in training mode: it is looked through all the same
    s = discover(net, torch.randn(3, 4, generator=torch.Generator().manual_seed(0)))
    assert summary(s) == [("0", "linear", "silu"), ("4", "linear", "identity")]


def test_multihead_attention_is_one_layer_in_eval_mode_too_and_its_fast_path_is_restored():
    model = families.torch_encoder().eval()  # eval + no_grad would take the fused fast path, skipping modules
    fast = torch.backends.mha.get_fastpath_enabled()
    s = discover(model, families.sequences())
    assert torch.backends.mha.get_fastpath_enabled() == fast
    assert summary(s)[:3] == [("layers.0.self_attn", "attention", "identity"), ("layers.0.linear1", "linear", "relu"),
                              ("layers.0.linear2", "linear", "identity")]  # relu: the layer's F.relu attribute
    assert "layers.0.self_attn.out_proj" not in {t.name for t in s.layers}  # computed inside the attention
    assert not model.training


@pytest.mark.parametrize("family, kinds", [
    ("lstm", ["embedding", "rnn", "linear"]),
    ("transformer_pre_ln", ["embedding"] + ["attention", "linear", "linear"] * 2 + ["linear"]),
    ("vit", ["conv"] + ["attention", "linear", "linear"] * 2 + ["linear"]),
    pytest.param("hf_gpt2", ["embedding", "embedding"] + ["hf_conv1d"] * 8 + ["linear"], marks=pytest.mark.slow),
    pytest.param("hf_bert", ["embedding"] * 3 + ["linear"] * 13, marks=pytest.mark.slow),
])
def test_families_are_discovered_in_first_call_order(family, kinds):
    make, data = families.FAMILIES[family]
    s = discover(make(), data())
    assert [t.kind for t in s.layers] == kinds


def test_gpt2_projections_get_their_hugging_face_activation_modules():
    s = discover(families.hf_gpt2(), families.tokens(vocab=100))
    acts = {t.name: t.activation_name for t in s.layers}
    assert acts["transformer.h.0.mlp.c_fc"] == "NewGELUActivation" and acts["transformer.h.0.attn.c_attn"] == "identity"
    assert s.layers[2].output_shape == (8, 12, 96)  # c_attn: q, k, v side by side


def test_discovery_leaves_the_model_buffers_modes_and_global_rng_as_they_were():
    model = families.resnet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(5)
    rng = torch.get_rng_state()
    discover(model, families.images())
    assert torch.equal(torch.get_rng_state(), rng) and model.training
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_a_bare_rnn_is_its_own_layer_and_a_dict_batch_is_called_with_keywords():
    assert summary(discover(nn.GRU(3, 5), torch.zeros(4, 2, 3))) == [("", "rnn", "identity")]

    class Keywords(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.fc = nn.Embedding(10, 4), nn.Linear(4, 2)

        def forward(self, input_ids, attention_mask):
            return {"logits": self.fc(self.embed(input_ids) * attention_mask[..., None])}

    ids = torch.tensor([[1, 2, 3]])
    s = structure(Keywords(), {"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    assert summary(s) == [("embed", "embedding", "identity"), ("fc", "linear", "identity")]
    assert layers(Keywords(), {"input_ids": ids, "attention_mask": torch.ones_like(ids)})[1].name == "fc"


def test_a_batch_the_model_rejects_names_the_argument_and_its_shapes():
    with pytest.raises(ValueError, match=r"^example: the model rejected a batch of shape \{input_ids: \[1, 3\]\}: "):
        discover(nn.Linear(3, 2), {"input_ids": torch.zeros(1, 3)})
    with pytest.raises(TypeError, match=r"^example: expected a torch.Tensor or a dict of tensors"):
        discover(nn.Linear(3, 2), [1, 2, 3])


def test_output_selection_defaults_and_choices():
    from transformers.modeling_outputs import BaseModelOutputWithPooling
    hidden, pooled = torch.ones(2, 3, 4), torch.zeros(2, 4)
    out = BaseModelOutputWithPooling(last_hidden_state=hidden, pooler_output=pooled)
    assert select_output(out) is hidden and select_output(out, "pooler_output") is pooled
    assert select_output({"ids": torch.arange(3), "scores": pooled}) is pooled  # first floating tensor
    assert select_output((torch.arange(3), hidden)) is hidden and select_output((hidden, pooled), 1) is pooled
    with pytest.raises(ValueError, match=r"^output: the model's output has no key 'logits'; its keys: "
                                         r"last_hidden_state, pooler_output$"):
        select_output(out, "logits")
    with pytest.raises(ValueError, match=r"^output: the model returns a tuple of 2; '5' is not the index of a tensor"):
        select_output((hidden, pooled), "5")
    with pytest.raises(ValueError, match=r"^output: the model returns one tensor, which has no key 'logits'"):
        select_output(hidden, "logits")
