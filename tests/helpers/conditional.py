"""A tiny class-conditional StyleGAN2 (c_dim 3, 16 px, 6 w rows) for the tests of `--class` and the class picker."""

from __future__ import annotations

from pathlib import Path

import torch

from renderer.loading import save_native
from renderer.nets import build_generator
from renderer.network import Network

C_DIM = 3
TINY_CONDITIONAL = dict(
    z_dim=16,
    c_dim=C_DIM,
    w_dim=16,
    img_resolution=16,
    img_channels=3,
    mapping_kwargs=dict(num_layers=2),
    synthesis_kwargs=dict(channel_base=256, channel_max=32),
)


def tiny_conditional_network(name: str = "tiny-cond", seed: int = 0) -> Network:
    """Deterministic random weights (same seed -> same network); the label embedding makes classes differ."""
    torch.manual_seed(seed)
    G = build_generator("stylegan2", TINY_CONDITIONAL)
    G.mapping.w_avg.copy_(torch.randn_like(G.mapping.w_avg) * 0.3)
    return Network(
        G=G,
        kind="stylegan2",
        arch={"arch": "stylegan2", "init_kwargs": TINY_CONDITIONAL},
        fingerprint=f"c{seed:01x}" * 32,
        name=name,
        source=name,
    )


def save_tiny_conditional(path: Path) -> Path:
    """Write the tiny conditional network as a Castmaker .safetensors file (for CLI tests)."""
    save_native(tiny_conditional_network(), path)
    return path
