"""Head crop: the face of the front-facing standing frame, made into a projection target for the portrait net.

The crop keeps its aspect ratio: it is scaled to fit the portrait network's square resolution and centred
on a solid pad colour (transparent pixels become that colour too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from editor.sprites.errors import SpriteError

UPSCALE_METHODS = ("nearest", "area")


@dataclass(frozen=True)
class HeadBox:
    """The head's box inside a frame, in frame pixels."""

    x: int
    y: int
    width: int
    height: int

    def check_inside(self, frame_w: int, frame_h: int) -> None:
        if self.width < 1 or self.height < 1 or self.x < 0 or self.y < 0:
            raise SpriteError(f"head box {self} must have a positive size and a non-negative corner")
        if self.x + self.width > frame_w or self.y + self.height > frame_h:
            raise SpriteError(
                f"head box x={self.x} y={self.y} {self.width}×{self.height} reaches outside the "
                f"{frame_w}×{frame_h} frame: fix head.box in the pipeline config"
            )


def crop_head(frame: np.ndarray, box: HeadBox) -> np.ndarray:
    """The head box of a frame (a copy)."""
    arr = np.asarray(frame)
    box.check_inside(arr.shape[1], arr.shape[0])
    return arr[box.y : box.y + box.height, box.x : box.x + box.width].copy()


DIRECTION_ROWS = ("down", "left", "right", "up")  # frames[direction][pattern], as clean_frames returns them


def head_of(frames: Sequence[Sequence[np.ndarray]], direction: str, pattern: int, box: HeadBox) -> np.ndarray:
    """The head box of frames[direction][pattern] (a copy): the face the pipeline projects and the editor's face set shows."""
    if direction not in DIRECTION_ROWS:
        raise SpriteError(f"unknown head direction {direction!r}: use one of {', '.join(DIRECTION_ROWS)}")
    row = frames[DIRECTION_ROWS.index(direction)]
    if not 0 <= pattern < len(row):
        raise SpriteError(f"head pattern {pattern} is not one of the {len(row)} walk patterns (0-{len(row) - 1})")
    return crop_head(row[pattern], box)


def flatten(rgba: np.ndarray, pad_color: Sequence[int]) -> np.ndarray:
    """RGB of an RGBA image composited over a solid colour."""
    arr = np.asarray(rgba)
    if arr.shape[2] == 3:
        return arr.copy()
    a = arr[..., 3:4].astype(np.float32) / 255.0
    pad = np.asarray(pad_color, np.float32)
    return np.round(arr[..., :3] * a + pad * (1.0 - a)).astype(np.uint8)


def _area_resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    # area sampling: each output pixel averages the source area it covers. Enlarge by a whole factor
    # with nearest first so every output pixel covers many sub-pixels, then box-filter down.
    h, w = rgb.shape[:2]
    k = max(1, int(np.ceil(4 * max(width / w, height / h))))
    big = Image.fromarray(np.ascontiguousarray(rgb)).resize((w * k, h * k), Image.Resampling.NEAREST)
    return np.asarray(big.resize((width, height), Image.Resampling.BOX))


def portrait_target(
    head: np.ndarray, resolution: int, method: str = "nearest", pad_color: Sequence[int] = (255, 255, 255)
) -> np.ndarray:
    """resolution×resolution RGB uint8: the head scaled to fit (aspect kept) and centred on `pad_color`."""
    if method not in UPSCALE_METHODS:
        raise SpriteError(f"unknown head upscale method {method!r}: use one of {', '.join(UPSCALE_METHODS)}")
    if resolution < 1:
        raise SpriteError(f"portrait resolution must be positive, got {resolution}")
    pad = np.asarray(pad_color, np.int64)
    if pad.shape != (3,) or pad.min() < 0 or pad.max() > 255:
        raise SpriteError(f"pad colour must be [r, g, b] with values 0-255, got {pad_color!r}")
    rgb = flatten(head, pad_color)
    h, w = rgb.shape[:2]
    s = resolution / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    if method == "nearest":
        scaled = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.Resampling.NEAREST))
    else:
        scaled = _area_resize(rgb, nw, nh)
    out = np.empty((resolution, resolution, 3), np.uint8)
    out[:] = pad.astype(np.uint8)
    x, y = (resolution - nw) // 2, (resolution - nh) // 2
    out[y : y + nh, x : x + nw] = scaled
    return out
