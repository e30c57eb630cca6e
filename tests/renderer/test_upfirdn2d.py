"""upfirdn2d: fast paths equal the direct definition; helpers keep the official size/gain conventions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from renderer.nets.ops.upfirdn2d import (
    downsample2d,
    filter2d,
    setup_filter,
    upfirdn2d,
    upfirdn2d_reference,
    upsample2d,
)


def _numpy_upfirdn1d(x: np.ndarray, taps: np.ndarray, up: int, down: int, p0: int, p1: int) -> np.ndarray:
    """Independent 1-D definition along the last axis: insert zeros, pad, valid convolution, decimate."""
    z = np.zeros(x.shape[:-1] + (x.shape[-1] * up,))
    z[..., ::up] = x
    if p0 < 0:
        z = z[..., -p0:]
    if p1 < 0:
        z = z[..., : z.shape[-1] + p1]
    z = np.pad(z, [(0, 0)] * (z.ndim - 1) + [(max(p0, 0), max(p1, 0))])
    out = np.apply_along_axis(lambda v: np.convolve(v, taps, mode="valid"), -1, z)
    return out[..., ::down]


FILTERS = {
    "separable-12": lambda: setup_filter(np.arange(1, 13)),  # >= 8 taps: kept 1-D
    "dense-4x4": lambda: setup_filter([1, 3, 3, 1]),  # short outer product: one dense pass
    "rank1-8x8": lambda: setup_filter(np.arange(1, 9), separable=False),  # long outer product: two passes
    "dense-3x4": lambda: torch.tensor([[1.0, -2.0, 0.5, 3.0], [0.25, 1.0, -1.0, 2.0], [2.0, 0.0, 1.0, -0.5]]),
    "identity": lambda: None,
}


@pytest.mark.parametrize("fname", sorted(FILTERS))
@pytest.mark.parametrize("up,down", [(1, 1), (2, 1), (1, 2), ((3, 2), (2, 3))])
@pytest.mark.parametrize("padding", [0, [1, -1, 3, 0]])
@pytest.mark.parametrize("flip", [False, True])
def test_fast_paths_match_direct_definition(fname, up, down, padding, flip) -> None:
    torch.manual_seed(0)
    f = FILTERS[fname]()
    x = torch.randn(2, 3, 13, 14, dtype=torch.float64)
    fx = None if f is None else f.to(torch.float64)
    fast = upfirdn2d(x, fx, up=up, down=down, padding=padding, flip_filter=flip, gain=1.5)
    ref = upfirdn2d_reference(x, fx, up=up, down=down, padding=padding, flip_filter=flip, gain=1.5)
    assert fast.shape == ref.shape
    # The rank-1 split factors a float32 filter whose entries were rounded independently, so it is
    # exact only to float32 precision (~1e-7 relative); every other path is exact to float64 rounding.
    tol = 1e-6 if fname == "rank1-8x8" else 1e-10
    torch.testing.assert_close(fast, ref, rtol=tol, atol=tol)


@settings(max_examples=25, deadline=None)
@given(
    taps=st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=6),
    up=st.integers(1, 3),
    down=st.integers(1, 3),
    p0=st.integers(-1, 4),
    p1=st.integers(-1, 4),
)
def test_separable_filter_matches_numpy_definition(taps, up, down, p0, p1) -> None:
    x = np.random.RandomState(1).randn(1, 2, 7, 8)
    f = torch.tensor(taps, dtype=torch.float64)
    if 7 * up + p0 + p1 < len(taps) or 8 * up + p0 + p1 < len(taps):
        with pytest.raises(ValueError, match="smaller than the filter"):
            upfirdn2d(torch.from_numpy(x), f, up=up, down=down, padding=[p0, p1, p0, p1])
        return
    got = upfirdn2d(torch.from_numpy(x), f, up=up, down=down, padding=[p0, p1, p0, p1]).numpy()
    t = np.asarray(taps)
    want = _numpy_upfirdn1d(x, t, up, down, p0, p1)  # along x
    want = np.swapaxes(_numpy_upfirdn1d(np.swapaxes(want, -1, -2), t, up, down, p0, p1), -1, -2)  # along y
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_setup_filter_conventions() -> None:
    f = setup_filter([1, 3, 3, 1])
    assert f.shape == (4, 4) and f.dtype == torch.float32
    assert torch.equal(f, torch.outer(torch.tensor([1.0, 3, 3, 1]), torch.tensor([1.0, 3, 3, 1])) / 64)
    assert setup_filter(np.ones(8)).shape == (8,)  # long 1-D filters stay separable
    assert setup_filter([1, 3, 3, 1], separable=True).shape == (4,)
    assert torch.equal(setup_filter(None), torch.ones(1, 1))
    assert float(setup_filter([1, 2], normalize=False).sum()) == 9.0
    assert torch.allclose(setup_filter([1, 3, 3, 1], gain=4).sum(), torch.tensor(4.0))
    flipped = setup_filter([[1, 2], [3, 4]], flip_filter=True, normalize=False)
    assert torch.equal(flipped, torch.tensor([[4.0, 3], [2, 1]]))
    with pytest.raises(ValueError):
        setup_filter(np.ones([2, 2, 2]))


def test_helpers_keep_sizes_and_dc_gain() -> None:
    f = setup_filter([1, 3, 3, 1])
    x = torch.ones(1, 2, 16, 16)
    up = upsample2d(x, f)
    down = downsample2d(x, f)
    same = filter2d(x, f)
    assert up.shape == (1, 2, 32, 32) and down.shape == (1, 2, 8, 8) and same.shape == (1, 2, 16, 16)
    # A constant signal keeps its value away from the zero-padded border.
    for y in (up[..., 4:-4, 4:-4], down[..., 2:-2, 2:-2], same[..., 2:-2, 2:-2]):
        torch.testing.assert_close(y, torch.ones_like(y))
    assert upsample2d(x, f, up=4).shape == (1, 2, 64, 64)
    assert downsample2d(x, f, padding=1).shape == (1, 2, 9, 9)


def test_upsample_impulse_response_is_the_scaled_filter() -> None:
    f = setup_filter([1, 3, 3, 1])
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 3, 3] = 1.0
    y = upsample2d(x, f)[0, 0]
    taps = torch.tensor([1.0, 3, 3, 1]) / 4  # per-axis gain 2 keeps the mean of the upsampled signal
    torch.testing.assert_close(y[5:9, 5:9], torch.outer(taps, taps))
    assert float(y.sum()) == pytest.approx(4.0)


def test_float16_runs_and_stays_close() -> None:
    torch.manual_seed(0)
    f = setup_filter([1, 3, 3, 1])
    x = torch.randn(1, 4, 8, 8)
    for fn in (upsample2d, downsample2d, filter2d):
        y16 = fn(x.half(), f)
        assert y16.dtype == torch.float16
        torch.testing.assert_close(y16.float(), fn(x, f), rtol=0, atol=1e-2)


def test_gradients_match_the_direct_definition() -> None:
    torch.manual_seed(0)
    f = setup_filter([1, 3, 3, 1]).double()
    for kwargs in (dict(up=2, padding=[2, 1, 2, 1]), dict(down=2, padding=1)):
        grads = []
        for fn in (upfirdn2d, upfirdn2d_reference):
            x = torch.randn(1, 2, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
            x.requires_grad_(True)
            y = fn(x, f, **kwargs)
            (y * torch.linspace(-1, 1, y.numel(), dtype=torch.float64).reshape(y.shape)).sum().backward()
            grads.append(x.grad)
        assert grads[0].abs().sum() > 0
        torch.testing.assert_close(grads[0], grads[1])


def test_bad_arguments_are_rejected() -> None:
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="smaller than the filter"):
        upfirdn2d(x, torch.ones(5, 5))
    with pytest.raises(ValueError, match=">= 1"):
        upfirdn2d(x, None, up=0)
    with pytest.raises(ValueError, match="padding"):
        upfirdn2d(x, None, padding=[1, 2, 3])
    with pytest.raises(ValueError, match="batch, channels"):
        upfirdn2d(torch.zeros(2, 2), None)
