"""Byte-bounded LRU of synthesis states, keyed by the w rows each state depends on.

Why: after an edit of rows >= k, every synthesis step before the first step reading row k computes
exactly what it computed last time. Keeping those intermediate states (keyed by a digest of the rows
they read) lets the engine resume from there. The cache knows nothing about networks: keys are built
by `prefix_digests` + the caller's context, values are opaque tensors / tuples of tensors.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)


def state_nbytes(state: Any) -> int:
    """Bytes held by the tensors in a state (tensor, or nested tuple / list / dict of tensors)."""
    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, (tuple, list)):
        return sum(state_nbytes(s) for s in state)
    if isinstance(state, dict):
        return sum(state_nbytes(s) for s in state.values())
    return 0


def prefix_digests(ws: np.ndarray) -> list[bytes]:
    """digests[r] identifies the exact bytes of ws[:r] (r = 0..num_ws); ws is [num_ws, w_dim] float32."""
    rows = np.ascontiguousarray(ws, dtype=np.float32)
    h = hashlib.blake2b(digest_size=20)
    h.update(repr(rows.shape).encode("ascii"))
    out = [h.copy().digest()]
    for r in range(rows.shape[0]):
        h.update(rows[r].tobytes())
        out.append(h.copy().digest())
    return out


@dataclass
class CacheStats:
    """Counters for the status bar and the bench: lookups that found a prefix, stores, evictions."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    evictions: int = 0
    too_large: int = 0


class PrefixCache:
    """LRU map key -> state whose total tensor bytes never exceed `budget_bytes`."""

    def __init__(self, budget_bytes: int) -> None:
        if budget_bytes < 0:
            raise ValueError(f"cache budget must be >= 0 bytes, got {budget_bytes}")
        self.budget_bytes = int(budget_bytes)
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._nbytes = 0
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    @property
    def nbytes(self) -> int:
        """Bytes currently held (always <= budget_bytes)."""
        return self._nbytes

    def get(self, key: Hashable) -> Any | None:
        """The state under `key` (marked most recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, state: Any) -> bool:
        """Store `state`, evicting least recently used entries to stay in budget; False if it can never fit."""
        size = state_nbytes(state)
        if size > self.budget_bytes:
            self.stats.too_large += 1
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self._nbytes -= old[1]
        self._entries[key] = (state, size)
        self._nbytes += size
        self.stats.stores += 1
        while self._nbytes > self.budget_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._nbytes -= evicted
            self.stats.evictions += 1
        return True

    def set_budget(self, budget_bytes: int) -> None:
        """Change the budget, evicting at once if the new one is smaller."""
        if budget_bytes < 0:
            raise ValueError(f"cache budget must be >= 0 bytes, got {budget_bytes}")
        self.budget_bytes = int(budget_bytes)
        while self._nbytes > self.budget_bytes and self._entries:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._nbytes -= evicted
            self.stats.evictions += 1

    def clear(self) -> None:
        """Drop every state (network, device or precision changed)."""
        if self._entries:
            log.debug("prefix cache cleared (%d entries, %d bytes)", len(self._entries), self._nbytes)
        self._entries.clear()
        self._nbytes = 0
