"""Filtered leaky ReLU as depthwise (transposed) convolutions on channels-last maps: the CPU kernel.

Why: on the CPU, oneDNN's depthwise convolutions over channels-last [N, H, W, C] memory vectorise
across channels and touch every sample once, with no zero taps: measured on the 2-core box the
whole op runs 2.5-3x faster than with banded GEMMs (`FilteredLReLUPlan`'s portable kernel, which
multiplies many zeros to stay in GEMM shape) on every layer of a 128-px StyleGAN3-T, e.g. 1.3 vs
3.4 ms on its first 148-px layer.

Each filter pass is one depthwise convolution along one axis:

* up-sampling by `up` with padding is a transposed convolution with stride `up` (the zero-insertion
  is implicit), cropped to the requested window by the convolution's own `padding` argument;
* down-sampling is a strided 'valid' convolution with the flipped taps (a 2-D radial filter becomes
  one 2-D strided convolution).

The result keeps channels-last memory, which the next layer's convolution reads as fast or faster.
Batches run a few samples per call, and a sample whose up-sampled intermediate is far larger than
the cache runs in tiles (channel groups x bands of output rows): on a 256-px StyleGAN3-T at full
width that made the whole synthesis 1.3x faster, mostly by no longer page-faulting in a fresh
200-300 MB buffer per layer (see TILE_BYTES).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from renderer.nets.ops.layout import canonical_channels_last


@dataclass(frozen=True)
class _UpAxis:
    """Geometry of an up-sampling pass along one axis as one transposed convolution.

    The wanted outputs are a window of the full transposed-convolution output. Zero taps added in
    front of (or behind) the filter shift that window until it sits symmetrically, so the
    convolution's own `padding` crops exactly it: the result is dense, with no slicing copy after.
    """

    pad_in_lo: int  # zero samples added before the input (only when the window starts before it)
    pad_in_hi: int
    lead_zeros: int  # zero taps before the filter
    trail_zeros: int  # zero taps after it
    crop: int  # conv_transpose2d padding


def _up_axis(n_in: int, up: int, taps: int, pad0: int, pad1: int) -> _UpAxis:
    """Place the wanted outputs of an up-sampling pass in the transposed convolution's output."""
    n_out = n_in * up + pad0 + pad1 - taps + 1
    c = taps - 1 - pad0  # wanted output o is full output o + c
    lo = -(-max(0, -c) // up)
    c += lo * up
    full = (n_in + lo - 1) * up + taps
    hi = -(-max(0, c + n_out - full) // up)
    full += hi * up
    right = full - c - n_out  # excess on the right; c is the excess on the left
    return _UpAxis(lo, hi, max(0, right - c), max(0, c - right), max(c, right))


# Bytes of up-sampled intermediate per call: a batch is split into groups of samples so the
# intermediate stays in the last-level cache (a batch of 8 at 148 px otherwise runs 3x slower per image).
BATCH_CHUNK_BYTES = 8 << 20
# When one sample alone is far larger (the wide, high-resolution layers of full-size networks: 190 MB
# on the first 148-px layer of a 256-px StyleGAN3-T), it runs in tiles of about this many bytes of
# intermediate: groups of TILE_CHANNELS channels, then bands of output rows. Every buffer stays small
# and cache-resident instead of being a fresh multi-hundred-megabyte allocation that the C allocator
# maps and page-faults in on every call.
TILE_BYTES = 8 << 20
TILE_CHANNELS = 32


@dataclass(frozen=True)
class _Taps:
    """The prepared per-channel weights of the four passes (or three with a 2-D down filter)."""

    up_w: torch.Tensor
    up_h: torch.Tensor
    down_h: torch.Tensor | None
    down_w: torch.Tensor | None
    down_2d: torch.Tensor | None

    def channels(self, c0: int, c1: int) -> _Taps:
        def part(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t[c0:c1]

        return _Taps(*(part(t) for t in (self.up_w, self.up_h, self.down_h, self.down_w, self.down_2d)))


class DepthwiseFilteredLReLU:
    """Filtered leaky ReLU for one layer geometry, as channels-last depthwise convolutions.

    fu_taps: 1-D up-sampling taps as designed (this class applies the up-sampling gain and `gain`);
    fd: 1-D taps or a square 2-D (radial) down-sampling filter. Geometry and the other arguments
    as `FilteredLReLUPlan`'s.
    """

    def __init__(
        self,
        fu_taps: np.ndarray,
        fd: np.ndarray,
        channels: int,
        in_size: tuple[int, int],
        up: int,
        down: int,
        padding: tuple[int, int, int, int],
        gain: float,
        slope: float,
        clamp: float | None,
        device: torch.device | str,
        dtype: torch.dtype,
    ) -> None:
        px0, px1, py0, py1 = padding
        ku = len(fu_taps)
        self.up, self.down, self.slope, self.clamp = up, down, slope, clamp
        self.ax_w = _up_axis(in_size[1], up, ku, px0, px1)
        self.ax_h = _up_axis(in_size[0], up, ku, py0, py1)

        def weights(k: np.ndarray, shape: tuple[int, ...]) -> torch.Tensor:
            # round in numpy: no float64 torch tensor is made (MPS has none) unless dtype asks for it
            k = np.array(k, dtype=np.float64 if dtype == torch.float64 else np.float32, order="C")  # a copy
            t = torch.from_numpy(k).to(dtype=dtype, device=device)
            return t.reshape(1, 1, *shape).expand(channels, 1, *shape).contiguous()

        def up_taps(ax: _UpAxis, scale: float) -> np.ndarray:
            return np.concatenate([np.zeros(ax.lead_zeros), fu_taps * scale, np.zeros(ax.trail_zeros)])

        # transposed convolution: y[m] = sum_i x[i] * w[m - i*up] (taps not flipped)
        taps_w, taps_h = up_taps(self.ax_w, up * gain), up_taps(self.ax_h, up)
        # 'valid' convolution of the reference = correlation with the flipped taps
        kd = fd.shape[0]
        self.taps = _Taps(
            up_w=weights(taps_w, (1, len(taps_w))),
            up_h=weights(taps_h, (len(taps_h), 1)),
            down_h=None if fd.ndim == 2 else weights(fd[::-1], (kd, 1)),
            down_w=None if fd.ndim == 2 else weights(fd[::-1], (1, kd)),
            down_2d=weights(fd[::-1, ::-1], fd.shape) if fd.ndim == 2 else None,
        )
        self.channels, self.down_taps = channels, kd
        tmp_h, tmp_w = in_size[0] * up + py0 + py1 - ku + 1, in_size[1] * up + px0 + px1 - ku + 1
        self.tmp_w = tmp_w  # width of the up-sampled map
        self.out_rows = (tmp_h - kd) // down + 1
        item = torch.finfo(dtype).bits // 8
        sample_bytes = channels * tmp_h * tmp_w * item
        self.samples_per_call = max(1, BATCH_CHUNK_BYTES // sample_bytes)
        self.tile_channels, self.tile_rows = channels, self.out_rows
        if sample_bytes > 2 * TILE_BYTES:
            self.tile_channels = min(channels, TILE_CHANNELS)
            band = TILE_BYTES // (self.tile_channels * tmp_w * item)  # up-sampled rows per tile
            self.tile_rows = min(self.out_rows, max(1, (band - kd) // down + 1))

    @property
    def tiled(self) -> bool:
        return (self.tile_channels, self.tile_rows) != (self.channels, self.out_rows)

    def _up(self, x: torch.Tensor, ax: _UpAxis, w: torch.Tensor, dim: int) -> torch.Tensor:
        if ax.pad_in_lo or ax.pad_in_hi:
            pads = [ax.pad_in_lo, ax.pad_in_hi, 0, 0] if dim == 3 else [0, 0, ax.pad_in_lo, ax.pad_in_hi]
            x = F.pad(x, pads)
        stride, pad = ((1, self.up), (0, ax.crop)) if dim == 3 else ((self.up, 1), (ax.crop, 0))
        return F.conv_transpose2d(x, w, stride=stride, padding=pad, groups=x.shape[1])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, H, W] (any memory format; bias already added) -> [N, C, H', W'] channels-last."""
        n = x.shape[0]
        if self.tiled:
            return self._run_tiled(x)
        run, k = self._run, self.samples_per_call
        if n <= k:
            return run(x)
        first = run(x[:k])
        out = torch.empty([n, *first.shape[1:]], dtype=first.dtype, device=first.device, memory_format=torch.channels_last)
        out[:k] = first
        for i in range(k, n, k):
            out[i : i + k] = run(x[i : i + k])
        return out

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        x = canonical_channels_last(x)
        t = self._up(self._up(x, self.ax_w, self.taps.up_w, 3), self.ax_h, self.taps.up_h, 2)
        return self._act_down(t, self.taps)

    def _act_down(self, t: torch.Tensor, taps: _Taps) -> torch.Tensor:
        """The activation on the up-sampled map t, then the down-sampling passes."""
        inplace = not (torch.is_grad_enabled() and t.requires_grad)
        if self.slope != 1:
            t = F.leaky_relu_(t, self.slope) if inplace else F.leaky_relu(t, self.slope)
        if self.clamp is not None:
            t = t.clamp_(-self.clamp, self.clamp) if inplace else t.clamp(-self.clamp, self.clamp)
        t = canonical_channels_last(t)
        if taps.down_2d is not None:
            return F.conv2d(t, taps.down_2d, stride=self.down, groups=t.shape[1])
        assert taps.down_h is not None and taps.down_w is not None
        t = F.conv2d(t, taps.down_h, stride=(self.down, 1), groups=t.shape[1])
        return F.conv2d(t, taps.down_w, stride=(1, self.down), groups=t.shape[1])

    # (eager even under torch.compile: tracing would unroll dozens of tiles per layer into the graph,
    # and per-call overhead is nothing next to maps this large)
    @torch.compiler.disable
    def _run_tiled(self, x: torch.Tensor) -> torch.Tensor:
        """Sample by sample, tile by tile: a group of channels, a band of output rows.

        A band runs the whole chain on just the input rows it reads (the few halo rows between
        bands are computed twice). Every output sample sums the same products as in `_run`. Tiles
        are written straight into the output: no per-sample result is copied again.
        """
        out = None
        for i in range(x.shape[0]):
            sample = canonical_channels_last(x[i : i + 1])
            for c0 in range(0, self.channels, self.tile_channels):
                c1 = min(self.channels, c0 + self.tile_channels)
                group = sample if c1 - c0 == self.channels else sample[:, c0:c1].contiguous(memory_format=torch.channels_last)
                taps = self.taps.channels(c0, c1)
                for r0 in range(0, self.out_rows, self.tile_rows):
                    r1 = min(self.out_rows, r0 + self.tile_rows)
                    tile = self._band(group, taps, r0, r1)
                    if out is None:
                        shape = [x.shape[0], self.channels, self.out_rows, tile.shape[3]]
                        out = torch.empty(shape, dtype=tile.dtype, device=tile.device, memory_format=torch.channels_last)
                    out[i : i + 1, c0:c1, r0:r1] = tile
        assert out is not None
        return out

    def _band(self, x: torch.Tensor, taps: _Taps, r0: int, r1: int) -> torch.Tensor:
        """Output rows r0:r1 of one sample's channels x."""
        ax, up, k_up = self.ax_h, self.up, taps.up_h.shape[2]
        a, b = r0 * self.down, (r1 - 1) * self.down + self.down_taps  # up-sampled rows the band reads
        f0, f1 = ax.crop + a, ax.crop + b  # those rows in the full transposed-convolution output
        n_in = x.shape[2] + ax.pad_in_lo + ax.pad_in_hi  # input rows, zero padding included
        i0 = max(0, -(-(f0 - k_up + 1) // up))
        i1 = min(n_in, (f1 - 1) // up + 1)
        left, right = f0 - i0 * up, (i1 - 1) * up + k_up - f1  # excess output rows on either side
        lo, hi = max(0, ax.pad_in_lo - i0), max(0, i1 - (n_in - ax.pad_in_hi))  # zero rows inside i0:i1
        rows = x[:, :, i0 - ax.pad_in_lo + lo : i1 - ax.pad_in_lo - hi]
        if rows.shape[2] == 0:  # the band reads only zero padding
            t = x.new_zeros([1, x.shape[1], i1 - i0, self.tmp_w]).contiguous(memory_format=torch.channels_last)
        else:
            t = self._up(canonical_channels_last(rows), self.ax_w, taps.up_w, 3)
            if lo or hi:
                t = F.pad(t, [0, 0, lo, hi])
        crop = min(left, right)
        t = F.conv_transpose2d(t, taps.up_h, stride=(up, 1), padding=(crop, 0), groups=t.shape[1])
        return self._act_down(t[:, :, left - crop : left - crop + b - a], taps)
