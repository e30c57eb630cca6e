"""`cast`: draw the procedural cast that Castmaker's own networks were trained on (no network involved).

    python main.py cast --seeds 0-31 --out cast.png

Each tile is one seed's character (the same character cast-portrait and cast-sprite draw for that seed):
its portrait and its standing sprite, drawn by the procedural renderer.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cast", help="contact sheet of the procedural cast the bundled networks learned")
    p.add_argument("--seeds", default="0-31", help="seeds, e.g. 0-31 or 1,5,9 (default 0-31)")
    p.add_argument("--columns", type=int, default=4, help="tiles per row")
    p.add_argument("--out", default="cast.png", help="PNG to write")


def run(args: argparse.Namespace) -> int:
    from renderer.cast.contact_sheet import cast_contact_sheet
    from renderer.cast.description import W_DIM, character_from_z
    from renderer.errors import CastmakerError
    from renderer.fileio import save_png
    from renderer.latents import parse_seeds
    from renderer.latents.seeds import z_from_seed

    seeds = parse_seeds(args.seeds)
    if args.columns < 1:
        raise CastmakerError(f"--columns must be at least 1, got {args.columns}")
    chars = [character_from_z(z_from_seed(s, W_DIM)[0]) for s in seeds]
    sheet = cast_contact_sheet(chars, columns=args.columns)
    out = save_png(Path(args.out), sheet)
    for s, c in zip(seeds, chars, strict=True):
        print(f"seed {s}: {c.describe()}")
    print(f"wrote {out} ({len(chars)} characters)")
    return 0
