"""Filtered leaky ReLU: StyleGAN3's alias-free nonlinearity, as fast pure-PyTorch code.

The operation, per channel (the definition every implementation must agree with):

1. add the bias;
2. up-sample by `up`, inserting up-1 zeros after each sample;
3. pad with zeros (negative padding crops), `padding` = [x0, x1, y0, y1] in up-sampled pixels;
4. convolve with the up-sampling filter `fu` (gain up**2 overall), keeping only outputs whose whole
   footprint lies inside the padded image;
5. multiply by `gain`, apply leaky ReLU with `slope`, clamp to [-clamp, clamp];
6. convolve with the down-sampling filter `fd` (same "valid" rule) and keep every `down`-th sample.

`filtered_lrelu_reference` does exactly that, literally (zeros inserted, full 2-D convolutions, every
sample filtered before down-sampling) and is kept for tests. `filtered_lrelu` / `FilteredLReLUPlan`
compute the same thing without the waste. On the CPU a plan with a 1-D up-sampling filter hands the
work to `flrelu_depthwise` (channels-last depthwise convolutions, the fastest kernel there); the
portable "gemm" kernel below serves the other devices and filter shapes:

* a separable filter pass along one axis (up-sampling with padding, or down-sampling) is a banded
  linear map; it runs as one GEMM against a small prepared matrix (large axes: blocks of outputs that
  share one block matrix). No zeros are inserted or stored, only kept samples are computed, and the
  padding/cropping is part of the matrix;
* `gain` is folded into the up-sampling taps (leaky ReLU commutes with a positive scale), and the
  activation and clamp run in place when autograd does not need the intermediate;
* large maps are processed a few channel planes at a time so the up-sampled intermediate stays in
  cache;
* 2-D (radial) down filters run as a strided depthwise convolution (only kept samples), 2-D up
  filters as polyphase depthwise convolutions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from renderer.nets.ops.flrelu_depthwise import DepthwiseFilteredLReLU

# Kernels: "depthwise" (channels-last depthwise convolutions; the CPU default, see flrelu_depthwise)
# and "gemm" (banded GEMMs below; every device and filter shape). "auto" picks per device and filters.
KERNELS = ("auto", "depthwise", "gemm")


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

# A banded 1-D pass is computed as GEMMs over blocks of outputs: every block of `block` consecutive
# outputs reads one window of `window` consecutive inputs through the same small matrix (the pass is
# periodic). Small axes use one dense block. The window size balances wasted multiplications by
# zero (a window much wider than the filter) against GEMM efficiency (tiny matrices); up-sampling
# passes (few taps per output) like narrower windows than down-sampling ones (measured per pass on CPU).
TARGET_WINDOW_UP = 32
TARGET_WINDOW_DOWN = 64
# Bytes of up-sampled intermediate processed at once (keeps it in cache; measured on CPU).
CHUNK_BYTES = 2 << 20


class _BandedPass:
    """out[o] = sum_i w(o, i) * x[i] along one axis (W = last, H = second to last) via GEMMs."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        weight_of: Callable[[int, int], float],
        support: Callable[[int], tuple[int, int]],
        period_in: int,
        period_out: int,
        axis: int,
        device: torch.device | str,
        dtype: torch.dtype,
        target_window: int,
    ) -> None:
        # weight_of(o, i) -> float; support(o) -> (first, last) input index (may lie outside the input:
        # those samples are zero padding); shifting o by period_out shifts the support by period_in.
        self.axis = axis
        self.n_out = n_out
        first0 = support(0)[0]
        dense_window = max(support(o)[1] for o in range(n_out)) - first0 + 1
        if dense_window <= target_window * 3 // 2:
            block, blocks, step = n_out, 1, 0
        else:
            block = max(period_out, (target_window // 2 // period_in) * period_out)
            blocks = -(-n_out // block)
            step = block // period_out * period_in
        window = max(support(o)[1] for o in range(block)) - first0 + 1
        mat = np.zeros([block, window], dtype=np.float64)
        for o in range(block):
            lo, hi = support(o)
            for i in range(lo, hi + 1):
                mat[o, i - first0] = weight_of(o, i)
        last_needed = first0 + (blocks - 1) * step + window  # one past the last input read
        self.pad_lo = max(0, -first0)
        self.pad_hi = max(0, last_needed - n_in)
        self.start = first0 + self.pad_lo
        self.step, self.window, self.blocks, self.block = step, window, blocks, block
        # round in numpy: no float64 torch tensor is made (MPS has none) unless dtype asks for it
        m = torch.from_numpy(mat.astype(np.float64 if dtype == torch.float64 else np.float32)).to(dtype).to(device)
        self.mat = m.t().contiguous() if axis == -1 else m.contiguous()  # W: x @ [L, B]; H: [B, L] @ x

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_lo or self.pad_hi:
            pads = [self.pad_lo, self.pad_hi] if self.axis == -1 else [0, 0, self.pad_lo, self.pad_hi]
            x = F.pad(x, pads)
        if self.axis == -1:
            if self.blocks == 1:
                y = torch.matmul(x[..., self.start : self.start + self.window], self.mat)
            else:
                win = x[..., self.start :].unfold(-1, self.window, self.step)[..., : self.blocks, :]
                # one GEMM over all (row, block) pairs; reshape gathers the overlapping windows once
                y = torch.mm(win.reshape(-1, self.window), self.mat).reshape(*x.shape[:-1], -1)
            return y if y.shape[-1] == self.n_out else y[..., : self.n_out]
        if self.blocks == 1:
            return torch.matmul(self.mat, x[..., self.start : self.start + self.window, :])
        win = x[..., self.start :, :].unfold(-2, self.window, self.step)[..., : self.blocks, :, :]
        y = torch.matmul(self.mat, win.transpose(-1, -2)).flatten(-3, -2)
        return y if y.shape[-2] == self.n_out else y[..., : self.n_out, :]


def _up_pass(
    taps: np.ndarray, n_in: int, up: int, pad0: int, pad1: int, axis: int, device: torch.device | str, dtype: torch.dtype
) -> _BandedPass:
    """Zero-insertion up-sampling, padding and 'valid' convolution with `taps` along one axis."""
    k = len(taps)
    n_out = n_in * up + pad0 + pad1 - k + 1
    c = k - 1 - pad0  # out[o] = sum_i x[i] * taps[o + c - i*up]

    def support(o: int) -> tuple[int, int]:
        return -((-(o + c - k + 1)) // up), (o + c) // up

    def weight_of(o: int, i: int) -> float:
        j = o + c - i * up
        return float(taps[j]) if 0 <= j < k else 0.0

    return _BandedPass(n_in, n_out, weight_of, support, 1, up, axis, device, dtype, TARGET_WINDOW_UP)


def _down_pass(
    taps: np.ndarray, n_in: int, down: int, axis: int, device: torch.device | str, dtype: torch.dtype
) -> _BandedPass:
    """'Valid' convolution with `taps` along one axis, keeping every `down`-th output."""
    k = len(taps)
    n_out = (n_in - k) // down + 1  # out[o] = sum_j x[o*down + j] * taps[k-1-j]

    def support(o: int) -> tuple[int, int]:
        return o * down, o * down + k - 1

    def weight_of(o: int, i: int) -> float:
        return float(taps[k - 1 - (i - o * down)])

    return _BandedPass(n_in, n_out, weight_of, support, down, 1, axis, device, dtype, TARGET_WINDOW_DOWN)


def _phase_kernels_2d(f: torch.Tensor, up: int) -> torch.Tensor:
    """[up, up, J, J] correlation kernels (phase y, phase x) of a 2-D up-sampling filter."""
    taps = f.shape[0]
    j = -(-taps // up)
    fp = F.pad(f, [0, j * up - taps, 0, j * up - taps])
    return fp.reshape(j, up, j, up).permute(1, 3, 0, 2).flip(2, 3)


def _np_taps(f: torch.Tensor | None) -> np.ndarray:
    return np.ones([1]) if f is None else f.detach().cpu().numpy().astype(np.float64)


class FilteredLReLUPlan:
    """Prepared weights and geometry for one layer's filtered leaky ReLU on inputs [*, C, H, W].

    Build once per (filters, channels, input size, device, dtype); `apply` then runs the op.
    Separable filters become banded matrices applied by GEMM (polyphase up-sampling and strided
    down-sampling fall out of the matrix structure, padding/cropping too); a 2-D down filter runs as a
    strided depthwise convolution, a 2-D up filter as polyphase depthwise convolutions.
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
        kernel: str = "auto",
    ) -> None:
        if kernel not in KERNELS:
            raise ValueError(f"unknown filtered_lrelu kernel {kernel!r}; use one of {KERNELS}")
        if up < 1 or down < 1:
            raise ValueError(f"up and down must be >= 1, got up={up}, down={down}")
        if not gain > 0:
            raise ValueError(f"gain must be positive, got {gain}")
        for f in (fu, fd):
            if f is not None and (f.ndim not in (1, 2) or (f.ndim == 2 and f.shape[0] != f.shape[1])):
                raise ValueError(f"filters must be 1-D or square 2-D, got shape {list(f.shape)}")
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
        gain = float(gain)
        on_cpu = torch.device(device).type == "cpu"

        # Depthwise kernel: CPU only (measured there; oneDNN), a 1-D up-sampling filter, some down
        # filter. It needs none of the GEMM kernel's prepared matrices below.
        depthwise_ok = (fu.ndim == 1 if fu is not None else up > 1) and fd is not None
        if kernel == "auto":
            kernel = "depthwise" if depthwise_ok and on_cpu else "gemm"
        if kernel == "depthwise" and not depthwise_ok:
            raise ValueError("the depthwise filtered_lrelu kernel needs a 1-D up-sampling filter and a down filter")
        self.kernel = kernel
        self.depthwise = None
        if kernel == "depthwise":
            assert fd is not None
            self.depthwise = DepthwiseFilteredLReLU(
                _np_taps(fu), fd.detach().cpu().numpy().astype(np.float64), self.channels, (self.in_h, self.in_w),
                up, down, (px0, px1, py0, py1), gain, self.slope, self.clamp, device, dtype,
            )  # fmt: skip
            return

        # Filter math in float32 (float64 only when the caller computes in float64, e.g. tests).
        fdt = torch.float64 if dtype == torch.float64 else torch.float32

        # --- up-sampling (gain folded in: leaky ReLU commutes with a positive scale)
        self.up_mode = "separable"
        if fu is None and up == 1:
            self.up_mode = "pad"  # nothing to filter: pad/crop and scale
            self.up_pads, self.up_gain = [px0, px1, py0, py1], gain
        elif fu is not None and fu.ndim == 2:
            self.up_mode = "2d"
            k = _phase_kernels_2d(fu.to(device=device, dtype=fdt) * float(up * up) * gain, up)  # [u, u, J, J]
            j = k.shape[-1]
            self.up_w2d = k.reshape(up * up, 1, j, j).to(dtype).contiguous()
            n_h = self.in_h * up + py0 + py1 - ku + 1
            n_w = self.in_w * up + px0 + px1 - ku + 1
            c_h, c_w = ku - 1 - py0, ku - 1 - px0
            a0h, a0w = c_h // up, c_w // up
            a1h, a1w = -(-(c_h + n_h) // up), -(-(c_w + n_w) // up)
            self.up_pads = [j - 1 - a0w, a1w - self.in_w, j - 1 - a0h, a1h - self.in_h]
            self.up_crop = (c_h - a0h * up, n_h, c_w - a0w * up, n_w)
        else:
            taps = _np_taps(fu)
            self.up_w = _up_pass(taps * up * gain, self.in_w, up, px0, px1, -1, device, fdt)
            self.up_h = _up_pass(taps * up, self.in_h, up, py0, py1, -2, device, fdt)
            self.up_w.mat, self.up_h.mat = self.up_w.mat.to(dtype), self.up_h.mat.to(dtype)
        tmp_h = self.in_h * up + py0 + py1 - ku + 1
        tmp_w = self.in_w * up + px0 + px1 - ku + 1

        # --- down-sampling
        self.down_mode = "separable"
        if fd is None:
            self.down_mode = "subsample"
        elif fd.ndim == 2:
            self.down_mode = "2d"
            k2 = fd.to(device=device, dtype=fdt).flip([0, 1])
            self.down_w2d = k2[None, None].to(dtype).contiguous()
            self._down_w2d_groups: dict[int, torch.Tensor] = {}
        else:
            taps = _np_taps(fd)
            self.down_w = _down_pass(taps, tmp_w, down, -1, device, fdt)
            self.down_h = _down_pass(taps, tmp_h, down, -2, device, fdt)
            self.down_w.mat, self.down_h.mat = self.down_w.mat.to(dtype), self.down_h.mat.to(dtype)

        # Large maps are processed a few channel planes at a time so the up-sampled intermediate
        # stays in cache (it is up**2 times the input); on the CPU only: a GPU wants few, large launches.
        plane_bytes = tmp_h * tmp_w * torch.finfo(dtype).bits // 8
        self.chunk_rows = max(1, CHUNK_BYTES // plane_bytes) if on_cpu else 1 << 40

    # ------------------------------------------------------------------------------------------
    # All passes work on planes [R, H, W] (R = batch * channels): the filters are the same for every
    # channel, so channels need not be told apart.
    def _upsample(self, x: torch.Tensor) -> torch.Tensor:
        if self.up_mode == "separable":
            return self.up_h(self.up_w(x))
        if self.up_mode == "pad":
            x = F.pad(x, self.up_pads) if any(self.up_pads) else x
            return x * self.up_gain if self.up_gain != 1 else x
        r, up = x.shape[0], self.up
        y = F.conv2d(F.pad(x, self.up_pads)[:, None], self.up_w2d)  # [R, u*u, Ah, Aw]
        ah, aw = y.shape[2], y.shape[3]
        y = y.reshape(r, up, up, ah, aw).permute(0, 3, 1, 4, 2).reshape(r, ah * up, aw * up)
        oh, nh, ow, nw = self.up_crop
        return y[:, oh : oh + nh, ow : ow + nw]

    def _downsample(self, x: torch.Tensor) -> torch.Tensor:
        if self.down_mode == "2d":
            # depthwise form (one group per plane) is much faster on CPU than a 1-channel batch
            r = x.shape[0]
            w = self._down_w2d_groups.get(r)
            if w is None:
                w = self._down_w2d_groups[r] = self.down_w2d.expand(r, 1, -1, -1).contiguous()
            return F.conv2d(x[None], w, stride=self.down, groups=r)[0]
        if self.down_mode == "subsample":
            return x[:, :: self.down, :: self.down] if self.down > 1 else x
        return self.down_h(self.down_w(x))

    def _planes(self, x: torch.Tensor, owned: bool) -> torch.Tensor:
        """Up-sample, activate, clamp and down-sample planes [R, H, W]; `owned`: x may be overwritten."""
        t = self._upsample(x)
        # in-place activation only on a fresh tensor that autograd does not need to remember; only a
        # "pad" up-sampling without padding or gain hands back its input itself
        aliases_input = self.up_mode == "pad" and not any(self.up_pads) and self.up_gain == 1
        inplace = (owned or not aliases_input) and not (torch.is_grad_enabled() and t.requires_grad)
        if self.slope != 1:
            t = F.leaky_relu_(t, self.slope) if inplace else F.leaky_relu(t, self.slope)
        if self.clamp is not None:
            t = t.clamp_(-self.clamp, self.clamp) if inplace else t.clamp(-self.clamp, self.clamp)
        return self._downsample(t)

    def apply(self, x: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        """Run the op on x [N, C, H, W] (bias b [C] optional)."""
        if x.ndim != 4 or x.shape[1] != self.channels or x.shape[2] != self.in_h or x.shape[3] != self.in_w:
            raise ValueError(
                f"filtered_lrelu plan is for [*, {self.channels}, {self.in_h}, {self.in_w}], got {list(x.shape)}"
            )
        n = x.shape[0]
        owned = b is not None
        if b is not None:
            x = x + b.to(x.dtype)[None, :, None, None]
        if self.depthwise is not None:
            return self.depthwise(x)
        planes = x.reshape(n * self.channels, self.in_h, self.in_w)
        rows = planes.shape[0]
        if rows <= self.chunk_rows:
            out = self._planes(planes, owned)
        else:
            # equal chunks: a small remainder chunk would run its GEMMs at poor efficiency
            size = -(-rows // -(-rows // self.chunk_rows))
            out = torch.cat([self._planes(planes[i : i + size], owned) for i in range(0, rows, size)])
        return out.reshape(n, self.channels, out.shape[-2], out.shape[-1])


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
    kernel: str = "auto",
) -> torch.Tensor:
    """One-off filtered leaky ReLU (builds a plan each call; layers keep theirs)."""
    plan = FilteredLReLUPlan(
        fu, fd, x.shape[1], (x.shape[2], x.shape[3]), up, down, padding, gain, slope, clamp, x.device, x.dtype, kernel
    )
    return plan.apply(x, b)
