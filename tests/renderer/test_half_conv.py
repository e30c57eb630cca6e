"""float16 convolutions on the CPU round once, from a float32 sum, whatever kernel the CPU would get."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from renderer.nets.ops.half_conv import conv2d_any
from renderer.nets.ops.upfirdn2d import upfirdn2d


@pytest.mark.parametrize(
    "transpose,stride,padding,groups,wshape",
    [(False, 1, 1, 1, (8, 6, 3, 3)), (False, 2, 0, 6, (6, 1, 4, 4)), (True, 2, 0, 1, (6, 8, 3, 3)), (True, 2, 1, 2, (6, 4, 3, 3))],
)
def test_float16_on_cpu_is_the_float32_sum_rounded_once(transpose, stride, padding, groups, wshape) -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 6, 9, 9, generator=g).half()
    w = (torch.randn(*wshape, generator=g) / 4).half()
    out = conv2d_any(x, w, stride=stride, padding=padding, groups=groups, transpose=transpose)
    op = F.conv_transpose2d if transpose else F.conv2d
    once = op(x.float(), w.float(), stride=stride, padding=padding, groups=groups).half()
    assert out.dtype == torch.float16
    assert torch.equal(out, once)
    # float32 (and any other dtype) is the plain torch call
    x32, w32 = x.float(), w.float()
    assert torch.equal(conv2d_any(x32, w32, stride=stride, padding=padding, groups=groups, transpose=transpose),
                       op(x32, w32, stride=stride, padding=padding, groups=groups))  # fmt: skip


def test_upfirdn2d_in_float16_uses_the_same_rounding() -> None:
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(5)).half()
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    up = upfirdn2d(x, f, up=2, padding=[2, 1, 2, 1], gain=4)
    assert up.dtype == torch.float16
    assert torch.equal(up, upfirdn2d(x.float(), f, up=2, padding=[2, 1, 2, 1], gain=4).half())
