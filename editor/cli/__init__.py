"""Command-line dispatcher. Each subcommand lives in its own module with `add_parser` and `run`.

Errors Castmaker raises on purpose (CastmakerError and friends) exit with code 2 and one clear line.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from renderer.errors import CastmakerError

# subcommand -> module under editor.cli
COMMANDS = {
    "render": "editor.cli.cmd_render",
    "info": "editor.cli.cmd_info",
    "convert": "editor.cli.cmd_convert",
    "bench": "editor.cli.cmd_bench",
    "project": "editor.cli.cmd_project",
    "generate": "editor.cli.cmd_generate",
    "view": "editor.cli.cmd_view",
    "train": "editor.cli.cmd_train",
    "cast": "editor.cli.cmd_cast",
    "directions": "editor.cli.cmd_directions",
    "animate": "editor.cli.cmd_animate",
}
# options that may stand before or after the subcommand: `main.py --network X view` == `main.py view --network X`
_SHARED_OPTIONS = {"network": "cast-portrait", "device": "auto", "threads": None}
THREADS_HELP = "CPU threads for torch (default: every core, every core but one for view and train; OMP_NUM_THREADS when set)"
# the viewer (software OpenGL in-process) and training (hours, often two runs): one core left free by default
_LEAVE_A_CORE = {"view", "train"}


def thread_count(text: str) -> int:
    """argparse type of --threads: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of CPU threads, 1 or more, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one clear line (no usage dump, no traceback)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="castmaker", description="Art-direct StyleGAN networks and export RPG Maker characters.")
    parser.add_argument(
        "--network", dest="global_network", default=None, help="network file (.pkl/.safetensors), cast-portrait / cast-sprite, or demo-face / demo-sprite"
    )
    parser.add_argument("--device", dest="global_device", default=None, help="auto | cpu | cuda | mps")
    parser.add_argument("--threads", dest="global_threads", type=thread_count, default=None, metavar="N", help=THREADS_HELP)
    parser.add_argument("--session", default=None, metavar="FILE", help="open a saved .castmaker-session in the editor")
    parser.add_argument("--screenshot", default=None, metavar="PNG", help="open the editor, render, save a window PNG, exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    # Leave a subcommand's shared option unset unless typed, so a value given before the subcommand is not overridden.
    for subparser in sub.choices.values():
        if not any("--threads" in action.option_strings for action in subparser._actions):
            subparser.add_argument("--threads", type=thread_count, default=None, metavar="N", help=THREADS_HELP)
        subparser.set_defaults(**{name: None for name in _SHARED_OPTIONS if subparser.get_default(name) is not None})
    return parser


def _merge_shared_options(args: argparse.Namespace) -> None:
    args.network_given = getattr(args, "network", None) is not None or args.global_network is not None
    for name, default in _SHARED_OPTIONS.items():
        if getattr(args, name, None) is None:
            global_value = getattr(args, f"global_{name}")
            setattr(args, name, global_value if global_value is not None else default)


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(argv)  # the command line as given, for records such as a trained network's history
    _merge_shared_options(args)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is not None and getattr(args, "network", None) in ("demo", "demo-face", "demo-sprite"):
        sys.stderr.write(
            f"castmaker: note: {args.network} is an untrained demo network (abstract pictures); "
            "the trained defaults are cast-portrait and cast-sprite\n"
        )
    try:
        if args.command is None:
            from editor.ui.app import run_editor

            return run_editor(args)
        from renderer.engine.threads import cpu_threads

        with cpu_threads(args.threads, leave_a_core=args.command in _LEAVE_A_CORE):  # restored after (tests)
            return int(importlib.import_module(COMMANDS[args.command]).run(args) or 0)
    except CastmakerError as exc:
        sys.stderr.write(f"castmaker: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("castmaker: interrupted\n")
        return 130
    except BrokenPipeError:
        # `main.py info demo | head`: the reader went away; stop quietly without a traceback at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
