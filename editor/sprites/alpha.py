"""Binary alpha: RPG Maker sprites are either fully drawn or fully clear; half-alpha fringes look dirty."""

from __future__ import annotations

import numpy as np

from editor.sprites.errors import SpriteError


def binarize_alpha(rgba: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Copy with alpha 255 where alpha ≥ threshold, else 0; clear pixels get RGB 0 (no colour bleeds on resize)."""
    arr = np.asarray(rgba)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 4:
        raise SpriteError(f"binary alpha needs a uint8 RGBA image, got {arr.dtype} {list(arr.shape)}")
    if not 1 <= threshold <= 255:
        raise SpriteError(f"alpha threshold must be 1-255, got {threshold}")
    out = arr.copy()
    on = arr[..., 3] >= threshold
    out[..., 3] = np.where(on, 255, 0).astype(np.uint8)
    out[~on, :3] = 0
    return out
