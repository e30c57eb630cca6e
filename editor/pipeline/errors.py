"""The one exception of the character pipeline: a bad config, a missing archetype or preset, a bad output folder."""

from __future__ import annotations

from renderer.errors import CastmakerError


class PipelineError(CastmakerError):
    """The pipeline cannot run as configured; the message names the setting or file and how to fix it."""
