"""Models and measurements shared by the initlab.torch tests (imported via conftest's sys.path entry)."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


def mlp(activation: str, depth: int = 30, width: int = 256) -> nn.Sequential:
    """`depth` Linear(width, width) layers, each followed by the activation."""
    mods: list[nn.Module] = []
    for _ in range(depth):
        mods += [nn.Linear(width, width), ACTIVATIONS[activation]()]
    return nn.Sequential(*mods)


def small_cnn() -> nn.Sequential:
    """conv-relu-conv-relu-pool-flatten-linear on (batch, 3, 16, 16) inputs."""
    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 8 * 8, 10))


def gaussian(shape, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def layer_outputs(model: nn.Module, batch: torch.Tensor, per_input: bool = False) -> list[torch.Tensor]:
    """The output of every Linear/Conv on `batch`: its std over all entries (a 0-d tensor), or with
    `per_input` the std of each input's output vector (shape (batch,))."""
    seen: list[torch.Tensor] = []

    def hook(_m, _i, out):
        out = out.detach().double()
        seen.append(out.flatten(1).std(dim=1) if per_input else out.std())

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    try:
        with torch.no_grad():
            model(batch)
    finally:
        for h in handles:
            h.remove()
    return seen


def auto_over_seeds(activation: str, seeds=range(20), batch: int = 512, depth: int = 30, width: int = 256,
                    stabilize: bool = True):
    """`auto` on `depth` x `width` MLPs, one per seed, all fed the same N(0, 1) batch (seed 1000).

    Returns (geometric mean over seeds of each layer's batch output std, shape (depth,);
    seed-to-seed std of log(per-input output std) averaged over inputs, shape (depth,);
    the last AutoResult)."""
    from initlab.torch import auto

    x = gaussian((batch, width), seed=1000)
    batch_logs, per_input_logs = [], []
    for seed in seeds:
        net = mlp(activation, depth, width)
        result = auto(net, (width,), seed=seed, stabilize=stabilize)
        batch_logs.append(torch.stack(layer_outputs(net, x)).log())
        per_input_logs.append(torch.stack(layer_outputs(net, x, per_input=True)).log())
    geometric_mean = torch.stack(batch_logs).mean(0).exp()
    spread = torch.stack(per_input_logs).std(0).mean(-1)
    return geometric_mean, spread, result
