"""Filtered leaky ReLU: StyleGAN3's alias-free nonlinearity, as fast pure-PyTorch code.

The operation, per channel (the definition every implementation must agree with):

1. add the bias;
2. up-sample by `up`, inserting up-1 zeros after each sample;
3. pad with zeros (negative padding crops), `padding` = [x0, x1, y0, y1] in up-sampled pixels;
4. convolve with the up-sampling filter `fu` (gain up**2 overall), keeping only outputs whose whole
   footprint lies inside the padded image;
5. multiply by `gain`, apply leaky ReLU with `slope`, clamp to [-clamp, clamp];
6. convolve with the down-sampling filter `fd` (same "valid" rule) and keep every `down`-th sample.

`filtered_lrelu_reference` does exactly that, literally (zeros inserted, full 2-D convolutions) and is
kept for tests. `filtered_lrelu` / `FilteredLReLUPlan` compute the same thing without the waste:

* up-sampling is polyphase: each of the `up` output phases is a short (taps/up) convolution of the
  original samples, so no zeros are stored or multiplied; the phases are interleaved by a reshape;
* separable filters run as two 1-D depthwise passes instead of one 2-D pass;
* down-sampling is a strided convolution, so only the kept samples are computed;
* padding/cropping is folded into one pad of the small input and slice offsets;
* `gain` is folded into the up-sampling taps (leaky ReLU commutes with a positive scale), and the
  activation and clamp run in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


def _as_padding(padding: int | list[int] | tuple[int, ...]) -> tuple[int, int, int, int]:
    """[x0, x1, y0, y1] from an int, [px, py] or a 4-list."""
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        return p, p, p, p
    values = [int(v) for v in padding]
    if len(values) == 2:
        return values[0], values[0], values[1], values[1]
    if len(values) != 4:
        raise ValueError(f"padding must be an int, [px, py] or [x0, x1, y0, y1], got {padding!r}")
    return values[0], values[1], values[2], values[3]


def _taps(f: torch.Tensor | None) -> int:
    return 1 if f is None else int(f.shape[-1])


def output_size(in_size: int, up: int, down: int, pad0: int, pad1: int, up_taps: int, down_taps: int) -> int:
    """Length of one axis after the whole operation."""
    return (in_size * up + pad0 + pad1 - (up_taps - 1) - (down_taps - 1) + (down - 1)) // down


# ----------------------------------------------------------------------------------------------- reference


def filtered_lrelu_reference(
    x: torch.Tensor,
    fu: torch.Tensor | None = None,
    fd: torch.Tensor | None = None,
    b: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: int | list[int] | tuple[int, ...] = 0,
    gain: float = float(np.sqrt(2)),
    slope: float = 0.2,
    clamp: float | None = None,
) -> torch.Tensor:
    """The definition in the module docstring, computed literally (slow; for tests)."""
    px0, px1, py0, py1 = _as_padding(padding)
    n, c, h, w = x.shape
    if b is not None:
        x = x + b.to(x.dtype)[None, :, None, None]
    z = x.new_zeros([n, c, h * up, w * up])
    z[:, :, ::up, ::up] = x
    z = F.pad(z, [px0, px1, py0, py1])
    z = _conv_full_2d(z, fu, float(up * up))
    z = F.leaky_relu(z, slope) * gain
    if clamp is not None:
        z = z.clamp(-clamp, clamp)
    z = _conv_full_2d(z, fd, 1.0)
    return z[:, :, ::down, ::down]


def _conv_full_2d(x: torch.Tensor, f: torch.Tensor | None, gain: float) -> torch.Tensor:
    """True 2-D convolution with f (1-D taps mean the outer product), 'valid' region only."""
    if f is None:
        return x * gain if gain != 1 else x
    f2 = torch.outer(f, f) if f.ndim == 1 else f
    k = (f2 * gain).flip([0, 1]).to(x.dtype)
    c = x.shape[1]
    return F.conv2d(x, k[None, None].repeat(c, 1, 1, 1), groups=c)


# ----------------------------------------------------------------------------------------------- fast path


@dataclass(frozen=True)
class _UpAxis:
    """Polyphase geometry of up-sampling along one axis."""

    pad_lo: int  # zeros added before the input (negative: crop)
    pad_hi: int
    offset: int  # first kept sample of the interleaved result
    length: int  # kept samples


def _up_axis(n_in: int, up: int, taps: int, pad0: int, pad1: int) -> _UpAxis:
    """Geometry for out[o] = sum_i x[i] f[o + c - i*up], o in [0, length), c = taps - 1 - pad0.

    The polyphase pass produces interleaved samples t in [a0*up, a1*up) of the full convolution; we
    choose a0/a1 so exactly the needed range is computed (plus < up samples of slack).
    """
    phase_taps = -(-taps // up)
    length = n_in * up + pad0 + pad1 - taps + 1
    c = taps - 1 - pad0
    a0 = c // up
    a1 = -(-(c + length) // up)
    return _UpAxis(pad_lo=phase_taps - 1 - a0, pad_hi=a1 - n_in, offset=c - a0 * up, length=length)


def _phase_kernels(f: torch.Tensor, up: int) -> torch.Tensor:
    """[up, J] correlation kernels, one per output phase, of the 1-D filter f (zero-padded to J*up)."""
    taps = f.shape[0]
    j = -(-taps // up)
    fp = F.pad(f, [0, j * up - taps])
    # phase r uses f[j*up + r] for j = J-1 .. 0 (reversed: correlation form)
    return fp.reshape(j, up).t().flip(1)


def _phase_kernels_2d(f: torch.Tensor, up: int) -> torch.Tensor:
    """[up, up, J, J] correlation kernels (phase y, phase x) of a 2-D filter."""
    taps = f.shape[0]
    j = -(-taps // up)
    fp = F.pad(f, [0, j * up - taps, 0, j * up - taps])
    return fp.reshape(j, up, j, up).permute(1, 3, 0, 2).flip(2, 3)


class FilteredLReLUPlan:
    """Prepared weights and geometry for one layer's filtered leaky ReLU on inputs [*, C, H, W].

    Build once per (filters, channels, input size, device, dtype); `apply` then runs the op.
    """

    def __init__(
        self,
        fu: torch.Tensor | None,
        fd: torch.Tensor | None,
        channels: int,
        in_size: tuple[int, int],
        up: int = 1,
        down: int = 1,
        padding: int | list[int] | tuple[int, ...] = 0,
        gain: float = float(np.sqrt(2)),
        slope: float = 0.2,
        clamp: float | None = None,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if up < 1 or down < 1:
            raise ValueError(f"up and down must be >= 1, got up={up}, down={down}")
        if not gain > 0:
            raise ValueError(f"gain must be positive, got {gain}")
        if fu is not None and fu.ndim == 2 and fu.shape[0] != fu.shape[1]:
            raise ValueError("2-D filters must be square")
        self.channels = int(channels)
        self.in_h, self.in_w = int(in_size[0]), int(in_size[1])
        self.up, self.down = int(up), int(down)
        self.slope = float(slope)
        self.clamp = None if clamp is None else float(clamp)
        px0, px1, py0, py1 = _as_padding(padding)
        ku, kd = _taps(fu), _taps(fd)
        self.out_h = output_size(self.in_h, up, down, py0, py1, ku, kd)
        self.out_w = output_size(self.in_w, up, down, px0, px1, ku, kd)
        if self.out_h < 1 or self.out_w < 1:
            raise ValueError("filtered_lrelu: padding and filter sizes leave no output samples")
        c = self.channels
        # filter math in float32 (float64 only when the caller computes in float64, e.g. tests)
        kw = dict(device=device, dtype=torch.float64 if dtype == torch.float64 else torch.float32)
        gain = float(gain)

        # --- up-sampling
        self.ax_w = _up_axis(self.in_w, up, ku, px0, px1)
        self.ax_h = _up_axis(self.in_h, up, ku, py0, py1)
        self.up_mode = "none"
        self.post_gain = 1.0
        if fu is None and up == 1:
            self.post_gain = gain  # only pad/crop, then scale
        elif fu is not None and fu.ndim == 2:
            self.up_mode = "2d"
            k = _phase_kernels_2d(fu.to(**kw) * float(up * up) * gain, up)  # [u, u, J, J]
            self.up_w2d = k.reshape(1, up * up, *k.shape[2:]).repeat(c, 1, 1, 1)
            self.up_w2d = self.up_w2d.reshape(c * up * up, 1, *k.shape[2:]).to(dtype).contiguous()
        else:
            self.up_mode = "separable"
            f1 = torch.ones([1], **kw) if fu is None else fu.to(**kw)
            kx = _phase_kernels(f1 * float(up) * gain, up)  # [u, J]; gain folded into the x pass
            ky = _phase_kernels(f1 * float(up), up)
            # one plain depthwise kernel per phase (PyTorch's CPU depthwise conv with a channel
            # multiplier is an order of magnitude slower than `up` separate depthwise convs)
            self.up_wx = [k.reshape(1, 1, 1, -1).repeat(c, 1, 1, 1).to(dtype).contiguous() for k in kx]
            self.up_wy = [k.reshape(1, 1, -1, 1).repeat(c, 1, 1, 1).to(dtype).contiguous() for k in ky]

        # --- down-sampling
        self.down_mode = "none"
        if fd is not None and fd.ndim == 2:
            self.down_mode = "2d"
            k2 = fd.to(**kw).flip([0, 1])
            self.down_w2d = k2[None, None].repeat(c, 1, 1, 1).to(dtype).contiguous()
        elif fd is not None:
            self.down_mode = "separable"
            k1 = fd.to(**kw).flip(0)
            self.down_wx = k1.reshape(1, 1, 1, -1).repeat(c, 1, 1, 1).to(dtype).contiguous()
            self.down_wy = k1.reshape(1, 1, -1, 1).repeat(c, 1, 1, 1).to(dtype).contiguous()

    # ------------------------------------------------------------------------------------------
    def _upsample(self, x: torch.Tensor) -> torch.Tensor:
        up, ax, ay = self.up, self.ax_w, self.ax_h
        n, c = x.shape[0], self.channels
        if self.up_mode == "none":
            x = F.pad(x, [ax.pad_lo, ax.pad_hi, ay.pad_lo, ay.pad_hi])
            x = x[:, :, ay.offset : ay.offset + ay.length, ax.offset : ax.offset + ax.length]
            return x * self.post_gain if self.post_gain != 1 else x
        x = F.pad(x, [ax.pad_lo, ax.pad_hi, ay.pad_lo, ay.pad_hi])
        if self.up_mode == "2d":
            y = F.conv2d(x, self.up_w2d, groups=c)  # [N, C*u*u, Ah, Aw]
            ah, aw = y.shape[2], y.shape[3]
            y = y.reshape(n, c, up, up, ah, aw).permute(0, 1, 4, 2, 5, 3).reshape(n, c, ah * up, aw * up)
            return y[:, :, ay.offset : ay.offset + ay.length, ax.offset : ax.offset + ax.length]
        # x pass: each phase [N, C, Hp, Aw], interleaved along W
        phases = [F.conv2d(x, k, groups=c) for k in self.up_wx]
        y = phases[0] if up == 1 else torch.stack(phases, dim=-1).flatten(-2)
        y = y[:, :, :, ax.offset : ax.offset + ax.length]
        # y pass: each phase [N, C, Ah, Wt], interleaved along H
        phases = [F.conv2d(y, k, groups=c) for k in self.up_wy]
        y = phases[0] if up == 1 else torch.stack(phases, dim=3).flatten(2, 3)
        return y[:, :, ay.offset : ay.offset + ay.length]

    def _downsample(self, x: torch.Tensor) -> torch.Tensor:
        c, d = self.channels, self.down
        if self.down_mode == "2d":
            return F.conv2d(x, self.down_w2d, stride=d, groups=c)
        if self.down_mode == "separable":
            x = F.conv2d(x, self.down_wx, stride=(1, d), groups=c)
            return F.conv2d(x, self.down_wy, stride=(d, 1), groups=c)
        return x[:, :, ::d, ::d] if d > 1 else x

    def apply(self, x: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        """Run the op on x [N, C, H, W] (bias b [C] optional)."""
        if x.shape[1] != self.channels or x.shape[2] != self.in_h or x.shape[3] != self.in_w:
            raise ValueError(
                f"filtered_lrelu plan is for [*, {self.channels}, {self.in_h}, {self.in_w}], got {list(x.shape)}"
            )
        t = x if b is None else x + b.to(x.dtype)[None, :, None, None]
        t = self._upsample(t)
        # in-place activation only on a fresh tensor that autograd does not need to remember
        shares_input = t.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
        inplace = not shares_input and not (torch.is_grad_enabled() and t.requires_grad)
        if self.slope != 1:
            t = F.leaky_relu_(t, self.slope) if inplace else F.leaky_relu(t, self.slope)
        if self.clamp is not None:
            t = t.clamp_(-self.clamp, self.clamp) if inplace else t.clamp(-self.clamp, self.clamp)
        return self._downsample(t)


def filtered_lrelu(
    x: torch.Tensor,
    fu: torch.Tensor | None = None,
    fd: torch.Tensor | None = None,
    b: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: int | list[int] | tuple[int, ...] = 0,
    gain: float = float(np.sqrt(2)),
    slope: float = 0.2,
    clamp: float | None = None,
) -> torch.Tensor:
    """One-off filtered leaky ReLU (builds a plan each call; layers keep theirs)."""
    plan = FilteredLReLUPlan(
        fu, fd, x.shape[1], (x.shape[2], x.shape[3]), up, down, padding, gain, slope, clamp, x.device, x.dtype
    )
    return plan.apply(x, b)
