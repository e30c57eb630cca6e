"""`view`: the imgui-bundle live viewer."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="open the live imgui viewer")
    p.add_argument("--network", default="demo-face", help="network file or demo-face / demo-sprite")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--screenshot", default=None, metavar="PNG", help="render N frames, save a screenshot, exit")
    p.add_argument("--frames", type=int, default=30)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("view: owned by the viewer helper")
