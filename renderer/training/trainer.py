"""The resumable training loop for a cast network: w+ from the cast's factors → the cast's drawing.

Stage 1 of two (stage 2, `mapping_fit`, fits z → w afterwards): the synthesis network learns to draw the
character encoded in each row group's w (`batches`). Loss: L1 on the image plus L1 on 2× and 4× box-
downsampled copies (the coarse terms pull layout and silhouettes in early), the full-resolution term optionally
weighted toward the target's edges (`edge_weighted_l1`: outlines, eyes and mouths are few pixels, and a plain
mean lets the network leave them blurred for a long time), plus an optional squared-error term
(`training_loss`). Adam; an exponential moving
average of the weights (G_ema, as StyleGAN keeps) is what gets evaluated and shipped.

Checkpoints are written atomically (temp file, fsync, replace) and hold everything a run needs to continue
exactly: weights, G_ema, optimizer moments, the batch RandomState, counters and the score history. A stop
request (the CLI turns Ctrl+C and SIGTERM into one) is honoured between steps, after which the checkpoint is
saved. On the same device and thread count a resumed run computes the same steps as an uninterrupted one.
"""

from __future__ import annotations

import copy
import csv
import io
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from renderer.fileio import save_png, write_bytes_atomic
from renderer.nets import build_generator
from renderer.training.batch_stream import BatchStream, auto_draw_workers
from renderer.training.batches import Batch, drawing_function, heldout_batch, training_batch
from renderer.training.configs import CastNetworkConfig, TrainingError, get_config, synthesis_part
from renderer.training.curve import curve_image

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = "castmaker-training-checkpoint"
EMA_KIMG = 2.0  # half-life of the weight average, in thousands of images
EMA_RAMPUP = 0.1  # ... but never longer than this share of the images seen so far
MAGNITUDE_BETA = 0.99  # StyleGAN3 input-magnitude EMA while training (faster than inference's 0.999)


@dataclass
class TrainOptions:
    """What `python main.py train` was asked to do (stored in the checkpoint)."""

    network: str = "cast-sprite"
    kimg: float | None = None  # stop when this many thousand images have been seen in all
    minutes: float | None = None  # stop after this many minutes of this invocation
    device: str = "cpu"
    outdir: str = "training-runs"
    seed: int = 0
    batch: int | None = None
    lr: float | None = None  # starting learning rate of a new run (None: the config's)
    lr_decay: float | None = None  # rate at the kimg target, as a share of lr (exponential; None: 1, or the checkpoint's)
    eval_every_s: float = 180.0
    grid_every_s: float = 600.0
    checkpoint_every_s: float = 300.0
    heldout: int = 32
    init: str | None = None  # start a new run from this network's synthesis weights (file or bundled name)
    draw_workers: int | None = None  # processes drawing batches ahead (None: batch_stream.auto_draw_workers)
    edge_weight: float | None = None  # extra loss weight on the target's edges (None: the config's, or the checkpoint's)
    mse_weight: float | None = None  # weight of the squared-error term (None: the config's, or the checkpoint's)


@dataclass
class TrainState:
    """Everything a run needs to continue exactly."""

    G: nn.Module
    G_ema: nn.Module
    optimizer: torch.optim.Optimizer
    rng: np.random.RandomState
    nimg: int = 0
    step: int = 0
    seconds: float = 0.0  # training wall time over all invocations
    history: list[dict[str, float]] = field(default_factory=list)
    # How the --init weights were made (their network file's cast record), so the export can say the whole story.
    origin: dict[str, Any] | None = None
    # Each invocation that trained: its command, the kimg and learning rate it trained from and to, and its loss
    # weights, so the export can say how the network was made (finalize.history_text).
    runs: list[dict[str, Any]] = field(default_factory=list)


def images_to_tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 [N, H, W, 3] → float32 [N, 3, H, W] in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    return t.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1.0


