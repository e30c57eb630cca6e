"""Sprite cleanup: background removal, palette, isolated pixels, binary alpha, frame cutting, head crop.

Pure numpy + Pillow (never torch): it takes uint8 arrays from the sprite network and returns uint8 arrays.
"""

from editor.sprites.alpha import binarize_alpha
from editor.sprites.background import background_mask, estimate_background, remove_background
from editor.sprites.cleanup import CleanupSettings, clean_frames
from editor.sprites.despeckle import remove_isolated
from editor.sprites.errors import SpriteError
from editor.sprites.frames import RPGMAKER_DIRECTIONS, SheetGrid, cut_frames
from editor.sprites.head import HeadBox, crop_head, head_of, portrait_target
from editor.sprites.palette import count_colors, quantize_frames

__all__ = [
    "RPGMAKER_DIRECTIONS",
    "CleanupSettings",
    "HeadBox",
    "SheetGrid",
    "SpriteError",
    "background_mask",
    "binarize_alpha",
    "clean_frames",
    "count_colors",
    "crop_head",
    "head_of",
    "cut_frames",
    "estimate_background",
    "portrait_target",
    "quantize_frames",
    "remove_background",
    "remove_isolated",
]
