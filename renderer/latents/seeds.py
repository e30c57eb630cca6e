"""Seed -> z exactly as the official tools draw it, and parsing of seed / row lists like "0-3,7"."""

from __future__ import annotations

import numpy as np

from renderer.errors import LatentError


def z_from_seed(seed: int, z_dim: int) -> np.ndarray:
    """z for `seed`: `np.random.RandomState(seed).randn(1, z_dim)` (float64, as official gen_images.py)."""
    if not 0 <= int(seed) < 2**32:
        raise LatentError(f"seed {seed} is out of range: use an integer from 0 to {2**32 - 1}")
    return np.random.RandomState(int(seed)).randn(1, int(z_dim))


def _parse_ranges(text: str, what: str) -> list[int]:
    values: list[int] = []
    if not text or not text.strip():
        raise LatentError(f"empty {what} list: give numbers and ranges like 0-3,7")
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo_s, hi_s = part.split("-", 1)
                lo, hi = int(lo_s), int(hi_s)
                if hi < lo:
                    raise LatentError(f"{what} range {part!r} runs backwards: write the smaller number first")
                values.extend(range(lo, hi + 1))
            else:
                values.append(int(part))
        except ValueError:
            raise LatentError(f"bad {what} {part!r} in {text!r}: use numbers and ranges like 0-3,7") from None
    return values


def parse_seeds(text: str) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7]; seeds must lie in [0, 2**32)."""
    seeds = _parse_ranges(text, "seed")
    for s in seeds:
        if not 0 <= s < 2**32:
            raise LatentError(f"seed {s} is out of range: use integers from 0 to {2**32 - 1}")
    return seeds


def parse_rows(text: str, num_ws: int) -> list[int]:
    """'8-15' -> [8..15], each checked against the network's number of w rows."""
    rows = _parse_ranges(text, "row")
    for r in rows:
        if not 0 <= r < num_ws:
            raise LatentError(f"rows {text}: row {r} is out of range: this network has rows 0-{num_ws - 1}")
    return sorted(set(rows))
