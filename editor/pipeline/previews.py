"""Human-facing previews of a character: a contact sheet PNG and an animated walk GIF (numpy + Pillow only)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from editor.rpgmaker.sheet_layout import DIRECTIONS, sheet_frame

WALK_CYCLE = (1, 2, 1, 0)  # RPG Maker's pattern order while walking (standing frame first)
LABEL_H = 14
GAP = 6


def checkerboard(h: int, w: int, square: int = 8) -> np.ndarray:
    """Light grey checks, the usual backdrop that makes transparency visible."""
    yy, xx = np.mgrid[0:h, 0:w]
    light = ((yy // square + xx // square) % 2 == 0)[..., None]
    return np.where(light, np.uint8(236), np.uint8(204)).repeat(3, axis=2).astype(np.uint8)


def over(rgba: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """RGB of `rgba` composited over an RGB backdrop of the same size."""
    if rgba.shape[2] == 3:
        return rgba
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    return np.round(rgba[..., :3] * a + backdrop * (1 - a)).astype(np.uint8)


def upscale(img: np.ndarray, k: int) -> np.ndarray:
    return img if k == 1 else np.repeat(np.repeat(img, k, 0), k, 1)


def walk_frames(sheet: np.ndarray, scale: int, background: Sequence[int]) -> list[np.ndarray]:
    """One RGB image per step of the walk cycle: the four directions side by side, scaled by `scale`."""
    name = "$preview.png"
    frames = []
    for pattern in WALK_CYCLE:
        cells = [sheet_frame(sheet, name, 0, d, pattern) for d in DIRECTIONS]
        row = np.concatenate(cells, axis=1)
        bg = np.empty(row.shape[:2] + (3,), np.uint8)
        bg[:] = np.asarray(background, np.uint8)
        frames.append(upscale(over(row, bg), scale))
    return frames


def walk_gif(sheet: np.ndarray, scale: int = 3, frame_ms: int = 200, background: Sequence[int] = (200, 208, 200)) -> bytes:
    """Animated GIF bytes of the walk cycle (one shared palette, loops forever, same bytes every time)."""
    frames = walk_frames(sheet, scale, background)
    h = frames[0].shape[0]
    strip = Image.fromarray(np.concatenate(frames, axis=0))
    pal = strip.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    images = [pal.crop((0, i * h, pal.width, (i + 1) * h)) for i in range(len(frames))]
    buf = io.BytesIO()
    images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0, optimize=False, disposal=1
    )
    return buf.getvalue()


def _panel(label: str, image: np.ndarray, checker: bool) -> np.ndarray:
    h, w = image.shape[:2]
    backdrop = checkerboard(h, w) if checker else np.full((h, w, 3), 255, np.uint8)
    body = over(image, backdrop) if image.shape[2] == 4 else image
    canvas = Image.new("RGB", (max(w, 8 * len(label)), h + LABEL_H), (255, 255, 255))
    canvas.paste(Image.fromarray(body), (0, LABEL_H))
    ImageDraw.Draw(canvas).text((1, 1), label, fill=(30, 30, 30))
    return np.asarray(canvas)


def contact_sheet(rows: Sequence[Sequence[tuple[str, np.ndarray, bool]]]) -> np.ndarray:
    """RGB image with one labelled panel per (label, image, checkerboard?) entry, laid out in rows."""
    built = [[_panel(label, img, chk) for label, img, chk in row] for row in rows]
    width = max(sum(p.shape[1] for p in row) + GAP * (len(row) + 1) for row in built)
    height = sum(max(p.shape[0] for p in row) for row in built) + GAP * (len(built) + 1)
    out = np.full((height, width, 3), 255, np.uint8)
    y = GAP
    for row in built:
        x = GAP
        for p in row:
            out[y : y + p.shape[0], x : x + p.shape[1]] = p
            x += p.shape[1] + GAP
        y += max(p.shape[0] for p in row) + GAP
    return out
