"""Engine: recipe -> pixels on the best device, with a prefix cache, batched thumbnails and timing."""

from renderer.engine.engine import Engine, RenderResult
from renderer.engine.options import EngineOptions
from renderer.engine.prefix_cache import PrefixCache

__all__ = ["Engine", "EngineOptions", "PrefixCache", "RenderResult"]
