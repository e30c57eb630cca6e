"""float16 convolutions on the CPU give the exact convolution rounded once to float16, whatever the CPU.

The specification tested here (not the implementation's formula): the float16 result of `conv2d_any` is
the float64 convolution of the same float16 operands, rounded once to float16 (nearest, ties to even),
except where float32 summation may legitimately land on the other side of a float16 rounding midpoint.
Those exceptions ("ties") are bounded rigorously: any float32 sum of k products of float16 numbers (which
are exact in float32), in any order, with or without FMA, is within gamma_k * sum|terms| of the exact sum,
gamma_k = k u / (1 - k u), u = 2**-24 (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).
Rounding is monotone, so the float32 sum rounded once to float16 lies in [round(exact - e), round(exact
+ e)], e = gamma_k * sum|terms|: that interval is asserted for every output. Outputs that differ from
round(exact) are ties (a float16 midpoint lies within e of the exact value); they are counted and held
to a statistical expectation (`check_rounded_once`), measured 0.0-0.3 % of outputs. A kernel that rounds
to float16 at every add (torch's slow CPU float16 kernels, the cause of issue 13 section 4) leaves the
interval on a large share of outputs: the negative control below shows the check catches it.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from renderer.nets.ops.half_conv import conv2d_any
from renderer.nets.ops.upfirdn2d import upfirdn2d, upfirdn2d_reference

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.fp16_reference import Float16Convolutions, float16_ulp, round_to_float16  # noqa: E402

U32 = 2.0**-24

# (transpose, stride, padding, groups, x shape, w shape): StyleGAN2's 3x3 convolution at 64 channels
# (k = 576 terms), its 2x up-sampling transposed convolution, the 4x4 depthwise FIR filter, a grouped
# (fused modulation, batch 2) convolution.
CASES = [
    (False, 1, 1, 1, (1, 64, 16, 16), (64, 64, 3, 3)),
    (True, 2, 0, 1, (1, 64, 8, 8), (64, 32, 3, 3)),
    (False, 1, 0, 32, (1, 32, 19, 19), (32, 1, 4, 4)),
    (True, 2, 0, 32, (1, 32, 8, 8), (32, 1, 4, 4)),
    (False, 1, 1, 2, (1, 64, 12, 12), (32, 32, 3, 3)),
]


def _op(transpose: bool):
    return F.conv_transpose2d if transpose else F.conv2d


def _operands(xs: tuple[int, ...], ws: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*xs, generator=g).half()
    # demodulated-like weights: unit L2 norm per output channel, so sums have cancellation as in the network
    w = torch.randn(*ws, generator=g)
    w = (w / w.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)).half()
    return x, w


def check_rounded_once(
    out: torch.Tensor, x: torch.Tensor, w: torch.Tensor, transpose: bool, **kw
) -> tuple[int, float]:
    """Assert the specification above for `out` = conv(x, w) in float16; return (ties, ties expected)."""
    op = _op(transpose)
    exact = op(x.double(), w.double(), **kw)
    abs_terms = op(x.double().abs(), w.double().abs(), **kw)
    in_per_group = w.shape[0] // kw.get("groups", 1) if transpose else w.shape[1]
    k = in_per_group * w.shape[2] * w.shape[3]  # terms per output (at most)
    gamma = k * U32 / (1 - k * U32)
    once = round_to_float16(exact)
    assert out.dtype == torch.float16 and out.shape == exact.shape
    got = out.double()
    ties = got != once
    # Rounding is monotone, so a float32 sum within e of the exact one rounds into [round(exact - e), round(exact + e)].
    e = gamma * abs_terms
    assert bool(((got >= round_to_float16(exact - e)) & (got <= round_to_float16(exact + e))).all()), (
        "an output is not the exact result rounded once, nor a float32 tie of it"
    )
    # How many ties to expect: a tie happens when the float32 error |d| straddles a midpoint, with
    # probability |d| / ulp. Modelling the float32 rounding errors as independent and uniform in
    # [-u, u] (std u / sqrt(3)), a recursive k-term sum has E|d| = sqrt(2 / pi) * (u / sqrt(3)) *
    # sqrt(sum_j partial_j^2) ~= u * sqrt(k / (3 pi)) * ||terms||_2 (partial sums of random-sign terms
    # grow like sqrt(j)). Blocked or vectorised summation has shorter partial sums, so fewer ties.
    l2_terms = op(x.double().square(), w.double().square(), **kw).sqrt()
    expected = float((U32 * (k / (3 * math.pi)) ** 0.5 * l2_terms / float16_ulp(once)).clamp(max=1).sum())
    return int(ties.sum()), expected


@pytest.mark.parametrize(("transpose", "stride", "padding", "groups", "xs", "ws"), CASES)
def test_float16_is_the_exact_convolution_rounded_once(transpose, stride, padding, groups, xs, ws) -> None:
    x, w = _operands(xs, ws, seed=3)
    kw = dict(stride=stride, padding=padding, groups=groups)
    for layout in (torch.contiguous_format, torch.channels_last):
        for threads in (1, 2):
            before = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                out = conv2d_any(x.contiguous(memory_format=layout), w, transpose=transpose, **kw)
            finally:
                torch.set_num_threads(before)
            ties, expected = check_rounded_once(out, x, w, transpose, **kw)
            # measured (avx512 CPU, torch 2.13): 26-37, 8, 4, 0, 3-6 ties; 74, 40, 7, 5.5, 12 expected
            assert ties <= expected + 3 * math.sqrt(expected) + 1, f"{ties} ties, {expected:.1f} expected"
            print(f"[{layout}, {threads} threads] {ties} ties ({expected:.1f} expected) of {out.numel()}")


def test_the_check_catches_a_kernel_that_rounds_at_every_add() -> None:
    """Negative control: the rounding torch's slow float16 CPU kernels do (issue 13, section 4) fails the spec."""
    x, w = _operands((1, 64, 16, 16), (64, 64, 3, 3), seed=3)
    cols = F.unfold(x.float(), 3, padding=1)  # [1, 576, 256]
    prods = cols[:, None] * w.float().reshape(1, 64, 576, 1)  # exact: float16 x float16 fits float32
    acc = torch.zeros(1, 64, 256, dtype=torch.float16)
    for j in range(prods.shape[2]):  # a float16 accumulator: one rounding per add
        acc = (acc.float() + prods[:, :, j]).half()
    with pytest.raises(AssertionError, match="nor a float32 tie"):
        check_rounded_once(acc.reshape(1, 64, 16, 16), x, w, False, padding=1)


