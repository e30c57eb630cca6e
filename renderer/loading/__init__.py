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
from renderer.loading.sniff import is_url, refuse_url, sniff
from renderer.network import Network

DEMO_NAMES = {"demo": "demo-face", "demo-face": "demo-face", "demo-sprite": "demo-sprite"}
# Castmaker's own trained networks, shipped in resources/networks/ (see `python main.py train`).
BUNDLED_NETWORKS = {"cast-portrait": "cast-portrait.safetensors", "cast-sprite": "cast-sprite.safetensors"}
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "resources" / "networks"
DEFAULT_PORTRAIT_NETWORK = "cast-portrait"
DEFAULT_SPRITE_NETWORK = "cast-sprite"


def bundled_network_path(name: str) -> Path:
    """Path of a bundled network file; NetworkLoadError if the installation lacks it."""
    path = BUNDLED_DIR / BUNDLED_NETWORKS[name]
    if not path.is_file():
        raise NetworkLoadError(
            f"the bundled network {name!r} is missing from {BUNDLED_DIR}: reinstall Castmaker, or train it with "
            f"`python main.py train {name} --minutes 60 --export {path}`"
        )
    return path


def load_network(source: str | os.PathLike[str], device: str | torch.device | None = None) -> Network:
    """A Network from a file path, a bundled name (cast-portrait, cast-sprite) or a demo name.

    Every problem (missing file, wrong format, refused pickle content, unknown architecture,
    incompatible weights) raises NetworkLoadError with a message saying what to do.
    """
    if isinstance(source, str) and source in BUNDLED_NETWORKS:
        network = load_native(bundled_network_path(source), device=device)
        network.name, network.source, network.bundled = source, source, True
        return network
    if isinstance(source, str) and source in DEMO_NAMES:
        from renderer.demo import build_demo

        network = build_demo(DEMO_NAMES[source])
        if device is not None:
            network.G.to(device)
        return network
    refuse_url(str(source))  # before Path() folds "https://" into "https:/"
    path = Path(source).expanduser()
    if sniff(path) == "safetensors":
        return load_native(path, device=device)
    return load_official(path, device=device)


__all__ = [
    "BUNDLED_NETWORKS",
    "DEFAULT_PORTRAIT_NETWORK",
    "DEFAULT_SPRITE_NETWORK",
    "DEMO_NAMES", "NetworkLoadError", "is_url", "load_network", "save_native"]
