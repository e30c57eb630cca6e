"""Clean-room StyleGAN2(-ADA) generator with the official parameter names, run as explicit steps.

Why: Castmaker loads generators trained with NVlabs' stylegan2-ada-pytorch (`training/networks.py`)
and with the stylegan3 repository's `--cfg=stylegan2` (`training/networks_stylegan2.py`), and must
produce the same pixels as the official code. Module and parameter names mirror the official
state_dict so official weights load with `strict=True`. The synthesis network also implements the
stepwise contract of `renderer.nets.contract` (one step per conv and per toRGB) for the prefix cache.

Differences from the official code, all value-preserving:
- `fused_modconv` (modulation as a grouped convolution) is chosen by batch size: fused for one
  sample, shared-weight convolution with activation scaling for batches (both compute the same thing;
  the second is much faster on a CPU for N > 1).
- `noise_mode` defaults to 'const' (Castmaker renders deterministically; the official default is
  'random').
- float16 blocks run in float16 only on CUDA, as in the stylegan3 repository, unless the
  Castmaker-specific constructor option `fp16_on_cpu=True` asks for the stylegan2-ada-pytorch
  behaviour (float16 on every device unless `force_fp32`); the loader sets it for ada pickles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from renderer.nets.contract import SynthesisStep
from renderer.nets.mapping import FullyConnectedLayer, MappingNetwork
from renderer.nets.ops.bias_act import activation_gain, bias_act
from renderer.nets.ops.half_conv import conv2d_any
from renderer.nets.ops.upfirdn2d import (
    Padding,
    filter_size,
    parse_padding,
    setup_filter,
    upfirdn2d,
    upsample2d,
)

NOISE_MODES = ("const", "random", "none")
ARCHITECTURES = ("orig", "skip", "resnet")
DEFAULT_RESAMPLE_FILTER = (1, 3, 3, 1)

# ------------------------------------------------------------------------------------------------ ops


def _plain_conv(
    x: torch.Tensor,
    w: torch.Tensor,
    stride: int = 1,
    padding: int | list[int] = 0,
    groups: int = 1,
    transpose: bool = False,
    flip_weight: bool = True,
) -> torch.Tensor:
    """conv2d (correlation) or its transpose; `flip_weight=False` turns the kernel into a true convolution."""
    if not flip_weight and (w.shape[2] > 1 or w.shape[3] > 1):
        w = w.flip([2, 3])
    return conv2d_any(x, w, stride=stride, padding=padding, groups=groups, transpose=transpose)


def conv2d_resample(
    x: torch.Tensor,
    w: torch.Tensor,
    f: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: Padding = 0,
    groups: int = 1,
    flip_weight: bool = True,
    flip_filter: bool = False,
) -> torch.Tensor:
    """2-D convolution with FIR-filtered up/down-sampling, padding given relative to the upsampled image.

    Same semantics as the official `conv2d_resample`; each case uses the cheapest equivalent order
    (upsampling as a strided transposed convolution, downsampling as a strided convolution).
    """
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError("conv2d_resample expects x [N, C, H, W] and w [O, I, kh, kw]")
    out_channels, in_per_group, kh, kw = (int(s) for s in w.shape)
    fw, fh = filter_size(f)
    px0, px1, py0, py1 = parse_padding(padding)
    if up > 1:  # room for the upsampling filter
        px0, px1 = px0 + (fw + up - 1) // 2, px1 + (fw - up) // 2
        py0, py1 = py0 + (fh + up - 1) // 2, py1 + (fh - up) // 2
    if down > 1:  # room for the downsampling filter
        px0, px1 = px0 + (fw - down + 1) // 2, px1 + (fw - down) // 2
        py0, py1 = py0 + (fh - down + 1) // 2, py1 + (fh - down) // 2

    pointwise = kw == 1 and kh == 1
    if pointwise and down > 1 and up == 1:  # filter and decimate first: fewer pixels to convolve
        x = upfirdn2d(x, f, down=down, padding=[px0, px1, py0, py1], flip_filter=flip_filter)
        return _plain_conv(x, w, groups=groups, flip_weight=flip_weight)
    if pointwise and up > 1 and down == 1:  # convolve first: fewer pixels to convolve
        x = _plain_conv(x, w, groups=groups, flip_weight=flip_weight)
        return upfirdn2d(x, f, up=up, padding=[px0, px1, py0, py1], gain=up**2, flip_filter=flip_filter)
    if down > 1 and up == 1:  # filter, then strided convolution
        x = upfirdn2d(x, f, padding=[px0, px1, py0, py1], flip_filter=flip_filter)
        return _plain_conv(x, w, stride=down, groups=groups, flip_weight=flip_weight)
    if up > 1:  # strided transposed convolution, then filter
        if groups == 1:
            w = w.transpose(0, 1)
        else:
            w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw).transpose(1, 2)
            w = w.reshape(groups * in_per_group, out_channels // groups, kh, kw)
        px0, px1 = px0 - (kw - 1), px1 - (kw - up)
        py0, py1 = py0 - (kh - 1), py1 - (kh - up)
        pxt = max(min(-px0, -px1), 0)
        pyt = max(min(-py0, -py1), 0)
        x = _plain_conv(
            x, w, stride=up, padding=[pyt, pxt], groups=groups, transpose=True, flip_weight=not flip_weight
        )
        x = upfirdn2d(
            x, f, padding=[px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain=up**2, flip_filter=flip_filter
        )
        if down > 1:
            x = upfirdn2d(x, f, down=down, flip_filter=flip_filter)
        return x
    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:  # symmetric padding: one conv2d call
        return _plain_conv(x, w, padding=[py0, px0], groups=groups, flip_weight=flip_weight)
    x = upfirdn2d(x, None, padding=[px0, px1, py0, py1], flip_filter=flip_filter)
    return _plain_conv(x, w, groups=groups, flip_weight=flip_weight)


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    noise: torch.Tensor | None = None,
    up: int = 1,
    padding: int = 0,
    resample_filter: torch.Tensor | None = None,
    demodulate: bool = True,
    flip_weight: bool = True,
    fused_modconv: bool = True,
) -> torch.Tensor:
    """StyleGAN2 weight (de)modulation: scale input channels by styles, normalise each output channel.

    fused: one grouped convolution with per-sample weights. Not fused: scale the activations, run one
    shared-weight convolution, scale the outputs by the demodulation coefficients (equal result).
    """
    batch = x.shape[0]
    out_channels, in_channels, kh, kw = weight.shape
    if styles.shape != (batch, in_channels):
        raise ValueError(f"styles must be [{batch}, {in_channels}], got {list(styles.shape)}")

    if x.dtype == torch.float16 and demodulate:  # keep float16 sums in range; demodulation undoes the scale
        weight = weight * (
            1 / np.sqrt(in_channels * kh * kw) / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True)
        )
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)

    w = None
    dcoefs = None
    if demodulate or fused_modconv:
        w = weight.unsqueeze(0) * styles.reshape(batch, 1, -1, 1, 1)  # [N, O, I, kh, kw]
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [N, O]

    if not fused_modconv:
        x = x * styles.to(x.dtype).reshape(batch, -1, 1, 1)
        x = conv2d_resample(
            x, weight.to(x.dtype), f=resample_filter, up=up, padding=padding, flip_weight=flip_weight
        )
        if demodulate:
            x = x * dcoefs.to(x.dtype).reshape(batch, -1, 1, 1)
        if noise is not None:
            x = x + noise.to(x.dtype)
        return x

    if demodulate:
        w = w * dcoefs.reshape(batch, -1, 1, 1, 1)
    if batch > 1:  # (batch 1: no reshape, which would hide channels-last memory from oneDNN)
        x = x.reshape(1, -1, *x.shape[2:])
    w = w.reshape(-1, in_channels, kh, kw)
    x = conv2d_resample(
        x, w.to(x.dtype), f=resample_filter, up=up, padding=padding, groups=batch, flip_weight=flip_weight
    )
    if batch > 1:
        x = x.reshape(batch, -1, *x.shape[2:])
    if noise is not None:
        x = x.add_(noise)  # in place, as the reference: float32 noise is added at the activations' precision
    return x


# ---------------------------------------------------------------------------------------------- layers


class Conv2dLayer(nn.Module):
    """Equalised-learning-rate convolution with optional FIR up/down-sampling, bias, activation and clamp.

    Used by the discriminator and by the 'resnet' synthesis skip path (official name `Conv2dLayer`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",
        up: int = 1,
        down: int = 1,
        resample_filter: Any = DEFAULT_RESAMPLE_FILTER,
        conv_clamp: float | None = None,
        channels_last: bool = False,
        trainable: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.activation = activation
        self.up, self.down = int(up), int(down)
        self.conv_clamp = conv_clamp
        self.channels_last = bool(channels_last)
        self.trainable = bool(trainable)  # Freeze-D flag; names and values are the same either way
        self.weight = nn.Parameter(
            torch.randn([self.out_channels, self.in_channels, kernel_size, kernel_size])
        )
        self.bias = nn.Parameter(torch.zeros([self.out_channels])) if bias else None
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / np.sqrt(self.in_channels * kernel_size**2)
        self.act_gain = activation_gain(activation)

    def forward(self, x: torch.Tensor, gain: float = 1) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias.to(x.dtype) if self.bias is not None else None
        x = conv2d_resample(
            x,
            w.to(x.dtype),
            f=self.resample_filter,
            up=self.up,
            down=self.down,
            padding=self.padding,
            flip_weight=(self.up == 1),
        )
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, b, act=self.activation, gain=self.act_gain * gain, clamp=clamp)

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, out={self.out_channels}, act={self.activation}, up={self.up}, down={self.down}"


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally 2x upsampling) + per-pixel noise + bias + activation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        kernel_size: int = 3,
        up: int = 1,
        use_noise: bool = True,
        activation: str = "lrelu",
        resample_filter: Any = DEFAULT_RESAMPLE_FILTER,
        conv_clamp: float | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.w_dim, self.resolution, self.up = int(w_dim), int(resolution), int(up)
        self.use_noise = bool(use_noise)
        self.activation = activation
        self.conv_clamp = conv_clamp
        self.channels_last = bool(channels_last)
        self.padding = kernel_size // 2
        self.act_gain = activation_gain(activation)
        self.affine = FullyConnectedLayer(self.w_dim, self.in_channels, bias_init=1)
        self.weight = nn.Parameter(
            torch.randn([self.out_channels, self.in_channels, kernel_size, kernel_size])
        )
        if self.use_noise:
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([self.out_channels]))
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        if self.use_noise:
            self.register_buffer("noise_const", torch.randn([self.resolution, self.resolution]))

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: str = "const",
        fused_modconv: bool = True,
        gain: float = 1,
    ) -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        in_res = self.resolution // self.up
        if x.ndim != 4 or x.shape[1] != self.in_channels or x.shape[2] != in_res or x.shape[3] != in_res:
            raise ValueError(f"expected x [N, {self.in_channels}, {in_res}, {in_res}], got {list(x.shape)}")
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode == "random":
            noise = torch.randn([x.shape[0], 1, self.resolution, self.resolution], device=x.device)
            noise = noise * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = modulated_conv2d(
            x,
            self.weight,
            styles,
            noise=noise,
            up=self.up,
            padding=self.padding,
            resample_filter=self.resample_filter,
            flip_weight=(self.up == 1),
            fused_modconv=fused_modconv,
        )
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias.to(x.dtype), act=self.activation, gain=self.act_gain * gain, clamp=clamp)

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, out={self.out_channels}, res={self.resolution}, up={self.up}"


