"""`generate ARCHETYPE PSI`: the character pipeline, sprite sheet to face set, optionally into a game."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="make a game-ready character (sprite sheet + face set)")
    p.add_argument("archetype", help="an archetype the config defines, e.g. heroine or villain")
    p.add_argument("psi", help="truncation psi, e.g. 0.6")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=1, help="make K characters from seeds N..N+K-1")
    p.add_argument("--config", default=None, help="pipeline config JSON (default: the demo networks' config)")
    p.add_argument("--name", default=None, help="character name (default: archetype + seed)")
    p.add_argument("--export", default=None, metavar="GAME_DIR", help="write into an RPG Maker MV/MZ project")
    p.add_argument("--overwrite", action="store_true", help="replace existing files in the game (a backup is kept)")
    p.add_argument("--outdir", default="out/characters")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("generate: owned by the pipeline helper")
