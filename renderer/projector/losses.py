"""The distances a projection minimises, behind one small interface, and the choice among them.

Why pluggable: the best perceptual loss needs weights the user may not have. Pixel and MS-SSIM need
nothing; the discriminator features come free with an official snapshot; LPIPS needs a local VGG16.
`auto` takes the best one available and the result says which one ran.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F

from renderer.errors import ProjectionError
from renderer.network import Network
from renderer.projector.ssim import ms_ssim

log = logging.getLogger(__name__)

LOSS_CHOICES = ("auto", "pixel", "ssim", "disc", "lpips")

# MS-SSIM / L1 balance from Zhao et al., "Loss Functions for Image Restoration with Neural Networks".
SSIM_WEIGHT = 0.84


class ProjectionLoss:
    """Distance of a synthesised image [1, C, H, W] in [-1, 1] to the target given at construction."""

    name = "base"

    def __call__(self, synth: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class PixelLoss(ProjectionLoss):
    """Mean squared error: exactly what PSNR measures."""

    name = "pixel"

    def __init__(self, target: torch.Tensor) -> None:
        self.target = target

    def __call__(self, synth: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(synth, self.target)


class SSIMPixelLoss(ProjectionLoss):
    """(1 - MS-SSIM) mixed with L1 for structure, plus MSE so colours and PSNR converge too."""

    name = "ssim+pixel"

    def __init__(self, target: torch.Tensor) -> None:
        self.target = target

    def __call__(self, synth: torch.Tensor) -> torch.Tensor:
        structure = 1.0 - ms_ssim(synth, self.target, for_loss=True).mean()
        l1 = (synth - self.target).abs().mean()
        return SSIM_WEIGHT * structure + (1.0 - SSIM_WEIGHT) * l1 + F.mse_loss(synth, self.target)


def _feature_list(features: object) -> list[torch.Tensor]:
    if isinstance(features, torch.Tensor):
        return [features]
    if isinstance(features, Mapping):
        return [v for v in features.values() if isinstance(v, torch.Tensor)]
    if isinstance(features, Sequence):
        return [v for v in features if isinstance(v, torch.Tensor)]
    raise ProjectionError(
        f"discriminator features came back as {type(features).__name__}; expected a list of tensors"
    )


class DiscriminatorLoss(ProjectionLoss):
    """Distance between the snapshot discriminator's block features of the two images, plus MSE.

    Each layer's squared difference is divided by the target features' mean square, so every block
    counts alike whatever its activation scale.
    """

    name = "disc+pixel"

    def __init__(self, target: torch.Tensor, discriminator: torch.nn.Module, c: torch.Tensor | None) -> None:
        self.target = target
        self.D = discriminator
        self.c = c
        with torch.no_grad():
            self.target_features = [f.detach() for f in _feature_list(self.D.features(target, c))]
        if not self.target_features:
            raise ProjectionError("the discriminator returned no features for the target")
        self.scales = [f.square().mean().clamp_min(1e-8) for f in self.target_features]

    def __call__(self, synth: torch.Tensor) -> torch.Tensor:
        feats = _feature_list(self.D.features(synth, self.c))
        dist = sum(
            (a - b).square().mean() / s
            for a, b, s in zip(feats, self.target_features, self.scales, strict=True)
        )
        return dist / len(self.scales) + F.mse_loss(synth, self.target)


class LPIPSLoss(ProjectionLoss):
    """LPIPS (VGG16) distance, as the official projectors minimise, plus MSE for colour fidelity."""

    name = "lpips+pixel"

    def __init__(self, target: torch.Tensor, vgg: torch.nn.Module) -> None:
        self.target = target
        self.vgg = vgg
        with torch.no_grad():
            self.target_features = [f.detach() for f in vgg.lpips_features(target)]

    def __call__(self, synth: torch.Tensor) -> torch.Tensor:
        dist = self.vgg.distance(self.vgg.lpips_features(synth), self.target_features).mean()
        return dist + F.mse_loss(synth, self.target)


def resolve_loss_name(requested: str, network: Network, vgg_path: str | None) -> str:
    """'auto' -> lpips if VGG weights were given, else disc if the network has a D, else ssim."""
    if requested not in LOSS_CHOICES:
        raise ProjectionError(f"unknown loss {requested!r}: use one of {', '.join(LOSS_CHOICES)}")
    if requested == "auto":
        if vgg_path:
            return "lpips"
        if network.discriminator is not None:
            return "disc"
        return "ssim"
    if requested == "lpips" and not vgg_path:
        raise ProjectionError(
            "loss 'lpips' needs local VGG16 weights (NVIDIA's vgg16.pt or torchvision's vgg16 .pth; nothing is "
            "downloaded): give their path (`project --vgg PATH`; \"vgg_path\" in a pipeline config's projection)"
        )
    if requested == "disc" and network.discriminator is None:
        raise ProjectionError(
            f"loss 'disc' needs a discriminator, but {network.name} carries none (only full training snapshots "
            "with a D do): use the ssim, pixel or lpips loss (`project --loss`; \"loss\" in a pipeline config's projection)"
        )
    return requested


def build_loss(
    name: str,
    network: Network,
    target: torch.Tensor,
    device: torch.device,
    vgg_path: str | None = None,
    c: torch.Tensor | None = None,
) -> ProjectionLoss:
    """Construct the loss `name` (already resolved, see resolve_loss_name) for `target` [1, C, H, W] in [-1, 1]."""
    if name == "pixel":
        return PixelLoss(target)
    if name == "ssim":
        return SSIMPixelLoss(target)
    if name == "disc":
        from renderer.nets.discriminator import build_discriminator

        if network.discriminator is None:
            raise ProjectionError(f"{network.name} carries no discriminator")
        try:
            D = build_discriminator(network.discriminator)
        except ProjectionError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ProjectionError(
                f"the snapshot's discriminator could not be built ({exc}): use the ssim or lpips loss instead"
            ) from None
        D = D.to(device).eval().requires_grad_(False)
        return DiscriminatorLoss(target, D, c)
    if name == "lpips":
        from renderer.projector.lpips_vgg import VGG16Features, load_vgg_weights

        if not vgg_path:
            raise ProjectionError("loss 'lpips' needs the path of local VGG16 weights (`project --vgg PATH`)")
        vgg = VGG16Features(load_vgg_weights(vgg_path)).to(device)
        loss = LPIPSLoss(target, vgg)
        if not vgg.has_lpips_weights:
            loss.name = "lpips-baseline+pixel"
        return loss
    raise ProjectionError(f"unknown loss {name!r}")
