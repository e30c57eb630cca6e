"""Clean-room StyleGAN3 generator (configs T and R) with the official parameter names and call surface.

Why it looks like this: official network pickles record the Generator's keyword arguments and its
state_dict; building this module from those kwargs gives the same submodules, parameter names, shapes
and designed filter buffers, so `load_state_dict(weights, strict=True)` works and outputs match the
official code to float32 rounding. Synthesis is also exposed as explicit steps (see
`renderer.nets.contract`): step 0 is the Fourier-feature input (w row 0), step i+1 the layer
`L{i}_{size}_{channels}` (w row i+1).

Precision: on CUDA, layers the official config marks `use_fp16` run in float16 (with the official
conv_clamp) unless `force_fp32`; everywhere else float32, as the official code does. No float64 runs
in the forward pass (MPS has none).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from renderer.errors import NetworkLoadError
from renderer.nets.contract import SynthesisStep
from renderer.nets.mapping import FullyConnectedLayer, MappingNetwork
from renderer.nets.ops.filtered_lrelu import FilteredLReLUPlan
from renderer.nets.ops.filters import design_lowpass
from renderer.nets.ops.sg3_modconv import modulated_conv2d

# SynthesisNetwork options (official names and defaults).
_SYNTHESIS_DEFAULTS: dict[str, Any] = {
    "channel_base": 32768,
    "channel_max": 512,
    "num_layers": 14,
    "num_critical": 2,
    "first_cutoff": 2,
    "first_stopband": 2**2.1,
    "last_stopband_rel": 2**0.3,
    "margin_size": 10,
    "output_scale": 0.25,
    "num_fp16_res": 4,
}
# SynthesisLayer options forwarded from the Generator / SynthesisNetwork kwargs.
_LAYER_DEFAULTS: dict[str, Any] = {
    "conv_kernel": 3,
    "filter_size": 6,
    "lrelu_upsampling": 2,
    "use_radial_filters": False,
    "conv_clamp": 256,
    "magnitude_ema_beta": 0.999,  # training only (input magnitude tracking); kept for the record
}


def _half_precision(use_fp16: bool, force_fp32: bool, device: torch.device) -> bool:
    """The official rule: float16 only for use_fp16 layers on CUDA when not forced to float32."""
    return bool(use_fp16) and not force_fp32 and device.type == "cuda"


class SynthesisInput(nn.Module):
    """Fourier features: sinusoids of fixed random frequencies, rotated/translated per w, then mixed."""

    def __init__(self, w_dim: int, channels: int, size: int | list[int], sampling_rate: float, bandwidth: float) -> None:
        super().__init__()
        self.w_dim = int(w_dim)
        self.channels = int(channels)
        self.size = np.broadcast_to(np.asarray(size), [2]).copy()  # [width, height]
        self.sampling_rate = float(sampling_rate)
        self.bandwidth = float(bandwidth)
        # Frequencies drawn uniformly-ish from a disc of radius `bandwidth` (official initialisation).
        freqs = torch.randn([self.channels, 2])
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs /= radii * radii.square().exp().pow(0.25)
        freqs *= self.bandwidth
        phases = torch.rand([self.channels]) - 0.5
        self.weight = nn.Parameter(torch.randn([self.channels, self.channels]))
        self.affine = FullyConnectedLayer(self.w_dim, 4, weight_init=0, bias_init=[1, 0, 0, 0])
        self.register_buffer("transform", torch.eye(3, 3))  # user inverse transform of the output image
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", phases)

    def _grid(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample positions (x along width, y along height) of pixel centres, in units of the sampling grid."""
        w, h = int(self.size[0]), int(self.size[1])
        gx = ((torch.arange(w, device=device, dtype=torch.float32) * 2 + 1) / w - 1) * (0.5 * w / self.sampling_rate)
        gy = ((torch.arange(h, device=device, dtype=torch.float32) * 2 + 1) / h - 1) * (0.5 * h / self.sampling_rate)
        return gx, gy

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        n = w.shape[0]
        # Learned rotation + translation from w: t = (cos, sin, tx, ty), rotation part normalised.
        t = self.affine(w)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        eye = torch.eye(3, device=w.device, dtype=torch.float32)
        rot = eye.repeat(n, 1, 1)
        rot[:, 0, 0] = t[:, 0]
        rot[:, 0, 1] = -t[:, 1]
        rot[:, 1, 0] = t[:, 1]
        rot[:, 1, 1] = t[:, 0]
        shift = eye.repeat(n, 1, 1)
        shift[:, 0, 2] = -t[:, 2]
        shift[:, 1, 2] = -t[:, 3]
        transforms = rot @ shift @ self.transform.to(torch.float32)[None]
        # Move the frequencies/phases instead of the sampling grid.
        freqs = self.freqs[None].to(torch.float32)  # [N?, C, 2]
        phases = self.phases[None].to(torch.float32) + (freqs @ transforms[:, :2, 2:]).squeeze(2)  # [N, C]
        freqs = freqs @ transforms[:, :2, :2]  # [N, C, 2]
        # Fade out frequencies a user transform pushed beyond the band limit.
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)
        gx, gy = self._grid(w.device)
        arg = (
            gx[None, None, None, :] * freqs[:, :, 0, None, None]
            + gy[None, None, :, None] * freqs[:, :, 1, None, None]
            + phases[:, :, None, None]
        )  # [N, C, H, W]
        feats = torch.sin(arg * (2 * math.pi)) * amplitudes[:, :, None, None]
        mix = self.weight.to(torch.float32) * (1 / math.sqrt(self.channels))
        h, wd = feats.shape[2], feats.shape[3]
        x = torch.matmul(mix, feats.reshape(n, self.channels, h * wd)).reshape(n, self.channels, h, wd)
        # on the CPU every map between layers is channels-last (see ops/flrelu_depthwise.py)
        return x.contiguous(memory_format=torch.channels_last) if x.device.type == "cpu" else x

    def extra_repr(self) -> str:
        return (
            f"w_dim={self.w_dim}, channels={self.channels}, size={list(self.size)}, "
            f"sampling_rate={self.sampling_rate:g}, bandwidth={self.bandwidth:g}"
        )


