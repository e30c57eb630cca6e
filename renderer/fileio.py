"""Atomic file writes and deterministic PNG encoding, shared by every part that saves user files.

Why one place: a save must never leave a half-written file (temp file in the same folder, fsync,
os.replace), must honour the umask like any other program's files (not mkstemp's 0600), and the same pixels must
give the same PNG bytes (no timestamps or text chunks) so outputs are reproducible. Torch-free, so the
RPG Maker exporter can use it.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np


def existing_mode(path: str | os.PathLike) -> int | None:
    """The permission bits (`st_mode & 0o777`) of an existing file or folder at `path`, or None if there is none.

    What a replacement must get so that replacing a file (or folder) keeps who may read it.
    """
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return None


def create_temp_beside(path: str | os.PathLike) -> tuple[int, Path]:
    """Create a fresh hidden temp file in `path`'s folder; return (open write fd, temp path).

    Permissions: a new file is created with 0o666 minus the umask (what `open()` gives, usually 0644),
    the way every other program's files come out, so the user's umask is honoured; when `path` already
    exists the temp file takes its permissions, so replacing a file keeps who may read it.
    (tempfile.mkstemp always makes 0600, which hid outputs from other users and web servers.)
    Raises OSError if the folder cannot be written.
    """
    p = Path(path)
    keep_mode = existing_mode(p)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = p.parent / f".{p.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if keep_mode is not None:
            try:
                os.fchmod(fd, keep_mode)
            except BaseException:
                os.close(fd)
                os.unlink(tmp)
                raise
        return fd, tmp
    raise FileExistsError(f"could not create a temporary file beside {p}")


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call `write(file)` on a temp file beside `path`, fsync it, then replace `path` with it.

    Readers see the old file or the complete new one, never a mix; on any error the temp file is removed
    and `path` is untouched.
    """

    def through_file(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            write(f)

    return write_atomic_path(path, through_file)


def write_atomic_path(
    path: str | os.PathLike, write: Callable[[Path], None], before_replace: Callable[[], None] | None = None
) -> Path:
    """Like `write_atomic` for writers that want a file name (Pillow, encoders): `write(temp_path)`, fsync,
    `before_replace()` (a last cancel check may raise there), then replace `path`; the temp file goes on any error.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(p)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace()
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
