"""Castmaker entry point: `python main.py` opens the editor; subcommands do headless work."""

from __future__ import annotations

import os
import sys


# OpenMP threads that spin while waiting starve other programs (and each other) on a shared CPU. Where
# Castmaker can measure other programs' CPU use (Linux /proc/stat), its renders shrink their thread
# team while others are busy (renderer/cpu_share.py) and keep OpenMP's fast spinning wait for an idle
# machine. Elsewhere, and for `train` (a fixed thread count, so that a resumed run computes the same
# steps), threads wait passively. This must be in the environment before torch loads its OpenMP
# runtime; a user's own setting wins.
def _command(argv: list[str]) -> str | None:
    """The subcommand in argv (the first argument naming one, after any global options), or None for the editor."""
    from editor.cli import COMMANDS  # torch-free

    return next((arg for arg in argv if arg in COMMANDS), None)


def _choose_openmp_wait(argv: list[str]) -> None:
    from renderer.cpu_share import available

    if _command(argv) == "train" or not available():
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    _choose_openmp_wait(args)
    from editor.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
