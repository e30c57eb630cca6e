"""Read an official (or stylegan3-fun) network-snapshot pickle into a Network without running its code."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from renderer.errors import NetworkLoadError
from renderer.loading.architecture import detect_architecture, identify_sources
from renderer.loading.assemble import build_network
from renderer.loading.records import ModuleRecord, module_record, plain
from renderer.loading.safe_unpickler import PersistentObject, load_restricted
from renderer.loading.storage_blob import LEGACY_MAGIC
from renderer.network import DiscriminatorRecord, Network

log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """The parts of a network snapshot Castmaker uses."""

    generator: ModuleRecord
    generator_key: str  # "G_ema", or "G" for files without an EMA copy
    discriminator: ModuleRecord | None
    keys: list[str]
    training_set_kwargs: dict[str, Any] | None


def read_snapshot(path: Path) -> Snapshot:
    """Unpickle `path` with the allow-list and pick G_ema (else G) and D; NetworkLoadError otherwise."""
    try:
        with path.open("rb") as f:
            data = load_restricted(f)
    except OSError as exc:
        raise NetworkLoadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return _interpret(path, data)
    except RecursionError as exc:
        raise NetworkLoadError(
            f"{path} holds data nested too deeply to read (corrupt or hostile file)"
        ) from exc


def _interpret(path: Path, data: Any) -> Snapshot:
    if isinstance(data, int) and data == LEGACY_MAGIC:
        raise NetworkLoadError(
            f"{path} is a torch.save checkpoint (legacy format), not a StyleGAN network snapshot; "
            "export the generator with the official training code's snapshot pickles instead"
        )
    if not isinstance(data, dict):
        raise NetworkLoadError(
            f"{path} holds a pickled {type(data).__name__}, not a network snapshot (a dict with G_ema)"
        )
    keys = [str(k) for k in data]
    for key in ("G_ema", "G"):
        if isinstance(data.get(key), PersistentObject):
            gen_key = key
            break
    else:
        raise NetworkLoadError(
            f"{path} has no generator: a network snapshot holds 'G_ema' (or 'G'), this pickle has keys "
            f"{keys[:10]}"
        )
    if gen_key == "G":
        log.warning("%s has no G_ema; using the training generator G", path)
    generator = module_record(data[gen_key], "")
    discriminator = None
    if isinstance(data.get("D"), PersistentObject):
        try:
            discriminator = module_record(data["D"], "D")
        except NetworkLoadError as exc:
            log.warning("ignoring the discriminator of %s: %s", path, exc)
    tsk = data.get("training_set_kwargs")
    return Snapshot(
        generator=generator,
        generator_key=gen_key,
        discriminator=discriminator,
        keys=keys,
        training_set_kwargs=plain(tsk, json_safe=True) if isinstance(tsk, dict) else None,
    )


def _discriminator_record(rec: ModuleRecord) -> DiscriminatorRecord:
    kwargs = plain(rec.init_kwargs, json_safe=True)
    state = {k: np.array(v, dtype=np.float32, order="C") for k, v in rec.state_dict().items()}
    return DiscriminatorRecord(init_kwargs=kwargs, state=state)


def load_official(path: Path, device: str | torch.device | None = None) -> Network:
    """Network from an official / stylegan3-fun snapshot pickle (G_ema; D kept as a record)."""
    snap = read_snapshot(path)
    arch = detect_architecture(snap.generator)
    extra = {
        "format": "official-pickle",
        "generator_key": snap.generator_key,
        "snapshot_keys": snap.keys,
        "module_src_sha256": sorted(snap.generator.source_hashes()),
        "module_src": identify_sources(snap.generator.source_hashes()),
        "training_set_kwargs": snap.training_set_kwargs,
    }
    return build_network(
        arch,
        snap.generator.state_dict(),
        name=path.stem,
        source=path,
        discriminator=_discriminator_record(snap.discriminator) if snap.discriminator else None,
        extra=extra,
        device=device,
    )
