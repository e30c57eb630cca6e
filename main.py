"""Castmaker entry point: `python main.py` opens the editor; subcommands do headless work."""

from __future__ import annotations

import os
import sys

# OpenMP threads that spin while waiting starve other programs (and each other) on a shared CPU. On
# Linux, Castmaker measures other programs' CPU use and shrinks its thread team while they are busy
# (renderer/engine/cpu_share.py), keeping OpenMP's fast spinning wait for an idle machine. Elsewhere it
# cannot measure that, so threads wait passively: this must be in the environment before torch loads
# its OpenMP runtime. A user's own setting wins.
if not os.path.isfile("/proc/stat"):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: list[str] | None = None) -> int:
    from editor.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
