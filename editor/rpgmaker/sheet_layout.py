"""Character sheets and face sets laid out exactly as RPG Maker MV / MZ cut them.

RPG Maker reads the frame size from the image: a file whose name starts with `$` (after any `!`) holds
one character, 3 patterns × 4 directions, so a frame is width/3 × height/4; any other file holds 8
characters in 4×2 blocks, so a frame is width/12 × height/8. Rows are the directions down, left,
right, up; columns the walk patterns. A face set is 4×2 cells of 144×144.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from PIL import Image

from editor.rpgmaker.errors import ExportError
from editor.rpgmaker.png import as_rgba

DIRECTIONS = ("down", "left", "right", "up")  # sheet rows, top to bottom
PATTERNS = 3  # walk patterns per direction (sheet columns)
BLOCK_COLS, BLOCK_ROWS = 4, 2  # characters in a plain (non-$) sheet
FACE_COLS, FACE_ROWS = 4, 2
FACE_SIZE = 144
RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "area": Image.Resampling.BOX,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def resample_filter(name: str) -> Image.Resampling:
    try:
        return RESAMPLE[name]
    except KeyError:
        raise ExportError(f"unknown resize filter {name!r}: use one of {', '.join(RESAMPLE)}") from None


def is_big_character(file_name: str) -> bool:
    """True for `$Name` / `!$Name`: RPG Maker treats the file as one character (3×4 frames)."""
    prefix = re.match(r"^[!$]*", file_name)
    return prefix is not None and "$" in prefix.group(0)


def frame_size_for(file_name: str, width: int, height: int) -> tuple[int, int]:
    """The frame width and height RPG Maker will cut from an image of this name and size."""
    cols, rows = (PATTERNS, len(DIRECTIONS)) if is_big_character(file_name) else (
        PATTERNS * BLOCK_COLS,
        len(DIRECTIONS) * BLOCK_ROWS,
    )
    if width % cols or height % rows:
        raise ExportError(
            f"{file_name}: a {width}×{height} image does not split into {cols}×{rows} equal frames; "
            f"make its width a multiple of {cols} and its height a multiple of {rows}"
        )
    return width // cols, height // rows


def integer_scale(frame_w: int, frame_h: int, cell_w: int, cell_h: int, scale: int | str = "auto") -> int:
    """Largest whole-number scale that fits the frame in the cell (or the given one, if it fits)."""
    fits = min(cell_w // frame_w, cell_h // frame_h)
    if scale == "auto":
        if fits < 1:
            raise ExportError(
                f"{frame_w}×{frame_h} frames do not fit {cell_w}×{cell_h} cells: set the sheet cell size "
                f"to at least {frame_w}×{frame_h}"
            )
        return fits
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise ExportError(f"sheet scale must be 'auto' or a whole number ≥ 1, got {scale!r}")
    if scale > fits:
        raise ExportError(
            f"{frame_w}×{frame_h} frames at scale {scale} do not fit {cell_w}×{cell_h} cells: "
            f"use scale ≤ {max(fits, 1)} or larger cells"
        )
    return scale


def shrink_factor(frame_w: int, frame_h: int, cell_w: int, cell_h: int) -> int:
    """Smallest whole number k such that a frame kept 1 pixel in k (nearest neighbour) fits the cell; 1 if it fits."""
    if min(frame_w, frame_h, cell_w, cell_h) < 1:
        raise ExportError(f"frame {frame_w}×{frame_h} and cell {cell_w}×{cell_h} must have positive sizes")
    return max(1, -(-frame_w // cell_w), -(-frame_h // cell_h))


def shrink_frame(frame: np.ndarray, k: int) -> np.ndarray:
    """Every k-th pixel of the frame in both directions (integer nearest-neighbour reduction), ceil(h/k)×ceil(w/k)."""
    arr = np.asarray(frame)
    if k == 1:
        return arr
    return np.ascontiguousarray(arr[::k, ::k])


def place_in_cell(frame: np.ndarray, cell_w: int, cell_h: int, scale: int) -> np.ndarray:
    """The frame scaled by a whole number (nearest neighbour) and placed bottom-centred in an empty cell."""
    f = as_rgba(frame, "frame")
    if scale != 1:
        f = np.repeat(np.repeat(f, scale, axis=0), scale, axis=1)
    fh, fw = f.shape[:2]
    if fw > cell_w or fh > cell_h:
        raise ExportError(f"a {fw}×{fh} frame does not fit a {cell_w}×{cell_h} cell")
    cell = np.zeros((cell_h, cell_w, 4), np.uint8)
    x = (cell_w - fw) // 2
    y = cell_h - fh
    cell[y : y + fh, x : x + fw] = f
    return cell


def character_sheet(
    frames: Sequence[Sequence[np.ndarray]],
    cell: tuple[int, int] = (48, 48),
    scale: int | str = "auto",
    shrink: bool = False,
) -> np.ndarray:
    """A `$` sheet (4 rows × 3 columns of cells) from frames[direction][pattern], directions down, left, right, up.

    Frames are scaled by a whole number (nearest neighbour; `scale` "auto" = the largest that fits) and
    placed bottom-centred. Frames larger than the cell raise ExportError, unless `shrink` is True and
    `scale` is "auto": then every k-th pixel is kept, with the smallest k that fits (see `shrink_factor`).
    Returns RGBA uint8 [4*cell_h, 3*cell_w, 4].
    """
    if len(frames) != len(DIRECTIONS) or any(len(row) != PATTERNS for row in frames):
        raise ExportError(
            f"a character needs {len(DIRECTIONS)} directions × {PATTERNS} patterns of frames, "
            f"got {len(frames)} rows of {[len(r) for r in frames]}"
        )
    cell_w, cell_h = cell
    shapes = {np.asarray(f).shape[:2] for row in frames for f in row}
    if len(shapes) != 1:
        raise ExportError(f"all frames of a character must have one size, got {sorted(shapes)}")
    fh, fw = shapes.pop()
    down = shrink_factor(fw, fh, cell_w, cell_h) if shrink and scale == "auto" else 1
    if down > 1:
        frames = [[shrink_frame(f, down) for f in row] for row in frames]
        fh, fw = np.asarray(frames[0][0]).shape[:2]
    k = integer_scale(fw, fh, cell_w, cell_h, scale)
    sheet = np.zeros((len(DIRECTIONS) * cell_h, PATTERNS * cell_w, 4), np.uint8)
    for d, row in enumerate(frames):
        for p, frame in enumerate(row):
            sheet[d * cell_h : (d + 1) * cell_h, p * cell_w : (p + 1) * cell_w] = place_in_cell(frame, cell_w, cell_h, k)
    return sheet


def plain_sheet(characters: Sequence[np.ndarray]) -> np.ndarray:
    """An 8-character sheet (4×2 blocks) from up to 8 `$`-layout sheets of one size; empty blocks stay clear."""
    if not 1 <= len(characters) <= BLOCK_COLS * BLOCK_ROWS:
        raise ExportError(f"a plain sheet holds 1 to 8 characters, got {len(characters)}")
    blocks = [as_rgba(c, "character sheet") for c in characters]
    shapes = {b.shape for b in blocks}
    if len(shapes) != 1:
        raise ExportError(f"all characters of a plain sheet must share one sheet size, got {sorted(shapes)}")
    bh, bw = blocks[0].shape[:2]
    frame_size_for("$block", bw, bh)  # each block must itself split into 3×4 frames
    sheet = np.zeros((BLOCK_ROWS * bh, BLOCK_COLS * bw, 4), np.uint8)
    for i, block in enumerate(blocks):
        bx, by = i % BLOCK_COLS, i // BLOCK_COLS
        sheet[by * bh : (by + 1) * bh, bx * bw : (bx + 1) * bw] = block
    return sheet


def sheet_frame(sheet: np.ndarray, file_name: str, character_index: int, direction: str, pattern: int) -> np.ndarray:
    """The frame RPG Maker shows for (character index, direction, pattern), cut by its own rules."""
    h, w = sheet.shape[:2]
    fw, fh = frame_size_for(file_name, w, h)
    if direction not in DIRECTIONS:
        raise ExportError(f"unknown direction {direction!r}: use one of {', '.join(DIRECTIONS)}")
    if not 0 <= pattern < PATTERNS:
        raise ExportError(f"pattern must be 0-{PATTERNS - 1}, got {pattern}")
    if is_big_character(file_name):
        if character_index != 0:
            raise ExportError(f"{file_name} holds one character: its index is 0, not {character_index}")
        block_x = block_y = 0
    else:
        if not 0 <= character_index < BLOCK_COLS * BLOCK_ROWS:
            raise ExportError(f"character index must be 0-7, got {character_index}")
        block_x = (character_index % BLOCK_COLS) * PATTERNS
        block_y = (character_index // BLOCK_COLS) * len(DIRECTIONS)
    x = (block_x + pattern) * fw
    y = (block_y + DIRECTIONS.index(direction)) * fh
    return sheet[y : y + fh, x : x + fw]


def fit_square(image: np.ndarray, size: int, resample: str = "lanczos") -> np.ndarray:
    """Resize to fit a size×size square keeping the aspect ratio, centred on a clear background."""
    rgba = as_rgba(image, "face")
    h, w = rgba.shape[:2]
    s = size / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    resized = np.asarray(Image.fromarray(rgba).resize((nw, nh), resample_filter(resample)))
    out = np.zeros((size, size, 4), np.uint8)
    x, y = (size - nw) // 2, (size - nh) // 2
    out[y : y + nh, x : x + nw] = resized
    return out


def face_set(faces: Sequence[np.ndarray], cell: int = FACE_SIZE, resample: str = "lanczos") -> np.ndarray:
    """A face set (4×2 cells of cell×cell, default 576×288): faces in reading order, the rest clear."""
    if not 1 <= len(faces) <= FACE_COLS * FACE_ROWS:
        raise ExportError(f"a face set holds 1 to {FACE_COLS * FACE_ROWS} faces, got {len(faces)}: configure fewer expressions")
    out = np.zeros((FACE_ROWS * cell, FACE_COLS * cell, 4), np.uint8)
    for i, face in enumerate(faces):
        x, y = (i % FACE_COLS) * cell, (i // FACE_COLS) * cell
        out[y : y + cell, x : x + cell] = fit_square(face, cell, resample)
    return out


def face_at(faceset: np.ndarray, face_index: int) -> np.ndarray:
    """The face RPG Maker shows for `face_index` (cells in reading order)."""
    h, w = faceset.shape[:2]
    if w % FACE_COLS or h % FACE_ROWS:
        raise ExportError(f"a {w}×{h} face set does not split into {FACE_COLS}×{FACE_ROWS} cells")
    cw, ch = w // FACE_COLS, h // FACE_ROWS
    x, y = (face_index % FACE_COLS) * cw, (face_index // FACE_COLS) * ch
    return faceset[y : y + ch, x : x + cw]
