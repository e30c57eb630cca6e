"""`view`: the imgui-bundle live viewer."""

from __future__ import annotations

import argparse
from pathlib import Path

from editor.cli.class_option import add_class_argument, check_class_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="open the live imgui viewer")
    p.add_argument("--network", default="cast-portrait", help="network file, cast-portrait / cast-sprite, or demo-face / demo-sprite")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    add_class_argument(p, "the network (default 0; change it in the window)")
    p.add_argument(
        "--screenshot", default=None, metavar="PNG", help="render N frames, save a screenshot, exit"
    )
    p.add_argument(
        "--frames",
        type=int,
        default=30,
        help="with --screenshot: window frames to draw after the first image arrives",
    )
    p.add_argument(
        "--capture-dir",
        default=None,
        metavar="DIR",
        help="folder for captures and sessions (default: <Pictures>/Castmaker)",
    )


def run(args: argparse.Namespace) -> int:
    # Check for a display before anything slow, so a headless machine gets one line at once.
    from editor.viewer.display_probe import check_viewer_can_open
    from renderer.errors import CastmakerError

    if args.frames < 1:
        raise CastmakerError(f"--frames must be at least 1, got {args.frames}")
    check_viewer_can_open()

    from editor.viewer.app import ViewerApp, ViewerInfo, ViewerOptions, run_viewer
    from editor.viewer.capture import default_capture_dir
    from editor.viewer.frames import render_frame
    from editor.viewer.render_thread import RenderThread
    from renderer import load_network
    from renderer.engine import Engine

    print(f"loading {args.network} ...", flush=True)
    network = load_network(args.network)
    check_class_option(args.class_idx, network.c_dim, network.name, required=False)  # the window starts at class 0
    engine = Engine(network, device=args.device)
    # CPU threads: every core but one by default, so the window keeps a core (editor/cli/__init__.py, --threads)
    info = ViewerInfo.from_engine(engine)
    options = ViewerOptions(
        capture_dir=Path(args.capture_dir).expanduser() if args.capture_dir else default_capture_dir(),
        screenshot=Path(args.screenshot) if args.screenshot else None,
        frames=args.frames,
        class_idx=args.class_idx,
    )
    worker = RenderThread(lambda request: render_frame(engine, request))
    app = ViewerApp(info, worker, options)
    try:
        code = run_viewer(app)
    finally:
        worker.stop()
    print(app.timing_summary())
    if options.screenshot is not None:
        print(f"screenshot saved to {options.screenshot}")
    return code
