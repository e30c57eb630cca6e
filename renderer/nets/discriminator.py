"""Clean-room StyleGAN2 'resnet' discriminator (used by stylegan2-ada-pytorch and stylegan3 snapshots).

Why: projection can use a trained discriminator's intermediate feature maps as a perceptual loss
tuned to the very images the generator makes. Official snapshots keep D next to G; the loader keeps
its config and weights as a `DiscriminatorRecord`, and `build_discriminator` turns that into this
module with the official parameter names (strict load). Only inference is needed: float16 blocks run
in float16 on CUDA only (float32 elsewhere, as the stylegan3 repository does), and Freeze-D
(`freeze_layers`) changes nothing at inference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from renderer.errors import NetworkLoadError
from renderer.nets.mapping import FullyConnectedLayer, MappingNetwork
from renderer.nets.ops.upfirdn2d import downsample2d, setup_filter
from renderer.nets.stylegan2 import ARCHITECTURES, DEFAULT_RESAMPLE_FILTER, Conv2dLayer
from renderer.network import DiscriminatorRecord


class DiscriminatorBlock(nn.Module):
    """One resolution level: (fromRGB), 3x3 conv, 3x3 conv with 2x downsampling, (1x1 skip)."""

    def __init__(
        self,
        in_channels: int,
        tmp_channels: int,
        out_channels: int,
        resolution: int,
        img_channels: int,
        first_layer_idx: int,
        architecture: str = "resnet",
        activation: str = "lrelu",
        resample_filter: Any = DEFAULT_RESAMPLE_FILTER,
        conv_clamp: float | None = None,
        use_fp16: bool = False,
        fp16_channels_last: bool = False,
        freeze_layers: int = 0,
    ) -> None:
        if in_channels not in (0, tmp_channels):
            raise ValueError(f"in_channels must be 0 or tmp_channels ({tmp_channels}), got {in_channels}")
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        super().__init__()
        self.in_channels, self.resolution, self.img_channels = (
            int(in_channels),
            int(resolution),
            int(img_channels),
        )
        self.first_layer_idx = int(first_layer_idx)
        self.architecture = architecture
        self.use_fp16 = bool(use_fp16)
        self.channels_last = self.use_fp16 and bool(fp16_channels_last)
        self.freeze_layers = int(freeze_layers)  # training-only (Freeze-D); no effect here
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        conv = dict(activation=activation, conv_clamp=conv_clamp, channels_last=self.channels_last)
        self.num_layers = 0
        if self.in_channels == 0 or architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, kernel_size=1, **conv)
            self.num_layers += 1
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, kernel_size=3, **conv)
        self.conv1 = Conv2dLayer(
            tmp_channels, out_channels, kernel_size=3, down=2, resample_filter=resample_filter, **conv
        )
        self.num_layers += 2
        if architecture == "resnet":
            self.skip = Conv2dLayer(
                tmp_channels,
                out_channels,
                kernel_size=1,
                bias=False,
                down=2,
                resample_filter=resample_filter,
                channels_last=self.channels_last,
            )
            self.num_layers += 1

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, force_fp32: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        ref = x if x is not None else img
        fp16 = self.use_fp16 and not force_fp32 and ref.device.type == "cuda"
        dtype = torch.float16 if fp16 else torch.float32
        fmt = torch.channels_last if self.channels_last and fp16 else torch.contiguous_format
        if x is not None:
            x = x.to(dtype=dtype, memory_format=fmt)
        if self.in_channels == 0 or self.architecture == "skip":
            img = img.to(dtype=dtype, memory_format=fmt)
            y = self.fromrgb(img)
            x = x + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=np.sqrt(0.5))
            x = self.conv1(self.conv0(x), gain=np.sqrt(0.5))
            x = y + x
        else:
            x = self.conv1(self.conv0(x))
        return x, img

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, architecture={self.architecture}"


class MinibatchStdLayer(nn.Module):
    """Appends the standard deviation across groups of samples as extra feature channels."""

    def __init__(self, group_size: int | None, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_channels = int(num_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(int(self.group_size), n) if self.group_size is not None else n
        if n % g:
            raise ValueError(
                f"the discriminator compares images in groups of {g}: a batch of {n} does not split evenly; "
                f"use a batch size that is a multiple of {g}"
            )
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)  # variance over each group
        y = (y + 1e-8).sqrt().mean(dim=[2, 3, 4])  # [n/g, F]: mean std over channels and pixels
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


class DiscriminatorEpilogue(nn.Module):
    """The 4x4 head: minibatch std, conv, fully connected, output (projected onto the label if any)."""

    def __init__(
        self,
        in_channels: int,
        cmap_dim: int,
        resolution: int,
        img_channels: int,
        architecture: str = "resnet",
        mbstd_group_size: int | None = 4,
        mbstd_num_channels: int = 1,
        activation: str = "lrelu",
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.in_channels, self.cmap_dim = int(in_channels), int(cmap_dim)
        self.resolution, self.img_channels = int(resolution), int(img_channels)
        self.architecture = architecture
        if architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, in_channels, kernel_size=1, activation=activation)
        self.mbstd = (
            MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        )
        self.conv = Conv2dLayer(
            in_channels + mbstd_num_channels,
            in_channels,
            kernel_size=3,
            activation=activation,
            conv_clamp=conv_clamp,
        )
        self.fc = FullyConnectedLayer(in_channels * resolution**2, in_channels, activation=activation)
        self.out = FullyConnectedLayer(in_channels, 1 if self.cmap_dim == 0 else self.cmap_dim)

    def features(self, x: torch.Tensor, img: torch.Tensor | None) -> torch.Tensor:
        """The 4x4 feature map after the head's convolution."""
        x = x.to(dtype=torch.float32, memory_format=torch.contiguous_format)
        if self.architecture == "skip":
            x = x + self.fromrgb(img.to(dtype=torch.float32, memory_format=torch.contiguous_format))
        if self.mbstd is not None:
            x = self.mbstd(x)
        return self.conv(x)

    def logits(self, feat: torch.Tensor, cmap: torch.Tensor | None) -> torch.Tensor:
        """[N, 1] scores from the head's feature map (label-projected for conditional networks)."""
        x = self.out(self.fc(feat.flatten(1)))
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / np.sqrt(self.cmap_dim))
        return x

    def forward(self, x: torch.Tensor, img: torch.Tensor | None, cmap: torch.Tensor | None) -> torch.Tensor:
        return self.logits(self.features(x, img), cmap)


