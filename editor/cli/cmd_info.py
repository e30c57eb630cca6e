"""`info`: what a network file holds, and a table of synthesis layers for choosing rows."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe a network: kind, sizes, fingerprint, layer table")
    p.add_argument("path", help="network file, or demo / demo-face / demo-sprite")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("info: owned by the loading helper")
