"""Engine: recipe -> pixels on the best device, with timing (and room for a prefix cache)."""

from renderer.engine.engine import Engine, RenderResult

__all__ = ["Engine", "RenderResult"]
