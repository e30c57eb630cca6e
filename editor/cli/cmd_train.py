"""`train`: train Castmaker's own cast networks (cast-portrait, cast-sprite) against the procedural cast.

    python main.py train cast-sprite --minutes 60 [--outdir DIR] [--device auto|cpu|cuda|mps] [--threads N]
    python main.py train cast-sprite --resume DIR/checkpoint.pt --kimg 200
    python main.py train cast-sprite --resume DIR/checkpoint.pt --export cast-sprite.safetensors --kimg 0

Every run writes DIR/checkpoint.pt (atomic, resumable), DIR/log.csv (kimg, loss, held-out PSNR) and sample
grids DIR/samples-*.png (targets above, the network below); at the end it writes DIR/<network>.safetensors,
an ordinary network file. Ctrl+C saves the checkpoint first.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from renderer.errors import CastmakerError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a cast network (cast-portrait / cast-sprite) on the procedural cast")
    p.add_argument("network", choices=["cast-portrait", "cast-sprite", "cast-tiny"], help="which network to train")
    stop = p.add_mutually_exclusive_group()
    stop.add_argument("--kimg", type=float, default=None, help="stop when this many thousand images were seen in all")
    stop.add_argument("--minutes", type=float, default=None, help="stop after this many minutes of this run")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps (auto: CUDA, then MPS, then the CPU)")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue from a checkpoint.pt")
    p.add_argument("--outdir", default=None, metavar="DIR", help="where to write (default training-runs/<network>)")
    p.add_argument("--export", default=None, metavar="FILE", help="also write the network here (.safetensors)")
    p.add_argument("--mapping", default=None, metavar="FILE", help="fitted mapping to reuse (default DIR/mapping.pt)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: 1 on a 2-core machine, else cores-1)")
    p.add_argument("--seed", type=int, default=0, help="random seed of a new run")
    p.add_argument("--batch", type=int, default=None, help="batch size of a new run (default per network)")
    p.add_argument("--eval-every", type=float, default=180.0, metavar="S", help="seconds between held-out PSNR checks")
    p.add_argument("--grid-every", type=float, default=600.0, metavar="S", help="seconds between sample grids")


def run(args: argparse.Namespace) -> int:
    import os

    import torch
    from tqdm import tqdm

    from renderer.engine.device import pick_device
    from renderer.training.configs import TrainingError
    from renderer.training.finalize import MAPPING_FILE, export_checkpoint
    from renderer.training.trainer import (
        CHECKPOINT_NAME,
        Progress,
        TrainOptions,
        load_checkpoint,
        run_training,
    )

    if args.kimg is not None and args.kimg < 0 or args.minutes is not None and args.minutes < 0:
        raise TrainingError("--kimg and --minutes must not be negative")
    if args.kimg is None and args.minutes is None:
        raise TrainingError("say how long to train: --kimg K (total thousands of images) or --minutes M")
    cores = os.cpu_count() or 1
    threads = args.threads or (1 if cores <= 2 else cores - 1)
    torch.set_num_threads(max(1, threads))
    device = str(pick_device(args.device))
    outdir = Path(args.outdir or Path("training-runs") / args.network)
    options = TrainOptions(
        network=args.network,
        kimg=args.kimg,
        minutes=args.minutes,
        device=device,
        outdir=str(outdir),
        seed=args.seed,
        batch=args.batch,
        eval_every_s=args.eval_every,
        grid_every_s=args.grid_every,
    )
    total = None if args.kimg is None else args.kimg
    bar = tqdm(total=total, unit="kimg", desc=args.network, dynamic_ncols=True, bar_format=_BAR if total else _COUNTER)

    def show(p: Progress) -> None:
        bar.n = round(p.kimg, 3)
        eta = "?" if p.eta_s is None else f"{int(p.eta_s // 60)}m{int(p.eta_s % 60):02d}s"
        psnr = "-" if p.psnr is None else f"{p.psnr:.2f} dB"
        bar.set_postfix_str(f"loss {p.loss:.4f}  held-out PSNR {psnr}  ETA {eta}", refresh=True)

    try:
        ckpt = run_training(options, resume=Path(args.resume) if args.resume else None, on_progress=show)
    except KeyboardInterrupt:
        bar.close()
        sys.stderr.write(f"castmaker: interrupted; continue with --resume {outdir / CHECKPOINT_NAME}\n")
        return 130
    finally:
        bar.close()
    payload, state, config = load_checkpoint(ckpt, torch.device("cpu"))
    last = state.history[-1] if state.history else {}
    print(
        f"{config.name}: {state.nimg / 1000:.2f} kimg in {state.seconds / 60:.1f} min of training; held-out PSNR "
        f"{last.get('psnr_plain', float('nan')):.2f} dB (band-mixed {last.get('psnr_mixed', float('nan')):.2f} dB)"
    )
    out = Path(args.export) if args.export else outdir / f"{config.name}.safetensors"
    mapping = Path(args.mapping) if args.mapping else outdir / MAPPING_FILE
    command = "python main.py train " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        network = export_checkpoint(payload, config, out, mapping, command)
    except CastmakerError:
        raise
    print(f"wrote {out} (fingerprint {network.fingerprint[:12]}); checkpoint {ckpt}")
    return 0


_BAR = "{desc}: {n:.2f}/{total} kimg |{bar}| {elapsed} {postfix}"
_COUNTER = "{desc}: {n:.2f} kimg {elapsed} {postfix}"