class SynthesisLayer(nn.Module):
    """Modulated conv + bias + filtered leaky ReLU (up-sample, activate, low-pass, down-sample) + clamp."""

    def __init__(
        self,
        w_dim: int,
        is_torgb: bool,
        is_critically_sampled: bool,
        use_fp16: bool,
        in_channels: int,
        out_channels: int,
        in_size: int | list[int],
        out_size: int | list[int],
        in_sampling_rate: float,
        out_sampling_rate: float,
        in_cutoff: float,
        out_cutoff: float,
        in_half_width: float,
        out_half_width: float,
        conv_kernel: int = 3,
        filter_size: int = 6,
        lrelu_upsampling: int = 2,
        use_radial_filters: bool = False,
        conv_clamp: float | None = 256,
        magnitude_ema_beta: float = 0.999,
    ) -> None:
        super().__init__()
        self.w_dim = int(w_dim)
        self.is_torgb = bool(is_torgb)
        self.is_critically_sampled = bool(is_critically_sampled)
        self.use_fp16 = bool(use_fp16)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.in_size = np.broadcast_to(np.asarray(in_size), [2]).copy()
        self.out_size = np.broadcast_to(np.asarray(out_size), [2]).copy()
        self.in_sampling_rate = in_sampling_rate
        self.out_sampling_rate = out_sampling_rate
        self.tmp_sampling_rate = max(in_sampling_rate, out_sampling_rate) * (1 if self.is_torgb else lrelu_upsampling)
        self.in_cutoff = float(in_cutoff)
        self.out_cutoff = float(out_cutoff)
        self.in_half_width = float(in_half_width)
        self.out_half_width = float(out_half_width)
        self.conv_kernel = 1 if self.is_torgb else int(conv_kernel)
        self.conv_clamp = conv_clamp
        self.magnitude_ema_beta = magnitude_ema_beta

        self.affine = FullyConnectedLayer(self.w_dim, self.in_channels, bias_init=1)
        self.weight = nn.Parameter(
            torch.randn([self.out_channels, self.in_channels, self.conv_kernel, self.conv_kernel])
        )
        self.bias = nn.Parameter(torch.zeros([self.out_channels]))
        self.register_buffer("magnitude_ema", torch.ones([]))

        # Up-sampling filter (separable Kaiser low-pass at the input cutoff).
        self.up_factor = int(np.rint(self.tmp_sampling_rate / self.in_sampling_rate))
        if self.in_sampling_rate * self.up_factor != self.tmp_sampling_rate:
            raise NetworkLoadError(
                f"StyleGAN3 layer: sampling rates {in_sampling_rate} -> {self.tmp_sampling_rate} are not an integer "
                "up-sampling; the network configuration is inconsistent"
            )
        self.up_taps = filter_size * self.up_factor if self.up_factor > 1 and not self.is_torgb else 1
        self.register_buffer(
            "up_filter",
            _as_buffer(
                design_lowpass(self.up_taps, self.in_cutoff, self.in_half_width * 2, self.tmp_sampling_rate)
            ),
        )
        # Down-sampling filter (separable, or radial for non-critically-sampled R layers).
        self.down_factor = int(np.rint(self.tmp_sampling_rate / self.out_sampling_rate))
        if self.out_sampling_rate * self.down_factor != self.tmp_sampling_rate:
            raise NetworkLoadError(
                f"StyleGAN3 layer: sampling rates {self.tmp_sampling_rate} -> {out_sampling_rate} are not an integer "
                "down-sampling; the network configuration is inconsistent"
            )
        self.down_taps = filter_size * self.down_factor if self.down_factor > 1 and not self.is_torgb else 1
        self.down_radial = bool(use_radial_filters) and not self.is_critically_sampled
        self.register_buffer(
            "down_filter",
            _as_buffer(
                design_lowpass(
                    self.down_taps,
                    self.out_cutoff,
                    self.out_half_width * 2,
                    self.tmp_sampling_rate,
                    radial=self.down_radial,
                )
            ),
        )
        # Padding so the output lands on the symmetric sample grid.
        pad_total = (self.out_size - 1) * self.down_factor + 1
        pad_total -= (self.in_size + self.conv_kernel - 1) * self.up_factor
        pad_total += self.up_taps + self.down_taps - 2
        pad_lo = (pad_total + self.up_factor) // 2
        pad_hi = pad_total - pad_lo
        self.padding = [int(pad_lo[0]), int(pad_hi[0]), int(pad_lo[1]), int(pad_hi[1])]
        self._plans: dict[tuple, FilteredLReLUPlan] = {}

    @torch.compiler.disable  # plain Python bookkeeping; compiled code calls the plan it returns
    def _plan(self, device: torch.device, dtype: torch.dtype) -> FilteredLReLUPlan:
        """Prepared filter weights for this device/dtype, rebuilt when a filter buffer changes."""
        fu, fd = self.up_filter, self.down_filter
        key = (
            device,
            dtype,
            None if fu is None else (fu.data_ptr(), fu._version),
            None if fd is None else (fd.data_ptr(), fd._version),
        )
        plan = self._plans.get(key)
        if plan is None:
            conv_in = self.in_size + self.conv_kernel - 1
            plan = FilteredLReLUPlan(
                fu,
                fd,
                channels=self.out_channels,
                in_size=(int(conv_in[1]), int(conv_in[0])),
                up=self.up_factor,
                down=self.down_factor,
                padding=self.padding,
                gain=1.0 if self.is_torgb else math.sqrt(2),
                slope=1.0 if self.is_torgb else 0.2,
                clamp=None if self.conv_clamp is None else float(self.conv_clamp),
                device=device,
                dtype=dtype,
            )
            self._plans = {k: v for k, v in self._plans.items() if k[:2] != key[:2]}
            self._plans[key] = plan
        return plan

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: str = "random",
        force_fp32: bool = False,
        update_emas: bool = False,
    ) -> torch.Tensor:
        if noise_mode not in ("random", "const", "none"):
            raise ValueError(f"noise_mode must be 'random', 'const' or 'none', got {noise_mode!r}")
        expect = (self.in_channels, int(self.in_size[1]), int(self.in_size[0]))
        if tuple(x.shape[1:]) != expect or w.shape != (x.shape[0], self.w_dim):
            raise ValueError(
                f"{type(self).__name__}: expected x [N, {expect[0]}, {expect[1]}, {expect[2]}] and w [N, {self.w_dim}], "
                f"got {list(x.shape)} and {list(w.shape)}"
            )
        if update_emas:
            current = x.detach().to(torch.float32).square().mean()
            self.magnitude_ema.copy_(current.lerp(self.magnitude_ema, self.magnitude_ema_beta))
        input_gain = self.magnitude_ema.rsqrt()
        styles = self.affine(w)
        if self.is_torgb:
            styles = styles * (1 / math.sqrt(self.in_channels * self.conv_kernel**2))
        dtype = torch.float16 if _half_precision(self.use_fp16, force_fp32, x.device) else torch.float32
        x = x.to(dtype)
        if x.device.type == "cuda" and dtype == torch.float16:
            x = x.contiguous(memory_format=torch.channels_last)
        x = modulated_conv2d(
            x,
            self.weight,
            styles,
            demodulate=not self.is_torgb,
            padding=self.conv_kernel - 1,
            input_gain=input_gain,
            bias=self.bias,
        )
        # (the CPU kernel returns channels-last maps, which the next layer's convolution reads fastest)
        x = self._plan(x.device, dtype).apply(x)
        return x

    def extra_repr(self) -> str:
        return (
            f"w_dim={self.w_dim}, is_torgb={self.is_torgb}, is_critically_sampled={self.is_critically_sampled}, "
            f"use_fp16={self.use_fp16}, in_sampling_rate={self.in_sampling_rate:g}, "
            f"out_sampling_rate={self.out_sampling_rate:g}, in_size={list(self.in_size)}, "
            f"out_size={list(self.out_size)}, in_channels={self.in_channels}, out_channels={self.out_channels}"
        )


