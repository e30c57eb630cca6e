"""Fixed-length histories of frame and render times for the performance plot."""

from __future__ import annotations

from collections import deque

import numpy as np


class RollingSeries:
    """The last `maxlen` values of a timing (milliseconds), as a float32 array for plotting."""

    def __init__(self, maxlen: int = 240) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be >= 1, got {maxlen}")
        self._values: deque[float] = deque(maxlen=maxlen)

    def append(self, value: float) -> None:
        self._values.append(float(value))

    def __len__(self) -> int:
        return len(self._values)

    def values(self) -> np.ndarray:
        return np.fromiter(self._values, dtype=np.float32, count=len(self._values))

    def last(self) -> float | None:
        return self._values[-1] if self._values else None

    def mean(self, last_n: int | None = None) -> float | None:
        """Mean of the last `last_n` values (all when None); None when empty."""
        if not self._values:
            return None
        vals = list(self._values)[-last_n:] if last_n else list(self._values)
        return float(sum(vals) / len(vals))
