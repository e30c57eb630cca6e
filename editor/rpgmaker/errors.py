"""The one exception of the RPG Maker export: every message says what was wrong and what to do."""

from __future__ import annotations

from renderer.errors import CastmakerError


class ExportError(CastmakerError):
    """A game folder, sheet or Actors.json could not be used; the game folder was left unchanged."""
