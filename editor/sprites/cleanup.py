"""The cleanup stage: raw network canvas → clean RGBA walk frames, one step per setting.

Order: cut frames on the grid → border background to transparent (per frame) → optional shared palette
→ isolated-pixel removal → binary alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from editor.sprites.alpha import binarize_alpha
from editor.sprites.background import remove_background
from editor.sprites.despeckle import remove_isolated
from editor.sprites.frames import SheetGrid, cut_frames
from editor.sprites.palette import quantize_frames


@dataclass(frozen=True)
class CleanupSettings:
    """Every knob of the cleanup stage (the pipeline config's "cleanup" section)."""

    background_tolerance: float = 40.0
    background_color: str | tuple[int, int, int] = "auto"
    palette_colors: int | None = 16  # None: keep the network's colours
    min_neighbours: int = 1  # opaque pixels with fewer opaque 8-neighbours are removed (0: off)
    alpha_threshold: int = 128


def clean_frames(canvas: np.ndarray, grid: SheetGrid, settings: CleanupSettings) -> list[list[np.ndarray]]:
    """frames[direction][pattern] as clean RGBA uint8, directions down, left, right, up."""
    raw = cut_frames(canvas, grid)
    flat = [
        remove_background(f, settings.background_tolerance, settings.background_color)
        for row in raw
        for f in row
    ]
    flat = [binarize_alpha(f, settings.alpha_threshold) for f in flat]
    if settings.palette_colors is not None:
        flat = quantize_frames(flat, settings.palette_colors)
    if settings.min_neighbours > 0:
        flat = [remove_isolated(f, settings.min_neighbours) for f in flat]
    flat = [binarize_alpha(f, settings.alpha_threshold) for f in flat]
    return [flat[i * 3 : (i + 1) * 3] for i in range(4)]