class ToRGBLayer(nn.Module):
    """Modulated (not demodulated) 1x1 convolution from features to colour channels."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        kernel_size: int = 1,
        conv_clamp: float | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.w_dim = int(in_channels), int(out_channels), int(w_dim)
        self.conv_clamp = conv_clamp
        self.channels_last = bool(channels_last)
        self.affine = FullyConnectedLayer(self.w_dim, self.in_channels, bias_init=1)
        self.weight = nn.Parameter(
            torch.randn([self.out_channels, self.in_channels, kernel_size, kernel_size])
        )
        self.bias = nn.Parameter(torch.zeros([self.out_channels]))
        self.weight_gain = 1 / np.sqrt(self.in_channels * kernel_size**2)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool = True) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv)
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)

    def extra_repr(self) -> str:
        return f"in={self.in_channels}, out={self.out_channels}"


# ---------------------------------------------------------------------------------------------- blocks


class SynthesisBlock(nn.Module):
    """One resolution level: (const | 2x upsampling conv0), conv1, toRGB; work done in named parts."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        img_channels: int,
        is_last: bool,
        architecture: str = "skip",
        resample_filter: Any = DEFAULT_RESAMPLE_FILTER,
        conv_clamp: float | None = 256,
        use_fp16: bool = False,
        fp16_channels_last: bool = False,
        fused_modconv_default: Any = True,
        **layer_kwargs: Any,
    ) -> None:
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.w_dim, self.resolution, self.img_channels = int(w_dim), int(resolution), int(img_channels)
        self.is_last = bool(is_last)
        self.architecture = architecture
        self.use_fp16 = bool(use_fp16)
        self.channels_last = self.use_fp16 and bool(fp16_channels_last)
        # Recorded for compatibility; Castmaker chooses fused / non-fused by batch size (same values).
        self.fused_modconv_default = fused_modconv_default
        self.num_conv = 0
        self.num_torgb = 0
        if self.in_channels == 0:
            self.const = nn.Parameter(torch.randn([self.out_channels, self.resolution, self.resolution]))
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        common = dict(
            w_dim=w_dim, resolution=resolution, conv_clamp=conv_clamp, channels_last=self.channels_last
        )
        if self.in_channels != 0:
            self.conv0 = SynthesisLayer(
                in_channels, out_channels, up=2, resample_filter=resample_filter, **common, **layer_kwargs
            )
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, **common, **layer_kwargs)
        self.num_conv += 1
        if self.is_last or architecture == "skip":
            self.torgb = ToRGBLayer(
                out_channels,
                img_channels,
                w_dim=w_dim,
                conv_clamp=conv_clamp,
                channels_last=self.channels_last,
            )
            self.num_torgb += 1
        if self.in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(
                in_channels,
                out_channels,
                kernel_size=1,
                bias=False,
                up=2,
                resample_filter=resample_filter,
                channels_last=self.channels_last,
            )

    @property
    def parts(self) -> list[str]:
        """Names of this block's steps in execution order, each reading one w row."""
        names = ["conv0"] if self.in_channels != 0 else []
        names.append("conv1")
        if self.num_torgb:
            names.append("torgb")
        return names

    def compute_dtype(self, device: torch.device, force_fp32: bool, fp16_on_cpu: bool) -> torch.dtype:
        """float16 for fp16 blocks on CUDA (or anywhere with fp16_on_cpu) unless force_fp32, else float32."""
        fp16_ok = device.type == "cuda" or fp16_on_cpu
        return torch.float16 if self.use_fp16 and fp16_ok and not force_fp32 else torch.float32

    def run_part(
        self,
        part: str,
        state: tuple[torch.Tensor | None, ...],
        w: torch.Tensor,
        dtype: torch.dtype,
        noise_mode: str,
        fused_modconv: bool,
        cpu_channels_last: bool = False,
    ) -> tuple[torch.Tensor | None, ...]:
        """Run one step of this block; the state is (x, img) or, inside a resnet block, (x, img, skip).

        `cpu_channels_last`: run float32 maps channels-last on the CPU, where oneDNN's convolutions
        (the depthwise resampling filters above all) are much faster on it.
        """
        x, img = state[0], state[1]
        cl = (cpu_channels_last and dtype == torch.float32) or (self.channels_last and dtype == torch.float16)
        fmt = torch.channels_last if cl else torch.contiguous_format
        if part == "conv0":
            x = x.to(dtype=dtype, memory_format=fmt)
            skip = self.skip(x, gain=np.sqrt(0.5)) if self.architecture == "resnet" else None
            x = self.conv0(x, w, noise_mode=noise_mode, fused_modconv=fused_modconv)
            return (x, img, skip) if skip is not None else (x, img)
        if part == "conv1":
            if self.in_channels == 0:
                x = self.const.to(dtype=dtype).unsqueeze(0).repeat([w.shape[0], 1, 1, 1]).to(memory_format=fmt)
            if self.architecture == "resnet" and self.in_channels != 0:
                x = self.conv1(x, w, noise_mode=noise_mode, fused_modconv=fused_modconv, gain=np.sqrt(0.5))
                return state[2] + x, img  # not in place: a cached state must stay intact
            return self.conv1(x, w, noise_mode=noise_mode, fused_modconv=fused_modconv), img
        if part == "torgb":
            # The RGB skip image too is channels-last on the CPU: its 3-channel up-sampling filter runs
            # 5x faster there (77 vs 420 us at 64 px).
            img_fmt = torch.channels_last if cpu_channels_last and dtype == torch.float32 else torch.contiguous_format
            if img is not None:
                img = upsample2d(img.contiguous(memory_format=img_fmt), self.resample_filter)
            y = self.torgb(x, w, fused_modconv=fused_modconv).to(dtype=torch.float32, memory_format=img_fmt)
            return x, (img.add_(y) if img is not None else y)
        raise ValueError(f"unknown block part {part!r}")

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, architecture={self.architecture}, use_fp16={self.use_fp16}"


