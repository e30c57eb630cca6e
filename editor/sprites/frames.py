"""Cut walk frames out of a sprite network's output on its sheet grid, in RPG Maker's order.

A sprite network draws a fixed grid (the tutorial's: 3×4 frames of 32×32 in the top-left of a 128²
canvas). The grid is configuration: where it starts, the frame size, and which canvas row holds which
direction and which column which walk pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from editor.sprites.errors import SpriteError

RPGMAKER_DIRECTIONS = ("down", "left", "right", "up")


@dataclass(frozen=True)
class SheetGrid:
    """Frame grid of a sprite network's canvas.

    `row_directions[i]` is the direction drawn in canvas row i; `pattern_columns[p]` is the canvas
    column holding walk pattern p (RPG Maker's patterns: 0 left foot, 1 standing, 2 right foot).
    """

    frame_width: int = 32
    frame_height: int = 32
    origin_x: int = 0
    origin_y: int = 0
    row_directions: tuple[str, ...] = RPGMAKER_DIRECTIONS
    pattern_columns: tuple[int, ...] = (0, 1, 2)

    def __post_init__(self) -> None:
        if self.frame_width < 1 or self.frame_height < 1:
            raise SpriteError(f"frame size must be positive, got {self.frame_width}×{self.frame_height}")
        if self.origin_x < 0 or self.origin_y < 0:
            raise SpriteError(f"grid origin must not be negative, got ({self.origin_x}, {self.origin_y})")
        if sorted(self.row_directions) != sorted(RPGMAKER_DIRECTIONS):
            raise SpriteError(
                f"grid rows must name each of {', '.join(RPGMAKER_DIRECTIONS)} exactly once, got {list(self.row_directions)}"
            )
        if len(self.pattern_columns) != 3 or len(set(self.pattern_columns)) != 3 or min(self.pattern_columns) < 0:
            raise SpriteError(f"grid needs 3 distinct pattern columns (≥ 0), got {list(self.pattern_columns)}")

    @property
    def columns(self) -> int:
        return max(self.pattern_columns) + 1

    @property
    def rows(self) -> int:
        return len(self.row_directions)

    def frame_box(self, direction: str, pattern: int) -> tuple[int, int, int, int]:
        """(x, y, width, height) of one frame on the canvas."""
        row = self.row_directions.index(direction)
        col = self.pattern_columns[pattern]
        return (
            self.origin_x + col * self.frame_width,
            self.origin_y + row * self.frame_height,
            self.frame_width,
            self.frame_height,
        )


def cut_frames(canvas: np.ndarray, grid: SheetGrid) -> list[list[np.ndarray]]:
    """frames[d][p] for d in down, left, right, up and p in patterns 0-2, copied out of the canvas."""
    arr = np.asarray(canvas)
    if arr.ndim != 3:
        raise SpriteError(f"a sprite canvas must be H×W×C, got {list(arr.shape)}")
    h, w = arr.shape[:2]
    need_w = grid.origin_x + grid.columns * grid.frame_width
    need_h = grid.origin_y + grid.rows * grid.frame_height
    if need_w > w or need_h > h:
        raise SpriteError(
            f"the sheet grid needs a {need_w}×{need_h} canvas but the sprite network draws {w}×{h}: "
            "fix the grid's origin, frame size or columns in the pipeline config"
        )
    frames = []
    for direction in RPGMAKER_DIRECTIONS:
        row = []
        for pattern in range(3):
            x, y, fw, fh = grid.frame_box(direction, pattern)
            row.append(arr[y : y + fh, x : x + fw].copy())
        frames.append(row)
    return frames
