"""Castmaker entry point: `python main.py` opens the editor; subcommands do headless work."""

from __future__ import annotations

import os
import sys

# OpenMP threads that spin while waiting starve other programs (and each other) on a shared CPU;
# this must be in the environment before torch loads its OpenMP runtime. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    from editor.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
