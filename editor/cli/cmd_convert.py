"""`convert`: any supported network file -> Castmaker's safe .safetensors format."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="write a network as a safe .safetensors file")
    p.add_argument("input", help="network file (.pkl or .safetensors)")
    p.add_argument("output", help="output .safetensors path")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("convert: owned by the loading helper")
