"""Turn any image file into a projection target: the network's channels, square, at its resolution.

Why a module of its own: users drop in photos, palette sprites, 16-bit scans and transparent PNGs; each
needs a different conversion, and every failure must say what was wrong instead of a Pillow traceback.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from renderer.errors import ProjectionError
from renderer.network import Network

log = logging.getLogger(__name__)

# Transparent pixels are composited on mid grey: the colour every network renders most easily,
# and the one that biases a projection least towards light or dark.
NEUTRAL_BACKGROUND = (128, 128, 128)

_HIGH_DEPTH_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


# How large a target may be. The network needs only img_resolution² pixels, so a large file is decoded
# reduced: a JPEG through its DCT scaling (draft mode, down to 1/8 per side) at no cost in memory, any
# other format in full and then shrunk with Image.reduce. The bound is on the pixels actually decoded:
# MAX_DECODED_PIXELS (Pillow's own refusal point, 2 × Image.MAX_IMAGE_PIXELS's default, about 0.7 GB as
# RGBA). So any JPEG up to 8 × 8 × that (11.4 gigapixels: every JPEG, whose limit is 65535² = 4.3 gigapixels)
# is read, and a PNG / WebP / TIFF up to 179 megapixels.
MAX_DECODED_PIXELS = 178_956_970
# Pillow's decompression-bomb check is never switched off (Image.MAX_IMAGE_PIXELS is a process-wide setting: while
# it is None every other thread's Image.open runs unchecked, and Pillow 13 has no per-call limit). Instead a JPEG
# is opened through Pillow's own JPEG factory, which Image.open would call for it, minus the size check; it is
# decoded reduced and bounded by MAX_DECODED_PIXELS. Every other format goes through Image.open with the check
# in force, which refuses beyond 2 × Image.MAX_IMAGE_PIXELS: the same number as MAX_DECODED_PIXELS by default.
_JPEG_MAGIC = b"\xff\xd8\xff"  # SOI + the first marker: what Pillow's JPEG plugin accepts


def _open_image(p: Path) -> Image.Image:
    """`p` opened lazily (header only): a JPEG / MPO without Image.open's bomb check (the caller bounds what it
    decodes), any other format through Image.open, which raises DecompressionBombError beyond Pillow's limit.

    Raises OSError, SyntaxError (not a JPEG after all), UnidentifiedImageError, DecompressionBombError.
    """
    with open(p, "rb") as f:
        magic = f.read(len(_JPEG_MAGIC))
    if magic == _JPEG_MAGIC:
        from PIL import JpegImagePlugin

        return JpegImagePlugin.jpeg_factory(str(p))  # a path: the image owns (and closes) its file
    with warnings.catch_warnings():
        # Pillow warns between MAX_IMAGE_PIXELS and twice that; such a file is read and bounded below, so the
        # warning would only alarm. (This changes which warnings print, never Pillow's refusal.)
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(p)


def load_target(path: str | os.PathLike, network: Network) -> np.ndarray:
    """Read an image file and return uint8 [R, R, C] for `network` (R = img_resolution, C = img_channels).

    Large files are decoded reduced (see MAX_DECODED_PIXELS); ProjectionError says what was wrong with
    a missing, unreadable, corrupt or too large file.
    """
    p = Path(path)
    if not p.exists():
        raise ProjectionError(f"target image not found: {p}")
    if not p.is_file():
        raise ProjectionError(f"target {p} is not a file: give the path of an image (PNG, JPEG, WebP, ...)")
    try:
        with _open_image(p) as img:
            img.seek(0)  # first frame of an animation
            rgba = _to_rgba8(_decode_reduced(img, p, network.img_resolution))
    except UnidentifiedImageError as exc:
        raise ProjectionError(
            f"{p.name} is not an image Pillow can read ({exc}): use a PNG, JPEG or WebP file"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ProjectionError(
            f"{p.name} is too large to decode safely ({exc}); Castmaker decodes at most "
            f"{MAX_DECODED_PIXELS / 1e6:.0f} megapixels of a non-JPEG target: scale the image down "
            "(or save it as JPEG, which is read reduced) and try again"
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ProjectionError(
            f"{p.name} could not be decoded ({exc}): the file may be truncated or corrupt"
        ) from None
    return prepare_target(rgba, network.img_resolution, network.img_channels)


def _decode_reduced(img: Image.Image, p: Path, resolution: int) -> Image.Image:
    """Decode `img` no larger than needed: the shorter side stays >= 2 × `resolution` (for a clean resize)."""
    full_w, full_h = img.size
    want = 2 * resolution
    if img.format in ("JPEG", "MPO") and min(full_w, full_h) > want:  # MPO: a camera's multi-picture JPEG
        img.draft(img.mode, (want, want))  # DCT scaling: decodes 1/2, 1/4 or 1/8 per side
    w, h = img.size
    if w * h > MAX_DECODED_PIXELS:
        raise ProjectionError(
            f"{p.name} is {full_w}×{full_h} ({full_w * full_h / 1e6:.0f} megapixels); Castmaker decodes at most "
            f"{MAX_DECODED_PIXELS / 1e6:.0f} megapixels of a {img.format or 'non-JPEG'} target (about "
            f"{MAX_DECODED_PIXELS * 4 / 2**30:.1f} GB of memory), and the network uses only {resolution}×{resolution}: "
            "scale the image down (or save it as JPEG, which is read reduced) and try again"
        )
    img.load()
    factor = min(w, h) // want
    if factor >= 2:
        if img.mode in ("P", "PA"):
            img = img.convert("RGBA")  # average colours, not palette indices
        elif img.mode == "1":
            img = img.convert("L")
        elif img.mode.startswith("I;16"):
            img = img.convert("I")
        img = img.reduce(factor)  # box-average whole pixel blocks; the final resize is Lanczos
    return ImageOps.exif_transpose(img)


def prepare_target(image: np.ndarray, resolution: int, channels: int) -> np.ndarray:
    """uint8 H x W x {1,3,4} (or H x W) -> uint8 [resolution, resolution, channels], centre-cropped and resized."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ProjectionError(f"target array must be uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or min(arr.shape[:2]) < 1:
        raise ProjectionError(f"target array must be H x W x 1, 3 or 4 channels, got shape {list(arr.shape)}")
    if channels not in (1, 3, 4):
        raise ProjectionError(
            f"networks with {channels} image channels are not supported as projection targets"
        )
    rgba = _array_to_rgba(arr)
    img = Image.fromarray(rgba, "RGBA")
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    img = img.crop((left, top, left + s, top + s))
    if s != resolution:
        # Resize with premultiplied alpha so transparent pixels' hidden colours do not bleed into edges.
        img = img.convert("RGBa").resize((resolution, resolution), Image.Resampling.LANCZOS).convert("RGBA")
    out = np.asarray(img, dtype=np.uint8)
    if channels == 4:
        return np.ascontiguousarray(out)
    rgb = _composite(out)
    if channels == 3:
        return rgb
    grey = np.asarray(Image.fromarray(rgb, "RGB").convert("L"), dtype=np.uint8)
    return np.ascontiguousarray(grey[:, :, None])