def test_no_aten_float16_convolution_runs() -> None:
    x, w = _operands((1, 8, 9, 9), (8, 8, 3, 3), seed=4)
    with Float16Convolutions() as seen:
        conv2d_any(x, w, padding=1)
        conv2d_any(x, w.transpose(0, 1), stride=2, transpose=True)
        upfirdn2d(x, torch.tensor([1.0, 3.0, 3.0, 1.0]), up=2, padding=[2, 1, 2, 1], gain=4)
    assert seen.calls == []
    with Float16Convolutions() as control:  # the detector does see torch's own float16 kernel
        F.conv2d(x, w)
    assert len(control.calls) == 1


def test_upfirdn2d_in_float16_is_the_exact_filter_rounded_once() -> None:
    x, _ = _operands((1, 16, 8, 8), (1, 1, 1, 1), seed=5)
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    up = upfirdn2d(x, f, up=2, padding=[2, 1, 2, 1], gain=4)
    exact = upfirdn2d_reference(x.double(), f.double(), up=2, padding=[2, 1, 2, 1], gain=4)
    # The taps (k/64, gain 4 -> k/16) and float16 inputs make every product and every 4-term sum exact
    # in float32, so there are no ties at all here.
    assert up.dtype == torch.float16
    assert torch.equal(up.double(), round_to_float16(exact))


def test_round_to_float16_rounds_once_with_ties_to_even() -> None:
    one = 1.0
    cases = {
        one + 2**-11 + 2**-40: one + 2**-10,  # torch's float64 -> float32 -> float16 would give 1.0
        one + 2**-11: one,  # tie: to even
        one + 3 * 2**-11: one + 2**-9,  # tie: to even
        2.0**-25 + 2.0**-40: 2.0**-24,  # subnormal
        70000.0: float("inf"),
    }
    got = round_to_float16(torch.tensor(list(cases), dtype=torch.float64))
    assert got.tolist() == list(cases.values())
