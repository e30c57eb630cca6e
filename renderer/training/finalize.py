"""Turn a training checkpoint into an ordinary Castmaker network file (.safetensors).

The file holds G_ema's synthesis, the fitted mapping network (stage 2) and w_avg, plus a `cast` record in
its metadata: how it was made (command, kimg, seconds), its held-out scores and which rows read which
factors. Every feature opens it like any other network; nothing else is needed to render it.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
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
MAPPING_FIT = {"steps": 40000, "lr": 1.0, "seed": 1, "pool": 65536}  # about 3 CPU-minutes; see configs._MAPPING


def _fit_settings(config: CastNetworkConfig, steps: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(mapping_kwargs, fit settings) of the mapping fit for `config` with `steps` (None: the full fit)."""
    kwargs = dict(config.init_kwargs.get("mapping_kwargs", {}))
    fit = dict(MAPPING_FIT)
    if steps:  # a short fit (tests, trials) needs no bigger pool than it can use
        fit.update(steps=steps, pool=min(fit["pool"], steps * 64))
    return kwargs, fit


BUNDLED_MAPPING = "bundled"  # as a mapping cache: the fitted mapping the bundled networks share


def same_mapping(a: Network, b: Network) -> bool:
    """Whether two networks have the same fitted mapping layers (fc*, bit for bit), so a seed is one character in
    both; w_avg is left out, as it follows from the layers."""
    sa, sb = ({k: v for k, v in n.G.mapping.state_dict().items() if k.startswith("fc")} for n in (a, b))
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _bundled_mapping(config: CastNetworkConfig, steps: int | None) -> dict[str, Any]:
    """The bundled networks' fitted mapping as a cache payload, so a network trained or remapped alone can be
    bundled beside the other one (a seed is then one character in both). TrainingError when it cannot serve."""
    from renderer import load_network
    from renderer.loading import BUNDLED_DIR, BUNDLED_NETWORKS

    if steps:
        raise TrainingError("--mapping bundled reuses the bundled networks' fit as it is: drop --mapping-steps")
    kwargs, _ = _fit_settings(config, None)
    networks = []
    for name, file in BUNDLED_NETWORKS.items():
        if not (BUNDLED_DIR / file).is_file():
            continue
        network = load_network(name)
        record = network.cast_record
        have = (network.arch.get("init_kwargs") or {}).get("mapping_kwargs", {}) if isinstance(network.arch, dict) else {}
        if record is None or "mapping_fit" not in record or have != kwargs:
            raise TrainingError(
                f"the bundled {name} has no fitted mapping of this Castmaker's shape ({kwargs}): fit one for both "
                "networks instead (train all ... --bundle, or train all --remap bundled --mapping FILE --bundle)"
            )
        networks.append(network)
    if not networks:
        raise TrainingError("there are no bundled cast networks to take the mapping from: drop --mapping bundled")
    first, *rest = networks
    if not all(same_mapping(first, n) for n in rest):
        raise TrainingError(
            "the bundled networks have different mappings, so there is no one bundled mapping to reuse: remap both "
            "with one (train all --remap bundled --mapping FILE --bundle)"
        )
    state = {k: v.detach().clone() for k, v in first.G.mapping.state_dict().items()}
    return {"state": state, "scores": first.cast_record["mapping_fit"], "mapping_kwargs": kwargs}


def read_mapping_cache(config: CastNetworkConfig, cache: Path | str | None, steps: int | None = None) -> dict[str, Any] | None:
    """The cached fit at `cache` ({"state", "scores", "mapping_kwargs"}), or None when there is none yet;
    `cache` BUNDLED_MAPPING ("bundled") reads the mapping of the bundled networks instead of a file.

    Raises TrainingError when the file is unreadable or was fitted another way (other steps, or a mapping network of
    another shape), so a long training run can check it before it starts rather than fail at its export."""
    if cache == BUNDLED_MAPPING:
        return _bundled_mapping(config, steps)
    if cache is None or not Path(cache).is_file():
        return None
    cache = Path(cache)
    kwargs, fit = _fit_settings(config, steps)
    try:
        payload = torch.load(cache, map_location="cpu", weights_only=False)
        stored_fit, stored_kwargs = payload["scores"]["fit"], payload.get("mapping_kwargs", kwargs)
        payload["state"]  # noqa: B018 - present, or the file is not a fitted mapping
    except Exception as exc:  # noqa: BLE001 - any unreadable cache is one clear error
        raise TrainingError(f"{cache} is not a readable fitted mapping ({exc}): delete it to fit again") from None
    if stored_kwargs != kwargs:
        raise TrainingError(
            f"{cache} holds a mapping network of another shape ({stored_kwargs}, this Castmaker's is {kwargs}): "
            "delete it (or pass another --mapping FILE) to fit the mapping again"
        )
    if stored_fit != fit:
        raise TrainingError(
            f"{cache} was fitted with {stored_fit}, not {fit}: delete it to fit again, or pass the same --mapping-steps"
        )
    return payload