class SynthesisNetwork(nn.Module):
    """w+ [N, num_ws, w_dim] -> image [N, C, H, W]; blocks b4 ... b{img_resolution}, run step by step."""

    def __init__(
        self,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        num_fp16_res: int = 4,
        fp16_on_cpu: bool = False,
        **block_kwargs: Any,
    ) -> None:
        img_resolution = int(img_resolution)
        if img_resolution < 4 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two >= 4, got {img_resolution}")
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = int(w_dim), img_resolution, int(img_channels)
        self.img_resolution_log2 = int(np.log2(img_resolution))
        self.num_fp16_res = int(num_fp16_res)
        self.fp16_on_cpu = bool(fp16_on_cpu)
        self.block_resolutions = [2**i for i in range(2, self.img_resolution_log2 + 1)]
        channels = {res: min(int(channel_base) // res, int(channel_max)) for res in self.block_resolutions}
        fp16_resolution = max(2 ** (self.img_resolution_log2 + 1 - self.num_fp16_res), 8)

        self.num_ws = 0
        plan: list[tuple[int, str]] = []
        steps: list[SynthesisStep] = []
        for res in self.block_resolutions:
            block = SynthesisBlock(
                channels[res // 2] if res > 4 else 0,
                channels[res],
                w_dim=w_dim,
                resolution=res,
                img_channels=img_channels,
                is_last=(res == img_resolution),
                use_fp16=(res >= fp16_resolution),
                **block_kwargs,
            )
            setattr(self, f"b{res}", block)
            row = self.num_ws
            for part in block.parts:
                plan.append((res, part))
                out_ch = self.img_channels if part == "torgb" else block.out_channels
                steps.append(SynthesisStep(name=f"b{res}.{part}", row=row, size=res, channels=out_ch))
                row += 1
            self.num_ws += block.num_conv
        self.num_ws += getattr(self, f"b{img_resolution}").num_torgb
        self._plan = plan
        self.steps = steps

    # ----- the stepwise contract
    def run_steps(
        self,
        ws: torch.Tensor,
        state: tuple[torch.Tensor | None, ...] | None,
        start: int,
        stop: int,
        force_fp32: bool = False,
        noise_mode: str = "const",
        fused_modconv: bool | None = None,
    ) -> tuple[torch.Tensor | None, ...]:
        """Run steps[start:stop] on ws [N, num_ws, w_dim]; `state` (ignored, normally None) when start == 0."""
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must have shape [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        if not 0 <= start <= stop <= len(self.steps):
            raise ValueError(f"step range {start}:{stop} is outside 0:{len(self.steps)}")
        if state is None and start > 0:
            raise ValueError(f"starting at step {start} needs the state left by step {start - 1}; got None")
        ws = ws.to(torch.float32)
        if fused_modconv is None:
            fused_modconv = ws.shape[0] == 1
        if start == 0:
            state = (None, None)
        # Not where float16 blocks run on the CPU (ada networks): their rounding would magnify the
        # float32 blocks' layout-dependent last-bit differences far past the official code's output.
        cpu_channels_last = ws.device.type == "cpu" and (force_fp32 or not self.fp16_on_cpu)
        for i in range(start, stop):
            res, part = self._plan[i]
            block: SynthesisBlock = getattr(self, f"b{res}")
            dtype = block.compute_dtype(ws.device, force_fp32, self.fp16_on_cpu)
            w = ws[:, self.steps[i].row]
            state = block.run_part(part, state, w, dtype, noise_mode, fused_modconv, cpu_channels_last)
        return state

    @staticmethod
    def state_to_image(state: tuple[torch.Tensor | None, ...]) -> torch.Tensor:
        """The accumulated RGB image of a state (float32, contiguous; the final image after the last step)."""
        if state[1] is None:
            raise ValueError("no toRGB step has run yet, so this state holds no image")
        return state[1].contiguous()

    @staticmethod
    def state_activation(state: tuple[torch.Tensor | None, ...]) -> torch.Tensor:
        """The feature map after the last step run (the layer inspector shows it)."""
        return state[0]

    def forward(self, ws: torch.Tensor, update_emas: bool = False, **kwargs: Any) -> torch.Tensor:
        del update_emas  # accepted for the official call surface; synthesis keeps no running averages
        return self.state_to_image(self.run_steps(ws, None, 0, len(self.steps), **kwargs))

    def extra_repr(self) -> str:
        return f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}"


# ------------------------------------------------------------------------------------------- generator

# Constructor defaults of the two official code bases where they differ (kwargs left at their
# defaults are not recorded in pickles, so the layout decides which defaults apply).
_ADA_SYNTHESIS_DEFAULTS = {"num_fp16_res": 0, "conv_clamp": None}
_STYLEGAN3_REPO_SYNTHESIS_DEFAULTS = {"num_fp16_res": 4, "conv_clamp": 256}


class Generator(nn.Module):
    """Mapping + synthesis, constructed from either official kwarg layout.

    stylegan2-ada-pytorch: `synthesis_kwargs={channel_base, channel_max, num_fp16_res, conv_clamp, ...}`;
    stylegan3 repository (`--cfg=stylegan2`): the same options flat. `fp16_on_cpu` (Castmaker option):
    run float16 blocks in float16 on non-CUDA devices too, as stylegan2-ada-pytorch does.
    """

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        mapping_kwargs: dict[str, Any] | None = None,
        synthesis_kwargs: dict[str, Any] | None = None,
        fp16_on_cpu: bool = False,
        **flat_synthesis_kwargs: Any,
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = int(z_dim), int(c_dim), int(w_dim)
        self.img_resolution, self.img_channels = int(img_resolution), int(img_channels)
        if synthesis_kwargs is not None:
            clash = set(synthesis_kwargs) & set(flat_synthesis_kwargs)
            if clash:
                raise ValueError(f"synthesis options given both nested and flat: {sorted(clash)}")
            options = {**_ADA_SYNTHESIS_DEFAULTS, **dict(synthesis_kwargs), **flat_synthesis_kwargs}
        else:
            options = {**_STYLEGAN3_REPO_SYNTHESIS_DEFAULTS, **flat_synthesis_kwargs}
        self.synthesis = SynthesisNetwork(
            w_dim=self.w_dim,
            img_resolution=self.img_resolution,
            img_channels=self.img_channels,
            fp16_on_cpu=fp16_on_cpu,
            **options,
        )
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            z_dim=self.z_dim,
            c_dim=self.c_dim,
            w_dim=self.w_dim,
            num_ws=self.num_ws,
            **dict(mapping_kwargs or {}),
        )

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None,
        truncation_psi: float = 1,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
        **synthesis_kwargs: Any,
    ) -> torch.Tensor:
        ws = self.mapping(
            z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, update_emas=update_emas
        )
        return self.synthesis(ws, **synthesis_kwargs)
