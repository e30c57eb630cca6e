"""Memory-layout helpers shared by the CPU fast paths (channels-last maps for oneDNN)."""

from __future__ import annotations

import torch


def canonical_channels_last(x: torch.Tensor) -> torch.Tensor:
    """x as channels-last memory with the canonical strides.

    Why: oneDNN returns batch-1 maps whose batch axis has some other stride. PyTorch still calls
    them channels-last contiguous, but oneDNN then no longer recognises the layout and takes its
    NCHW path at several times the cost. Restriding a size-1 axis moves no data.
    """
    if not x.is_contiguous(memory_format=torch.channels_last):
        return x.contiguous(memory_format=torch.channels_last)
    n, c, h, w = x.shape
    strides = (c * h * w, 1, w * c, c)
    return x if x.stride() == strides else x.as_strided(x.shape, strides)
