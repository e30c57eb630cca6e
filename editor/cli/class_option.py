"""`--class K`, shared by every command that draws from a network (render, project, generate, view).

Why one place: the option, its help and its checks read the same everywhere, and a message that names
`--class` is only ever raised by a command that has the option (the engine's own message names none).
"""

from __future__ import annotations

import argparse

from renderer.errors import LatentError


def add_class_argument(parser: argparse.ArgumentParser, what: str = "the network") -> None:
    """Add `--class K` (dest `class_idx`, default None) to a subcommand's parser."""
    parser.add_argument(
        "--class",
        dest="class_idx",
        type=int,
        default=None,
        metavar="K",
        help=f"class label 0..c_dim-1 when {what} is class-conditional (c_dim > 0)",
    )


def check_class_option(class_idx: int | None, c_dim: int, network_name: str, required: bool = True) -> None:
    """LatentError in `--class` terms when `class_idx` does not suit a network with `c_dim` classes.

    `required`: a conditional network needs a class (False lets a caller fall back to its own default).
    """
    if class_idx is not None and class_idx < 0:
        raise LatentError(f"--class {class_idx} must be 0 or more")
    if c_dim == 0:
        if class_idx is not None:
            raise LatentError(f"{network_name} is unconditional (it has no classes): leave out --class")
        return
    if class_idx is None:
        if required:
            raise LatentError(
                f"{network_name} is class-conditional ({c_dim} classes): give a class with --class K (0-{c_dim - 1})"
            )
        return
    if class_idx >= c_dim:
        raise LatentError(f"--class {class_idx} is out of range: {network_name} has classes 0-{c_dim - 1}")
