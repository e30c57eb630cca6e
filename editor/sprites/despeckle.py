"""Isolated-pixel removal: lone opaque pixels left over from the background are noise, not character."""

from __future__ import annotations

import numpy as np

from editor.sprites.errors import SpriteError


def opaque_neighbours(alpha_mask: np.ndarray) -> np.ndarray:
    """For each pixel, how many of its 8 neighbours are opaque."""
    padded = np.pad(alpha_mask.astype(np.uint8), 1)
    h, w = alpha_mask.shape
    count = np.zeros((h, w), np.uint8)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            count += padded[dy : dy + h, dx : dx + w]
    return count


def remove_isolated(rgba: np.ndarray, min_neighbours: int = 1) -> np.ndarray:
    """Copy with every opaque pixel that has fewer than `min_neighbours` opaque 8-neighbours made transparent."""
    arr = np.asarray(rgba)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 4:
        raise SpriteError(f"isolated-pixel removal needs a uint8 RGBA image, got {arr.dtype} {list(arr.shape)}")
    if not 0 <= min_neighbours <= 8:
        raise SpriteError(f"min_neighbours must be 0-8, got {min_neighbours}")
    opaque = arr[..., 3] > 0
    lonely = opaque & (opaque_neighbours(opaque) < min_neighbours)
    out = arr.copy()
    out[lonely, 3] = 0
    return out
