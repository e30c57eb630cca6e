"""Background → transparent: the background region that touches the image border, within a colour tolerance.

Only background connected to the border is removed (like filling the outer contours of a white-ish mask),
so light pixels inside the character — eyes, highlights, a white shirt — are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from editor.sprites.errors import SpriteError


def border_pixels(rgb: np.ndarray) -> np.ndarray:
    """Every pixel on the image's outer edge, as an N×3 array."""
    return np.concatenate([rgb[0], rgb[-1], rgb[1:-1, 0], rgb[1:-1, -1]], axis=0)


def estimate_background(rgb: np.ndarray, color: str | Sequence[int] = "auto") -> np.ndarray:
    """The background colour: the per-channel median of the border ('auto') or the given [r, g, b]."""
    if isinstance(color, str):
        if color != "auto":
            raise SpriteError(f"background colour {color!r} is unknown: use 'auto' or [r, g, b]")
        return np.median(border_pixels(rgb[..., :3]).astype(np.float32), axis=0)
    arr = np.asarray(color, dtype=np.float32)
    if arr.shape != (3,) or not np.all((arr >= 0) & (arr <= 255)):
        raise SpriteError(f"background colour must be [r, g, b] with values 0-255, got {color!r}")
    return arr


def _dilate4(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def background_mask(rgb: np.ndarray, color: np.ndarray, tolerance: float) -> np.ndarray:
    """True where a pixel is within `tolerance` (RGB distance) of `color` and 4-connected to the border."""
    if tolerance < 0:
        raise SpriteError(f"background tolerance must be ≥ 0, got {tolerance}")
    diff = rgb[..., :3].astype(np.float32) - np.asarray(color, np.float32)
    close = np.sqrt((diff * diff).sum(axis=-1)) <= tolerance
    edge = np.zeros_like(close)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
    region = close & edge
    while True:  # grow from the border through background-coloured pixels until nothing changes
        grown = _dilate4(region) & close
        if np.array_equal(grown, region):
            return region
        region = grown


def remove_background(
    image: np.ndarray, tolerance: float = 40.0, color: str | Sequence[int] = "auto"
) -> np.ndarray:
    """RGBA copy of an RGB(A) uint8 image with its border-connected background made fully transparent."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4) or min(arr.shape[:2]) < 2:
        raise SpriteError(f"background removal needs a uint8 H×W×3/4 image of at least 2×2, got {arr.dtype} {list(arr.shape)}")
    bg = estimate_background(arr, color)
    mask = background_mask(arr, bg, tolerance)
    out = np.empty(arr.shape[:2] + (4,), np.uint8)
    out[..., :3] = arr[..., :3]
    out[..., 3] = arr[..., 3] if arr.shape[2] == 4 else 255
    out[mask, 3] = 0
    return out
