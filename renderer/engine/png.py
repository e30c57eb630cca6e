"""Atomic PNG writing for rendered frames: a crash or a full disk never leaves a half-written image."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from renderer.errors import RenderError
from renderer.fileio import save_png


def save_png_atomic(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write uint8 H x W x {1,3,4} to `path` atomically; a bad array raises RenderError."""
    return save_png(path, image, RenderError)
