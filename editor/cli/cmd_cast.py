"""`cast`: draw the procedural cast that Castmaker's own networks were trained on.

    python main.py cast --seeds 0-31 --out cast.png

Each tile is one seed's character as the cast renderer draws it (portrait and standing sprite): by default the
character the bundled networks' mapping gives that seed (what cast-portrait and cast-sprite draw), or with
`--rule` the seed rule the mapping was fitted to (the two agree on most seeds; near a class boundary the
fitted mapping may pick the neighbouring class).
"""

from __future__ import annotations

import argparse
from pathlib import Path

MAX_SEEDS = 256


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cast", help="contact sheet of the procedural cast the bundled networks learned")
    p.add_argument("--seeds", default="0-31", help="seeds, e.g. 0-31 or 1,5,9 (default 0-31)")
    p.add_argument("--columns", type=int, default=4, help="tiles per row")
    p.add_argument("--rule", action="store_true", help="use the seed rule instead of the networks' fitted mapping")
    p.add_argument("--out", default="cast.png", help="PNG to write (default cast.png)")
    p.add_argument("--force", action="store_true", help="replace an existing --out")


def run(args: argparse.Namespace) -> int:
    from renderer.cast.contact_sheet import cast_contact_sheet
    from renderer.cast.description import W_DIM, character_from_z, w_to_character
    from renderer.errors import CastmakerError
    from renderer.fileio import save_png
    from renderer.latents import parse_seeds
    from renderer.latents.seeds import z_from_seed

    seeds = parse_seeds(args.seeds)
    if args.columns < 1:
        raise CastmakerError(f"--columns must be at least 1, got {args.columns}")
    if len(seeds) > MAX_SEEDS:
        raise CastmakerError(f"{len(seeds)} seeds make a huge sheet: give at most {MAX_SEEDS} per sheet")
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CastmakerError(f"{out}: the contact sheet is a PNG: give a file name ending in .png")
    if out.is_dir() or not out.parent.is_dir():
        raise CastmakerError(f"cannot write {out}: give a PNG file name in an existing folder")
    if out.exists() and not args.force:
        raise CastmakerError(f"{out} already exists: choose another --out or add --force to replace it")
    if args.rule:
        chars = [character_from_z(z_from_seed(s, W_DIM)[0]) for s in seeds]
    else:
        from renderer import load_network
        from renderer.engine import Engine

        engine = Engine(load_network("cast-portrait"), "cpu")
        chars = [w_to_character(engine.map_seed(s, 1.0)[0]) for s in seeds]
    sheet = cast_contact_sheet(chars, columns=min(args.columns, len(chars)))
    try:
        save_png(out, sheet, error=CastmakerError)
    except OSError as exc:
        raise CastmakerError(f"cannot write {out}: {exc.strerror or exc}") from None
    for s, c in zip(seeds, chars, strict=True):
        print(f"seed {s}: {c.describe()}")
    print(f"wrote {out} ({len(chars)} characters)")
    return 0
