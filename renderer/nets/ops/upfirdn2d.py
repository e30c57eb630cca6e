"""FIR resampling of image batches: upsample (zero insertion), pad/crop, filter, downsample (decimation).

Why: StyleGAN2's blurred up/down convolutions, its skip-image upsampling, the discriminator's
downsampling and StyleGAN3's alias-free layers all reduce to this one operation. The semantics follow
the official `upfirdn2d` (NVlabs) so filters and paddings from official networks mean the same here;
the implementation is pure PyTorch and picks the cheapest equivalent form:

- long separable filters (1-D taps, or 2-D filters that are an outer product) run as two 1-D passes
  (short ones such as StyleGAN2's 4x4 run as one dense pass, which measured faster on a CPU);
- upsampling runs as a strided transposed convolution (no multiplications with inserted zeros);
- downsampling runs as a strided convolution (no outputs computed only to be thrown away).

Filters are float32 tensors of shape [taps] (separable) or [height, width]; `None` means identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from renderer.nets.ops.half_conv import conv2d_any

Padding = int | Sequence[int]
Scaling = int | Sequence[int]


def _parse_scaling(scaling: Scaling) -> tuple[int, int]:
    """An int or (x, y) pair of factors, each >= 1 -> (sx, sy)."""
    if isinstance(scaling, int | np.integer):
        sx = sy = int(scaling)
    else:
        sx, sy = (int(v) for v in scaling)
    if sx < 1 or sy < 1:
        raise ValueError(f"resampling factors must be >= 1, got {scaling!r}")
    return sx, sy


def parse_padding(padding: Padding) -> tuple[int, int, int, int]:
    """An int, (x, y) or (x0, x1, y0, y1) -> (x0, x1, y0, y1); negative values crop."""
    if isinstance(padding, int | np.integer):
        p = int(padding)
        return p, p, p, p
    values = [int(v) for v in padding]
    if len(values) == 2:
        return values[0], values[0], values[1], values[1]
    if len(values) == 4:
        return values[0], values[1], values[2], values[3]
    raise ValueError(f"padding must be an int, [x, y] or [x0, x1, y0, y1], got {padding!r}")


def filter_size(f: torch.Tensor | None) -> tuple[int, int]:
    """(width, height) in taps of a filter as `upfirdn2d` applies it (1-D filters apply in both axes)."""
    if f is None:
        return 1, 1
    if f.ndim not in (1, 2):
        raise ValueError(f"a FIR filter must be 1-D or 2-D, got shape {list(f.shape)}")
    return int(f.shape[-1]), int(f.shape[0])


def setup_filter(
    f: object,
    device: torch.device | str = "cpu",
    normalize: bool = True,
    flip_filter: bool = False,
    gain: float = 1.0,
    separable: bool | None = None,
) -> torch.Tensor:
    """Turn taps (list / array / tensor, 1-D or 2-D, or None for identity) into a float32 filter tensor.

    As in the official code: 1-D taps become a 2-D outer product unless `separable` (default: separable
    only when there are at least 8 taps); `normalize` makes the taps sum to 1 (DC gain 1); `gain`
    scales the total 2-D response.
    """
    if f is None:
        f = 1
    t = torch.as_tensor(np.asarray(f, dtype=np.float32) if not isinstance(f, torch.Tensor) else f)
    t = t.to(torch.float32).clone()
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim not in (1, 2) or t.numel() == 0:
        raise ValueError(f"filter taps must be a non-empty 1-D or 2-D array, got shape {list(t.shape)}")
    if separable is None:
        separable = t.ndim == 1 and t.numel() >= 8
    if t.ndim == 1 and not separable:
        t = torch.outer(t, t)
    if separable and t.ndim != 1:
        raise ValueError("a 2-D filter cannot be made separable; pass 1-D taps")
    if normalize:
        t = t / t.sum()
    if flip_filter:
        t = t.flip(list(range(t.ndim)))
    t = t * (gain ** (t.ndim / 2))
    return t.to(device=device)


def _rank1_factors(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(column, row) with outer(column, row) == f up to float rounding, or None if f is not rank 1."""
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 2:
        return None
    f64 = f.detach().to(torch.float64)
    flat_idx = int(f64.abs().argmax())
    r, c = divmod(flat_idx, f64.shape[1])
    pivot = f64[r, c]
    if pivot == 0:
        return None
    col = f64[:, c]
    row = f64[r, :] / pivot
    if not torch.allclose(torch.outer(col, row), f64, rtol=1e-6, atol=1e-7 * float(pivot.abs())):
        return None
    return col.to(f.dtype), row.to(f.dtype)


