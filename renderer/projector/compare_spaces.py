"""Measure the projection spaces side by side: `python -m renderer.projector.compare_spaces [--steps N] [--targets K]`.

Why: the default space (DEFAULT_SPACE) is chosen by these numbers. Each target is a cast drawing
(renderer.cast, not a network render, so neither space is favoured by construction) projected into
cast-portrait in W and in W+ with the same steps, loss and seed; prints best PSNR per run and the means.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m renderer.projector.compare_spaces")
    parser.add_argument("--network", default="cast-portrait")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--targets", type=int, default=3, help="cast drawings from RandomState(2026)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    from renderer import load_network
    from renderer.cast.description import random_character
    from renderer.cast.portrait import draw_portrait
    from renderer.engine import Engine
    from renderer.projector import SPACES, ProjectionConfig, prepare_target, project

    net = load_network(args.network)
    engine = Engine(net, args.device)
    rng = np.random.RandomState(2026)
    psnr: dict[str, list[float]] = {s: [] for s in SPACES}
    for i in range(args.targets):
        drawing = np.asarray(draw_portrait(random_character(rng), net.img_resolution))
        target = prepare_target(drawing[..., :3] if drawing.ndim == 3 else drawing, net.img_resolution, net.img_channels)
        for space in SPACES:
            t0 = time.perf_counter()
            result = project(engine, target, ProjectionConfig(steps=args.steps, space=space, seed=0))
            psnr[space].append(float(result.best_psnr))
            print(
                f"target {i} space {space:5s} steps {args.steps} loss {result.loss_name} best PSNR "
                f"{result.best_psnr:.2f} dB at step {result.best_step} ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    for space, values in psnr.items():
        print(f"mean best PSNR in {space:5s}: {np.mean(values):.2f} dB over {len(values)} target(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
