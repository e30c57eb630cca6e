"""Read and write w arrays in the formats other StyleGAN tools use.

On disk a w is `[1, num_ws, w_dim]` float32: `.npy` (stylegan3-fun) or `.npz` with key `w`
(stylegan2-ada's projector; `dlatents` from its TensorFlow projector is read too). A single W
(`[w_dim]` or `[1, w_dim]`) is broadcast to every row. In memory it is `[num_ws, w_dim]`.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from renderer.errors import LatentError
from renderer.fileio import write_atomic

NPZ_KEYS = ("w", "dlatents")  # stylegan2-ada-pytorch / stylegan3-fun write `w`; the TF projector `dlatents`


def load_w(path: str | os.PathLike, num_ws: int | None = None, w_dim: int | None = None) -> np.ndarray:
    """Load a w file and return `[num_ws, w_dim]` float32; refuse wrong shapes and non-finite values.

    Accepted layouts: `[1, num_ws, w_dim]` (stylegan3-fun, stylegan2-ada-pytorch), `[num_ws, w_dim]`,
    `[1, 1, num_ws, w_dim]`, and a single W `[w_dim]`, `[1, w_dim]` or `[1, 1, w_dim]` (projectors that
    optimise in W), which is broadcast to every row as the official tools do (only when `num_ws` is
    given; otherwise it comes back as `[1, w_dim]`). A `.npz` is read from key `w`, or `dlatents`
    (stylegan2-ada's TensorFlow projector) when `w` is absent. Raises LatentError naming the file's real
    shape when it does not fit.
    """
    p = Path(path)
    if not p.is_file():
        raise LatentError(f"w file not found: {p}")
    try:
        if p.suffix.lower() == ".npz":
            with np.load(p, allow_pickle=False) as data:
                key = next((k for k in NPZ_KEYS if k in data.files), None)
                if key is None:
                    raise LatentError(
                        f"{p.name} has no array named {' or '.join(repr(k) for k in NPZ_KEYS)} "
                        f"(found: {', '.join(data.files) or 'none'})"
                    )
                arr = data[key]
        else:
            arr = np.load(p, allow_pickle=False)
    except LatentError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise LatentError(f"{p.name} is not a readable .npy/.npz w file ({exc})") from None
    arr = np.asarray(arr)
    shape = list(arr.shape)  # as stored, for every message
    while arr.ndim > 2 and arr.shape[0] == 1:  # [1, num_ws, w_dim], [1, 1, num_ws, w_dim], [1, 1, w_dim]
        arr = arr[0]
    if arr.ndim == 1:
        arr = arr[None]  # a single W [w_dim]
    if arr.ndim != 2:
        raise LatentError(
            f"{p.name} holds an array of shape {shape}; expected [1, num_ws, w_dim] (or a single W [1, w_dim])"
        )
    single = arr.shape[0] == 1 and num_ws not in (None, 1)
    if (num_ws is not None and not single and arr.shape[0] != num_ws) or (w_dim is not None and arr.shape[1] != w_dim):
        raise LatentError(
            f"{p.name} has shape {shape} but this network needs [1, {num_ws}, {w_dim}] "
            f"(or a single W [1, {w_dim}]): it was made for another network"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise LatentError(f"{p.name} holds {arr.dtype} values; a w must be floating point")
    if not np.isfinite(arr).all():
        raise LatentError(f"{p.name} contains NaN or infinite values; it cannot be rendered")
    if single:
        arr = np.repeat(arr, num_ws, axis=0)  # one W for every row, as the official tools broadcast it
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
