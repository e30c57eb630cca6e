"""`render`: seeds (or a w file) -> seed%04d.png, as official gen_images.py does."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render seeds or a w file to PNGs")
    p.add_argument("--network", default="demo-face", help="network file or demo-face / demo-sprite")
    p.add_argument("--seeds", default=None, help="seed list, e.g. 0-3,7")
    p.add_argument("--trunc", default="0.7", help="truncation psi (any number, e.g. 0.7 or 1.5)")
    p.add_argument("--trunc-cutoff", type=int, default=None, help="truncate only rows below N")
    p.add_argument("--class", dest="class_idx", type=int, default=None, help="class label for conditional networks")
    p.add_argument("--mix-seed", type=int, default=None, help="style-mix seed")
    p.add_argument("--mix-rows", default=None, help="rows taken from the mix seed, e.g. 8-15")
    p.add_argument("--mix-weight", type=float, default=1.0, help="1 = replace rows, <1 = blend towards the mix seed")
    p.add_argument("--w", default=None, help="render this w file (.npy/.npz) instead of seeds")
    p.add_argument("--outdir", default="out", help="output folder")
    p.add_argument("--save-w", action="store_true", help="also write seed%%04d.npy with each image's w")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("render: owned by the engine helper")
