"""Stage 2: fit the mapping network z → w to the cast's seed rule, w = W_GAIN · seed_factors(z).

The synthesis network was trained on w built from factors, so the mapping only has to reproduce that
(known, generator-free) function: plain regression on fresh z every step, no images involved. Both cast
networks get the same fitted mapping, so a seed is the same character in the portrait and the sprite
network. Classes come from thresholds on single z components, which an MLP of lrelu layers fits with steep
steps; the remaining error sits next to class boundaries, where the networks draw one class or the other
(they were trained on blends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch

from renderer.cast.description import W_DIM, W_GAIN, seed_factors
from renderer.nets.mapping import MappingNetwork

log = logging.getLogger(__name__)


def seed_rule_batch(rng: np.random.RandomState, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(z float32 [size, W_DIM], w float32 [size, W_DIM]) pairs of the seed rule."""
    z = rng.standard_normal((size, W_DIM))
    w = np.zeros((size, W_DIM))
    for i, zi in enumerate(z):
        f = seed_factors(zi)
        w[i, : f.size] = W_GAIN * f
    return z.astype(np.float32), w.astype(np.float32)


def fit_mapping(
    mapping: MappingNetwork,
    steps: int = 3000,
    batch: int = 256,
    lr: float = 0.01,
    seed: int = 1,
    pool: int = 65536,
    on_progress: Callable[[int, float], None] | None = None,
) -> dict[str, float]:
    """Fit `mapping` in place (Adam on the MSE to the seed rule); returns relative MSEs on held-out z.

    `pool` z/w pairs are drawn once (the seed rule runs in numpy) and batches are drawn from them;
    w_avg is set to the mean of the rule's w over the pool (the truncation centre).
    """
    rng = np.random.RandomState(seed)
    z_pool, w_pool = seed_rule_batch(rng, pool)
    z_test, w_test = seed_rule_batch(np.random.RandomState(seed + 7_777), 2048)
    zt, wt = torch.from_numpy(z_pool), torch.from_numpy(w_pool)
    mapping.train().requires_grad_(True)
    params = [p for n, p in mapping.named_parameters() if not n.endswith("w_avg")]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr * 0.02)
    for step in range(steps):
        idx = torch.from_numpy(rng.randint(0, pool, size=batch))
        pred = _raw_mapping(mapping, zt[idx])
        loss = (pred - wt[idx]).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if on_progress is not None and step % 100 == 0:
            on_progress(step, float(loss.detach()))
    mapping.eval().requires_grad_(False)
    with torch.no_grad():
        mapping.w_avg.copy_(torch.from_numpy(w_pool.mean(axis=0)))
        pred = _raw_mapping(mapping, torch.from_numpy(z_test)).numpy()
    return relative_errors(pred, w_test)


def _raw_mapping(mapping: MappingNetwork, z: torch.Tensor) -> torch.Tensor:
    """w [N, W_DIM] of the mapping without broadcasting or truncation."""
    return mapping(z, None, truncation_psi=1.0, update_emas=False)[:, 0]


def relative_errors(pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """MSE / variance of the target, over all entries and per band of factors."""
    from renderer.cast.description import FACTOR_SLICES, LAYOUT

    out = {}
    for band in ("coarse", "middle", "fine"):
        cols = np.concatenate([np.arange(FACTOR_SLICES[n].start, FACTOR_SLICES[n].stop) for n, _, b in LAYOUT if b == band])
        err = np.square(pred[:, cols] - target[:, cols]).mean()
        out[band] = float(err / max(target[:, cols].var(axis=0).mean(), 1e-12))
    out["all"] = float(np.square(pred - target).mean() / max(target.var(axis=0).mean(), 1e-12))
    return out
