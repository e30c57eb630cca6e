"""One exception family per area of the renderer; every message says what was wrong and what to do."""

from __future__ import annotations


class CastmakerError(Exception):
    """Base of every error Castmaker raises on purpose (CLI prints its message, exit code 2)."""


class NetworkLoadError(CastmakerError):
    """A network file could not be read or turned into a generator."""


class LatentError(CastmakerError):
    """A seed list, row list, w file or recipe does not fit the network."""


class RenderError(CastmakerError):
    """Rendering failed (bad device, out of memory, ...)."""


class ProjectionError(CastmakerError):
    """Projection of an image into w-space could not run (bad target, missing loss weights, ...)."""
