"""The held-out PSNR-vs-kimg curve of a training run as a small PNG (numpy + Pillow; no plotting library).

Written beside log.csv at every evaluation, so a long run can be judged at a glance: plain held-out
characters in blue, band-mixed ones in orange, a light grid every dB step and kimg step that fits.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT, MARGIN = 480, 300, 44
BACKGROUND, GRID, AXIS, TEXT = (250, 250, 248), (226, 226, 222), (90, 90, 90), (40, 40, 40)
# Pillow's default FreeType font at its own size 10 loses the space before some words ("PSNRagainst");
# at 12 px it lays text out correctly.
FONT_SIZE = 12
SERIES = (("psnr_plain", (40, 90, 200), "held-out"), ("psnr_mixed", (230, 120, 30), "band-mixed"))


def _nice_step(span: float, target_lines: int = 6) -> float:
    raw = max(span, 1e-9) / target_lines
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _label_font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """The default font at FONT_SIZE; Pillow's bitmap font where that cannot be had (Pillow < 10.1 has no size
    argument, and a Pillow built without FreeType raises ImportError for one)."""
    try:
        return ImageFont.load_default(size=FONT_SIZE)
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()


def curve_image(history: list[dict[str, float]], title: str) -> np.ndarray:
    """uint8 [HEIGHT, WIDTH, 3]: PSNR (dB) against kimg for the rows of a run's history (needs 1 row or more)."""
    if not history:
        raise ValueError("no evaluations yet: nothing to plot")
    kimg = np.array([r["kimg"] for r in history], dtype=np.float64)
    values = np.array([[r[k] for k, _, _ in SERIES] for r in history], dtype=np.float64)
    x0, x1 = 0.0, max(float(kimg.max()), 1e-3)
    y0, y1 = math.floor(float(values.min()) - 0.5), math.ceil(float(values.max()) + 0.5)
    img = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    d = ImageDraw.Draw(img)
    d.font = _label_font()
    left, top, right, bottom = MARGIN, 24, WIDTH - 12, HEIGHT - MARGIN + 10

    def px(x: float, y: float) -> tuple[float, float]:
        return left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top)

    step = _nice_step(x1 - x0)
    for i in range(int(x1 // step) + 1):
        gx, _ = px(i * step, y0)
        d.line([(gx, top), (gx, bottom)], fill=GRID)
        d.text((gx - 8, bottom + 4), f"{i * step:g}", fill=TEXT)
    ystep = _nice_step(y1 - y0, 5)
    y = math.ceil(y0 / ystep) * ystep
    while y <= y1:
        _, gy = px(x0, y)
        d.line([(left, gy), (right, gy)], fill=GRID)
        d.text((4, gy - 6), f"{y:g} dB", fill=TEXT)
        y += ystep
    d.rectangle([left, top, right, bottom], outline=AXIS)
    for j, (_, colour, label) in enumerate(SERIES):
        points = [px(float(k), float(v)) for k, v in zip(kimg, values[:, j], strict=True)]
        if len(points) > 1:
            d.line(points, fill=colour, width=2)
        for cx, cy in points:
            d.ellipse([cx - 2, cy - 2, cx + 2, cy + 2], fill=colour)
        d.text((left + 8 + 110 * j, top + 6), label, fill=colour)
    d.text((left, 6), f"{title}: held-out PSNR against the cast's drawing", fill=TEXT)
    d.text((right - 30, HEIGHT - 16), "kimg", fill=TEXT)
    return np.asarray(img)
