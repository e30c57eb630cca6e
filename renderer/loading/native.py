"""Castmaker's own network file: one .safetensors with G_ema (and D) tensors and the config in metadata.

Why: safetensors holds only named arrays and a string table, so opening it can never run code, and the
file is self-describing (architecture, kind, fingerprint) without the original pickle.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save as st_save

from renderer.errors import NetworkLoadError
from renderer.fileio import write_bytes_atomic
from renderer.fingerprint import weights_fingerprint
from renderer.loading.assemble import build_network
from renderer.network import DiscriminatorRecord, Network

FORMAT_NAME = "castmaker-network"
FORMAT_VERSION = 1
G_PREFIX = "G_ema."
D_PREFIX = "D."


def save_native(network: Network, path: str | os.PathLike[str]) -> str:
    """Write `network` as a Castmaker .safetensors file (atomically); returns the weights fingerprint."""
    p = Path(path)
    if p.suffix.lower() != ".safetensors":
        raise NetworkLoadError(f"{p}: Castmaker network files must end in .safetensors")
    if not p.parent.is_dir():
        raise NetworkLoadError(f"cannot write {p}: folder {p.parent} does not exist")
    g_state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in network.G.state_dict().items()}
    fingerprint = weights_fingerprint(g_state)
    tensors: dict[str, np.ndarray] = {G_PREFIX + k: v.numpy().copy() for k, v in g_state.items()}
    meta: dict[str, str] = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "arch": json.dumps(network.arch, sort_keys=True),
        "name": network.name,
        "kind": network.kind,
        "fingerprint": fingerprint,
    }
    if network.discriminator is not None:
        for k, v in network.discriminator.state.items():
            tensors[D_PREFIX + k] = np.array(v, dtype=np.float32, order="C")
        meta["discriminator_init_kwargs"] = json.dumps(network.discriminator.init_kwargs, sort_keys=True)
    if network.cast_record is not None:  # how a Castmaker cast network was made (shown by `info`)
        meta["cast"] = json.dumps(network.cast_record, sort_keys=True)
    try:
        write_bytes_atomic(p, st_save(tensors, metadata=meta))
    except OSError as exc:
        raise NetworkLoadError(f"cannot write {p}: {exc.strerror or exc}") from exc
    return fingerprint


def _metadata(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    try:
        with safe_open(str(path), framework="np") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise NetworkLoadError(
            f"{path} is not a readable safetensors file ({exc}); it is truncated or corrupt"
        ) from exc
    return meta, arrays


def _json_field(meta: dict[str, str], key: str, path: Path) -> Any:
    try:
        return json.loads(meta[key])
    except (KeyError, json.JSONDecodeError) as exc:
        raise NetworkLoadError(f"{path}: Castmaker metadata field {key!r} is missing or corrupt") from exc


def load_native(path: Path, device: str | torch.device | None = None) -> Network:
    """Network from a Castmaker .safetensors file; verifies the stored weights fingerprint."""
    meta, arrays = _metadata(path)
    if meta.get("format") != FORMAT_NAME:
        raise NetworkLoadError(
            f"{path} is a safetensors file without Castmaker network metadata (bare weights cannot be "
            "rendered without their architecture); convert the original network with `castmaker convert`"
        )
    version = meta.get("format_version", "?")
    if version != str(FORMAT_VERSION):
        raise NetworkLoadError(
            f"{path} uses Castmaker network format version {version}; this Castmaker reads version "
            f"{FORMAT_VERSION}. Update Castmaker or convert the original network again"
        )
    arch = _json_field(meta, "arch", path)
    if not (isinstance(arch, dict) and isinstance(arch.get("init_kwargs"), dict) and "arch" in arch):
        raise NetworkLoadError(f"{path}: Castmaker metadata field 'arch' is malformed")
    g_state = {k[len(G_PREFIX) :]: v for k, v in arrays.items() if k.startswith(G_PREFIX)}
    d_state = {k[len(D_PREFIX) :]: v for k, v in arrays.items() if k.startswith(D_PREFIX)}
    if not g_state:
        raise NetworkLoadError(f"{path} holds no generator tensors ({G_PREFIX}*); the file is corrupt")
    stored = meta.get("fingerprint", "")
    actual = weights_fingerprint(g_state)
    if actual != stored:
        raise NetworkLoadError(
            f"{path}: file corrupted: its weights do not match the fingerprint stored in it "
            f"({actual[:12]} != {stored[:12]}); convert the original network again"
        )
    discriminator = None
    if d_state:
        d_kwargs = _json_field(meta, "discriminator_init_kwargs", path)
        discriminator = DiscriminatorRecord(init_kwargs=d_kwargs, state=d_state)
    network = build_network(
        arch,
        g_state,
        name=meta.get("name") or path.stem,
        source=path,
        discriminator=discriminator,
        extra={
            "format": "castmaker-safetensors",
            "format_version": FORMAT_VERSION,
            **({"cast": _json_field(meta, "cast", path)} if "cast" in meta else {}),
        },
        device=device,
    )
    if network.fingerprint != stored:
        raise NetworkLoadError(
            f"{path}: file corrupted: the built generator's fingerprint differs from the stored one"
        )
    return network
