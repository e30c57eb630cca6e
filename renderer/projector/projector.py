"""Projection: find the w whose rendering matches a target image (optimisation in W or W+).

Method (after Karras et al., StyleGAN2 / Image2StyleGAN): start at the sampled mean w, optimise with Adam
under a short linear warm-up and a cosine ramp-down of the learning rate, jitter w with Gaussian noise
that decays to zero over the first `noise_ramp` of the run, and keep the best w seen.

Stabilised projection (StyleGAN3): row 0 of w feeds only the input layer's affine, which sets the
rotation/translation of the Fourier input. Pinning row 0 to w_avg and optimising the other rows keeps
that transform fixed, the same effect as folding affine(w_avg) into a frozen bias, while the resulting w
renders identically on the unmodified network.

StyleGAN2 noise maps (`noise_const` buffers) stay untouched unless `optimize_noise` is set: the w is the
product, and other tools render it with the network's own constant noise. With `optimize_noise` the maps
are optimised on a private copy of the generator, with the usual autocorrelation penalty, and returned.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from renderer.engine import Engine
from renderer.engine.images import to_uint8
from renderer.errors import ProjectionError
from renderer.projector.losses import build_loss, resolve_loss_name
from renderer.projector.wstats import w_stats

log = logging.getLogger(__name__)

SPACES = ("w", "wplus")
# The one default for the CLI, the editor and the pipeline, picked by `python -m
# renderer.projector.compare_spaces --steps 200 --targets 6` (cast drawings into cast-portrait, same
# steps / loss / seed, 2-core CPU): best PSNR W+ 17.76 dB vs W 17.34 dB on average, W+ ahead on 5 of 6
# targets (-0.5 to +1.0 dB each); at 1000 steps on target 0, W 18.04 vs W+ 17.70 (W's one better target).
# `space="w"` stays available for the official projector's behaviour (one w for every row).
DEFAULT_SPACE = "wplus"


@dataclass
class ProjectionConfig:
    """Every knob of a projection; defaults follow the official projector."""

    steps: int = 1000
    space: str = DEFAULT_SPACE  # "w": one row broadcast to all (the official tools); "wplus": every row free
    stabilize: bool = False  # StyleGAN3: keep row 0 (input transform) at w_avg
    loss: str = "auto"  # auto | pixel | ssim | disc | lpips
    vgg_path: str | None = None
    seed: int = 0
    lr: float = 0.1
    noise_ramp: float = 0.75  # fraction of the run over which the w jitter decays to zero
    # w jitter at step 0, in units of w_std. The official projector uses 0.05 for 1000 steps on trained
    # networks; at the pipeline's 200-300 steps that jitter costs more than it helps (demo-face, W+, 200
    # steps: 24.8 dB with 0.05, 27.3 dB with 0.01), so the default is smaller.
    initial_noise: float = 0.01
    lr_rampup: float = 0.05
    lr_rampdown: float = 0.25
    regularize_noise: float = 1e5
    optimize_noise: bool = False  # StyleGAN2 noise maps (see module docstring)
    preview_every: int = 10
    keep_frames: bool = False  # collect uint8 previews every preview_every steps
    w_avg_samples: int = 10000
    class_idx: int | None = None  # conditional networks

    def validate(self) -> None:
        if int(self.steps) < 1:
            raise ProjectionError(f"steps must be at least 1, got {self.steps}")
        if self.space not in SPACES:
            raise ProjectionError(f"unknown space {self.space!r}: use 'w' or 'wplus'")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ProjectionError(f"learning rate must be a positive number, got {self.lr}")
        if not 0 < self.noise_ramp <= 1:
            raise ProjectionError(f"noise_ramp must lie in (0, 1], got {self.noise_ramp}")
        if int(self.preview_every) < 1:
            raise ProjectionError(f"preview_every must be at least 1, got {self.preview_every}")
        if int(self.w_avg_samples) < 2:
            raise ProjectionError(f"w_avg_samples must be at least 2, got {self.w_avg_samples}")


@dataclass
class ProjectionProgress:
    """Reported after every step; `w` is filled every `preview_every` steps (and at the last)."""

    step: int  # optimisation steps done
    steps: int
    loss: float
    psnr: float
    w: np.ndarray | None
    elapsed_s: float


@dataclass
class ProjectionResult:
    """The best w found ([num_ws, w_dim] float32) and how the run went."""

    w: np.ndarray
    loss_name: str
    log: list[tuple[int, float, float]]  # (step, loss, psnr) per evaluation
    frames: list[np.ndarray] = field(default_factory=list)
    stopped_early: bool = False
    best_step: int = 0
    best_psnr: float = float("nan")
    image: np.ndarray | None = None  # uint8 rendering of `w` (with the optimised noise, if any)
    noise: dict[str, np.ndarray] | None = None  # optimised StyleGAN2 noise maps (optimize_noise only)
    elapsed_s: float = 0.0


def target_tensor(target: np.ndarray, channels: int, resolution: int, device: torch.device) -> torch.Tensor:
    """uint8 [R, R, C] -> float [1, C, R, R] in [-1, 1] (the inverse of the engine's uint8 conversion)."""
    arr = np.asarray(target)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    expected = (resolution, resolution, channels)
    if arr.dtype != np.uint8 or arr.shape != expected:
        raise ProjectionError(
            f"target must be uint8 {list(expected)} for this network, got {arr.dtype} {list(arr.shape)}: "
            "prepare it with load_target()"
        )
    t = torch.from_numpy(np.ascontiguousarray(arr)).to(device).permute(2, 0, 1)[None].to(torch.float32)
    return (t - 128.0) / 127.5


def psnr_db(synth: torch.Tensor, target_255: torch.Tensor) -> float:
    """PSNR in dB of a synthesis output against the target in [0, 255], quantised exactly as the saved PNG."""
    x = (synth.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).floor()
    mse = float((x - target_255).square().mean())
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def learning_rate(config: ProjectionConfig, t: float) -> float:
    """Learning rate at run fraction t: linear warm-up, flat, cosine ramp-down to zero."""
    ramp = min(1.0, (1.0 - t) / config.lr_rampdown) if config.lr_rampdown > 0 else 1.0
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    if config.lr_rampup > 0:
        ramp *= min(1.0, t / config.lr_rampup)
    return config.lr * ramp


def noise_regularization(maps: list[torch.Tensor]) -> torch.Tensor | float:
    """Squared autocorrelation of each noise map at one-pixel shifts, over a pyramid down to 8 px."""
    total: torch.Tensor | float = 0.0
    for m in maps:
        x = m.reshape(1, 1, *m.shape[-2:])
        while True:
            total = total + (x * torch.roll(x, shifts=1, dims=3)).mean() ** 2
            total = total + (x * torch.roll(x, shifts=1, dims=2)).mean() ** 2
            if x.shape[2] <= 8:
                break
            x = F.avg_pool2d(x, kernel_size=2)
    return total


def _check_stabilize(engine: Engine) -> None:
    """Stabilising needs a StyleGAN3 net whose row 0 feeds only the input layer (checked on the module)."""
    net = engine.network
    if not net.kind.startswith("stylegan3"):
        raise ProjectionError(
            f"stabilising applies to StyleGAN3 networks (it freezes the input transform); {net.name} is {net.kind}: "
            "turn it off (leave out `project --stabilize`; \"stabilize\": false in a pipeline config's projection)"
        )
    steps = getattr(engine.G.synthesis, "steps", None)
    if steps:
        readers = [s.name for s in steps if s.row == 0]
        if readers != [steps[0].name] or steps[0].name != "input":
            raise ProjectionError(
                f"cannot stabilise: w row 0 is read by {readers}, not only by the input layer"
            )


def _noise_buffers(G: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: buf for name, buf in G.synthesis.named_buffers() if name.endswith("noise_const")}


def project(
    engine: Engine,
    target: np.ndarray,
    config: ProjectionConfig | None = None,
    progress: Callable[[ProjectionProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ProjectionResult:
    """Optimise a w for `target` (uint8 [R, R, C], see load_target); returns the best w seen.

    `should_stop()` is polled before every step: returning True ends the run at once with the best w so far.
    """
    config = config or ProjectionConfig()
    config.validate()
    net = engine.network
    device = engine.device
    if config.stabilize:
        _check_stabilize(engine)
    num_ws, w_dim, steps = net.num_ws, net.w_dim, int(config.steps)
    target_t = target_tensor(target, net.img_channels, net.img_resolution, device)
    target_255 = target_t * 127.5 + 128
    c = engine.class_vector(config.class_idx) if net.c_dim > 0 else None
    loss_name = resolve_loss_name(config.loss, net, config.vgg_path)
    loss_fn = build_loss(loss_name, net, target_t, device, vgg_path=config.vgg_path, c=c)
    stats = w_stats(net, device, samples=config.w_avg_samples, class_idx=config.class_idx)

    # Generator: the shared one, or a private copy whose noise maps we may change.
    G = engine.G
    noise_maps: dict[str, torch.Tensor] = {}
    if config.optimize_noise:
        bufs = _noise_buffers(G)
        if not bufs:
            raise ProjectionError(
                f"{net.name} has no noise inputs to optimise (StyleGAN3 has none): leave optimize_noise off"
            )
        G = copy.deepcopy(G)
        noise_maps = _noise_buffers(G)
        gen_init = torch.Generator().manual_seed(config.seed + 1)
        for buf in noise_maps.values():
            buf.copy_(torch.randn(buf.shape, generator=gen_init).to(device))
            buf.requires_grad_(True)

    w_avg = torch.from_numpy(stats.w_avg).to(device)
    rows = 1 if config.space == "w" else num_ws
    w_opt = w_avg.view(1, 1, w_dim).repeat(1, rows, 1).clone().requires_grad_(True)
    pinned = w_avg.view(1, 1, w_dim) if config.stabilize else None

    def expand(w: torch.Tensor) -> torch.Tensor:
        ws = w.expand(1, num_ws, w_dim) if w.shape[1] == 1 else w
        if pinned is not None:
            ws = torch.cat([pinned, ws[:, 1:]], dim=1)
        return ws

    def synthesize(ws: torch.Tensor) -> torch.Tensor:
        return G.synthesis(ws, noise_mode="const")

    optimizer = torch.optim.Adam([w_opt, *noise_maps.values()], betas=(0.9, 0.999), lr=config.lr)
    gen = torch.Generator().manual_seed(int(config.seed))
    best_loss, best_ws, best_step, best_psnr, best_img = (
        math.inf,
        expand(w_opt).detach().clone(),
        0,
        float("nan"),
        None,
    )
    run_log: list[tuple[int, float, float]] = []
    frames: list[np.ndarray] = []
    stopped = False
    t0 = time.perf_counter()

    def consider(step: int, ws: torch.Tensor, synth: torch.Tensor, value: float) -> float:
        nonlocal best_loss, best_ws, best_step, best_psnr, best_img
        p = psnr_db(synth, target_255)
        run_log.append((step, value, p))
        if value < best_loss:
            best_loss, best_ws, best_step, best_psnr = value, ws.detach().clone(), step, p
            best_img = synth.detach()
        return p

    for step in range(steps):
        if should_stop is not None and should_stop():
            stopped = True
            break
        t = step / steps
        noise_scale = stats.w_std * config.initial_noise * max(0.0, 1.0 - t / config.noise_ramp) ** 2
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, t)
        jitter = torch.randn(w_opt.shape, generator=gen).to(device) * noise_scale
        ws = expand(w_opt + jitter)
        synth = synthesize(ws)
        dist = loss_fn(synth)
        loss = dist
        if noise_maps:
            loss = loss + config.regularize_noise * noise_regularization(list(noise_maps.values()))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        value = float(dist.detach())
        if not math.isfinite(value):
            raise ProjectionError(f"the loss became {value} at step {step}: try a lower learning rate (lr)")
        p = consider(step, ws, synth, value)
        if noise_maps:
            with torch.no_grad():
                for buf in noise_maps.values():
                    buf -= buf.mean()
                    buf *= buf.square().mean().rsqrt()
        preview = (step + 1) % config.preview_every == 0 or step + 1 == steps
        if config.keep_frames and (step % config.preview_every == 0):
            frames.append(to_uint8(synth)[0])
        if progress is not None:
            w_now = ws.detach()[0].cpu().numpy().astype(np.float32) if preview else None
            progress(ProjectionProgress(step + 1, steps, value, p, w_now, time.perf_counter() - t0))

    if not stopped:
        # The last update has not been scored yet: score it once (no jitter is left at the end).
        with torch.no_grad():
            ws = expand(w_opt)
            synth = synthesize(ws)
            consider(steps, ws, synth, float(loss_fn(synth)))
    elif best_img is None:
        with torch.no_grad():
            best_img = synthesize(best_ws)
            best_psnr = psnr_db(best_img, target_255)
    if config.keep_frames and best_img is not None:
        frames.append(to_uint8(best_img)[0])
    noise_out = None
    if noise_maps:
        noise_out = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in noise_maps.items()}
    elapsed = time.perf_counter() - t0
    log.info(
        "projection: %d steps, loss %s, best PSNR %.2f dB at step %d",
        len(run_log),
        loss_fn.name,
        best_psnr,
        best_step,
    )
    return ProjectionResult(
        w=best_ws[0].cpu().numpy().astype(np.float32),
        loss_name=loss_fn.name,
        log=run_log,
        frames=frames,
        stopped_early=stopped,
        best_step=best_step,
        best_psnr=best_psnr,
        image=None if best_img is None else to_uint8(best_img)[0],
        noise=noise_out,
        elapsed_s=elapsed,
    )
