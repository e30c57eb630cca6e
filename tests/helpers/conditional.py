"""A tiny class-conditional StyleGAN2 (c_dim 3, 16 px, 6 w rows) for the tests of `--class` and the class picker."""

from __future__ import annotations

from pathlib import Path

from renderer.loading import save_native
from renderer.network import Network
from tests.helpers.tiny import tiny_network

C_DIM = 3


def tiny_conditional_network(name: str = "tiny-cond", seed: int = 0) -> Network:
    """Deterministic random weights (same seed -> same network); the label embedding makes classes differ."""
    return tiny_network(name, seed, c_dim=C_DIM, fingerprint=f"c{seed:01x}" * 32)


def save_tiny_conditional(path: Path) -> Path:
    """Write the tiny conditional network as a Castmaker .safetensors file (for CLI tests)."""
    save_native(tiny_conditional_network(), path)
    return path
