"""`project`: find the w of any image (Image2StyleGAN-style optimisation)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from editor.cli.class_option import add_class_argument, check_class_option
from renderer.errors import ProjectionError


def _space_name(text: str) -> str:
    """'W', 'w', 'W+', 'wplus' -> 'w' / 'wplus' (the README and papers write W and W+)."""
    name = text.strip().lower()
    return "wplus" if name in ("w+", "wplus") else name


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="project an image into w-space")
    p.add_argument("--network", default="cast-portrait", help="network file, cast-portrait / cast-sprite, or demo-face / demo-sprite")
    p.add_argument("--target", required=True, help="target image file")
    p.add_argument("--steps", type=int, default=1000, help="optimisation steps (default 1000; Ctrl+C keeps the best so far)")
    p.add_argument(
        "--space",
        type=_space_name,
        choices=["w", "wplus"],
        default=None,
        help="wplus (or W+): every w row free (the default everywhere, measured best); w: one w for all rows (the official projector)",
    )
    p.add_argument(
        "--stabilize", action="store_true", help="StyleGAN3: freeze the input transform (no rotate/shift)"
    )
    p.add_argument("--loss", choices=["auto", "pixel", "ssim", "disc", "lpips"], default="auto")
    p.add_argument(
        "--vgg",
        default=None,
        help="local VGG16 weights for LPIPS (NVIDIA TorchScript or torchvision state dict)",
    )
    add_class_argument(p)
    p.add_argument("--seed", type=int, default=0, help="random seed of the optimisation")
    p.add_argument("--outdir", default="out/projection", help="where the results go (default out/projection; the previous results there are kept as *.bak.*)")
    p.add_argument("--save-video", action="store_true", help="also write an animation of the optimisation")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument(
        "--optimize-noise",
        action="store_true",
        help="StyleGAN2: also fit the noise maps (saved to projected_noise.npz; `render --w` ignores them)",
    )


class _StopFlag:
    """First Ctrl+C asks the optimisation to stop after the current step; a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> _StopFlag:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self) -> bool:
        return self.requested


def run(args: argparse.Namespace) -> int:
    from renderer import load_network
    from renderer.engine import Engine
    from renderer.projector import DEFAULT_SPACE, ProjectionConfig, load_target, project
    from renderer.projector.outputs import back_up_previous, write_projection

    args.space = args.space or DEFAULT_SPACE
    if args.steps < 1:
        raise ProjectionError(f"--steps must be at least 1, got {args.steps}")
    network = load_network(args.network)
    check_class_option(args.class_idx, network.c_dim, network.name)
    engine = Engine(network, device=args.device)
    target = load_target(args.target, network)
    config = ProjectionConfig(
        steps=args.steps,
        space=args.space,
        stabilize=args.stabilize,
        loss=args.loss,
        vgg_path=args.vgg,
        seed=args.seed,
        class_idx=args.class_idx,
        optimize_noise=args.optimize_noise,
        keep_frames=args.save_video,
    )
    print(
        f"projecting {args.target} into {network.name} ({network.kind}, {network.img_resolution} px, "
        f"{network.num_ws} rows) in {'W+' if args.space == 'wplus' else 'W'} on {engine.device_name}"
    )
    bars: list[tqdm] = []  # opened at the first step, so set-up errors print one clean line

    def on_progress(p: object) -> None:
        if not bars:
            bars.append(tqdm(total=args.steps, unit="step", dynamic_ncols=True, file=sys.stderr))
        bars[0].update(1)
        bars[0].set_postfix(loss=f"{p.loss:.4g}", psnr=f"{p.psnr:.2f}")

    with _StopFlag() as stop:
        try:
            result = project(engine, target, config, progress=on_progress, should_stop=stop)
        finally:
            for bar in bars:
                bar.close()
    print(f"loss: {result.loss_name}")
    if result.stopped_early:
        print(
            f"interrupted after {len(result.log)} steps: writing the best w so far (step {result.best_step})"
        )
    outdir = Path(args.outdir)
    backups = back_up_previous(outdir) if outdir.is_dir() else []
    if backups:
        print(f"kept the previous results in {outdir} as *.bak.*")
    written = write_projection(outdir, target, result, save_video=args.save_video, backup=False)
    print(f"best PSNR {result.best_psnr:.2f} dB at step {result.best_step} ({result.elapsed_s:.1f} s)")
    for path in written.values():
        print(f"wrote {path}")
    if "projected_w.npz" in written:
        print(f"render it: `python main.py render --network {args.network} --w {written['projected_w.npz']}`")
    if args.save_video and not any(n.startswith("proj.") and n != "proj.png" for n in written):
        print("no animation written: no preview frames were collected")
    if result.noise:
        print(
            "note: the optimised noise maps are in projected_noise.npz; `render --w` uses the network's own noise"
        )
    return 130 if result.stopped_early else 0
