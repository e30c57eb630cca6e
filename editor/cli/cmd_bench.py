"""`bench`: print render timings and ratios (speed claims live here, never in tests)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure mapping, synthesis, incremental and thumbnail timings")
    p.add_argument("--network", default="demo-face", help="network file or demo-face / demo-sprite")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median is reported)")
    p.add_argument("--ui", action="store_true", help="measure frames/s delivered by the editor's render worker")
    p.add_argument("--projection", action="store_true", help="measure projection quality (PSNR) and steps/s")
    p.add_argument("--official", default=None, metavar="DIR", help="NVlabs/stylegan3 checkout for a side-by-side CPU timing")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("bench: owned by the engine helper")
