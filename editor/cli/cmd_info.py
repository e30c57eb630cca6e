"""`info`: what a network file holds, and a table of synthesis layers for choosing rows."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from renderer.network import Network


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe a network: kind, sizes, fingerprint, layer table")
    p.add_argument("path", help="network file, cast-portrait / cast-sprite, or demo / demo-face / demo-sprite")


_FORMATS = {
    "official-pickle": "official network snapshot (pickle, read without running its code)",
    "castmaker-safetensors": "Castmaker .safetensors",
}


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: set[int]) -> list[str]:
    """Aligned text columns; column indexes in `right` are right-aligned (numbers)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]]


def cast_summary(network: Network) -> list[tuple[str, object]]:
    """How a Castmaker cast network was made (its file's cast record), as `info` lines."""
    record = network.cast_record
    if not record:
        return []
    scores = record.get("heldout_psnr_db", {})
    mapping = record.get("mapping_fit", {}).get("relative_mse", {})
    lines: list[tuple[str, object]] = [
        ("made by", f"Castmaker, trained on its procedural cast: {record.get('description', '')}"),
        ("training", f"{record.get('kimg', '?')} kimg in {float(record.get('training_seconds', 0)) / 3600:.2f} h"),
        ("command", record.get("command", "?")),
        (
            "held-out PSNR",
            f"{scores.get('psnr_plain', float('nan')):.2f} dB, band-mixed {scores.get('psnr_mixed', float('nan')):.2f} dB "
            "(network against the cast's own drawing)",
        ),
    ]
    if mapping:
        lines.append(("mapping fit", f"relative MSE {mapping.get('all', float('nan')):.4f} (z -> the cast's seed rule)"))
    for g in record.get("row_groups", []):
        rows = g["rows"]
        lines.append((f"rows {rows[0]}-{rows[-1]}", f"{g['name']}: {', '.join(g['factors'])}"))
    return lines


def describe(network: Network) -> list[str]:
    """The lines `info` prints for a loaded network."""
    from renderer.nets.contract import band_of_row

    G = network.G
    kind = network.kind + ("  (untrained demo network)" if network.is_demo else "")
    fmt = network.extra.get("format", "")
    source = "built into Castmaker (no file)" if network.is_demo else _FORMATS.get(fmt, fmt or "?")
    if network.bundled:
        source += ", bundled with Castmaker"
    if fmt == "official-pickle":
        source += f", generator {network.extra.get('generator_key', 'G_ema')}"
    if network.arch.get("source_repo"):
        source += f", from {network.arch['source_repo']} code"
    if network.discriminator is not None:
        disc = f"included ({len(network.discriminator.state)} tensors)"
    else:
        disc = "not included"
    summary = [
        ("network", f"{network.name}  ({network.source})"),
        ("kind", kind),
        ("format", source),
        (
            "resolution",
            f"{network.img_resolution} x {network.img_resolution}, {network.img_channels} channels",
        ),
        ("z_dim", network.z_dim),
        ("w_dim", network.w_dim),
        ("num_ws", network.num_ws),
        ("c_dim", network.c_dim),
        ("fingerprint", network.fingerprint),
        ("discriminator", disc),
    ]
    for text in network.extra.get("module_src", []):
        summary.append(("embedded code", f"{text} (kept as text, never run)"))
    summary += cast_summary(network)
    width = max(len(k) for k, _ in summary)
    lines = [f"{k.ljust(width)}  {v}" for k, v in summary]
    steps = list(getattr(G.synthesis, "steps", []))
    rows = [
        (i, s.name, f"{s.size}x{s.size}", s.channels, s.row, band_of_row(s.row, network.num_ws))
        for i, s in enumerate(steps)
    ]
    lines += ["", f"synthesis steps ({len(steps)}; each reads one w row):"]
    lines += format_table(["#", "step", "output", "channels", "w row", "band"], rows, right={0, 2, 3, 4})
    return lines


def run(args: argparse.Namespace) -> int:
    from renderer.loading import load_network

    network = load_network(args.path)
    print("\n".join(describe(network)))
    return 0
