"""Each depth scheme of `initlab.torch.depth` on a deep stand-in model, as a Markdown table.

Models (built here, torch's default init, one fixed seed): a 48-block pre-LN and a 48-block post-LN
token transformer (width 32, 4 heads, on nn.MultiheadAttention; GPT-2's init N(0, 0.02^2) at width
768 becomes std 0.02 sqrt(768 / 32) = 0.098 here, the same gain per layer), a 32-block ResNet with BatchNorm and one
without normalisation (width 16, 8x8 images), and a 64-layer tanh CNN (width 16). For each scheme:

- signal by depth: the rms of the residual stream after the last block over the rms after the first
  (for the CNN: the rms of the last layer's output over the first's), on the first training batch;
- gradient by depth: the rms of the loss gradient over the first block's parameters over the rms over
  the last block's, on the first batch (0 / 0: no block gets a gradient at step 0, e.g. under Fixup's zero head);
- loss: cross-entropy at step 0 and after `--steps` steps of Adam (lr 1e-3) on a synthetic task with
  fixed data (token models: predict the previous token; image models: 10 classes of fixed random
  patterns plus noise), batch 16, one torch thread, so a rerun prints the same numbers.

Run: .venv/bin/python examples/depth_schemes.py [--steps 30]
"""

from __future__ import annotations

import argparse
import math

import torch
from torch import nn

from initlab.torch import apply
from initlab.torch.depth import deepnorm, delta_orthogonal_convs, depth_mup, fixup, scaled_residual, skipinit

VOCAB, LENGTH, WIDTH, BATCH = 16, 8, 32, 16
# GPT-2 draws N(0, 0.02^2) at width 768; the same per-layer gain (std * sqrt(fan_in)) at this width:
GPT2_STD = 0.02 * math.sqrt(768 / WIDTH)


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, pre_norm: bool):
        super().__init__()
        self.pre_norm = pre_norm
        self.attn = nn.MultiheadAttention(dim, 4, batch_first=True)
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        if self.pre_norm:
            h = self.ln1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.ln2(x))
        x = self.ln1(x + self.attn(x, x, x, need_weights=False)[0])
        return self.ln2(x + self.mlp(x))


class TokenModel(nn.Module):
    def __init__(self, depth: int, pre_norm: bool):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(VOCAB, WIDTH), nn.Embedding(LENGTH, WIDTH)
        self.blocks = nn.Sequential(*[TransformerBlock(WIDTH, pre_norm) for _ in range(depth)])
        self.norm = nn.LayerNorm(WIDTH) if pre_norm else nn.Identity()
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        return self.head(self.norm(self.blocks(x))).flatten(0, 1)


class ResBlock(nn.Module):
    def __init__(self, c: int, norm: bool):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=not norm), nn.Conv2d(c, c, 3, padding=1, bias=not norm)
        self.bn1, self.bn2 = (nn.BatchNorm2d(c), nn.BatchNorm2d(c)) if norm else (nn.Identity(), nn.Identity())

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class ImageModel(nn.Module):
    def __init__(self, body: list[nn.Module], width: int):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU())
        self.blocks = nn.Sequential(*body)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


def resnet(norm: bool) -> nn.Module:
    return ImageModel([ResBlock(16, norm) for _ in range(32)], 16)


def tanh_cnn() -> nn.Module:
    return ImageModel([m for _ in range(63) for m in (nn.Conv2d(16, 16, 3, padding=1), nn.Tanh())], 16)


def token_task(steps: int):
    """Predict the previous token (the first position predicts itself): needs attention, fixed batches."""
    g = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(steps + 1):
        ids = torch.randint(VOCAB, (BATCH, LENGTH), generator=g)
        batches.append((ids, torch.cat([ids[:, :1], ids[:, :-1]], dim=1).flatten()))
    return batches


def image_task(steps: int):
    """10 classes, each a fixed random 3x8x8 pattern, plus N(0, 1) noise."""
    g = torch.Generator().manual_seed(2)
    patterns = torch.randn(10, 3, 8, 8, generator=g)
    batches = []
    for _ in range(steps + 1):
        labels = torch.randint(10, (BATCH,), generator=g)
        batches.append((patterns[labels] + torch.randn(BATCH, 3, 8, 8, generator=g), labels))
    return batches