class _LabelMapping(MappingNetwork):
    """Label embedding of conditional discriminators: no z, no broadcast, no running average of w."""

    def __init__(self, c_dim: int, cmap_dim: int, **mapping_kwargs: Any) -> None:
        super().__init__(z_dim=0, c_dim=c_dim, w_dim=cmap_dim, num_ws=None, w_avg_beta=None, **mapping_kwargs)


class Discriminator(nn.Module):
    """Image [N, C, H, W] in [-1, 1] (+ label) -> realness logits [N, 1]; also its feature maps."""

    def __init__(
        self,
        c_dim: int,
        img_resolution: int,
        img_channels: int,
        architecture: str = "resnet",
        channel_base: int = 32768,
        channel_max: int = 512,
        num_fp16_res: int = 4,
        conv_clamp: float | None = 256,
        cmap_dim: int | None = None,
        block_kwargs: dict[str, Any] | None = None,
        mapping_kwargs: dict[str, Any] | None = None,
        epilogue_kwargs: dict[str, Any] | None = None,
    ) -> None:
        img_resolution = int(img_resolution)
        if img_resolution < 8 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two >= 8, got {img_resolution}")
        super().__init__()
        self.c_dim, self.img_resolution, self.img_channels = int(c_dim), img_resolution, int(img_channels)
        self.img_resolution_log2 = int(np.log2(img_resolution))
        self.block_resolutions = [2**i for i in range(self.img_resolution_log2, 2, -1)]
        channels = {
            res: min(int(channel_base) // res, int(channel_max)) for res in self.block_resolutions + [4]
        }
        fp16_resolution = max(2 ** (self.img_resolution_log2 + 1 - int(num_fp16_res)), 8)
        if cmap_dim is None:
            cmap_dim = channels[4]
        if self.c_dim == 0:
            cmap_dim = 0
        common = dict(img_channels=img_channels, architecture=architecture, conv_clamp=conv_clamp)
        layer_idx = 0
        for res in self.block_resolutions:
            block = DiscriminatorBlock(
                channels[res] if res < img_resolution else 0,
                channels[res],
                channels[res // 2],
                resolution=res,
                first_layer_idx=layer_idx,
                use_fp16=(res >= fp16_resolution),
                **dict(block_kwargs or {}),
                **common,
            )
            setattr(self, f"b{res}", block)
            layer_idx += block.num_layers
        if self.c_dim > 0:
            self.mapping = _LabelMapping(self.c_dim, cmap_dim, **dict(mapping_kwargs or {}))
        self.b4 = DiscriminatorEpilogue(
            channels[4], cmap_dim=cmap_dim, resolution=4, **dict(epilogue_kwargs or {}), **common
        )

    def _check_inputs(self, img: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor | None:
        want = [self.img_channels, self.img_resolution, self.img_resolution]
        if img.ndim != 4 or list(img.shape[1:]) != want:
            raise ValueError(
                f"the discriminator needs images [N, {', '.join(map(str, want))}], got {list(img.shape)}"
            )
        if self.c_dim == 0:
            return None
        if c is None or c.shape != (img.shape[0], self.c_dim):
            raise ValueError(f"this discriminator is conditional: pass labels c of shape [N, {self.c_dim}]")
        return self.mapping(None, c)

    def _run(self, img: torch.Tensor, c: torch.Tensor | None, **block_kwargs: Any):
        cmap = self._check_inputs(img, c)
        feats = []
        x = None
        for res in self.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img, **block_kwargs)
            feats.append(x)
        feats.append(self.b4.features(x, img))
        return feats, cmap

    def features(
        self, img: torch.Tensor, c: torch.Tensor | None = None, **block_kwargs: Any
    ) -> list[torch.Tensor]:
        """Feature maps after each block (highest resolution first) and after the 4x4 head's conv."""
        return self._run(img, c, **block_kwargs)[0]

    def forward(
        self, img: torch.Tensor, c: torch.Tensor | None = None, update_emas: bool = False, **block_kwargs: Any
    ):
        del update_emas  # accepted for the official call surface
        feats, cmap = self._run(img, c, **block_kwargs)
        return self.b4.logits(feats[-1], cmap)

    def extra_repr(self) -> str:
        return f"c_dim={self.c_dim}, img_resolution={self.img_resolution}, img_channels={self.img_channels}"


def build_discriminator(record: DiscriminatorRecord) -> Discriminator:
    """Build the discriminator kept in a snapshot and load its weights strictly (eval mode, no grads)."""
    kwargs = _plain(record.init_kwargs)
    try:
        D = Discriminator(**kwargs)
    except (TypeError, ValueError) as exc:
        raise NetworkLoadError(
            f"the discriminator in this network file has a configuration Castmaker cannot build ({exc}); "
            "projection can run without it (choose a loss that does not need the discriminator)"
        ) from exc
    state = {}
    for name, value in record.state.items():
        state[name] = torch.from_numpy(np.ascontiguousarray(np.asarray(value, dtype=np.float32)))
    ours = D.state_dict()
    missing = sorted(set(ours) - set(state))
    unexpected = sorted(set(state) - set(ours))
    wrong = sorted(k for k in set(ours) & set(state) if tuple(ours[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        details = "; ".join(
            f"{label}: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise NetworkLoadError(
            f"the discriminator weights in this network file do not match its recorded configuration ({details}); "
            "the file may be damaged or come from an unsupported code version"
        )
    D.load_state_dict(state, strict=True)
    return D.eval().requires_grad_(False)


def _plain(value: Any) -> Any:
    """Nested kwargs as plain dicts (pickled configs may hold dict subclasses such as EasyDict records)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value
