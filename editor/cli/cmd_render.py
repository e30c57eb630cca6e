"""`render`: seeds (or a w file) -> seed%04d.png, as official gen_images.py does.

Every image is an Engine render of a Recipe (base seed or w file, optional style mix), so the files
match what the editor shows for the same recipe. Arguments are checked before the network loads.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from tqdm import tqdm

from editor.cli.class_option import add_class_argument, check_class_option
from renderer.errors import LatentError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render seeds or a w file to PNGs")
    p.add_argument("--network", default="cast-portrait", help="network file, cast-portrait / cast-sprite, or demo-face / demo-sprite")
    p.add_argument("--seeds", default=None, help="seed list, e.g. 0-3,7")
    p.add_argument("--trunc", default="0.7", help="truncation psi (any number, e.g. 0.7 or 1.5)")
    p.add_argument("--trunc-cutoff", type=int, default=None, help="truncate only rows below N")
    add_class_argument(p)
    p.add_argument("--mix-seed", type=int, default=None, help="style-mix seed")
    p.add_argument("--mix-rows", default=None, help="rows taken from the mix seed, e.g. 8-15")
    p.add_argument("--mix-weight", type=float, default=1.0, help="1 = replace rows, <1 = blend towards the mix seed")
    p.add_argument("--w", default=None, help="render this w file (.npy/.npz) instead of seeds")
    p.add_argument("--direction", default=None, metavar="FILE", help="a direction .json (see `directions`) to move along")
    p.add_argument("--alpha", type=float, default=None, help="--direction: how far, in units of its σ (e.g. -3 to 3; default 1)")
    p.add_argument("--outdir", default="out", help="output folder")
    p.add_argument("--save-w", action="store_true", help="also write seed%%04d.npy with each image's w")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")


def parse_psi(text: str) -> float:
    """--trunc text -> a finite float, or a LatentError saying what to type."""
    try:
        psi = float(text)
    except (TypeError, ValueError):
        raise LatentError(f"--trunc {text!r} is not a number: give the truncation psi, e.g. 0.7") from None
    if not math.isfinite(psi):
        raise LatentError(f"--trunc {text!r} must be a finite number, e.g. 0.7")
    return psi


def _check_arguments(args: argparse.Namespace) -> tuple[list[int] | None, float]:
    """Everything that can be checked without the network: seeds, psi, the mix options, the w path."""
    from renderer.latents import parse_seeds

    if args.seeds is not None and args.w is not None:
        raise LatentError("give either --seeds or --w, not both")
    if args.seeds is None and args.w is None:
        raise LatentError("nothing to render: give --seeds (e.g. 0-3,7) or --w FILE")
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    psi = parse_psi(args.trunc)
    if args.trunc_cutoff is not None and args.trunc_cutoff < 0:
        raise LatentError(f"--trunc-cutoff {args.trunc_cutoff} must be 0 or more")
    if args.mix_rows is not None and args.mix_seed is None:
        raise LatentError("--mix-rows needs --mix-seed S (the seed the rows are taken from)")
    if args.mix_seed is not None and args.mix_rows is None:
        raise LatentError("--mix-seed needs --mix-rows (the rows to take from it, e.g. 8-15)")
    if args.mix_seed is not None:
        parse_seeds(str(args.mix_seed))
    if not math.isfinite(args.mix_weight):
        raise LatentError("--mix-weight must be a finite number (1 = replace rows, 0.5 = halfway)")
    if args.w is not None and not Path(args.w).is_file():
        raise LatentError(f"w file not found: {args.w}")
    if args.alpha is not None and args.direction is None:
        raise LatentError("--alpha says how far to move along --direction FILE: add --direction, or leave --alpha out")
    if args.alpha is None:
        args.alpha = 1.0
    elif not math.isfinite(args.alpha):
        raise LatentError("--alpha must be a finite number of σ, e.g. -3 to 3")
    return seeds, psi


def run(args: argparse.Namespace) -> int:
    seeds, psi = _check_arguments(args)

    from renderer import load_network
    from renderer.engine import Engine
    from renderer.engine.png import save_png_atomic
    from renderer.latents import Recipe, RowEdit, SeedSource, WSource, load_w, parse_rows, save_w

    network = load_network(args.network)
    engine = Engine(network, device=args.device)
    num_ws = network.num_ws
    if args.trunc_cutoff is not None and args.trunc_cutoff > num_ws:
        raise LatentError(f"--trunc-cutoff {args.trunc_cutoff} is out of range: this network has {num_ws} rows")
    check_class_option(args.class_idx, network.c_dim, network.name)  # fails now, in --class terms

    def seed_source(seed: int) -> SeedSource:
        return SeedSource(seed=seed, psi=psi, cutoff=args.trunc_cutoff, class_idx=args.class_idx)

    mix_rows: list[int] = []
    mix_edit = None
    if args.mix_seed is not None:
        mix_rows = parse_rows(args.mix_rows, num_ws)
        mode = "replace" if args.mix_weight == 1.0 else "blend"
        mix_edit = RowEdit(source=seed_source(args.mix_seed), mode=mode, weight=args.mix_weight)

    jobs: list[tuple[str, Recipe]] = []
    if args.w is not None:
        w = load_w(args.w, num_ws=num_ws, w_dim=network.w_dim)
        stem = Path(args.w).stem
        jobs.append((stem, Recipe.plain(WSource(w, label=stem), num_ws)))
    else:
        for seed in seeds or []:
            jobs.append((f"seed{seed:04d}", Recipe.plain(seed_source(seed), num_ws)))
    if mix_edit is not None:
        jobs = [(name, recipe.with_rows(mix_rows, mix_edit)) for name, recipe in jobs]
    if args.direction is not None:
        from renderer.latents.directions import load_direction

        direction = load_direction(args.direction, network)
        offset = direction.offset(args.alpha, num_ws)
        jobs = [
            (name, Recipe.plain(WSource(engine.evaluate(recipe) + offset, label=f"{name} + {args.alpha:g} {direction.name}"), num_ws))
            for name, recipe in jobs
        ]

    outdir = Path(args.outdir)
    if args.save_w and args.w is not None:
        target = (outdir / f"{jobs[0][0]}.npy").resolve()
        if target == Path(args.w).resolve():
            raise LatentError(f"--save-w would overwrite the input w file {args.w}: choose another --outdir")
    outdir.mkdir(parents=True, exist_ok=True)
    total_ms = 0.0
    for name, recipe in tqdm(jobs, desc="render", unit="img", disable=len(jobs) < 2):
        result = engine.render(recipe, use_cache=False)  # distinct seeds share no prefix: keep no states
        total_ms += result.ms
        save_png_atomic(outdir / f"{name}.png", result.image)
        if args.save_w:
            save_w(outdir / f"{name}.npy", result.ws)
    print(f"wrote {len(jobs)} image(s) to {outdir} ({engine.device_name}, {total_ms / max(len(jobs), 1):.0f} ms/image)")
    return 0
