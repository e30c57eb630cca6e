"""Contact sheets of the procedural cast: each character's portrait beside its standing sprite.

numpy only (no torch, no Qt): used by `python main.py cast` and by the README's picture of the cast.
"""

from __future__ import annotations

import numpy as np

from renderer.cast.description import Character
from renderer.cast.portrait import draw_portrait
from renderer.cast.walk_sheet import FRAME_SIZE, draw_frame

GAP = 4
GAP_COLOUR = (40, 40, 46)


def character_tile(c: Character, portrait_size: int = 128) -> np.ndarray:
    """uint8 [portrait_size, portrait_size + sprite width, 3]: the portrait, then the standing front frame.

    The 24-px frame is scaled by the largest integer that fits the portrait's height (nearest neighbour).
    """
    portrait = draw_portrait(c, size=portrait_size)
    scale = max(1, portrait_size // FRAME_SIZE)
    sprite = draw_frame(c, "down", 1).repeat(scale, axis=0).repeat(scale, axis=1)
    pad = portrait_size - sprite.shape[0]
    sprite = np.pad(sprite, ((pad // 2, pad - pad // 2), (0, 0), (0, 0)), mode="edge")
    return np.concatenate([portrait, sprite], axis=1)


def grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    """Tiles (all the same shape) in rows of `columns`, separated by GAP-px dark lines."""
    if not tiles:
        raise ValueError("no tiles to lay out")
    h, w, _ = tiles[0].shape
    rows = -(-len(tiles) // columns)
    out = np.empty((rows * h + (rows + 1) * GAP, columns * w + (columns + 1) * GAP, 3), np.uint8)
    out[:] = GAP_COLOUR
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        y, x = GAP + r * (h + GAP), GAP + c * (w + GAP)
        out[y : y + h, x : x + w] = tile
    return out


def cast_contact_sheet(characters: list[Character], columns: int = 4, portrait_size: int = 128) -> np.ndarray:
    """uint8 RGB contact sheet: one portrait + sprite tile per character."""
    return grid([character_tile(c, portrait_size) for c in characters], columns)
