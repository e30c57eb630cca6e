"""Write a uint8 image as PNG atomically (preview export, thumbnails)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from renderer.fileio import save_png


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Encode in memory, then replace `path` in one step: a failed export never leaves half a file."""
    return save_png(path, image)
