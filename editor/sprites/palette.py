"""Palette quantisation: reduce the visible pixels of one or more frames to at most K shared colours.

Pixel art reads as pixel art when a character uses a handful of colours; quantising all frames of a
sheet together keeps the colours identical from frame to frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from editor.sprites.errors import SpriteError


def quantize_frames(frames: Sequence[np.ndarray], max_colors: int) -> list[np.ndarray]:
    """RGBA frames whose opaque pixels use ≤ `max_colors` colours (median cut, no dithering; alpha untouched)."""
    if not isinstance(max_colors, int) or isinstance(max_colors, bool) or not 2 <= max_colors <= 256:
        raise SpriteError(f"palette size must be a whole number from 2 to 256, got {max_colors!r}")
    arrays = [np.asarray(f) for f in frames]
    for a in arrays:
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 4:
            raise SpriteError(f"palette quantisation needs uint8 RGBA frames, got {a.dtype} {list(a.shape)}")
    visible = [a[..., 3] > 0 for a in arrays]
    pixels = np.concatenate([a[..., :3][m] for a, m in zip(arrays, visible, strict=True)], axis=0)
    if len(pixels) == 0:
        return [a.copy() for a in arrays]
    strip = Image.fromarray(np.ascontiguousarray(pixels[None]))
    reduced = strip.quantize(colors=max_colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    mapped = np.asarray(reduced.convert("RGB"))[0]
    out, start = [], 0
    for a, m in zip(arrays, visible, strict=True):
        n = int(m.sum())
        b = a.copy()
        b[..., :3][m] = mapped[start : start + n]
        start += n
        out.append(b)
    return out


def count_colors(frames: Sequence[np.ndarray]) -> int:
    """Number of distinct RGB colours among the visible pixels of the frames."""
    pixels = [np.asarray(f)[..., :3][np.asarray(f)[..., 3] > 0] for f in frames]
    allpix = np.concatenate(pixels, axis=0) if pixels else np.zeros((0, 3), np.uint8)
    return len(np.unique(allpix, axis=0)) if len(allpix) else 0