def _as_buffer(taps: np.ndarray | None) -> torch.Tensor | None:
    return None if taps is None else torch.from_numpy(taps)


class SynthesisNetwork(nn.Module):
    """w+ [N, num_ws, w_dim] -> image [N, C, H, W]: Fourier input then `num_layers + 1` layers."""

    def __init__(
        self,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        num_layers: int = 14,
        num_critical: int = 2,
        first_cutoff: float = 2,
        first_stopband: float = 2**2.1,
        last_stopband_rel: float = 2**0.3,
        margin_size: int = 10,
        output_scale: float = 0.25,
        num_fp16_res: int = 4,
        **layer_kwargs: Any,
    ) -> None:
        super().__init__()
        unknown = sorted(set(layer_kwargs) - set(_LAYER_DEFAULTS))
        if unknown:
            raise NetworkLoadError(
                f"StyleGAN3 synthesis option(s) {', '.join(unknown)} are not known to Castmaker (known: "
                f"{', '.join(sorted(set(_SYNTHESIS_DEFAULTS) | set(_LAYER_DEFAULTS)))}); the network was made by "
                "modified code: convert it with that code or report the option"
            )
        self.w_dim = int(w_dim)
        self.num_ws = int(num_layers) + 2
        self.img_resolution = int(img_resolution)
        self.img_channels = int(img_channels)
        self.num_layers = int(num_layers)
        self.num_critical = int(num_critical)
        self.margin_size = int(margin_size)
        self.output_scale = float(output_scale)
        self.num_fp16_res = int(num_fp16_res)
        if self.num_layers <= self.num_critical:
            raise NetworkLoadError(
                f"StyleGAN3 synthesis: num_layers ({num_layers}) must exceed num_critical ({num_critical})"
            )

        # Geometric schedule of cutoffs and minimum stopbands from the first to the last layer.
        last_cutoff = self.img_resolution / 2
        last_stopband = last_cutoff * last_stopband_rel
        exponents = np.minimum(np.arange(self.num_layers + 1) / (self.num_layers - self.num_critical), 1)
        cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
        stopbands = first_stopband * (last_stopband / first_stopband) ** exponents
        sampling_rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, self.img_resolution))))
        half_widths = np.maximum(stopbands, sampling_rates / 2) - cutoffs
        sizes = sampling_rates + self.margin_size * 2
        sizes[-2:] = self.img_resolution
        channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
        channels[-1] = self.img_channels

        self.input = SynthesisInput(
            w_dim=self.w_dim,
            channels=int(channels[0]),
            size=int(sizes[0]),
            sampling_rate=sampling_rates[0],
            bandwidth=cutoffs[0],
        )
        self.layer_names: list[str] = []
        for idx in range(self.num_layers + 1):
            prev = max(idx - 1, 0)
            layer = SynthesisLayer(
                w_dim=self.w_dim,
                is_torgb=idx == self.num_layers,
                is_critically_sampled=idx >= self.num_layers - self.num_critical,
                use_fp16=bool(sampling_rates[idx] * (2**self.num_fp16_res) > self.img_resolution),
                in_channels=int(channels[prev]),
                out_channels=int(channels[idx]),
                in_size=int(sizes[prev]),
                out_size=int(sizes[idx]),
                in_sampling_rate=int(sampling_rates[prev]),
                out_sampling_rate=int(sampling_rates[idx]),
                in_cutoff=cutoffs[prev],
                out_cutoff=cutoffs[idx],
                in_half_width=half_widths[prev],
                out_half_width=half_widths[idx],
                **layer_kwargs,
            )
            name = f"L{idx}_{layer.out_size[0]}_{layer.out_channels}"
            setattr(self, name, layer)
            self.layer_names.append(name)
        self.steps = [SynthesisStep("input", 0, int(sizes[0]), int(channels[0]))] + [
            SynthesisStep(name, i + 1, int(getattr(self, name).out_size[0]), getattr(self, name).out_channels)
            for i, name in enumerate(self.layer_names)
        ]

    # ----- stepwise contract
    def _check_ws(self, ws: torch.Tensor) -> None:
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must have shape [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")

    def run_steps(
        self,
        ws: torch.Tensor,
        state: torch.Tensor | None,
        start: int,
        stop: int,
        force_fp32: bool = False,
        noise_mode: str = "const",
    ) -> torch.Tensor | None:
        """Run steps[start:stop] on ws [N, num_ws, w_dim]; `state` is the activation after step start-1."""
        self._check_ws(ws)
        if not 0 <= start <= stop <= len(self.steps):
            raise ValueError(f"step range {start}:{stop} is outside 0:{len(self.steps)}")
        if start > 0 and state is None:
            raise ValueError(f"run_steps from step {start} needs the state after step {start - 1}")
        ws = ws.to(torch.float32)
        x = state
        for idx in range(start, stop):
            if idx == 0:
                x = self.input(ws[:, 0])
            else:
                name = self.layer_names[idx - 1]
                x = getattr(self, name)(x, ws[:, idx], noise_mode=noise_mode, force_fp32=force_fp32)
        return x

    def state_to_image(self, state: torch.Tensor) -> torch.Tensor:
        """The synthesis output [N, img_channels, H, W] float32 from the state after the last step."""
        x = state
        if self.output_scale != 1:
            x = x * self.output_scale
        return x.to(torch.float32).contiguous()

    def state_activation(self, state: torch.Tensor) -> torch.Tensor:
        """Feature map after the last step that was run, [N, C, H, W]."""
        return state

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", force_fp32: bool = False, **_: Any) -> torch.Tensor:
        x = self.run_steps(ws, None, 0, len(self.steps), force_fp32=force_fp32, noise_mode=noise_mode)
        return self.state_to_image(x)

    def extra_repr(self) -> str:
        return (
            f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}, "
            f"img_channels={self.img_channels}, num_layers={self.num_layers}, num_critical={self.num_critical}, "
            f"margin_size={self.margin_size}, num_fp16_res={self.num_fp16_res}"
        )


