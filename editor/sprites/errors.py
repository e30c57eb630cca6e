"""The one exception of sprite cleanup: what was wrong with the image or the settings, and what to do."""

from __future__ import annotations

from renderer.errors import CastmakerError


class SpriteError(CastmakerError):
    """A sprite image or a cleanup / grid / crop setting cannot be used."""
