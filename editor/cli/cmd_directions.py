"""`directions`: discover directions in W for some rows, save them, and draw a contact sheet of each.

    python main.py directions --network cast-portrait --method sefa --rows 6-8 --top 8 --outdir directions

Writes `<outdir>/<method>-<i>.json` + `.npy` per direction and `<outdir>/<method>-rows<a>-<b>.png`: one row per
direction, the base seed moved by -3σ … +3σ along it on its rows. `render --direction FILE --alpha A` uses one.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from editor.cli.class_option import add_class_argument, check_class_option

ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("directions", help="discover per-row directions (SeFa / PCA) and draw a contact sheet")
    p.add_argument("--network", default="cast-portrait", help="network file, cast-portrait / cast-sprite, or a demo")
    p.add_argument(
        "--method",
        choices=["sefa", "pca", "labels"],
        default="sefa",
        help="sefa: from the weights; pca: mapped seeds; labels: a boundary between --with and --without seeds",
    )
    p.add_argument("--with", dest="with_seeds", default=None, help="--method labels: seeds that have it, e.g. 3,8,12")
    p.add_argument("--without", dest="without_seeds", default=None, help="--method labels: seeds that lack it")
    p.add_argument("--name", default=None, help="--method labels: the direction's name (default 'labelled')")
    p.add_argument("--rows", default=None, help="rows the directions act on, e.g. 6-8 (default: all)")
    p.add_argument("--top", type=int, default=8, help="how many directions (strongest first)")
    p.add_argument("--samples", type=int, default=5000, help="--method pca: mapped seeds")
    p.add_argument("--seed", type=int, default=0, help="base seed of the contact sheet")
    p.add_argument("--trunc", type=float, default=0.7, help="ψ of the base seed")
    p.add_argument("--outdir", default="directions", help="where to write the directions and the sheet")
    p.add_argument("--overwrite", action="store_true", help="replace direction files of the same name")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    add_class_argument(p, "the network")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from renderer import load_network
    from renderer.engine import Engine
    from renderer.errors import LatentError
    from renderer.fileio import save_png
    from renderer.latents import Recipe, SeedSource, parse_rows, parse_seeds
    from renderer.latents.directions import direction_slug, labelled, pca, save_direction, sefa

    if not 1 <= args.top <= 64:
        raise LatentError(f"--top must be 1-64, got {args.top}")
    if args.samples < 2:
        raise LatentError(f"--samples must be 2 or more, got {args.samples}")
    if args.method != "labels" and (args.with_seeds or args.without_seeds or args.name):
        raise LatentError(f"--with, --without and --name belong to --method labels (this run is --method {args.method}): "
                          "add --method labels, or leave them out")  # fmt: skip
    network = load_network(args.network)
    check_class_option(args.class_idx, network.c_dim, network.name)  # the contact sheet's base needs a class
    rows = parse_rows(args.rows, network.num_ws) if args.rows else list(range(network.num_ws))
    start = time.perf_counter()
    if args.method == "labels":
        if not args.with_seeds or not args.without_seeds:
            raise LatentError("--method labels needs --with SEEDS and --without SEEDS (a dozen or more each works best)")
        pos, neg = parse_seeds(args.with_seeds), parse_seeds(args.without_seeds)
        found = [labelled(network, rows, pos, neg, name=args.name or "labelled", class_idx=args.class_idx)]
    elif args.method == "sefa":
        found = sefa(network, rows, args.top)
    else:
        found = pca(network, rows, args.top, args.samples)  # every class in turn: directions for the whole network
    seconds = time.perf_counter() - start
    outdir = Path(args.outdir)
    taken = [outdir / f"{direction_slug(d.name)}{ext}" for d in found for ext in (".json", ".npy")]
    taken = [p for p in taken if p.exists()]
    if taken and not args.overwrite:  # checked for all before writing any: no half-replaced set
        raise LatentError(f"{taken[0]} already exists: choose another --outdir (or --name) or add --overwrite to replace it")
    for d in found:
        save_direction(d, outdir, overwrite=args.overwrite)
    engine = Engine(network, device=args.device)
    base = engine.evaluate(Recipe.plain(SeedSource(args.seed, args.trunc, class_idx=args.class_idx), network.num_ws))
    ws = [base + d.offset(a, network.num_ws) for d in found for a in ALPHAS]
    tiles = engine.render_thumbnails(ws)
    h, w = tiles[0].shape[:2]
    sheet = np.full((len(found) * h, len(ALPHAS) * w, tiles[0].shape[2]), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, len(ALPHAS))
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = tile
    sheet_path = outdir / f"{args.method}-rows{rows[0]}-{rows[-1]}.png"
    save_png(sheet_path, sheet if sheet.shape[2] != 1 else sheet[..., 0])
    for d in found:
        print(f"{d.name}: strength {d.strength:.4g}, σ {d.sigma:.4f}, rows {d.rows[0]}-{d.rows[-1]}")
    kind = "labelled" if args.method == "labels" else args.method
    names = ", ".join(direction_slug(d.name) for d in found)
    print(f"found {len(found)} {kind} direction{'s' if len(found) != 1 else ''} in {seconds:.2f} s; "
          f"wrote {names} (.json + .npy each) to {outdir}/ and the contact sheet {sheet_path} "
          f"(seed {args.seed}; rows: directions; columns: {', '.join(f'{a:+g}σ' for a in ALPHAS)})")
    first = outdir / f"{direction_slug(found[0].name)}.json"
    cls = "" if args.class_idx is None else f" --class {args.class_idx}"
    print(f"move along one: `python main.py render --network {args.network} --seeds {args.seed} --trunc {args.trunc:g}"
          f"{cls} --direction {first} --alpha 2`")
    return 0
