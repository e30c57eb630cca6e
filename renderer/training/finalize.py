"""Turn a training checkpoint into an ordinary Castmaker network file (.safetensors).

The file holds G_ema's synthesis, the fitted mapping network (stage 2) and w_avg, plus a `cast` record in
its metadata: how it was made (command, kimg, seconds), its held-out scores and which rows read which
factors. Every feature opens it like any other network; nothing else is needed to render it.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import torch

from renderer.fileio import write_bytes_atomic
from renderer.fingerprint import weights_fingerprint
from renderer.loading.native import save_native
from renderer.nets import build_generator, generator_kind
from renderer.nets.mapping import MappingNetwork
from renderer.network import Network
from renderer.training.configs import CastNetworkConfig, TrainingError
from renderer.training.mapping_fit import fit_mapping

log = logging.getLogger(__name__)

MAPPING_FILE = "mapping.pt"
MAPPING_FIT = {"steps": 12000, "lr": 1.0, "seed": 1, "pool": 65536}  # 96-99 % of seeds keep their classes


def fitted_mapping(
    config: CastNetworkConfig, cache: Path | None, steps: int | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The stage-2 mapping state dict and its scores, read from `cache` if it was fitted the same way, else fitted
    (and saved there). Both cast networks must use one mapping, so a cache fitted differently is an error."""
    kwargs = dict(config.init_kwargs.get("mapping_kwargs", {}))
    fit = dict(MAPPING_FIT)
    if steps:  # a short fit (tests, trials) needs no bigger pool than it can use
        fit.update(steps=steps, pool=min(fit["pool"], steps * 64))
    if cache is not None and cache.is_file():
        try:
            payload = torch.load(cache, map_location="cpu", weights_only=False)
            stored_fit = payload["scores"]["fit"]
            state = payload["state"]
        except Exception as exc:  # noqa: BLE001 - any unreadable cache is one clear error
            raise TrainingError(f"{cache} is not a readable fitted mapping ({exc}): delete it to fit again") from None
        if stored_fit != fit or payload.get("mapping_kwargs", kwargs) != kwargs:
            raise TrainingError(
                f"{cache} was fitted with {stored_fit}, not {fit}: delete it to fit again, or pass the same --mapping-steps"
            )
        return state, payload["scores"]
    ik = config.init_kwargs
    mapping = MappingNetwork(z_dim=ik["z_dim"], c_dim=ik["c_dim"], w_dim=ik["w_dim"], num_ws=1, **kwargs)
    log.info("fitting the mapping network (%s)", kwargs)
    scores = fit_mapping(mapping, **fit)
    state = {k: v.detach().clone() for k, v in mapping.state_dict().items()}
    payload = {"state": state, "scores": {"relative_mse": scores, "fit": fit}, "mapping_kwargs": kwargs}
    if cache is not None:
        buf = io.BytesIO()
        torch.save(payload, buf)
        write_bytes_atomic(cache, buf.getvalue())
    return state, payload["scores"]


def build_cast_network(
    config: CastNetworkConfig,
    synthesis_state: dict[str, torch.Tensor],
    mapping_state: dict[str, torch.Tensor],
    cast_record: dict[str, Any],
) -> Network:
    """A Network from trained synthesis weights and a fitted mapping (eval mode, no gradients)."""
    G = build_generator(config.arch, dict(config.init_kwargs))
    state = {f"synthesis.{k}": v for k, v in synthesis_state.items()}
    state.update({f"mapping.{k}": v for k, v in mapping_state.items()})
    G.load_state_dict(state, strict=True)
    G.eval().requires_grad_(False)
    return Network(
        G=G,
        kind=generator_kind(config.arch, config.init_kwargs),
        arch={"arch": config.arch, "init_kwargs": dict(config.init_kwargs)},
        fingerprint=weights_fingerprint(G.state_dict()),
        name=config.name,
        source=config.name,
        extra={"cast": cast_record},
    )


def history_text(runs: list[dict[str, Any]], fallback: str) -> str:
    """The invocations that trained a checkpoint, in order, each with the kimg it trained from and to, e.g.
    "python main.py train cast-sprite --kimg 100 (0 → 100 kimg); then python main.py train ... (100 → 160.4 kimg)";
    `fallback` (the exporting command) for checkpoints from before invocations were recorded."""
    if not runs:
        return fallback
    return "; then ".join(f"{r['command']} ({r['from_kimg']:.4g} → {r['to_kimg']:.4g} kimg)" for r in runs)


def lineage(checkpoint: dict[str, Any], command: str) -> tuple[str, float, float]:
    """(command history, kimg, training seconds) of the whole training behind a checkpoint.

    A run started with --init from a network Castmaker trained adds its own images and time to that network's and
    appends its history to that network's, so `info` tells the whole story; from any other file it names the file.
    """
    command = history_text(checkpoint.get("runs") or [], command)
    kimg = checkpoint["nimg"] / 1000.0
    seconds = float(checkpoint.get("seconds", 0.0))
    origin = checkpoint.get("origin")
    if not origin:
        return command, kimg, seconds
    if "command" not in origin:
        return f"{command} (starting from {origin.get('source', 'another network')})", kimg, seconds
    return (
        f"{origin['command']}; then, from those weights, {command}",
        kimg + float(origin.get("kimg", 0.0)),
        seconds + float(origin.get("training_seconds", 0.0)),
    )


def export_checkpoint(
    checkpoint: dict[str, Any],
    config: CastNetworkConfig,
    out: Path,
    mapping_cache: Path | None,
    command: str,
    mapping_steps: int | None = None,
) -> Network:
    """Write the network file for a loaded checkpoint payload; returns the Network."""
    g_ema = checkpoint["G_ema"]
    synthesis = {k[len("synthesis.") :]: v for k, v in g_ema.items() if k.startswith("synthesis.")}
    mapping_state, mapping_scores = fitted_mapping(config, mapping_cache, mapping_steps)
    history = checkpoint.get("history") or []
    last = history[-1] if history else {}
    command, kimg, seconds = lineage(checkpoint, command)
    record = {
        "made_by": "castmaker train",
        "command": command,
        "network": config.name,
        "description": config.description,
        "kimg": round(kimg, 3),
        "training_seconds": round(seconds, 1),
        "heldout_psnr_db": {k: round(float(last[k]), 2) for k in ("psnr_plain", "psnr_mixed") if k in last},
        "mapping_fit": mapping_scores,
        "row_groups": [{"name": g.name, "rows": list(g.rows), "factors": list(g.factors)} for g in config.groups],
        "latent_space": "castmaker-cast-1",
    }
    network = build_cast_network(config, synthesis, mapping_state, record)
    save_native(network, out)
    return network
