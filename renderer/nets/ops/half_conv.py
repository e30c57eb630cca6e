"""float16 convolutions on the CPU that round the same way on every CPU.

Why: torch picks a different float16 convolution kernel depending on the CPU. Without native float16
units (no avx512_fp16 / amx_fp16: `torch.ops.mkldnn._is_mkldnn_fp16_supported()` is False) float16
`conv2d` runs `_slow_conv2d_forward` and `conv_transpose2d` runs `slow_conv_transpose2d`, whose col2im
step adds the overlapping kernel taps *in float16* (one extra rounding per overlapping tap; measured on
the StyleGAN2-ADA fixture with torch 2.13: 21-30 % of each transposed convolution's outputs differ from
the once-rounded float32 sum, and their largest error against float64 is about twice the once-rounded
one). With native float16 units torch hands the same calls to oneDNN, which accumulates in float32 and
rounds once. The same network therefore gave images 6e-3 apart on the two kinds of CPU (issue 13,
section 4), about as far as float16 is from float32 (6.3e-3).

Here every float16 convolution on the CPU is computed in float32 from the (exactly representable)
float16 operands and rounded to float16 once, at the point where the official code stores the
convolution's float16 output. That is what oneDNN and CUDA do, and it no longer depends on which
kernel the CPU gets. What remains CPU-dependent is float32 summation order: a k-term float32 sum is
within k * 2**-24 * sum|terms| of the exact one, so an output whose exact value lies that close to a
float16 rounding midpoint ("a tie") may round the other way (0.1-0.3 % of a 576-term convolution's
outputs; tests/renderer/test_half_conv.py checks and counts them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def conv2d_any(
    x: torch.Tensor,
    w: torch.Tensor,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | list[int] = 0,
    groups: int = 1,
    transpose: bool = False,
) -> torch.Tensor:
    """`F.conv2d` (or `F.conv_transpose2d` with `transpose=True`) with CPU-independent float16 rounding.

    x: [N, C, H, W]; w: [O, C/groups, kh, kw] ([C, O/groups, kh, kw] when transposed), same dtype as x.
    float16 on the CPU: computed in float32, returned rounded to float16 (one rounding per output
    element). Any other dtype or device: the plain torch call. Raises what torch raises for bad shapes.
    """
    if x.dtype == torch.float16 and x.device.type == "cpu":
        return conv2d_any(x.float(), w.float(), stride, padding, groups, transpose).to(torch.float16)
    if transpose:
        return F.conv_transpose2d(x, w, stride=stride, padding=padding, groups=groups)
    return F.conv2d(x, w, stride=stride, padding=padding, groups=groups)