def tensor_to_images(x: torch.Tensor) -> np.ndarray:
    """float [N, 3, H, W] in [-1, 1] → uint8 [N, H, W, 3] (rounded, clipped), as the renderer converts."""
    y = (x.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return y.permute(0, 2, 3, 1).cpu().numpy()


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB between uint8 image stacks [N, H, W, C] (peak 255)."""
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = np.maximum(np.mean(np.square(diff), axis=(1, 2, 3)), 1e-10)
    return 10.0 * np.log10(255.0**2 / mse)


def synthesize(G: nn.Module, ws: torch.Tensor, update_magnitudes: bool = False) -> torch.Tensor:
    """ws [N, num_ws, w_dim] → image [N, 3, H, W]; StyleGAN3 can update its input-magnitude EMAs on the way."""
    syn = G.synthesis
    if update_magnitudes and hasattr(syn, "layer_names"):
        x = syn.input(ws[:, 0])
        for i, name in enumerate(syn.layer_names):
            x = getattr(syn, name)(x, ws[:, i + 1], noise_mode="const", update_emas=True)
        return syn.state_to_image(x)
    return syn(ws, noise_mode="const")


def edge_map(target: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] in [-1, 1] → [N, 1, H, W] in [0, 1]: the largest channel range over each 3×3 neighbourhood, / 2.

    1 on a black line across white, 0 in flat colour; a one-pixel outline marks the 3 pixels across it.
    """
    spread = F.max_pool2d(target, 3, stride=1, padding=1) + F.max_pool2d(-target, 3, stride=1, padding=1)
    return spread.amax(dim=1, keepdim=True) / 2.0


def edge_weighted_l1(out: torch.Tensor, target: torch.Tensor, edge_weight: float) -> torch.Tensor:
    """Σ m·|out − target| / Σ m with m = 1 + edge_weight · edge_map(target) (per channel); plain L1 at edge_weight 0."""
    err = (out - target).abs()
    if edge_weight == 0:
        return err.mean()
    m = 1.0 + edge_weight * edge_map(target)
    return (err * m).sum() / (m.sum() * err.shape[1])


def training_loss(
    out: torch.Tensor, target: torch.Tensor, edge_weight: float = 0.0, mse_weight: float = 0.0
) -> torch.Tensor:
    """L1 at full (edge-weighted, `edge_weighted_l1`), half and quarter resolution (box filter), weights 1, 1/2, 1/4,
    plus mse_weight · mean squared error at full resolution.

    L1 alone pulls each pixel to the median of what the rows allow, so a small feature whose place the network
    cannot yet pin down (an eye, a mouth) is drawn as the skin around it; the squared term pulls towards the mean,
    a faint feature in the right place, and is what PSNR measures.
    """
    loss = edge_weighted_l1(out, target, edge_weight)
    for k, weight in ((2, 0.5), (4, 0.25)):
        loss = loss + weight * (F.avg_pool2d(out, k) - F.avg_pool2d(target, k)).abs().mean()
    if mse_weight:
        loss = loss + mse_weight * (out - target).square().mean()
    return loss


def build_state(config: CastNetworkConfig, options: TrainOptions, device: torch.device) -> TrainState:
    """A fresh run: seeded generator, output bias = mean target colour, calibrated StyleGAN3 magnitudes."""
    torch.manual_seed(options.seed)
    state = build_state_shell(config, options, device)
    G = state.G
    probe = training_batch(np.random.RandomState(options.seed + 10_000), config, 16, drawing_function(config))
    _init_output_bias(G, probe)
    if hasattr(G.synthesis, "layer_names"):
        with torch.no_grad():
            getattr(G.synthesis, G.synthesis.layer_names[-1]).weight.mul_(config.torgb_init_gain)
        _calibrate_magnitudes(G, torch.from_numpy(probe.ws).to(device))
    if options.init:
        state.origin = _load_synthesis(G, config, options.init)
    state.G_ema.load_state_dict(G.state_dict())  # the average starts from the initialised weights
    return state


def read_init_source(config: CastNetworkConfig, source: str) -> tuple[Any, dict[str, Any]]:
    """(the Network, where its weights come from) for a run of `config` started with --init `source`; TrainingError
    when it is not a network of this architecture or its training record is damaged. The origin holds the source as
    given, its fingerprint and, when Castmaker trained it, its command history, kimg, training seconds and `cast`
    record."""
    from renderer import load_network

    network = load_network(source)
    if synthesis_part(network.arch) != config.synthesis_record:
        raise TrainingError(f"{source} is not a {config.name} network (its architecture differs): it cannot start this run")
    origin: dict[str, Any] = {"source": str(source), "fingerprint": network.fingerprint}
    record = network.cast_record
    if record is not None and "command" in record:
        try:
            kimg, seconds = float(record["kimg"]), float(record.get("training_seconds", 0.0))
        except (KeyError, TypeError, ValueError):
            raise TrainingError(
                f"{source}: its training record has no usable kimg / training_seconds ({record.get('kimg')!r}, "
                f"{record.get('training_seconds')!r}); start from a network file Castmaker exported"
            ) from None
        if not isinstance(record["command"], str) or not (kimg >= 0 and seconds >= 0):
            raise TrainingError(f"{source}: its training record is damaged; start from a network file Castmaker exported")
        origin.update(command=record["command"], kimg=kimg, training_seconds=seconds)
    return network, origin


def _load_synthesis(G: nn.Module, config: CastNetworkConfig, source: str) -> dict[str, Any]:
    """Copy a network's synthesis weights into G (a warm start, e.g. from the bundled network of a last session);
    returns where they came from (`read_init_source`), checked here, not when the run is exported."""
    network, origin = read_init_source(config, source)
    state = {k: v for k, v in network.G.state_dict().items() if k.startswith("synthesis.")}
    target = G.state_dict()  # built once: state_dict() assembles a new dict on every call
    with torch.no_grad():
        for name, value in state.items():
            target[name].copy_(value)
    return origin


def _synthesis_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The synthesis entries of a generator state dict, without their "synthesis." prefix (the mapping is unused
    while training and fitted afterwards, so a checkpoint's mapping weights are not loaded)."""
    return {k[len("synthesis.") :]: v for k, v in state.items() if k.startswith("synthesis.")}


def _init_output_bias(G: nn.Module, probe: Batch) -> None:
    """Start from the mean colour of the targets instead of grey (measured: faster first steps)."""
    mean = probe.images.reshape(-1, 3).astype(np.float64).mean(axis=0) / 127.5 - 1.0
    syn = G.synthesis
    with torch.no_grad():
        if hasattr(syn, "layer_names"):  # StyleGAN3: the last layer is toRGB, scaled by output_scale
            last = getattr(syn, syn.layer_names[-1])
            last.bias.copy_(torch.as_tensor(mean / syn.output_scale, dtype=torch.float32))
        else:  # StyleGAN2: toRGB outputs add up; the lowest block's bias carries the mean
            syn.b4.torgb.bias.copy_(torch.as_tensor(mean, dtype=torch.float32))


@torch.no_grad()
def _calibrate_magnitudes(G: nn.Module, ws: torch.Tensor) -> None:
    """Set each StyleGAN3 layer's magnitude_ema to its measured input mean square, layer by layer."""
    syn = G.synthesis
    x = syn.input(ws[:, 0])
    for i, name in enumerate(syn.layer_names):
        layer = getattr(syn, name)
        layer.magnitude_ema.fill_(float(x.to(torch.float32).square().mean()))
        x = layer(x, ws[:, i + 1], noise_mode="const")


@torch.no_grad()
def update_ema(state: TrainState, batch: int) -> None:
    ema_nimg = min(EMA_KIMG * 1000, state.nimg * EMA_RAMPUP)
    beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
    for p_ema, p in zip(state.G_ema.parameters(), state.G.parameters(), strict=True):
        p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(state.G_ema.buffers(), state.G.buffers(), strict=True):
        b_ema.copy_(b)


def learning_rate(base: float, decay: float, progress: float) -> float:
    """base · decay^progress, progress clipped to [0, 1] (the run's share done: images, or minutes)."""
    return base * decay ** min(max(progress, 0.0), 1.0)


def train_step(
    state: TrainState,
    config: CastNetworkConfig,
    batch: Batch,
    device: torch.device,
    edge_weight: float = 0.0,
    mse_weight: float = 0.0,
) -> float:
    """One optimizer step on `batch`; returns the loss."""
    ws = torch.from_numpy(batch.ws).to(device)
    target = images_to_tensor(batch.images, device)
    out = synthesize(state.G, ws, update_magnitudes=config.train_magnitudes)
    loss = training_loss(out, target, edge_weight, mse_weight)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    state.optimizer.step()
    state.nimg += len(batch.ws)
    state.step += 1
    update_ema(state, len(batch.ws))
    return float(loss.detach())


@torch.no_grad()
def render_batch(G: nn.Module, ws: np.ndarray, device: torch.device, chunk: int = 8) -> np.ndarray:
    """uint8 [N, H, W, 3] renders of ws [N, num_ws, w_dim] (eval mode, constant noise)."""
    outs = []
    for i in range(0, len(ws), chunk):
        outs.append(tensor_to_images(synthesize(G, torch.from_numpy(ws[i : i + chunk]).to(device))))
    return np.concatenate(outs)


def evaluate(G: nn.Module, heldout: dict[str, Batch], device: torch.device) -> dict[str, float]:
    """Mean PSNR (dB) of G on each held-out batch."""
    return {name: float(psnr(render_batch(G, b.ws, device), b.images).mean()) for name, b in heldout.items()}


def sample_grid(G: nn.Module, batch: Batch, device: torch.device, count: int = 8) -> np.ndarray:
    """uint8 image: targets on the top row, the network's renders below (nearest 2× for small nets)."""
    renders = render_batch(G, batch.ws[:count], device)
    top = np.concatenate(list(batch.images[:count]), axis=1)
    bottom = np.concatenate(list(renders), axis=1)
    grid = np.concatenate([top, bottom], axis=0)
    scale = max(1, 256 // batch.images.shape[1])
    return grid.repeat(scale, axis=0).repeat(scale, axis=1)


# ----------------------------------------------------------------------------- checkpoints


def save_checkpoint(path: Path, state: TrainState, config: CastNetworkConfig, options: TrainOptions) -> None:
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": 1,
        "network": config.name,
        "arch": config.arch_record,
        "options": asdict(options),
        "G": state.G.state_dict(),
        "G_ema": state.G_ema.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "rng": state.rng.get_state(),
        "torch_rng": torch.random.get_rng_state(),
        "nimg": state.nimg,
        "step": state.step,
        "seconds": state.seconds,
        "history": state.history,
        "origin": state.origin,
        "runs": state.runs,
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    write_bytes_atomic(path, buf.getvalue())


def load_checkpoint(path: Path, device: torch.device) -> tuple[dict[str, Any], TrainState, CastNetworkConfig]:
    """The saved options, the state to continue from, and the network config; TrainingError if unusable."""
    if not path.is_file():
        raise TrainingError(f"no checkpoint at {path}: give the {CHECKPOINT_NAME} a run wrote")
    try:
        payload = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one clear error
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if "persistent" in reason:  # torch's words for "this is not a torch file"
            reason = "not a file torch.save wrote"
        raise TrainingError(f"{path} is not a readable training checkpoint ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise TrainingError(f"{path} is not a Castmaker training checkpoint")
    config = get_config(payload["network"])
    saved_arch = synthesis_part(payload.get("arch"))
    if saved_arch != config.synthesis_record:  # the mapping is fitted after training: its shape may differ
        have = {"arch": saved_arch.get("arch"), **(saved_arch.get("init_kwargs") or {})}
        want = {"arch": config.arch, **config.synthesis_record["init_kwargs"]}
        changed = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
        diff = "; ".join(f"{k}: {have.get(k, 'its default')} in the checkpoint, {want.get(k, 'its default')} here" for k in changed)
        raise TrainingError(
            f"{path} trains a {config.name} of another architecture than this Castmaker's ({diff}): continue it "
            "with the Castmaker version that started it, or start a new run"
        )
    unknown = sorted(set(payload["options"]) - {f.name for f in fields(TrainOptions)})
    if unknown:
        raise TrainingError(f"{path} was written by a newer Castmaker (options {', '.join(unknown)}): update Castmaker to continue it")
    options = TrainOptions(**payload["options"])
    state = build_state_shell(config, options, device)
    for module, saved_state in ((state.G, payload["G"]), (state.G_ema, payload["G_ema"])):
        module.synthesis.load_state_dict(_synthesis_state(saved_state))
    state.optimizer.load_state_dict(payload["optimizer"])
    state.rng.set_state(payload["rng"])
    torch.random.set_rng_state(payload["torch_rng"])
    state.nimg, state.step = int(payload["nimg"]), int(payload["step"])
    state.seconds, state.history = float(payload["seconds"]), list(payload["history"])
    state.origin = payload.get("origin")  # checkpoints from before --init recorded it have none
    state.runs = list(payload.get("runs", []))  # ... nor their invocations
    return payload, state, config


def build_state_shell(config: CastNetworkConfig, options: TrainOptions, device: torch.device) -> TrainState:
    """Modules and optimizer of the right shapes (weights to be loaded from a checkpoint)."""
    G = build_generator(config.arch, dict(config.init_kwargs)).to(device).train()
    G.requires_grad_(False)
    G.synthesis.requires_grad_(True)
    for layer in G.synthesis.modules():
        if hasattr(layer, "magnitude_ema_beta"):
            layer.magnitude_ema_beta = MAGNITUDE_BETA
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    lr = config.lr if options.lr is None else options.lr
    optimizer = torch.optim.Adam(G.synthesis.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-8)
    return TrainState(G=G, G_ema=G_ema, optimizer=optimizer, rng=np.random.RandomState(options.seed))


# ----------------------------------------------------------------------------- the loop


@dataclass
class Progress:
    kimg: float
    loss: float
    psnr: float | None
    eta_s: float | None


def run_training(
    options: TrainOptions,
    resume: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    max_steps: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    command: str | None = None,
) -> Path:
    """Train until options.kimg / options.minutes (or max_steps); returns the checkpoint path.

    A new run writes into options.outdir and refuses one that already holds a checkpoint. Resuming continues in
    the checkpoint's own folder and keeps its network, seed, batch size, learning rate and (when options.lr_decay
    is None) its decay; kimg / minutes come from `options`. With a decay below 1 and a kimg target the rate falls
    exponentially with the images seen, so a resumed run follows the same schedule; with minutes alone it stays
    constant. `should_stop` (checked between steps, e.g. set by a signal handler) and a KeyboardInterrupt raised
    inside `on_progress` both save the checkpoint, then raise KeyboardInterrupt. `command` (the command line) is
    recorded with the kimg this invocation trained from and to, for the exported file's history.
    """
    device = torch.device(options.device)
    if resume is not None:
        saved, state, config = load_checkpoint(Path(resume), device)
        if options.network and options.network != config.name:
            raise TrainingError(f"{resume} is a {config.name} checkpoint, not {options.network}: name the right network")
        keep = {k: saved["options"][k] for k in ("network", "seed", "batch", "lr")}
        if options.lr_decay is None:
            keep["lr_decay"] = saved["options"].get("lr_decay", 1.0)
        if options.edge_weight is None:  # checkpoints from before the option trained without it
            keep["edge_weight"] = saved["options"].get("edge_weight", 0.0)
        if options.mse_weight is None:  # likewise for the squared-error term
            keep["mse_weight"] = saved["options"].get("mse_weight", 0.0)
        options = TrainOptions(**{**asdict(options), **keep, "outdir": str(Path(resume).parent)})
    else:
        config = get_config(options.network)
        state = None
    edge_weight = config.edge_weight if options.edge_weight is None else float(options.edge_weight)
    if not edge_weight >= 0:  # NaN too
        raise TrainingError(f"the edge weight must be 0 or more, got {edge_weight}")
    mse_weight = config.mse_weight if options.mse_weight is None else float(options.mse_weight)
    if not mse_weight >= 0:
        raise TrainingError(f"the squared-error weight must be 0 or more, got {mse_weight}")
    # the checkpoint records the weights actually used
    options = replace(options, edge_weight=edge_weight, mse_weight=mse_weight)
    if options.lr is not None and not 0 < options.lr <= 1:
        raise TrainingError(f"the learning rate must be above 0 and at most 1, got {options.lr}")
    if options.batch is not None and options.batch < 1:
        raise TrainingError(f"the batch size must be 1 or more, got {options.batch}")
    outdir = Path(options.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    ckpt = outdir / CHECKPOINT_NAME
    if resume is None and ckpt.exists():
        raise TrainingError(f"{ckpt} already exists: continue it with --resume {ckpt}, or choose another --outdir")
    if state is None:
        state = build_state(config, options, device)
    batch_size = options.batch or config.batch
    draw = drawing_function(config)
    heldout = {
        "plain": heldout_batch(config, options.heldout, mixed=False),
        "mixed": heldout_batch(config, options.heldout, mixed=True),
    }
    target_nimg = None if options.kimg is None else int(options.kimg * 1000)
    deadline = None if options.minutes is None else time.monotonic() + 60.0 * options.minutes
    decay = 1.0 if options.lr_decay is None or not target_nimg else float(options.lr_decay)
    base_lr = config.lr if options.lr is None else options.lr
    log_path = outdir / "log.csv"
    last_eval = last_grid = last_ckpt = time.monotonic()
    start_nimg, start_time, start_step = state.nimg, time.monotonic(), state.step
    losses: list[float] = []
    latest_psnr: float | None = state.history[-1]["psnr_plain"] if state.history else None

    def done() -> bool:
        if target_nimg is not None and state.nimg >= target_nimg:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return True
        return max_steps is not None and state.step - start_step >= max_steps

    this_run = len(state.runs)  # where this invocation's record goes

    def rate_at(nimg: int) -> float:
        return learning_rate(base_lr, decay, nimg / target_nimg if target_nimg else 0.0)

    def checkpoint_now() -> None:
        if command is not None and state.step > start_step:
            state.runs[this_run:] = [
                {
                    "command": command,
                    "from_kimg": start_nimg / 1000.0,
                    "to_kimg": state.nimg / 1000.0,
                    "lr_from": rate_at(start_nimg),
                    "lr_to": float(state.optimizer.param_groups[0]["lr"]),
                    "edge_weight": edge_weight,
                    "mse_weight": mse_weight,
                }
            ]
        save_checkpoint(ckpt, state, config, options)

    def eval_now() -> None:
        nonlocal latest_psnr
        scores = evaluate(state.G_ema, heldout, device)
        latest_psnr = scores["plain"]
        row = {
            "kimg": state.nimg / 1000.0,
            "seconds": state.seconds,
            "loss": float(np.mean(losses[-50:])) if losses else float("nan"),
            "psnr_plain": scores["plain"],
            "psnr_mixed": scores["mixed"],
        }
        state.history.append(row)
        _append_csv(log_path, row)
        save_png(outdir / "curve.png", curve_image(state.history, config.name))
        log.info("kimg %.2f  loss %.4f  held-out PSNR %.2f dB (mixed %.2f dB)", row["kimg"], row["loss"], scores["plain"], scores["mixed"])

    def grid_now() -> None:
        grid = sample_grid(state.G_ema, heldout["mixed"], device)
        save_png(outdir / f"samples-{state.nimg // 1000:05d}kimg.png", grid)
        save_png(outdir / "samples-latest.png", grid)

    def interrupted() -> KeyboardInterrupt:
        checkpoint_now()
        log.warning("interrupted: checkpoint saved at %.2f kimg in %s", state.nimg / 1000.0, ckpt)
        return KeyboardInterrupt()

    workers = auto_draw_workers(device.type) if options.draw_workers is None else options.draw_workers
    if workers < 0:
        raise TrainingError(f"--draw-workers must be 0 or more, got {workers}")
    with BatchStream(state.rng, config, batch_size, draw, workers) as stream:
        t_prev = time.monotonic()
        while not done():
            if should_stop is not None and should_stop():
                raise interrupted()
            for group in state.optimizer.param_groups:
                group["lr"] = rate_at(state.nimg)
            try:
                batch = stream.next()
            except TrainingError:  # a drawing process died: keep what was trained, then say so
                checkpoint_now()
                raise
            losses.append(train_step(state, config, batch, device, edge_weight, mse_weight))
            now = time.monotonic()
            state.seconds += now - t_prev
            t_prev = now
            if now - last_eval >= options.eval_every_s:
                eval_now()
                last_eval = time.monotonic()
            if now - last_grid >= options.grid_every_s:
                grid_now()
                last_grid = time.monotonic()
            if now - last_ckpt >= options.checkpoint_every_s:
                checkpoint_now()
                last_ckpt = time.monotonic()
            if on_progress is not None:
                try:
                    eta = _eta(state, start_nimg, start_time, target_nimg, deadline)
                    on_progress(Progress(state.nimg / 1000.0, losses[-1], latest_psnr, eta))
                except KeyboardInterrupt:
                    raise interrupted() from None
    if state.step > start_step or not state.history:
        eval_now()
        grid_now()
    checkpoint_now()
    return ckpt


def _eta(state: TrainState, start_nimg: int, start_time: float, target: int | None, deadline: float | None) -> float | None:
    now = time.monotonic()
    if deadline is not None:
        left = deadline - now
    else:
        left = math.inf
    if target is not None and state.nimg > start_nimg:
        rate = (state.nimg - start_nimg) / max(now - start_time, 1e-9)
        left = min(left, (target - state.nimg) / rate)
    return None if math.isinf(left) else max(left, 0.0)


def _append_csv(path: Path, row: dict[str, float]) -> None:
    new = not path.exists()
    with open(path, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
        fh.flush()
        os.fsync(fh.fileno())
