"""How far a float16 forward pass may be from the float32 one, derived from float16's precision.

Why a derivation and not a measured bound: which float16 kernels the CPU gets (oneDNN with native
float16 units, or torch's slow kernels without them) changes where rounding happens, so a bound measured
on one CPU fails on another (issue 13, section 4).

The model (first order in u):
- float16 has a 11-bit significand: every rounding to float16 moves a value by at most u * |value|,
  u = 2**-11 (unit roundoff, round to nearest).
- A forward pass that stores R float16 results rounds at most R times on the way from the input to any
  output element (a path can pass each operation at most once). Operations that only move or compare
  values (views, padding, flips, clamps, copies float16 -> float16) do not round and are not counted.
- StyleGAN2 demodulation normalises each convolution to unit gain per output channel, and the other
  operations (bias, noise, leaky ReLU, FIR filters with unit DC gain) do not amplify, so an error made at
  any rounding reaches the image at most at the image's own magnitude M = max |img|.
Hence |img16 - img| <= R * u * M, with img the exact (float32 or float64) image. Two float16 passes that
round differently (two CPUs) differ by at most twice that. float32's own error (2**-24 per rounding) is
four orders of magnitude smaller and is left out.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode

UNIT_ROUNDOFF_FP16 = 2.0**-11

# aten operations that never round: they move, pad, reorder or compare values.
_EXACT = {"clamp", "clamp_", "constant_pad_nd", "flip", "clone", "copy_", "cat", "slice", "select", "zeros", "zero_", "fill_"}


class Float16Roundings(TorchDispatchMode):
    """Count the aten operations that produce a rounded float16 result, and note float16 convolutions."""

    def __init__(self) -> None:
        super().__init__()
        self.roundings = 0
        self.float16_convolutions: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204 - torch's protocol
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        if "convolution" in name and any(isinstance(a, torch.Tensor) and a.dtype == torch.float16 for a in args):
            self.float16_convolutions.append(str(func))
        if isinstance(out, torch.Tensor) and out.dtype == torch.float16 and not func.is_view and name not in _EXACT:
            if name == "_to_copy" and args[0].dtype == torch.float16:
                return out  # float16 -> float16 copy: exact
            self.roundings += 1
        return out


def count_float16_roundings(forward: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, Float16Roundings]:
    """Run `forward()` (no grad) and return its output with the roundings counted on the way."""
    with torch.no_grad(), Float16Roundings() as counter:
        out = forward()
    return out, counter


def float16_error_bound(roundings: int, magnitude: float) -> float:
    """R * u * M: the first-order bound on |float16 result - exact result| (see the module docstring)."""
    return roundings * UNIT_ROUNDOFF_FP16 * magnitude