def signal(model: nn.Module, x) -> float:
    """rms after the last block / rms after the first (the residual stream, or the CNN's layer outputs)."""
    outputs = []
    handles = [b.register_forward_hook(lambda m, i, o: outputs.append(float(o.pow(2).mean().sqrt())))
               for b in model.blocks if any(True for _ in b.parameters())]
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        model(x)
    for h in handles:
        h.remove()
    return outputs[-1] / outputs[0]


def gradient(model: nn.Module) -> float:
    """rms of the gradient over the first block's parameters / over the last block's (after one backward)."""
    blocks = [b for b in model.blocks if any(True for _ in b.parameters())]
    rms = [torch.cat([p.grad.flatten() for p in b.parameters() if p.grad is not None]).pow(2).mean().sqrt()
           for b in (blocks[0], blocks[-1])]
    return float(rms[0] / rms[1]) if rms[1] > 0 else math.nan  # nan: no gradient at the last block either


def train(model: nn.Module, batches) -> tuple[float, float, float, float]:
    """(signal by depth, gradient by depth, loss at step 0, loss after the last step) with Adam."""
    ratio = signal(model, batches[0][0])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for x, y in batches:
        loss = nn.functional.cross_entropy(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        if len(losses) == 1:
            grad = gradient(model)
        optimizer.step()
    return ratio, grad, losses[0], losses[-1]


def built(factory):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return factory()


def rows(steps: int):
    tokens, images = token_task(steps), image_task(steps)
    t0, x0 = tokens[0][0], images[0][0]
    pre, post = (lambda: TokenModel(48, True)), (lambda: TokenModel(48, False))
    gpt2 = lambda m: apply(m, f"normal(std={GPT2_STD:.3g})", seed=0)  # noqa: E731  (GPT-2's base init)
    return [
        ("pre-LN transformer, 48 blocks", "torch default", pre, lambda m: None, tokens),
        ("", f"normal(std={GPT2_STD:.3g})", pre, gpt2, tokens),
        ("", f"normal(std={GPT2_STD:.3g}) + scaled_residual", pre,
         lambda m: (gpt2(m), scaled_residual(m, t0, std=GPT2_STD, seed=0)), tokens),
        ("", "skipinit", pre, lambda m: skipinit(m, t0), tokens),
        ("", "depth_mup", pre, lambda m: depth_mup(m, t0), tokens),
        ("post-LN transformer, 48 blocks", "torch default", post, lambda m: None, tokens),
        ("", "deepnorm", post, lambda m: deepnorm(m, t0, seed=0), tokens),
        ("ResNet with BatchNorm, 32 blocks", "torch default", lambda: resnet(True), lambda m: None, images),
        ("", "skipinit (zero last BN)", lambda: resnet(True), lambda m: skipinit(m, x0), images),
        ("ResNet without norm, 32 blocks", "torch default", lambda: resnet(False), lambda m: None, images),
        ("", "he_normal", lambda: resnet(False), lambda m: apply(m, "he_normal", seed=0), images),
        ("", "fixup", lambda: resnet(False), lambda m: fixup(m, x0, seed=0), images),
        ("tanh CNN, 64 convolutions", "torch default", tanh_cnn, lambda m: None, images),
        ("", "xavier_normal", tanh_cnn, lambda m: apply(m, "xavier_normal(gain=1.6667)", seed=0), images),
        ("", "delta_orthogonal_convs", tanh_cnn, lambda m: delta_orthogonal_convs(m, seed=0), images),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    steps = parser.parse_args().steps
    torch.set_num_threads(1)
    print(f"| model | scheme | signal: rms last / first block | gradient: rms first / last block | loss at step 0 "
          f"| loss after {steps} Adam steps |")
    print("|---|---|---|---|---|---|")
    for model_name, scheme, factory, init, batches in rows(steps):
        model = built(factory)
        init(model)
        numbers = " | ".join(f"{v:.3g}" if math.isfinite(v) else "0 / 0" if math.isnan(v) else "inf"
                             for v in train(model, batches))
        print(f"| {model_name} | {scheme} | {numbers} |")


if __name__ == "__main__":
    main()