def _to_rgba8(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 RGBA; 16-bit and float images are scaled, not clipped."""
    mode = img.mode
    if mode in _HIGH_DEPTH_MODES:
        values = np.asarray(img).astype(np.float64)
        if mode == "F":
            top = 1.0 if values.size and np.nanmax(values) <= 1.0 else 255.0
        elif mode == "I" and values.size and values.max() <= 255 and values.min() >= 0:
            top = 255.0  # 32-bit container holding 8-bit data
        else:
            top = 65535.0
        grey = np.clip(np.nan_to_num(values) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return _array_to_rgba(grey[:, :, None])
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA")  # palette transparency (tRNS) becomes alpha
    elif mode in ("LA", "La", "RGBa"):
        img = img.convert("RGBA")
    elif mode == "1" or mode == "L":
        img = img.convert("L").convert("RGBA")
    elif mode != "RGBA":
        img = img.convert("RGB").convert("RGBA")  # CMYK, YCbCr, LAB, HSV, RGB
    return np.asarray(img, dtype=np.uint8)


def _array_to_rgba(arr: np.ndarray) -> np.ndarray:
    if arr.shape[2] == 4:
        return np.ascontiguousarray(arr)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    alpha = np.full(arr.shape[:2] + (1,), 255, dtype=np.uint8)
    return np.ascontiguousarray(np.concatenate([arr, alpha], axis=2))


def _composite(rgba: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA -> RGB over NEUTRAL_BACKGROUND."""
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    if np.all(alpha == 1.0):
        return np.ascontiguousarray(rgba[:, :, :3])
    bg = np.asarray(NEUTRAL_BACKGROUND, dtype=np.float32)
    rgb = rgba[:, :, :3].astype(np.float32) * alpha + bg * (1.0 - alpha)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
