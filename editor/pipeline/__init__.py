"""The character pipeline (`generate`): config, stages with timing, previews and character.json.

Owns no torch code of its own: it drives renderer.Engine and the projector, and hands uint8 images to
editor.sprites and editor.rpgmaker.
"""

from editor.pipeline.config import DEFAULT_CONFIG, PipelineConfig, load_config, parse_config
from editor.pipeline.errors import PipelineError
from editor.pipeline.runner import Character, CharacterPipeline, check_psi, default_name
from editor.pipeline.timing import StageTimes

__all__ = [
    "DEFAULT_CONFIG",
    "Character",
    "CharacterPipeline",
    "PipelineConfig",
    "PipelineError",
    "StageTimes",
    "check_psi",
    "default_name",
    "load_config",
    "parse_config",
]
