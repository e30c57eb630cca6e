"""Atomic PNG writing: a crash or a full disk never leaves a half-written image behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from renderer.errors import RenderError


def save_png_atomic(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write uint8 H x W x {1,3,4} to `path` via a temp file in the same folder, fsync, os.replace."""
    p = Path(path)
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise RenderError(f"cannot save {p.name}: expected a uint8 H x W x 1/3/4 image, got {arr.dtype} {list(arr.shape)}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(arr).save(f, format="PNG")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p
