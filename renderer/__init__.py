"""Castmaker's renderer: StyleGAN networks, safe loading, latents and the Engine. No Qt here.

Public API:
    load_network(path_or_demo) -> Network
    Engine(network, device="auto")
    Recipe, RowEdit, SeedSource, WSource (renderer.latents)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from renderer.errors import CastmakerError, LatentError, NetworkLoadError, ProjectionError, RenderError
from renderer.network import DiscriminatorRecord, Network

if TYPE_CHECKING:
    from renderer.engine import Engine


def load_network(source: str, **kwargs: Any) -> Network:
    """Load a network file (official / stylegan3-fun pickle, Castmaker .safetensors) or a demo name."""
    from renderer.loading import load_network as _load

    return _load(source, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from renderer.engine import Engine

        return Engine
    raise AttributeError(name)


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
