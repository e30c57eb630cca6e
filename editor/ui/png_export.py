"""Write a uint8 image as PNG atomically (preview export, thumbnails)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from editor.presets import write_atomic


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Encode in memory, then replace `path` in one step: a failed export never leaves half a file."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    data = buf.getvalue()
    return write_atomic(path, lambda f: f.write(data))
