"""StyleGAN3 building blocks: filter design, the fast filtered leaky ReLU, modulated convolution."""

from __future__ import annotations

import functools
import math
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from renderer.nets.ops import filtered_lrelu as flrelu_module
from renderer.nets.ops import flrelu_depthwise, sg3_modconv
from renderer.nets.ops.filtered_lrelu import FilteredLReLUPlan, filtered_lrelu, filtered_lrelu_reference
from renderer.nets.ops.filters import (
    bessel_j1,
    design_lowpass,
    kaiser_attenuation,
    kaiser_beta,
    lowpass_kaiser_sinc,
    lowpass_radial_jinc,
)
from renderer.nets.ops.layout import canonical_channels_last
from renderer.nets.ops.sg3_modconv import modulated_conv2d

# ----------------------------------------------------------------------------------------------- filters


def _j1_series(x: float) -> float:
    return sum((-1) ** m / (math.factorial(m) * math.factorial(m + 1)) * (x / 2) ** (2 * m + 1) for m in range(40))


def _j1_asymptotic(x: float) -> float:
    """Hankel's expansion of J1 for large x (4 terms of P and Q)."""
    mu = 4.0
    p, q, term = 0.0, 0.0, 1.0
    for k in range(8):
        if k > 0:
            term *= (mu - (2 * k - 1) ** 2) / (k * 8 * x)
        if k % 2 == 0:
            p += (-1) ** (k // 2) * term
        else:
            q += (-1) ** (k // 2) * term
    w = x - 3 * math.pi / 4
    return math.sqrt(2 / (math.pi * x)) * (p * math.cos(w) - q * math.sin(w))


def test_bessel_j1_against_series_asymptotics_and_constants() -> None:
    small = np.linspace(0, 8, 33)
    assert np.abs(bessel_j1(small) - [_j1_series(v) for v in small]).max() < 1e-12
    large = np.array([150.0, 200.0, 333.3])
    assert np.abs(bessel_j1(large) - [_j1_asymptotic(v) for v in large]).max() < 1e-12
    assert abs(float(bessel_j1(1.0)) - 0.44005058574493355) < 1e-15
    assert abs(float(bessel_j1(3.8317059702075125))) < 1e-14  # first zero
    assert np.allclose(bessel_j1(-small), -bessel_j1(small), atol=1e-15)  # odd function


def test_kaiser_formulas_regimes() -> None:
    assert kaiser_beta(10.0) == 0.0
    assert kaiser_beta(60.0) == pytest.approx(0.1102 * (60.0 - 8.7))
    assert 0 < kaiser_beta(30.0) < kaiser_beta(45.0) < kaiser_beta(60.0)
    assert kaiser_attenuation(12, 0.5) > kaiser_attenuation(6, 0.5)


@pytest.mark.parametrize("numtaps,cutoff,width,fs", [(12, 2.0, 12.0, 32.0), (24, 4.0, 20.0, 64.0), (7, 10.0, 8.0, 40.0)])
def test_kaiser_sinc_lowpass_properties(numtaps: int, cutoff: float, width: float, fs: float) -> None:
    taps = lowpass_kaiser_sinc(numtaps, cutoff, width, fs)
    assert taps.shape == (numtaps,)
    assert taps.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(taps, taps[::-1], atol=1e-15)
    freq = np.fft.rfftfreq(4096, d=1 / fs)
    response = np.abs(np.fft.rfft(taps, 4096))
    assert response[freq <= cutoff * 0.25].min() > 0.9  # passes low frequencies
    assert response[freq >= cutoff + width].max() < 0.2  # stops beyond the transition band


def test_radial_lowpass_properties() -> None:
    taps = lowpass_radial_jinc(12, 8.0, 16.0, 64.0)
    assert taps.shape == (12, 12) and taps.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(taps, taps.T) and np.allclose(taps, taps[::-1]) and np.allclose(taps, taps[:, ::-1])
    odd = lowpass_radial_jinc(9, 8.0, 16.0, 64.0)  # has a sample at r = 0
    assert np.isfinite(odd).all() and odd[4, 4] == odd.max()
    assert design_lowpass(1, 2.0, 1.0, 8.0) is None
    assert design_lowpass(12, 8.0, 16.0, 64.0, radial=True).dtype == np.float32
    with pytest.raises(ValueError, match="cutoff"):
        lowpass_kaiser_sinc(12, 40.0, 4.0, 64.0)


# ----------------------------------------------------------------------------------------------- filtered lrelu


def _random_filter(rng: np.random.Generator, taps: int, two_d: bool) -> torch.Tensor | None:
    if taps == 1 and not two_d:
        return None
    shape = (taps, taps) if two_d else (taps,)
    return torch.from_numpy(rng.uniform(-0.2, 1.0, size=shape)).to(torch.float64)


@settings(max_examples=50, deadline=None)
@given(
    up=st.integers(1, 4),
    down=st.integers(1, 3),
    up_taps_per=st.integers(0, 6),
    down_taps=st.integers(1, 13),
    up_2d=st.booleans(),
    down_2d=st.booleans(),
    pads=st.lists(st.integers(-6, 14), min_size=4, max_size=4),
    size=st.tuples(st.integers(3, 20), st.integers(3, 20)),
    batch=st.integers(1, 2),
    channels=st.integers(1, 3),
    slope=st.sampled_from([0.2, 1.0, 0.0]),
    clamp=st.sampled_from([None, 0.7]),
    seed=st.integers(0, 2**31 - 1),
)
def test_fast_filtered_lrelu_matches_definition(
    up, down, up_taps_per, down_taps, up_2d, down_2d, pads, size, batch, channels, slope, clamp, seed
) -> None:
    rng = np.random.default_rng(seed)
    up_taps = max(1, up_taps_per * up)
    fu = _random_filter(rng, up_taps, up_2d and up_taps > 1)
    fd = _random_filter(rng, down_taps, down_2d and down_taps > 1)
    h, w = size
    for n_in, p0, p1 in ((w, pads[0], pads[1]), (h, pads[2], pads[3])):
        assume(-p0 < n_in * up and -p1 < n_in * up)
        n_up = n_in * up + p0 + p1
        assume(n_up >= up_taps and n_up - up_taps + 1 >= down_taps)
    x = torch.from_numpy(rng.standard_normal((batch, channels, h, w)))
    b = torch.from_numpy(rng.standard_normal(channels))
    kwargs = dict(up=up, down=down, padding=pads, gain=1.7, slope=slope, clamp=clamp)
    ref = filtered_lrelu_reference(x, fu, fd, b, **kwargs)
    kernels = ["gemm"]
    if (fu.ndim == 1 if fu is not None else up > 1) and fd is not None:
        kernels.append("depthwise")  # the CPU default wherever it applies
    # float64 rounding scales with the magnitude (gain and a 4x up-sampling reach ~3e4 here)
    tol = 1e-11 * max(1.0, float(ref.abs().max()))
    for kernel in kernels:
        fast = filtered_lrelu(x, fu, fd, b, **kwargs, kernel=kernel)
        assert fast.shape == ref.shape
        assert (fast - ref).abs().max() < tol, kernel


@pytest.mark.parametrize(
    "up,fu_taps,pad,radial",
    [(2, 12, [9, 8, 9, 8], False), (4, 24, [-6, -9, -6, -9], False), (2, 12, [11, 10, 11, 10], True)],
)
def test_fast_filtered_lrelu_blocked_path_and_chunks(monkeypatch, up, fu_taps, pad, radial) -> None:
    """Large axes run as blocks of a banded GEMM (forced here with a small block window); chunking
    over channel planes must not change results."""
    monkeypatch.setattr(flrelu_module, "TARGET_WINDOW_UP", 16)
    monkeypatch.setattr(flrelu_module, "TARGET_WINDOW_DOWN", 16)
    rng = np.random.default_rng(1)
    size = 40
    fu = _random_filter(rng, fu_taps, False)
    fd = _random_filter(rng, 12, radial)
    x = torch.from_numpy(rng.standard_normal((2, 3, size, size)))
    b = torch.from_numpy(rng.standard_normal(3))
    ref = filtered_lrelu_reference(x, fu, fd, b, up, 2, pad, 1.4, 0.2, 1.5)
    plan = FilteredLReLUPlan(fu, fd, 3, (size, size), up, 2, pad, 1.4, 0.2, 1.5, dtype=torch.float64, kernel="gemm")
    assert plan.up_w.blocks > 1 and plan.up_h.blocks > 1, "expected the blocked path"
    if not radial:
        assert plan.down_w.blocks > 1 and plan.down_h.blocks > 1
    whole = plan.apply(x, b)
    assert (whole - ref).abs().max() < 1e-11
    for chunk_rows in (2, 4):  # 6 planes: three chunks of 2, then two of 3 (equal split, no remainder)
        plan.chunk_rows = chunk_rows
        assert torch.equal(whole, plan.apply(x, b))


@pytest.mark.parametrize("kernel", ["gemm", "depthwise"])
@pytest.mark.parametrize("radial", [False, True])
def test_filtered_lrelu_gradients_match_definition(kernel: str, radial: bool) -> None:
    """Projection back-propagates through the op: the fast paths' gradients must be right too."""
    rng = np.random.default_rng(2)
    fu, fd = _random_filter(rng, 12, False), _random_filter(rng, 12, radial)
    x0 = torch.from_numpy(rng.standard_normal((2, 3, 14, 14)))
    b0 = torch.from_numpy(rng.standard_normal(3))
    weights = None
    grads = []
    for fn in (filtered_lrelu_reference, functools.partial(filtered_lrelu, kernel=kernel)):
        x, b = x0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
        out = fn(x, fu, fd, b, up=2, down=2, padding=[9, 8, 9, 8], gain=1.4, slope=0.2, clamp=1.0)
        if weights is None:
            weights = torch.from_numpy(rng.standard_normal(tuple(out.shape)))
        (out * weights).sum().backward()
        grads.append((x.grad, b.grad))
    assert (grads[0][0] - grads[1][0]).abs().max() < 1e-11
    assert (grads[0][1] - grads[1][1]).abs().max() < 1e-11


def test_cpu_plans_pick_the_depthwise_kernel_and_return_channels_last() -> None:
    rng = np.random.default_rng(3)
    fu, fd = _random_filter(rng, 24, False).float(), _random_filter(rng, 12, False).float()
    plan = FilteredLReLUPlan(fu, fd, 5, (30, 30), up=4, down=2, padding=[20, 19, 20, 19])
    assert plan.kernel == "depthwise"
    out = plan.apply(torch.randn(1, 5, 30, 30))
    assert out.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(ValueError, match="depthwise"):
        FilteredLReLUPlan(None, None, 3, (8, 8), kernel="depthwise")
    with pytest.raises(ValueError, match="kernel"):
        FilteredLReLUPlan(fu, fd, 3, (8, 8), up=4, down=2, padding=20, kernel="fastest")


def test_batch_one_maps_get_canonical_channels_last_strides_without_a_copy() -> None:
    """oneDNN hands back batch-1 maps with an odd batch stride; they must be restrided, not copied."""
    base = torch.randn(1, 7, 9, 11).contiguous(memory_format=torch.channels_last)
    odd = base.as_strided(base.shape, (7, 1, 11 * 7, 7))
    assert odd.is_contiguous(memory_format=torch.channels_last)
    fixed = canonical_channels_last(odd)
    assert fixed.stride() == (7 * 9 * 11, 1, 11 * 7, 7)
    assert fixed.data_ptr() == base.data_ptr() and torch.equal(fixed, base)
    nchw = torch.randn(2, 3, 4, 5)
    assert torch.equal(canonical_channels_last(nchw), nchw)
    assert canonical_channels_last(nchw).is_contiguous(memory_format=torch.channels_last)


def test_plan_refuses_wrong_input() -> None:
    plan = FilteredLReLUPlan(torch.ones(4) / 4, None, 3, (8, 8), up=2, padding=1)
    with pytest.raises(ValueError, match=r"\[\*, 3, 8, 8\]"):
        plan.apply(torch.zeros(1, 3, 9, 8))
    with pytest.raises(ValueError, match="no output"):
        FilteredLReLUPlan(torch.ones(12), None, 1, (4, 4), up=1, padding=-2)
    with pytest.raises(ValueError, match="gain"):
        FilteredLReLUPlan(None, None, 1, (4, 4), gain=0.0)


def test_plan_does_not_modify_its_input() -> None:
    x = torch.randn(1, 2, 6, 6)
    keep = x.clone()
    for padding in (0, [-1, -2, 0, -1]):
        FilteredLReLUPlan(None, None, 2, (6, 6), padding=padding, gain=1.0, slope=0.2, clamp=0.1).apply(x)
        assert torch.equal(x, keep)


# ----------------------------------------------------------------------------------------------- modulated conv


def _modconv_literal(x, weight, styles, demodulate, padding, input_gain):
    """Per-sample modulated weights, styles normalised over the whole batch (the textbook form)."""
    w, s = weight, styles
    if demodulate:
        w = w * w.square().mean([1, 2, 3], keepdim=True).rsqrt()
        s = s * s.square().mean().rsqrt()
    outs = []
    for i in range(x.shape[0]):
        wi = w * s[i][None, :, None, None]
        if demodulate:
            wi = wi * (wi.square().sum([1, 2, 3], keepdim=True) + 1e-8).rsqrt()
        if input_gain is not None:
            wi = wi * input_gain
        outs.append(torch.nn.functional.conv2d(x[i : i + 1], wi, padding=padding))
    return torch.cat(outs)


@pytest.mark.parametrize("demodulate,kernel", [(True, 3), (True, 1), (False, 1)])
def test_modulated_conv_forms_agree(demodulate: bool, kernel: int) -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 5, 7, 7, generator=g, dtype=torch.float64)
    weight = torch.randn(4, 5, kernel, kernel, generator=g, dtype=torch.float64)
    styles = torch.randn(3, 5, generator=g, dtype=torch.float64) + 1
    gain = torch.tensor(0.8, dtype=torch.float64)
    bias = torch.randn(4, generator=g, dtype=torch.float64)
    ref = _modconv_literal(x, weight, styles, demodulate, kernel - 1, gain) + bias[None, :, None, None]
    for mode in ("fused", "scaled", "per_sample", "auto"):
        out = modulated_conv2d(x, weight, styles, demodulate, kernel - 1, gain, bias, mode=mode)
        # the weight math runs in float32 by design, hence the float32-level tolerance
        assert (out - ref).abs().max() < 2e-5 * ref.abs().max(), mode


def test_modulated_conv_sample_is_independent_of_its_batch() -> None:
    g = torch.Generator().manual_seed(4)
    x = torch.randn(4, 6, 9, 9, generator=g)
    weight = torch.randn(5, 6, 3, 3, generator=g)
    styles = torch.randn(4, 6, generator=g) * torch.tensor([[1.0], [10.0], [0.1], [3.0]])
    batched = modulated_conv2d(x, weight, styles, padding=2, mode="scaled")
    for i in range(4):
        single = modulated_conv2d(x[i : i + 1], weight, styles[i : i + 1], padding=2, mode="fused")
        assert (batched[i : i + 1] - single).abs().max() < 1e-5


def test_large_cpu_batches_run_sample_by_sample_exactly_as_single_renders(monkeypatch) -> None:
    """Above PER_SAMPLE_BYTES per sample a CPU batch takes the per-sample form: each sample then gets
    exactly its single render's result (per-sample input gains included), in the input's memory format."""
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 6, 9, 9, generator=g).contiguous(memory_format=torch.channels_last)
    weight, styles = torch.randn(5, 6, 3, 3, generator=g), torch.randn(3, 6, generator=g) + 2
    gains, bias = torch.rand(3, 6, generator=g) + 0.5, torch.randn(5, generator=g)
    sample_bytes = 6 * 9 * 9 * 4
    assert sg3_modconv.pick_mode(3, torch.device("cpu"), sample_bytes) == "scaled"
    monkeypatch.setattr(sg3_modconv, "PER_SAMPLE_BYTES", sample_bytes - 1)
    assert sg3_modconv.pick_mode(3, torch.device("cpu"), sample_bytes) == "per_sample"
    assert sg3_modconv.pick_mode(1, torch.device("cpu"), sample_bytes) == "fused"
    batched = modulated_conv2d(x, weight, styles, padding=2, input_gain=gains, bias=bias)
    assert batched.is_contiguous(memory_format=torch.channels_last)
    for i in range(3):
        single = modulated_conv2d(x[i : i + 1], weight, styles[i : i + 1], padding=2, input_gain=gains[i : i + 1], bias=bias)
        assert torch.equal(batched[i : i + 1], single)


