"""Drawing functions for batch-stream tests that run in spawned worker processes (torch-free, importable)."""

from __future__ import annotations

import os

import numpy as np


def die(_character: object) -> np.ndarray:
    """A worker killed mid-task (out of memory, a crash in a native library)."""
    os._exit(3)


def grey(_character: object) -> np.ndarray:
    return np.full((4, 4, 3), 128, np.uint8)
