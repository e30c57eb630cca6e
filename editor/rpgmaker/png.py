"""Deterministic PNG bytes from uint8 arrays (no timestamps, no text chunks: same pixels, same bytes)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from editor.rpgmaker.errors import ExportError
from renderer.fileio import png_bytes


def as_rgba(image: np.ndarray, what: str = "image") -> np.ndarray:
    """H×W×4 uint8 view of an H×W×3 (opaque) or H×W×4 uint8 image; ExportError for anything else."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ExportError(f"{what} must be a uint8 H×W×3 or H×W×4 array, got {arr.dtype} {list(arr.shape)}")
    if arr.shape[2] == 3:
        alpha = np.full(arr.shape[:2] + (1,), 255, np.uint8)
        arr = np.concatenate([arr, alpha], axis=2)
    return np.ascontiguousarray(arr)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 H×W×3/4 image, written the same way every time."""
    arr = np.ascontiguousarray(np.asarray(image))
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ExportError(f"cannot write a PNG from a {arr.dtype} {list(arr.shape)} array: need uint8 H×W×3/4")
    return png_bytes(arr, ExportError)


def decode_png(data: bytes) -> np.ndarray:
    """uint8 H×W×4 array of PNG bytes (for tests and previews)."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))
