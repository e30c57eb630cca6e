"""Safe network loading: official/stylegan3-fun pickles (never executed), Castmaker .safetensors, demos.

load_network(source, device=None) -> Network
save_native(network, path) -> fingerprint
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from renderer.errors import NetworkLoadError
from renderer.loading.native import load_native, save_native
from renderer.loading.official import load_official
from renderer.loading.sniff import sniff
from renderer.network import Network

DEMO_NAMES = {"demo": "demo-face", "demo-face": "demo-face", "demo-sprite": "demo-sprite"}


def load_network(source: str | os.PathLike[str], device: str | torch.device | None = None) -> Network:
    """A Network from a file path or a demo name ("demo" = "demo-face", "demo-sprite").

    Every problem (missing file, wrong format, refused pickle content, unknown architecture,
    incompatible weights) raises NetworkLoadError with a message saying what to do.
    """
    if isinstance(source, str) and source in DEMO_NAMES:
        from renderer.demo import build_demo

        network = build_demo(DEMO_NAMES[source])
        if device is not None:
            network.G.to(device)
        return network
    path = Path(source).expanduser()
    if sniff(path) == "safetensors":
        return load_native(path, device=device)
    return load_official(path, device=device)


__all__ = ["DEMO_NAMES", "NetworkLoadError", "load_network", "save_native"]
