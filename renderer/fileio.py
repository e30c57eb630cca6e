"""Atomic file writes and deterministic PNG encoding, shared by every part that saves user files.

Why one place: a save must never leave a half-written file (temp file in the same folder, fsync,
os.replace), must keep the permissions a user expects (not mkstemp's 0600), and the same pixels must
give the same PNG bytes (no timestamps or text chunks) so outputs are reproducible. Torch-free, so the
RPG Maker exporter can use it.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the umask's default (usually 0644)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(file)` on a temp file beside `path`, fsync it, then replace `path` with it.

    Readers see the old file or the complete new one, never a mix; on any error the temp file is removed
    and `path` is untouched.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, _mode_for(p))
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically replace `path` with `data`."""
    return write_atomic(path, lambda f: f.write(data))


def png_bytes(image: np.ndarray, error: type[Exception] = ValueError) -> bytes:
    """PNG bytes of a uint8 H x W or H x W x 1/3/4 image, identical for identical pixels.

    `error` is the caller's exception class, so a bad array is reported in the caller's area.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise error(f"cannot encode a {arr.dtype} array of shape {list(arr.shape)} as PNG: need uint8 H x W x 1/3/4")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def save_png(path: str | os.PathLike, image: np.ndarray, error: type[Exception] = ValueError) -> Path:
    """Encode `image` (see png_bytes) and write it atomically to `path`."""
    return write_bytes_atomic(path, png_bytes(image, error))