class Generator(nn.Module):
    """z (and label c) -> image: the official StyleGAN3 Generator's constructor and call surface."""

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        mapping_kwargs: dict[str, Any] | None = None,
        **synthesis_kwargs: Any,
    ) -> None:
        super().__init__()
        self.z_dim = int(z_dim)
        self.c_dim = int(c_dim)
        self.w_dim = int(w_dim)
        self.img_resolution = int(img_resolution)
        self.img_channels = int(img_channels)
        unknown = sorted(set(synthesis_kwargs) - set(_SYNTHESIS_DEFAULTS) - set(_LAYER_DEFAULTS))
        if unknown:
            raise NetworkLoadError(
                f"StyleGAN3 generator option(s) {', '.join(unknown)} are not known to Castmaker; the network "
                "was made by modified code: convert it with that code or report the option"
            )
        self.synthesis = SynthesisNetwork(
            w_dim=self.w_dim, img_resolution=self.img_resolution, img_channels=self.img_channels, **synthesis_kwargs
        )
        self.num_ws = self.synthesis.num_ws
        mapping_kwargs = dict(mapping_kwargs or {})
        mapping_kwargs.setdefault("num_layers", 2)  # the StyleGAN3 default depth
        self.mapping = MappingNetwork(
            z_dim=self.z_dim, c_dim=self.c_dim, w_dim=self.w_dim, num_ws=self.num_ws, **mapping_kwargs
        )

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None,
        truncation_psi: float = 1,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
        noise_mode: str = "const",
        force_fp32: bool = False,
    ) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, update_emas=update_emas)
        return self.synthesis(ws, noise_mode=noise_mode, force_fp32=force_fp32)


