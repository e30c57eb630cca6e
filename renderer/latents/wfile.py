"""Read and write w arrays in the formats other StyleGAN tools use.

On disk a w is `[1, num_ws, w_dim]` float32: `.npy` (stylegan3-fun) or `.npz` with key `w`
(stylegan2-ada's projector). In memory it is `[num_ws, w_dim]`.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from renderer.errors import LatentError
from renderer.fileio import write_atomic


def load_w(path: str | os.PathLike, num_ws: int | None = None, w_dim: int | None = None) -> np.ndarray:
    """Load a w file and return `[num_ws, w_dim]` float32; refuse wrong shapes and non-finite values."""
    p = Path(path)
    if not p.is_file():
        raise LatentError(f"w file not found: {p}")
    try:
        if p.suffix.lower() == ".npz":
            with np.load(p, allow_pickle=False) as data:
                if "w" not in data.files:
                    raise LatentError(f"{p.name} has no array named 'w' (found: {', '.join(data.files) or 'none'})")
                arr = data["w"]
        else:
            arr = np.load(p, allow_pickle=False)
    except LatentError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise LatentError(f"{p.name} is not a readable .npy/.npz w file ({exc})") from None
    arr = np.asarray(arr)
    if arr.ndim == 4 and arr.shape[0] == 1:  # some tools store [1, 1, num_ws, w_dim]
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise LatentError(f"{p.name} holds an array of shape {list(arr.shape)}; expected [1, num_ws, w_dim]")
    if (num_ws is not None and arr.shape[0] != num_ws) or (w_dim is not None and arr.shape[1] != w_dim):
        raise LatentError(
            f"{p.name} has shape [1, {arr.shape[0]}, {arr.shape[1]}] but this network needs "
            f"[1, {num_ws}, {w_dim}]: it was made for another network"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise LatentError(f"{p.name} holds {arr.dtype} values; a w must be floating point")
    if not np.isfinite(arr).all():
        raise LatentError(f"{p.name} contains NaN or infinite values; it cannot be rendered")
    return arr.astype(np.float32)


def save_w(path: str | os.PathLike, w: np.ndarray) -> Path:
    """Write `[num_ws, w_dim]` as `[1, num_ws, w_dim]` float32 (.npy, or .npz with key 'w'), atomically."""
    p = Path(path)
    arr = np.asarray(w, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] != 1:
        raise LatentError(f"cannot save w of shape {list(arr.shape)}: expected [num_ws, w_dim]")
    if p.suffix.lower() == ".npz":
        return write_atomic(p, lambda f: np.savez(f, w=arr))
    return write_atomic(p, lambda f: np.save(f, arr))
