"""`animate`: a clip between recipe keyframes (saved sessions) or a seed tour, written as GIF/WebP/APNG/MP4/PNGs.

  python main.py animate --network cast-portrait --keys a.castmaker-session b.castmaker-session \
      --seconds 3 --fps 24 --loop --ease in-out --out clip.gif
  python main.py animate --network cast-portrait --seeds 0,5,9 --rows 8-15 --loop --out tour.webp

Every argument that can be checked without the network is checked first (format, encoder, files, numbers).
`--bench` renders the clip batched and one frame at a time, prints frames/s for both, and the file size of
the clip in every format (written to a temporary folder, then removed).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from editor.cli.class_option import add_class_argument, check_class_option
from editor.motion_files import FORMATS
from renderer.latents.motion import EASINGS, INTERPOLATIONS, MotionError, MotionOptions


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("animate", help="animate between recipe keyframes (sessions) or seeds: GIF/WebP/APNG/MP4/PNGs")
    p.add_argument(
        "--network",
        default=None,
        help="network file, cast-portrait / cast-sprite, or demo-face / demo-sprite (default: the first key "
        "session's network, else cast-portrait)",
    )
    p.add_argument("--keys", nargs="+", default=None, metavar="SESSION", help="keyframes: 2 or more .castmaker-session files (the editor's File ▸ Save session…)")
    p.add_argument("--seeds", default=None, help="seed tour: seeds visited in order, e.g. 0,5,9")
    p.add_argument("--rows", default=None, help="seed tour: rows the seeds replace, e.g. 8-15 (others stay the base's)")
    p.add_argument("--base", default="0", help="seed tour: base seed or a .castmaker-session (default seed 0)")
    p.add_argument("--trunc", type=float, default=0.7, help="seed tour: truncation psi of the seeds (and a base seed)")
    p.add_argument("--seconds", type=float, default=3.0, help="clip length in seconds, split equally between segments")
    p.add_argument("--fps", type=float, default=24.0, help="frames per second")
    p.add_argument("--loop", action="store_true", help="return to the first key and mark the file as looping")
    p.add_argument("--ease", choices=EASINGS, default="linear", help="easing of each segment")
    p.add_argument("--interp", choices=INTERPOLATIONS, default="linear", help="row interpolation in W")
    p.add_argument("--delay", default="0,0,0", metavar="C,M,F", help="per-band start delays (coarse,middle,fine) in [0,1) of a segment")
    p.add_argument("--scale", type=int, default=1, help="enlarge frames by this integer (nearest neighbour)")
    p.add_argument("--format", default=None, choices=FORMATS,
                   help="output format (default: from --out's suffix; a name without suffix is a PNG folder)")  # fmt: skip
    p.add_argument("--out", default=None, help="output file (.gif .webp .png .mp4) or folder (PNG sequence)")
    p.add_argument("--force", action="store_true", help="replace an existing --out")
    p.add_argument("--batch", type=int, default=8, help="frames per batched forward pass")
    p.add_argument("--bench", action="store_true", help="print frames/s batched vs one at a time and size per format")
    p.add_argument("--repeats", type=int, default=3, help="--bench: timed runs per mode (median is reported)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    add_class_argument(p, "the network (seed tour: the seeds' and a base seed's class)")


def _delays(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise MotionError(f"--delay {text!r}: give three fractions coarse,middle,fine like 0,0.3,0.5") from None
    if len(values) != 3:
        raise MotionError(f"--delay {text!r}: give exactly three fractions coarse,middle,fine like 0,0.3,0.5")
    return values  # type: ignore[return-value]


def _check_arguments(args: argparse.Namespace) -> tuple[MotionOptions, str | None]:
    from editor.motion_files import FORMAT_SUFFIX, SUFFIX_FORMATS, check_mp4_encoder, format_for_path
    from renderer.latents import parse_seeds

    if args.keys is None and args.seeds is None:
        raise MotionError("nothing to animate: give --keys A.castmaker-session B.castmaker-session or --seeds 0,5,9 --rows 8-15")
    if args.keys is not None and args.seeds is not None:
        raise MotionError("give either --keys or --seeds, not both")
    if args.keys is not None:
        if args.class_idx is not None:
            raise MotionError("--class applies to seed tours (--seeds); session keys keep the classes they were saved with")
        if len(args.keys) < 2:
            raise MotionError("--keys needs at least 2 session files")
        for k in args.keys:
            if not Path(k).is_file():
                raise MotionError(f"key file not found: {k}")
    else:
        if args.rows is None:
            raise MotionError("--seeds needs --rows (the rows the seeds replace, e.g. 8-15)")
        if len(parse_seeds(args.seeds)) < 2:
            raise MotionError("--seeds needs at least 2 seeds, e.g. 0,5,9")
        if not str(args.base).isdigit() and not Path(args.base).is_file():
            raise MotionError(f"--base {args.base}: give a seed number or an existing .castmaker-session file")
    if not math.isfinite(args.seconds) or args.seconds <= 0:
        raise MotionError(f"--seconds must be a positive number, got {args.seconds}")
    if args.scale < 1:
        raise MotionError(f"--scale must be a whole number 1 or more, got {args.scale}")
    if args.batch < 1:
        raise MotionError(f"--batch must be 1 or more, got {args.batch}")
    options = MotionOptions(
        fps=args.fps, loop=args.loop, ease=args.ease, interpolation=args.interp, band_delays=_delays(args.delay)
    )
    fmt = None
    if args.out is None and not args.bench:
        raise MotionError("give --out FILE (.gif .webp .png .mp4, or a folder for PNGs), or --bench")
    if args.out is not None:
        fmt = format_for_path(args.out, args.format)
        named = SUFFIX_FORMATS.get(Path(args.out).suffix.lower())
        if named is not None and named != fmt and (fmt, named) != ("strip", "apng"):  # a WebP called .gif, ...
            raise MotionError(f"--format {fmt} does not match the name {Path(args.out).name}: "
                              f"end it with {FORMAT_SUFFIX[fmt] or 'no suffix (a folder)'}, or leave --format out")  # fmt: skip
        if fmt == "mp4":
            check_mp4_encoder()
        if Path(args.out).exists() and not args.force:
            raise MotionError(f"{args.out} already exists: choose another --out or add --force to replace it")
    return options, fmt


def _keys(args: argparse.Namespace, network) -> list:
    from editor.motion import seed_tour_keys, session_keys
    from renderer.latents import Recipe, SeedSource, parse_rows, parse_seeds

    label = network.name
    if args.keys is not None:
        return session_keys(args.keys, network.fingerprint, label)
    check_class_option(args.class_idx, network.c_dim, network.name)  # the seeds draw this class
    base_text = str(args.base)
    if base_text.isdigit():
        base = Recipe.plain(SeedSource(int(base_text), psi=args.trunc, class_idx=args.class_idx), network.num_ws)
    else:
        base = session_keys([base_text], network.fingerprint, label)[0].recipe
    rows = parse_rows(args.rows, network.num_ws)
    return seed_tour_keys(base, parse_seeds(args.seeds), rows, psi=args.trunc, class_idx=args.class_idx)


def _default_network(args: argparse.Namespace) -> str:
    """Without --network: the network the first key session (or a session --base) was saved with, as the editor's
    --session does; else cast-portrait."""
    from editor.session import load_session

    first = args.keys[0] if args.keys else (None if str(args.base).isdigit() else args.base)
    return load_session(first).network_source if first else "cast-portrait"


def run(args: argparse.Namespace) -> int:
    options, fmt = _check_arguments(args)

    from editor.motion import Clip, render_clip
    from editor.motion_files import write_clip
    from renderer import load_network
    from renderer.engine import Engine

    network = load_network(args.network if getattr(args, "network_given", True) else _default_network(args))
    engine = Engine(network, device=args.device)
    keys = _keys(args, network)
    segments = len(keys) if options.loop else len(keys) - 1
    per = args.seconds / segments
    clip = Clip(tuple(replace(k, seconds=per) for k in keys), options)
    n = clip.num_frames()
    if args.bench:
        _bench(engine, clip, args)
        if args.out is None:
            return 0
    bar = tqdm(total=n, desc="animate", unit="frame", disable=n < 2)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    t0 = time.perf_counter()
    frames = render_clip(engine, clip, batch_size=args.batch, progress=progress)
    render_s = time.perf_counter() - t0
    bar.close()
    out = write_clip(args.out, frames, options.fps, options.loop, fmt, scale=args.scale, overwrite=args.force)
    h, w = frames[0].shape[:2]
    gif_cs = max(1, round(100 / options.fps))  # GIF stores each frame's duration in 1/100 s
    plays = f" (GIF keeps 1/100 s: plays at {100 / gif_cs:.3g} fps)" if fmt == "gif" and 100 / gif_cs != options.fps else ""
    print(
        f"wrote {out} ({fmt}, {len(frames)} frames of {w * args.scale}×{h * args.scale} at {options.fps:g} fps{plays}"
        f"{', looping' if options.loop and fmt in ('gif', 'webp', 'apng') else ''}; rendered at {len(frames) / render_s:.1f} frames/s on {engine.device_name})"
    )
    return 0


def _bench(engine, clip, args: argparse.Namespace) -> None:
    """Print frames/s batched vs one at a time, then the clip's size in each format."""
    import os

    from editor.motion import clip_frames_ws, render_clip
    from editor.motion_files import FORMAT_SUFFIX, MP4_INSTALL, write_clip

    n = clip.num_frames()
    warm = list(clip_frames_ws(engine, clip)[: args.batch])  # first calls of a batch shape pay one-off set-up
    engine.render_thumbnails(warm, batch_size=args.batch, mode="batched")
    engine.render_ws(warm[-1], use_cache=False)
    modes = [(f"batched ({args.batch}), shared prefix", args.batch, True), ("one at a time", 1, False),
             (f"batched ({args.batch}), every step", args.batch, False),
             ("one at a time, prefix cache", 1, True)]  # fmt: skip
    wall: dict[str, list[float]] = {m[0]: [] for m in modes}
    cpu: dict[str, list[float]] = {m[0]: [] for m in modes}
    frames = None
    for _ in range(max(1, args.repeats)):  # interleaved, so a change of machine load hits every mode alike
        for label, bs, shared in modes:  # shared: prefix sharing (batched) or the prefix cache (single)
            engine.clear_cache()
            t0, c0 = time.perf_counter(), time.process_time()
            out = render_clip(engine, clip, batch_size=bs, use_cache=shared, share_prefix=shared)
            wall[label].append(time.perf_counter() - t0)
            cpu[label].append(time.process_time() - c0)
            frames = frames or out
    print(f"animate bench: {engine.network.name} on {engine.device_name}, {n} frames "
          f"({clip.seconds():.2f} s at {clip.options.fps:g} fps{', loop' if clip.options.loop else ''}), "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, median of {max(1, args.repeats)}")  # fmt: skip
    for label, _, _ in modes:
        w, c = statistics.median(wall[label]), statistics.median(cpu[label])
        print(f"  render {label:<30} {n / w:7.2f} frames/s wall  {n / c:7.2f} frames/s per CPU-second")
    first, second = modes[0][0], modes[1][0]
    print(f"  batched / one at a time: {statistics.median(wall[second]) / statistics.median(wall[first]):.2f}x wall, "
          f"{statistics.median(cpu[second]) / statistics.median(cpu[first]):.2f}x CPU time")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("gif", "webp", "apng", "mp4", "strip", "frames"):
            target = Path(tmp) / f"clip-{fmt}{FORMAT_SUFFIX[fmt]}"
            try:
                t0 = time.perf_counter()
                write_clip(target, frames, clip.options.fps, clip.options.loop, fmt, scale=args.scale)
                dt = time.perf_counter() - t0
            except MotionError:
                if fmt == "mp4":
                    print(f"  mp4    (not measured: {MP4_INSTALL})")
                    continue
                raise
            size = sum(p.stat().st_size for p in target.rglob("*")) if target.is_dir() else target.stat().st_size
            print(f"  {fmt:<6} {size / 1024:9.1f} KiB  (written in {dt:.2f} s)")