def set_input_transform(G: nn.Module, translate: tuple[float, float] = (0.0, 0.0), rotate_deg: float = 0.0) -> None:
    """Shift/rotate a StyleGAN3 image the way the official gen_images.py does.

    The input layer's `transform` buffer holds the *inverse* of the wanted image transform; we build
    the 3x3 matrix [[cos a, sin a, tx], [-sin a, cos a, ty], [0, 0, 1]] and store its inverse.
    Accepts a Generator or a SynthesisNetwork.
    """
    synthesis = getattr(G, "synthesis", G)
    inp = getattr(synthesis, "input", None)
    if not isinstance(inp, SynthesisInput):
        raise NetworkLoadError("set_input_transform needs a StyleGAN3 generator (StyleGAN2 has no input transform)")
    a = math.radians(float(rotate_deg))
    m = np.array(
        [[math.cos(a), math.sin(a), float(translate[0])], [-math.sin(a), math.cos(a), float(translate[1])], [0, 0, 1]],
        dtype=np.float64,
    )
    with torch.no_grad():
        inp.transform.copy_(torch.from_numpy(np.linalg.inv(m)).to(inp.transform.dtype))


__all__ = ["Generator", "SynthesisInput", "SynthesisLayer", "SynthesisNetwork", "set_input_transform"]
