"""Synthesis output tensors -> uint8 images, the form images take across module boundaries."""

from __future__ import annotations

import numpy as np
import torch


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] in [-1, 1] -> uint8 [N, H, W, C], as official gen_images.py (x*127.5+128, clamp, truncate)."""
    x = (img.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()
