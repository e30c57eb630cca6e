"""`train`: train Castmaker's own cast networks (cast-portrait, cast-sprite) against the procedural cast.

    python main.py train cast-sprite --minutes 60 [--outdir DIR] [--device auto|cpu|cuda|mps] [--threads N]
    python main.py train cast-sprite --resume DIR/checkpoint.pt --kimg 200
    python main.py train all --kimg 400 --device cuda --bundle      # both networks, then ship them
    python main.py train all --remap bundled --mapping FILE --bundle  # both bundled networks with one new mapping

Every run writes DIR/checkpoint.pt (atomic, resumable), DIR/log.csv (kimg, loss, held-out PSNR) and sample
grids DIR/samples-*.png (targets above, the network below); at the end it writes DIR/<network>.safetensors,
an ordinary network file. Both networks share one fitted mapping (OUT/mapping.pt), so a seed is the same
character in both. `--bundle` copies the files into resources/networks/ and re-derives the bundled presets.
Ctrl+C saves the checkpoint first.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from editor.cli.cast_files import (
    NETWORKS,
    check_output_options,
    command_line,
    mapping_cache,
    mapping_fit_bar,
    named_source,
)


def _workers(text: str) -> int:
    """argparse type of --draw-workers: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more (0: draw in the training process), got {text!r}")
    return value

