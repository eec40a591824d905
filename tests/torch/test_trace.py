"""`initlab.torch.layers`: execution order and the activation found for every Linear/Conv call."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from initlab.torch import TracedLayer, layers
from initlab.torch.trace import merges, structure


class QuickGelu(nn.Module):
    """A user activation: parameter-free, elementwise."""

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Gate(nn.Module):
    """A parameterised module with data-dependent control flow: torch.fx cannot trace it."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        return x * self.scale if self.scale.item() > 0 else x


class Mixed(nn.Module):
    """Registered in one order, executed in another; functional, method and module activations."""

    def __init__(self):
        super().__init__()
        self.late = nn.Linear(5, 2)
        self.conv = nn.Conv1d(1, 5, 3)
        self.mid = nn.Linear(5, 5)
        self.act = QuickGelu()
        self.norm = nn.LayerNorm(5)
        self.side = nn.Linear(5, 5)

    def forward(self, x):                       # x: (batch, 1, 7)
        h = F.leaky_relu(self.conv(x), 0.2)     # (batch, 5, 5)
        h = self.act(self.mid(h.mean(-1)))
        h = self.norm(self.side(h).tanh()) + h
        s = self.late(h)
        return s + s.softmax(-1)                # two consumers: no activation


def summary(found: list[TracedLayer]) -> list[tuple[str, str]]:
    return [(t.name, t.activation_name) for t in found]


def test_layers_follow_execution_order_not_registration_order():
    model = Mixed()
    found = layers(model)
    assert summary(found) == [("conv", "leaky_relu"), ("mid", "QuickGelu"), ("side", "tanh"), ("late", "identity")]
    assert found[0].module is model.conv and found[1].activation is model.act
    assert found[3].activation is None


def test_functional_activation_keeps_its_arguments():
    act = layers(Mixed())[0].activation
    x = torch.linspace(-2, 2, 9)
    torch.testing.assert_close(act(x), F.leaky_relu(x, 0.2), rtol=0, atol=0)


def test_dropout_and_identity_are_looked_through_but_norms_are_not():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1), nn.Identity(), nn.GELU(), nn.Linear(4, 4),
                        nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 4), nn.Softmax(-1))
    assert summary(layers(net)) == [("0", "gelu"), ("4", "identity"), ("7", "identity")]


def test_nested_sequentials_and_conv_layers_are_named_by_qualified_name():
    net = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.SiLU()), nn.Flatten(),
                        nn.Sequential(nn.Sequential(nn.Linear(4 * 36, 8), nn.Sigmoid())))
    assert summary(layers(net)) == [("0.0", "silu"), ("2.0.0", "sigmoid")]


@pytest.mark.parametrize("module, expected", [
    (nn.ELU(), "ELU"), (nn.Softplus(), "Softplus"), (nn.Mish(), "Mish"), (nn.Softmax(-1), "identity"),
    (nn.LayerNorm(6), "identity"), (nn.Flatten(0), "identity"), (QuickGelu(), "QuickGelu"),
])
def test_activation_rule_for_known_and_probed_modules(module, expected):
    assert layers(nn.Sequential(nn.Linear(3, 6), module))[0].activation_name == expected


def test_sequential_that_fx_cannot_trace_falls_back_to_module_order():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), Gate(), nn.Linear(4, 4), QuickGelu(), nn.Linear(4, 1))
    with pytest.raises(Exception):  # the premise: fx really fails on this model
        torch.fx.symbolic_trace(net)
    assert summary(layers(net)) == [("0", "tanh"), ("3", "QuickGelu"), ("5", "identity")]


def test_untraceable_non_sequential_model_is_a_value_error_naming_model():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(x) if x.sum() > 0 else x

    with pytest.raises(ValueError, match=r"^model: cannot trace the model without an example batch \(torch.fx.*\); "
                                         r"give an example batch"):
        layers(Branchy())


def test_model_without_layers_is_a_value_error_naming_model():
    with pytest.raises(ValueError, match=r"^model: found no weight-bearing layer in Sequential \(nn.Linear, "):
        layers(nn.Sequential(nn.ReLU(), nn.Tanh()))
    with pytest.raises(ValueError, match=r"^model: found no weight-bearing layer in Sequential"):
        layers(nn.Sequential(nn.ReLU(), nn.LayerNorm(3)), torch.zeros(2, 3))


def test_example_the_model_rejects_is_a_value_error_naming_example():
    with pytest.raises(ValueError, match=r"^example: the model rejected a batch of shape \[2, 5\]: "):
        layers(nn.Sequential(nn.Linear(3, 4)), torch.zeros(2, 5))


def test_structure_gives_the_layers_and_merges_of_one_trace():
    s = structure(Mixed())
    assert summary(s.layers) == summary(layers(Mixed()))
    assert s.merges == merges(Mixed()) == 2  # norm(...) + h and s + s.softmax(-1)


def test_structure_of_a_sequential_fx_cannot_trace_does_not_count_merges():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), Gate(), nn.Linear(4, 1))
    s = structure(net)
    assert (s.merges, s.source) == (None, "sequential")
    assert summary(s.layers) == [("0", "tanh"), ("3", "identity")]


@pytest.mark.parametrize("call", ["diagnose_torch", "auto"])
def test_diagnose_torch_and_auto_trace_the_model_once(call, monkeypatch):
    from initlab.diagnose import diagnose_torch
    from initlab.torch import auto
    from initlab.torch import trace

    traces = []
    original = trace._Tracer.trace
    monkeypatch.setattr(trace._Tracer, "trace", lambda self, *a, **k: traces.append(1) or original(self, *a, **k))
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
    if call == "auto":
        auto(net, (3,), seed=0)
    else:
        diagnose_torch(net, torch.randn(16, 3, generator=torch.Generator().manual_seed(0)))
    assert len(traces) == 1