def _worth_splitting(fw: int, fh: int) -> bool:
    """Two 1-D passes beat one dense 2-D pass only for long filters (measured on CPU: not for 4x4)."""
    return fw * fh >= 4 * (fw + fh)


def _depthwise(x: torch.Tensor, k: torch.Tensor, stride: tuple[int, int], transpose: bool) -> torch.Tensor:
    """Correlate every channel of x with the 2-D kernel k (or its transposed-conv counterpart)."""
    channels = x.shape[1]
    weight = k[None, None].expand(channels, 1, *k.shape).to(x.dtype)
    return conv2d_any(x, weight, stride=stride, groups=channels, transpose=transpose)


def _pad_or_crop(x: torch.Tensor, x0: int, x1: int, y0: int, y1: int) -> torch.Tensor:
    """Zero-pad (positive) or crop (negative) the last two dimensions."""
    if x0 == x1 == y0 == y1 == 0:
        return x
    return F.pad(x, [x0, x1, y0, y1])


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: Scaling = 1,
    down: Scaling = 1,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1.0,
) -> torch.Tensor:
    """Upsample by zero insertion, pad/crop, convolve with the FIR filter f, keep every `down`-th sample.

    x: [N, C, H, W] (float16/32/64); output [N, C, (H*up + pad_y0 + pad_y1 - fh) // down + 1, ...].
    `flip_filter=False` is a true convolution (as the official op), True a correlation; `gain` scales
    the result. Differentiable (plain PyTorch ops).
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError("upfirdn2d expects x of shape [batch, channels, height, width]")
    upx, upy = _parse_scaling(up)
    downx, downy = _parse_scaling(down)
    px0, px1, py0, py1 = parse_padding(padding)
    if f is None:
        f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
    fw, fh = filter_size(f)
    _, _, in_h, in_w = x.shape
    up_w = in_w * upx + px0 + px1
    up_h = in_h * upy + py0 + py1
    if up_w < fw or up_h < fh:
        raise ValueError(
            f"upfirdn2d: the padded, upsampled input ({up_h}x{up_w}) is smaller than the filter ({fh}x{fw})"
        )
    out_w = (up_w - fw) // downx + 1
    out_h = (up_h - fh) // downy + 1

    # Taps in "correlation" orientation, with the gain applied in float32 before the cast (as the reference).
    f = f.to(device=x.device) * (gain ** (f.ndim / 2))
    f = f.to(x.dtype)
    if flip_filter:  # correlation with f == convolution with flipped f; the transposed path convolves
        conv_taps = f.flip(list(range(f.ndim)))
    else:
        conv_taps = f
    kx = ky = None
    if f.ndim == 1 and not _worth_splitting(fw, fh):
        conv_taps = torch.outer(conv_taps, conv_taps)  # short taps: one dense pass is cheaper
    elif f.ndim == 1:
        kx, ky = conv_taps, conv_taps
    elif x.dtype != torch.float16 and _worth_splitting(fw, fh):  # float16 would round between passes
        factors = _rank1_factors(conv_taps)
        if factors is not None:
            ky, kx = factors

    if upx == 1 and upy == 1:
        # Pad, then correlate with the flipped taps, striding for decimation.
        x = _pad_or_crop(x, px0, px1, py0, py1)
        if kx is not None:
            x = _depthwise(x, kx.flip(0)[None, :], (1, downx), transpose=False)
            x = _depthwise(x, ky.flip(0)[:, None], (downy, 1), transpose=False)
        else:
            x = _depthwise(x, conv_taps.flip([0, 1]), (downy, downx), transpose=False)
        return x

    # Upsampling: a strided transposed convolution with the taps is "insert zeros, then fully convolve".
    # Index o of the official output reads index o + taps - 1 - pad0 of that full convolution.
    if kx is not None:
        x = _depthwise(x, kx[None, :], (1, upx), transpose=True)
        x = _depthwise(x, ky[:, None], (upy, 1), transpose=True)
    else:
        x = _depthwise(x, conv_taps, (upy, upx), transpose=True)
    full_h, full_w = x.shape[2], x.shape[3]
    start_x, start_y = fw - 1 - px0, fh - 1 - py0
    stop_x, stop_y = start_x + (out_w - 1) * downx + 1, start_y + (out_h - 1) * downy + 1
    x = _pad_or_crop(x, -start_x, stop_x - full_w, -start_y, stop_y - full_h)
    if downx > 1 or downy > 1:
        x = x[:, :, ::downy, ::downx]
    return x


def filter2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1.0,
) -> torch.Tensor:
    """Filter keeping the size of x (plus optional extra padding / cropping)."""
    px0, px1, py0, py1 = parse_padding(padding)
    fw, fh = filter_size(f)
    p = [px0 + fw // 2, px1 + (fw - 1) // 2, py0 + fh // 2, py1 + (fh - 1) // 2]
    return upfirdn2d(x, f, padding=p, flip_filter=flip_filter, gain=gain)


def upsample2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: Scaling = 2,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1.0,
) -> torch.Tensor:
    """Upsample by `up` with the FIR filter, output exactly `up` times the input size (plus padding)."""
    upx, upy = _parse_scaling(up)
    px0, px1, py0, py1 = parse_padding(padding)
    fw, fh = filter_size(f)
    p = [
        px0 + (fw + upx - 1) // 2,
        px1 + (fw - upx) // 2,
        py0 + (fh + upy - 1) // 2,
        py1 + (fh - upy) // 2,
    ]
    return upfirdn2d(x, f, up=up, padding=p, flip_filter=flip_filter, gain=gain * upx * upy)


def downsample2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    down: Scaling = 2,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1.0,
) -> torch.Tensor:
    """Downsample by `down` after FIR filtering, output exactly 1/`down` of the input size (plus padding)."""
    downx, downy = _parse_scaling(down)
    px0, px1, py0, py1 = parse_padding(padding)
    fw, fh = filter_size(f)
    p = [
        px0 + (fw - downx + 1) // 2,
        px1 + (fw - downx) // 2,
        py0 + (fh - downy + 1) // 2,
        py1 + (fh - downy) // 2,
    ]
    return upfirdn2d(x, f, down=down, padding=p, flip_filter=flip_filter, gain=gain)


def upfirdn2d_reference(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: Scaling = 1,
    down: Scaling = 1,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1.0,
) -> torch.Tensor:
    """Direct, slow form of `upfirdn2d` (zero insertion, pad, dense 2-D convolution, decimation).

    Kept as the executable definition the fast paths are tested against.
    """
    upx, upy = _parse_scaling(up)
    downx, downy = _parse_scaling(down)
    px0, px1, py0, py1 = parse_padding(padding)
    if f is None:
        f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
    n, c, h, w = x.shape
    z = x.new_zeros([n, c, h * upy, w * upx])
    z[:, :, ::upy, ::upx] = x
    z = _pad_or_crop(z, px0, px1, py0, py1)
    f2 = (f if f.ndim == 2 else torch.outer(f, f)) * gain  # a 1-D filter applies along both axes
    f2 = f2.to(x.dtype)
    if not flip_filter:
        f2 = f2.flip([0, 1])
    y = _depthwise(z, f2, (1, 1), transpose=False)
    return y[:, :, ::downy, ::downx]
