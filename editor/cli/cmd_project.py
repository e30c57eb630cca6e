"""`project`: find the w of any image (Image2StyleGAN-style optimisation)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="project an image into w-space")
    p.add_argument("--network", default="demo-face", help="network file or demo-face / demo-sprite")
    p.add_argument("--target", required=True, help="target image file")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--space", choices=["w", "wplus"], default="w")
    p.add_argument("--stabilize", action="store_true", help="StyleGAN3: freeze the input transform (no rotate/shift)")
    p.add_argument("--loss", choices=["auto", "pixel", "ssim", "disc", "lpips"], default="auto")
    p.add_argument("--vgg", default=None, help="local VGG16 weights for LPIPS (NVIDIA TorchScript or torchvision state dict)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--outdir", default="out/projection")
    p.add_argument("--save-video", action="store_true", help="also write an animation of the optimisation")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("project: owned by the projection helper")