def fitted_mapping(
    config: CastNetworkConfig,
    cache: Path | str | None,
    steps: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The stage-2 mapping state dict and its scores, read from `cache` if it was fitted the same way (or the bundled
    networks' mapping, for BUNDLED_MAPPING), else fitted (and saved there). Both cast networks must use one
    mapping, so a cache fitted differently is an error. The fit is seeded, initial weights included."""
    payload = read_mapping_cache(config, cache, steps)
    if payload is not None:
        return payload["state"], payload["scores"]
    kwargs, fit = _fit_settings(config, steps)
    ik = config.init_kwargs
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(fit["seed"])
        mapping = MappingNetwork(z_dim=ik["z_dim"], c_dim=ik["c_dim"], w_dim=ik["w_dim"], num_ws=1, **kwargs)
    log.info("fitting the mapping network (%s)", kwargs)
    report = None if on_progress is None else (lambda step, _loss: on_progress(step, fit["steps"]))
    scores = fit_mapping(mapping, **fit, on_progress=report)
    state = {k: v.detach().clone() for k, v in mapping.state_dict().items()}
    payload = {"state": state, "scores": {"relative_mse": scores, "fit": fit}, "mapping_kwargs": kwargs}
    if cache is not None:
        buf = io.BytesIO()
        torch.save(payload, buf)
        write_bytes_atomic(Path(cache), buf.getvalue())
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
        arch=config.arch_record,
        fingerprint=weights_fingerprint(G.state_dict()),
        name=config.name,
        source=config.name,
        extra={"cast": cast_record},
    )


def _kimg(x: float) -> str:
    """489.216 → '489.216', 250.0 → '250', 0.0126 → '0.013' (fixed decimals: exact enough, never 1e+04)."""
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _settings(options: dict[str, Any]) -> str:
    parts = [f"seed {options.get('seed', 0)}"]
    for key, label in (("batch", "batch"), ("lr", "lr"), ("lr_decay", "lr-decay"), ("edge_weight", "edge weight"), ("mse_weight", "mse weight")):
        if options.get(key) is not None:
            parts.append(f"{label} {options[key]:g}")
    return ", ".join(parts)


def history_text(runs: list[dict[str, Any]], options: dict[str, Any], kimg: float) -> str:
    """The invocations that trained a checkpoint up to `kimg`, in order, each with the kimg it trained from and to
    and the learning rate and loss weights it used, e.g. "python main.py train cast-sprite --kimg 100 (0 → 100 kimg;
    lr 1e-03 → 1e-04, edge weight 6, mse weight 0); then ...". Training no invocation recorded (checkpoints from
    before the records) is named as such, with the settings the checkpoint kept (`options`)."""
    parts = []
    start = runs[0]["from_kimg"] if runs else kimg
    if start > 0:
        parts.append(f"unrecorded training commands (0 → {_kimg(start)} kimg; last settings {_settings(options)})")
    for r in runs:
        told = f"{_kimg(r['from_kimg'])} → {_kimg(r['to_kimg'])} kimg"
        if "lr_from" in r:
            told += (
                f"; lr {r['lr_from']:.2g} → {r['lr_to']:.2g}, edge weight {r['edge_weight']:g}, "
                f"mse weight {r['mse_weight']:g}"
            )
        parts.append(f"{r['command']} ({told})")
    return "; then ".join(parts)


def lineage(checkpoint: dict[str, Any]) -> tuple[str, float, float]:
    """(command history, kimg, training seconds) of the whole training behind a checkpoint.

    A run started with --init from a network Castmaker trained adds its own images and time to that network's and
    appends its history to that network's, so `info` tells the whole story; from any other file it names the file.
    """
    kimg = checkpoint["nimg"] / 1000.0
    seconds = float(checkpoint.get("seconds", 0.0))
    command = history_text(checkpoint.get("runs") or [], checkpoint.get("options") or {}, kimg)
    origin = checkpoint.get("origin")
    if not origin:
        return command, kimg, seconds
    if "command" not in origin:
        where = f"{origin.get('source', 'another network')} (fingerprint {str(origin.get('fingerprint', '?'))[:12]})"
        return f"from the weights of {where}: {command}", kimg, seconds
    return (
        f"{origin['command']}; then, from those weights, {command}",
        kimg + float(origin["kimg"]),
        seconds + float(origin["training_seconds"]),
    )


_RATES = re.compile(r"lr ([0-9.]+(?:e[+-]?[0-9]+)?) → ([0-9.]+(?:e[+-]?[0-9]+)?)")


def last_learning_rate(record: dict[str, Any]) -> float | None:
    """The learning rate the last recorded training run of a Castmaker network file ended at, from its `cast` record:
    `lr_end` (files exported since it was recorded), else the last "lr A → B" of its command history (two
    significant digits, as `history_text` writes it); None when neither is there (e.g. a file Castmaker did not
    train). A run continued from the file with --init starts there: a fresh high rate undoes the last run's gains."""
    if isinstance(record.get("lr_end"), (int, float)) and record["lr_end"] > 0:
        return float(record["lr_end"])
    found = _RATES.findall(str(record.get("command", "")))
    return float(found[-1][1]) if found else None


