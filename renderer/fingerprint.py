"""Fingerprint of a generator's weights: the same for a pickle and its converted safetensors file."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import torch


def weights_fingerprint(state: Mapping[str, torch.Tensor | np.ndarray]) -> str:
    """SHA-256 over sorted (name, shape, float32 little-endian bytes) of every tensor; hex string."""
    h = hashlib.sha256()
    for name in sorted(state):
        value = state[name]
        arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        arr = np.ascontiguousarray(arr, dtype="<f4")
        h.update(name.encode("utf-8"))
        h.update(repr(tuple(arr.shape)).encode("ascii"))
        h.update(arr.tobytes())
    return h.hexdigest()
