"""A tiny real StyleGAN2 network (16 px, 6 w rows) with deterministic random weights, for tests."""

from __future__ import annotations

import torch

from renderer.network import Network

TINY_KWARGS = dict(
    z_dim=16,
    c_dim=0,
    w_dim=16,
    img_resolution=16,
    img_channels=3,
    mapping_kwargs=dict(num_layers=2),
    synthesis_kwargs=dict(channel_base=256, channel_max=32),
)


def tiny_network(name: str = "tiny", seed: int = 0, c_dim: int = 0, fingerprint: str | None = None) -> Network:
    """A 16-px, 6-row StyleGAN2 with deterministic random weights (same seed -> same weights).

    c_dim > 0 makes it class-conditional (tests/helpers/conditional.py); fingerprint defaults to the seed in hex.
    """
    from renderer.nets import build_generator

    kwargs = {**TINY_KWARGS, "c_dim": c_dim}
    torch.manual_seed(seed)
    G = build_generator("stylegan2", kwargs)
    # move the mapping's w_avg off zero so truncation is visible
    G.mapping.w_avg.copy_(torch.randn_like(G.mapping.w_avg) * 0.3)
    return Network(
        G=G,
        kind="stylegan2",
        arch={"arch": "stylegan2", "init_kwargs": kwargs},
        fingerprint=fingerprint or f"{seed:02x}" * 32,
        name=name,
        source=name,
        is_demo=False,
    )