def test_modulated_conv_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        modulated_conv2d(torch.zeros(2, 3, 4, 4), torch.zeros(2, 4, 3, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="mode"):
        modulated_conv2d(torch.zeros(1, 3, 4, 4), torch.zeros(2, 3, 1, 1), torch.ones(1, 3), mode="grouped")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_filtered_lrelu_on_cuda_float32_and_float16() -> None:
    rng = np.random.default_rng(5)
    fu, fd = _random_filter(rng, 12, False).float(), _random_filter(rng, 12, False).float()
    x = torch.from_numpy(rng.standard_normal((2, 4, 20, 20))).float()
    ref = filtered_lrelu_reference(x, fu, fd, None, 2, 2, [9, 8, 9, 8], 1.4, 0.2, 256.0)
    for dtype, tol in ((torch.float32, 1e-4), (torch.float16, 5e-2)):
        out = filtered_lrelu(x.cuda().to(dtype), fu.cuda(), fd.cuda(), None, 2, 2, [9, 8, 9, 8], 1.4, 0.2, 256.0)
        assert out.dtype == dtype
        assert (out.float().cpu() - ref).abs().max() < tol * ref.abs().max()


def test_depthwise_kernel_splits_large_batches_without_changing_results(monkeypatch) -> None:
    """Batches whose up-sampled intermediate would leave the cache run a few samples at a time."""
    rng = np.random.default_rng(6)
    fu, fd = _random_filter(rng, 12, False), _random_filter(rng, 12, False)
    x = torch.from_numpy(rng.standard_normal((5, 3, 20, 20)))
    args = (fu, fd, 3, (20, 20), 2, 2, [9, 8, 9, 8], 1.4, 0.2, 1.5, "cpu", torch.float64, "depthwise")
    whole = FilteredLReLUPlan(*args)
    tmp = 20 * 2 + 9 + 8 - 12 + 1  # up-sampled size
    monkeypatch.setattr(flrelu_depthwise, "BATCH_CHUNK_BYTES", 2 * 3 * tmp * tmp * 8)  # two samples per call
    split = FilteredLReLUPlan(*args)
    assert whole.depthwise.samples_per_call >= 5 and split.depthwise.samples_per_call == 2
    ref = filtered_lrelu_reference(x, fu, fd, None, 2, 2, [9, 8, 9, 8], 1.4, 0.2, 1.5)
    out = split.apply(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(out, whole.apply(x)) and (out - ref).abs().max() < 1e-11
    xg = x.clone().requires_grad_(True)
    split.apply(xg).sum().backward()
    xr = x.clone().requires_grad_(True)
    filtered_lrelu_reference(xr, fu, fd, None, 2, 2, [9, 8, 9, 8], 1.4, 0.2, 1.5).sum().backward()
    assert (xg.grad - xr.grad).abs().max() < 1e-11


@settings(max_examples=40, deadline=None)
@given(
    up=st.sampled_from([2, 4]),
    down=st.integers(1, 3),
    down_taps=st.integers(1, 13),
    radial=st.booleans(),
    pads=st.lists(st.integers(-4, 14), min_size=4, max_size=4),
    size=st.tuples(st.integers(3, 16), st.integers(3, 16)),
    batch=st.integers(1, 2),
    channels=st.integers(1, 5),
    tile_channels=st.integers(1, 5),
    tile_fraction=st.floats(0.0, 0.49),
    seed=st.integers(0, 2**31 - 1),
)
def test_depthwise_tiles_match_definition(
    up, down, down_taps, radial, pads, size, batch, channels, tile_channels, tile_fraction, seed
) -> None:
    """Samples too large for the cache run in tiles (channel groups x bands of output rows): every
    geometry (crops, zero padding, up-sampling by 4, radial filters) must give the definition's result."""
    rng = np.random.default_rng(seed)
    fu = _random_filter(rng, 6 * up, False)
    fd = _random_filter(rng, down_taps, radial and down_taps > 1)
    if fd is None:
        fd = torch.ones(1, dtype=torch.float64)
    h, w = size
    for n_in, p0, p1 in ((w, pads[0], pads[1]), (h, pads[2], pads[3])):
        n_up = n_in * up + p0 + p1
        assume(n_up >= 6 * up and n_up - 6 * up + 1 >= down_taps)
    tmp_h, tmp_w = h * up + pads[2] + pads[3] - 6 * up + 1, w * up + pads[0] + pads[1] - 6 * up + 1
    sample_bytes = channels * tmp_h * tmp_w * 8
    x = torch.from_numpy(rng.standard_normal((batch, channels, h, w)))
    b = torch.from_numpy(rng.standard_normal(channels))
    kwargs = dict(up=up, down=down, padding=pads, gain=1.7, slope=0.2, clamp=2.5)
    ref = filtered_lrelu_reference(x, fu, fd, b, **kwargs)
    tile_bytes = max(1, int(sample_bytes * tile_fraction))
    with (
        mock.patch.object(flrelu_depthwise, "TILE_BYTES", tile_bytes),
        mock.patch.object(flrelu_depthwise, "TILE_CHANNELS", tile_channels),
    ):
        plan = FilteredLReLUPlan(fu, fd, channels, (h, w), dtype=torch.float64, kernel="depthwise", **kwargs)
    dw = plan.depthwise
    assert dw.tile_channels == min(channels, tile_channels)
    assume(dw.tiled)  # (a single output row in a single channel group is one tile)
    out = plan.apply(x, b)
    assert out.shape == ref.shape and out.is_contiguous(memory_format=torch.channels_last)
    assert (out - ref).abs().max() < 1e-11 * max(1.0, float(ref.abs().max()))


def test_depthwise_tiles_keep_float32_results_and_gradients(monkeypatch) -> None:
    """Bands of rows over whole channel sets sum the same products as one call: identical float32
    output; gradients flow through the tiles as through the definition."""
    rng = np.random.default_rng(8)
    fu, fd = _random_filter(rng, 12, False), _random_filter(rng, 12, False)
    args = (fu.float(), fd.float(), 16, (30, 30), 2, 2, [9, 8, 9, 8], 1.4, 0.2, 1.5, "cpu", torch.float32, "depthwise")
    whole = FilteredLReLUPlan(*args)
    monkeypatch.setattr(flrelu_depthwise, "TILE_BYTES", 16 * 66 * 4 * 15)  # 15 up-sampled rows (66 wide)
    monkeypatch.setattr(flrelu_depthwise, "TILE_CHANNELS", 16)
    tiled = FilteredLReLUPlan(*args)
    assert tiled.depthwise.tile_rows == 2 and tiled.depthwise.tile_channels == 16
    x = torch.randn(2, 16, 30, 30)
    assert torch.equal(tiled.apply(x), whole.apply(x))
    x64 = torch.from_numpy(rng.standard_normal((1, 3, 12, 12))).requires_grad_(True)
    monkeypatch.setattr(flrelu_depthwise, "TILE_BYTES", 8)
    monkeypatch.setattr(flrelu_depthwise, "TILE_CHANNELS", 2)
    plan = FilteredLReLUPlan(fu, fd, 3, (12, 12), 2, 2, [9, 8, 9, 8], 1.4, 0.2, 1.0, "cpu", torch.float64, "depthwise")
    assert plan.depthwise.tiled
    weights = torch.from_numpy(rng.standard_normal((1, 3, 10, 10)))
    (plan.apply(x64) * weights).sum().backward()
    xr = x64.detach().clone().requires_grad_(True)
    (filtered_lrelu_reference(xr, fu, fd, None, 2, 2, [9, 8, 9, 8], 1.4, 0.2, 1.0) * weights).sum().backward()
    assert (x64.grad - xr.grad).abs().max() < 1e-11
