"""Castmaker's renderer: StyleGAN networks, safe loading, latents and the Engine. No Qt here.

Public API:
    load_network(path_or_demo) -> Network
    Engine(network, device="auto")
    Recipe, RowEdit, SeedSource, WSource (renderer.latents)

Torch-heavy names are imported on first use, so torch-free code (RPG Maker export, sprite cleanup) can
import `renderer.errors` without loading torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from renderer.errors import CastmakerError, LatentError, NetworkLoadError, ProjectionError, RenderError

if TYPE_CHECKING:
    from renderer.engine import Engine
    from renderer.network import DiscriminatorRecord, Network

_LAZY = {
    "Engine": "renderer.engine",
    "Network": "renderer.network",
    "DiscriminatorRecord": "renderer.network",
}


def load_network(source: str, **kwargs: Any) -> Network:
    """Load a network file (official / stylegan3-fun pickle, Castmaker .safetensors) or a demo name."""
    from renderer.loading import load_network as _load

    return _load(source, **kwargs)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'renderer' has no attribute {name!r}")


__all__ = [
    "CastmakerError",
    "DiscriminatorRecord",
    "Engine",
    "LatentError",
    "Network",
    "NetworkLoadError",
    "ProjectionError",
    "RenderError",
    "load_network",
]
