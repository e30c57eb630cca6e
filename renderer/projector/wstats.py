"""Where projection starts: the mean of many mapped samples (w_avg) and their spread (w_std).

Why sample instead of reading `G.mapping.w_avg`: that buffer is a training-time moving average; it is
right for a well-trained network but zero or stale for untrained / converted / fine-tuned ones, and the
noise added to w early in the optimisation needs the spread (w_std) anyway, which only samples give.
Results are memoised per network fingerprint, so the editor pays for the sampling once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from renderer.network import Network

log = logging.getLogger(__name__)

_CACHE: dict[tuple, WStats] = {}


@dataclass(frozen=True)
class WStats:
    """Mean w [w_dim], its RMS distance to samples (scalar), and how far the stored buffer was from it."""

    w_avg: np.ndarray
    w_std: float
    buffer_gap: float  # |stored w_avg - sampled mean| / w_std


@torch.no_grad()
def w_stats(
    network: Network,
    device: torch.device,
    samples: int = 10000,
    class_idx: int | None = None,
    seed: int = 123,
    batch: int = 2000,
) -> WStats:
    """Sampled w statistics of `network` (memoised by fingerprint, device, samples, class and seed)."""
    key = (network.fingerprint, str(device), int(samples), class_idx, int(seed))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    G = network.G
    rng = np.random.RandomState(seed)
    z_all = rng.randn(samples, network.z_dim).astype(np.float32)
    labels = None
    if network.c_dim > 0:
        cls = (
            np.full(samples, class_idx)
            if class_idx is not None
            else rng.randint(0, network.c_dim, size=samples)
        )
        labels = np.eye(network.c_dim, dtype=np.float32)[cls]
    chunks = []
    for i in range(0, samples, batch):
        z = torch.from_numpy(z_all[i : i + batch]).to(device)
        c = None if labels is None else torch.from_numpy(labels[i : i + batch]).to(device)
        ws = G.mapping(z, c)
        chunks.append(ws[:, 0].to(torch.float32).cpu().numpy())
    w = np.concatenate(chunks, axis=0).astype(np.float64)
    w_avg = w.mean(axis=0)
    w_std = float(np.sqrt(((w - w_avg) ** 2).sum() / samples))
    stored = G.mapping.w_avg.detach().to(torch.float64).cpu().numpy()
    gap = float(np.linalg.norm(stored - w_avg) / max(w_std, 1e-12))
    if gap > 0.25:
        log.info("stored w_avg is %.2f w_std away from the sampled mean: starting from the sampled mean", gap)
    stats = WStats(w_avg=w_avg.astype(np.float32), w_std=w_std, buffer_gap=gap)
    _CACHE[key] = stats
    return stats