def export_checkpoint(
    checkpoint: dict[str, Any],
    config: CastNetworkConfig,
    out: Path,
    mapping_cache: Path | str | None,
    mapping_steps: int | None = None,
    on_fit_progress: Callable[[int, int], None] | None = None,
) -> Network:
    """Write the network file for a loaded checkpoint payload; returns the Network. Its `cast` record says how it
    was made (`lineage`). `on_fit_progress` reports a mapping fit (see `fitted_mapping`)."""
    g_ema = checkpoint["G_ema"]
    synthesis = {k[len("synthesis.") :]: v for k, v in g_ema.items() if k.startswith("synthesis.")}
    mapping_state, mapping_scores = fitted_mapping(config, mapping_cache, mapping_steps, on_fit_progress)
    history = checkpoint.get("history") or []
    last = history[-1] if history else {}
    runs = checkpoint.get("runs") or []
    command, kimg, seconds = lineage(checkpoint)
    record = {
        "made_by": "castmaker train",
        "command": command,
        "network": config.name,
        "description": config.description,
        "kimg": round(kimg, 3),
        "training_seconds": round(seconds, 1),
        "heldout_psnr_db": {k: round(float(last[k]), 2) for k in ("psnr_plain", "psnr_mixed") if k in last},
        "mapping_fit": mapping_scores,
        **({"lr_end": float(runs[-1]["lr_to"])} if runs and "lr_to" in runs[-1] else {}),
        "row_groups": [{"name": g.name, "rows": list(g.rows), "factors": list(g.factors)} for g in config.groups],
        "latent_space": "castmaker-cast-1",
    }
    network = build_cast_network(config, synthesis, mapping_state, record)
    save_native(network, out)
    return network


def remap_network(
    source: str | Path,
    config: CastNetworkConfig,
    out: Path,
    mapping_cache: Path | str | None,
    command: str,
    mapping_steps: int | None = None,
    on_fit_progress: Callable[[int, int], None] | None = None,
) -> Network:
    """Write `source` (a cast network Castmaker exported) again with this Castmaker's fitted mapping.

    The synthesis weights are copied unchanged, so the held-out scores (measured on the cast's exact w) still hold;
    the seeds change as the mapping does. The record's command history gains `command`. Raises TrainingError for a
    file that is not a `config.name` network Castmaker trained, or whose synthesis has another architecture.
    """
    from renderer import load_network
    from renderer.training.configs import synthesis_part

    network = load_network(str(source))
    record = network.cast_record
    if record is None or record.get("network") != config.name or not isinstance(record.get("command"), str):
        raise TrainingError(f"{source} is not a {config.name} network Castmaker trained: only those can be remapped")
    if synthesis_part(network.arch) != config.synthesis_record:
        raise TrainingError(f"{source} is a {config.name} of another architecture than this Castmaker's: it cannot be remapped")
    synthesis = {k[len("synthesis.") :]: v for k, v in network.G.state_dict().items() if k.startswith("synthesis.")}
    mapping_state, mapping_scores = fitted_mapping(config, mapping_cache, mapping_steps, on_fit_progress)
    record = {**record, "mapping_fit": mapping_scores, "command": f"{record['command']}; then, its mapping refitted, {command}"}
    remapped = build_cast_network(config, synthesis, mapping_state, record)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_native(remapped, out)
    return remapped