def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a cast network (cast-portrait / cast-sprite / all) on the procedural cast")
    p.add_argument(
        "network",
        choices=[*NETWORKS, "all", "cast-tiny"],
        help="cast-sprite, cast-portrait, all (both, sharing one mapping), or cast-tiny (a 32-px network for tests)",
    )
    stop = p.add_mutually_exclusive_group()
    stop.add_argument("--kimg", type=float, default=None, help="stop when this many thousand images were seen in all")
    stop.add_argument("--minutes", type=float, default=None, help="stop after this many minutes (per network)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps (auto: CUDA, then MPS, then the CPU)")
    p.add_argument("--resume", default=None, metavar="CKPT", help="continue from a checkpoint.pt, in its own folder")
    p.add_argument("--outdir", default="training-runs", metavar="DIR", help="new runs go to DIR/<network> (default training-runs)")
    p.add_argument(
        "--init",
        default=None,
        metavar="NETWORK",
        help="start a new run from a network's weights: a file, the bundled cast-portrait / cast-sprite, or 'bundled' "
        "(each network from its own bundled weights, e.g. with 'all'); not with --resume, and 'all' continuing "
        "the checkpoints of an earlier 'all' run says so and ignores it",
    )
    p.add_argument("--export", default=None, metavar="FILE", help="write the network here (default DIR/<network>/<network>.safetensors)")
    p.add_argument(
        "--mapping",
        default=None,
        metavar="FILE",
        help="fitted mapping to (re)use, or 'bundled': the bundled networks' own (default DIR/mapping.pt; with "
        "--bundle and one network, 'bundled', so the file fits beside the other bundled network)",
    )
    p.add_argument("--mapping-steps", type=int, default=None, help="steps of the mapping fit (default 40000)")
    p.add_argument(
        "--remap",
        default=None,
        metavar="NETWORK",
        help="train nothing: write NETWORK (a file Castmaker trained, cast-portrait / cast-sprite, or 'bundled': "
        "the bundled one; with 'all', both) again with the fitted mapping (--mapping), its synthesis unchanged, to "
        "--export or DIR/<network>/<network>-remapped.safetensors; for networks trained before the mapping was "
        "fitted anew",
    )
    p.add_argument("--bundle", action="store_true", help="install the results as Castmaker's bundled networks and presets")
    p.add_argument("--seed", type=int, default=0, help="random seed of a new run")
    p.add_argument("--batch", type=int, default=None, help="batch size of a new run (default per network)")
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        metavar="RATE",
        help="starting learning rate of a new run, one network at a time (default cast-portrait 4e-3, cast-sprite "
        "1e-3, cast-tiny 2e-3; a run continued with --init from a network Castmaker trained starts where that "
        "network's last run ended, which `info` shows); not with --resume",
    )
    p.add_argument(
        "--lr-decay",
        type=float,
        default=None,
        help="learning rate at the --kimg target as a share of the start (exponential; new runs 0.1, runs continued "
        "with --init 0.5, resumed runs keep theirs; with --minutes alone the rate is constant)",
    )
    p.add_argument(
        "--edge-weight",
        type=float,
        default=None,
        metavar="A",
        help="extra L1 weight on the target's outlines and features, 0-100: a pixel counts up to 1+A times, by "
        "its edge strength (default 6 for cast-portrait and cast-sprite, 0 for cast-tiny; resumed runs keep theirs)",
    )
    p.add_argument(
        "--mse-weight",
        type=float,
        default=None,
        metavar="B",
        help="weight B of a squared-error term added to the L1 loss, 0-100: B x the mean squared error of pixels in "
        "[-1, 1], which counts large errors (a missing eye) more than L1 does and is what PSNR measures (default 5 "
        "for cast-portrait, 0 for the others; resumed runs keep theirs)",
    )
    p.add_argument(
        "--draw-workers",
        type=_workers,
        default=None,
        metavar="N",
        help="processes that draw the cast's pictures ahead of training (default: none on the CPU, else every core but "
        "one, at most 16); the batches are the same for any N",
    )
    p.add_argument("--eval-every", type=float, default=180.0, metavar="S", help="seconds between held-out PSNR checks")
    p.add_argument("--grid-every", type=float, default=600.0, metavar="S", help="seconds between sample grids")


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse out-of-range numbers in one line each, before anything is read or trained."""
    from renderer.training.configs import TrainingError

    if (args.kimg is not None and args.kimg < 0) or (args.minutes is not None and args.minutes < 0):
        raise TrainingError("--kimg and --minutes must not be negative")
    if args.lr_decay is not None and not 0 < args.lr_decay <= 1:
        raise TrainingError(f"--lr-decay must be in (0, 1], got {args.lr_decay}")
    if args.lr is not None and not 0 < args.lr <= 1:  # NaN fails too
        raise TrainingError(f"--lr must be above 0 and at most 1, got {args.lr}")
    for flag, value in (("--edge-weight", args.edge_weight), ("--mse-weight", args.mse_weight)):
        if value is not None and not 0 <= value <= 100:
            raise TrainingError(f"{flag} must be between 0 and 100, got {value}")
    for flag, value in (("--batch", args.batch), ("--mapping-steps", args.mapping_steps)):
        if value is not None and value < 1:
            raise TrainingError(f"{flag} must be 1 or more, got {value}")


def run(args: argparse.Namespace) -> int:
    from renderer.training.configs import TrainingError

    _check_numbers(args)
    check_output_options(args)
    if args.remap is not None:
        from editor.cli.cast_files import remap

        return remap(args)
    if args.kimg is None and args.minutes is None:
        raise TrainingError("say how long to train: --kimg K (total thousands of images) or --minutes M")
    names = list(NETWORKS) if args.network == "all" else [args.network]
    if len(names) > 1 and (args.resume or args.export):
        raise TrainingError("--resume and --export name one network's files: train one network at a time with them")
    if args.lr is not None and len(names) > 1:
        raise TrainingError("--lr sets one rate, but cast-portrait and cast-sprite want different ones: train them one at a time with --lr")
    if args.lr is not None and args.resume:
        raise TrainingError(
            "a resumed run keeps its learning-rate schedule: drop --lr (--lr-decay changes how it falls), or start a "
            "new run from its exported network with --init FILE --lr RATE"
        )
    if args.init and args.resume:
        raise TrainingError("--init starts a new run; a resumed run already has its weights: drop one of them")
    root = Path(args.outdir)  # CPU threads: the global --threads option (editor/cli/__init__.py)
    plans = _preflight(args, names, root)
    try:
        with _stop_requests() as stop:
            files = {name: train_one(args, name, root / name, stop.is_set, plans[name]) for name in names}
    except KeyboardInterrupt:  # train_one saved the checkpoint and said how to continue
        return 130
    if args.bundle:
        from editor.cli.cast_files import bundle

        bundle(files)
    return 0


def _resume_path(args: argparse.Namespace, outdir: Path) -> Path | None:
    """The checkpoint a run continues: --resume, or (for `train all`) the one an earlier `train all` left in outdir."""
    from renderer.training.trainer import CHECKPOINT_NAME

    if args.resume:
        return Path(args.resume)
    if args.network == "all" and (outdir / CHECKPOINT_NAME).exists():
        return outdir / CHECKPOINT_NAME
    return None


@dataclass(frozen=True)
class _Plan:
    """What `_preflight` found for one network: the checkpoint it continues (and how far that got) and a new run's
    starting learning rate (None: the config's)."""

    resume: Path | None
    saved_nimg: int | None
    start_lr: float | None


def _preflight(args: argparse.Namespace, names: list[str], root: Path) -> dict[str, _Plan]:
    """Read every checkpoint to continue, every --init network and every mapping cache to reuse before the first
    step, so a stale or wrong file is reported now, not after hours of training the network before it.

    Returns each network's plan; its starting learning rate is --lr, or for a new run from a network Castmaker
    trained the rate that network's last run ended at (said in one line each, once every check has passed).
    """
    import torch

    from renderer.training.configs import get_config
    from renderer.training.finalize import last_learning_rate, read_mapping_cache
    from renderer.training.trainer import load_checkpoint, read_init_source

    plans: dict[str, _Plan] = {}
    said = []
    for name in names:
        config = get_config(name)
        resume = _resume_path(args, root / name)
        saved_nimg = None if resume is None else load_checkpoint(resume, torch.device("cpu"))[1].nimg
        start_lr = args.lr if resume is None else None
        if resume is None and args.init and args.lr is None:
            source = named_source(name, args.init)
            network, _ = read_init_source(config, source)
            record = network.cast_record
            start_lr = last_learning_rate(record) if record is not None else None
            if start_lr is not None:
                said.append(f"{name}: starting at lr {start_lr:.2g}, the rate {source}'s last run ended at (--lr RATE sets another)")
        run_dir = resume.parent if resume is not None else root / name
        read_mapping_cache(config, mapping_cache(args, run_dir.parent), args.mapping_steps)
        plans[name] = _Plan(resume, saved_nimg, start_lr)
    for line in said:
        print(line)
    return plans


@contextlib.contextmanager
def _stop_requests() -> Iterator[threading.Event]:
    """Ctrl+C and SIGTERM set an event the training loop checks between steps; the old handlers come back after."""
    import signal

    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():  # signals can only be set up on the main thread
        yield stop
        return

    def request(signum, frame):  # noqa: ANN001, ARG001
        if stop.is_set():  # a second Ctrl+C: stop now
            raise KeyboardInterrupt
        stop.set()
        sys.stderr.write("\ncastmaker: stopping after this step (saving the checkpoint)...\n")

    old = {sig: signal.signal(sig, request) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def train_one(args: argparse.Namespace, name: str, outdir: Path, should_stop: Callable[[], bool], plan: _Plan) -> Path:
    """Train (or continue) one network as `_preflight` planned it, then export it; returns the network file.

    The fitted mapping is shared by the runs beside each other: RUNS/mapping.pt next to RUNS/<network>/.
    """
    import torch
    from tqdm import tqdm

    from renderer.engine.device import pick_device
    from renderer.training.configs import TrainingError
    from renderer.training.finalize import export_checkpoint
    from renderer.training.trainer import (
        CHECKPOINT_NAME,
        Progress,
        TrainOptions,
        load_checkpoint,
        run_training,
    )

    resume = plan.resume
    if resume is not None and not args.resume and args.init:  # `train all` continues what an earlier one left
        print(f"{name}: continuing {resume}; --init {args.init} applies to new runs only, so it is ignored")
    if resume is None and (args.kimg == 0 or args.minutes == 0):
        raise TrainingError("a run of 0 trains nothing: give more --kimg or --minutes, or --resume a checkpoint")
    if plan.saved_nimg is not None and args.kimg is not None and plan.saved_nimg >= args.kimg * 1000:
        print(f"{name}: the checkpoint is already at {plan.saved_nimg / 1000:.2f} kimg; nothing to train, exporting it")
    run_dir = resume.parent if resume is not None else outdir
    mapping = mapping_cache(args, run_dir.parent)
    init = named_source(name, args.init) if args.init and resume is None else None
    # A continuation from trained weights falls gently (it starts low already); a new run to a tenth of its start.
    decay = None if resume is not None else (0.5 if init else 0.1)
    options = TrainOptions(
        network=name,
        kimg=args.kimg,
        minutes=args.minutes,
        device=str(pick_device(args.device)),
        outdir=str(run_dir),
        seed=args.seed,
        batch=args.batch,
        lr=plan.start_lr,
        lr_decay=args.lr_decay if args.lr_decay is not None else decay,
        eval_every_s=args.eval_every,
        grid_every_s=args.grid_every,
        init=init,
        draw_workers=args.draw_workers,
        edge_weight=args.edge_weight,
        mse_weight=args.mse_weight,
    )
    total = args.kimg
    bar = tqdm(total=total, desc=name, dynamic_ncols=True, bar_format=_BAR if total else _COUNTER)

    def show(p: Progress) -> None:
        bar.n = round(min(p.kimg, total) if total else p.kimg, 3)  # the last step may pass the target
        eta = "?" if p.eta_s is None else f"{int(p.eta_s // 60)}m{int(p.eta_s % 60):02d}s"
        psnr = "-" if p.psnr is None else f"{p.psnr:.2f} dB"
        bar.set_postfix_str(f"loss {p.loss:.4f}  held-out PSNR {psnr}  ETA {eta}", refresh=True)

    command = command_line(args)
    try:
        ckpt = run_training(options, resume=resume, on_progress=show, should_stop=should_stop, command=command)
    except KeyboardInterrupt:
        bar.close()
        sys.stderr.write(f"castmaker: interrupted; continue with --resume {run_dir / CHECKPOINT_NAME}\n")
        raise
    finally:
        bar.close()
    payload, state, config = load_checkpoint(ckpt, torch.device("cpu"))
    last = state.history[-1] if state.history else {}
    print(
        f"{config.name}: {state.nimg / 1000:.2f} kimg in {state.seconds / 60:.1f} min of training; held-out PSNR "
        f"{last.get('psnr_plain', float('nan')):.2f} dB (band-mixed {last.get('psnr_mixed', float('nan')):.2f} dB)"
    )
    out = Path(args.export) if args.export else run_dir / f"{config.name}.safetensors"
    with mapping_fit_bar(mapping) as fit_progress:
        network = export_checkpoint(payload, config, out, mapping, args.mapping_steps, fit_progress)
    print(f"wrote {out} (fingerprint {network.fingerprint[:12]}); checkpoint {ckpt}")
    return out


_BAR = "{desc}: {n:.2f}/{total} kimg |{bar}| {elapsed}{postfix}"
_COUNTER = "{desc}: {n:.2f} kimg {elapsed}{postfix}"
