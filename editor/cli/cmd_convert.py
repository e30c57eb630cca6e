"""`convert`: any supported network file -> Castmaker's safe .safetensors format."""

from __future__ import annotations

import argparse
from pathlib import Path

from renderer.errors import NetworkLoadError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="write a network as a safe .safetensors file")
    p.add_argument("input", help="network file (.pkl or .safetensors)")
    p.add_argument("output", help="output .safetensors path")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it already exists")


def _check_output(input_arg: str, output: Path, force: bool) -> None:
    """Refuse before loading anything: wrong suffix, the input itself, an existing file without --force."""
    if output.suffix.lower() != ".safetensors":
        raise NetworkLoadError(f"output {output} must end in .safetensors (Castmaker's safe network format)")
    if output.is_dir():
        raise NetworkLoadError(f"output {output} is a folder; give a file name ending in .safetensors")
    src = Path(input_arg).expanduser()
    if src.exists() and output.exists() and src.resolve() == output.resolve():
        raise NetworkLoadError("output is the input file; choose another output name so the input is kept")
    if output.exists() and not force:
        raise NetworkLoadError(
            f"output {output} already exists; choose another name or pass --force to replace it"
        )
    if not output.parent.is_dir():
        raise NetworkLoadError(f"output folder {output.parent} does not exist; create it first")


def run(args: argparse.Namespace) -> int:
    from renderer.loading import load_network, save_native

    output = Path(args.output).expanduser()
    _check_output(args.input, output, bool(getattr(args, "force", False)))
    network = load_network(args.input)
    save_native(network, output)
    fingerprint = load_network(str(output)).fingerprint  # read back: the file must load on its own
    if fingerprint != network.fingerprint:
        raise NetworkLoadError(
            f"{output} was written but reads back with fingerprint {fingerprint[:12]} instead of "
            f"{network.fingerprint[:12]}; do not use it, and report this as a bug"
        )
    print(f"wrote {output}  ({network.kind}, {network.img_resolution}px, {network.num_ws} w rows"
          f"{', with discriminator' if network.discriminator is not None else ''})")  # fmt: skip
    print(f"fingerprint {fingerprint}")
    return 0
