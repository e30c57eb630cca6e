"""Two small, untrained demo networks that ship inside Castmaker: "demo-face" and "demo-sprite".

Why: the editor, the CLI, the tests and the tutorial need networks that exist without any download.
They are NOT trained generators: every weight is drawn from a seeded numpy RandomState (identical on
every machine and torch version), and a few tensors are shaped by hand so the pictures are useful to
look at: colourful, clearly different between seeds, and visibly different when coarse and fine w
rows are swapped. They show the mechanics of style mixing, not learned content.

- demo-sprite (StyleGAN2, 128x128, 12 w rows): a light, uniform background with one coloured figure
  per 32x32 cell of the 3x4 sprite-sheet area (the top-left 96x128 pixels), the layout Castmaker's
  sprite cleanup expects. The figures' silhouettes come from a hand-made template placed in the last
  layer's constant noise map (a ReLU gate: far from a figure every feature is exactly zero, so the
  background is exactly the last toRGB bias); their colours and markings come from random weights.
- demo-face (StyleGAN3-T, 128x128, 16 w rows): random weights with calibrated layer input
  magnitudes and a stronger last layer: smooth, colourful abstract colour fields (no face: it is
  untrained), a different palette per seed.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from renderer.errors import NetworkLoadError
from renderer.fingerprint import weights_fingerprint
from renderer.nets import build_generator, generator_kind
from renderer.network import Network

DEMO_NAMES = ("demo-face", "demo-sprite")

_BASE_SEED = 20261124
_W_AVG_SAMPLES = 8192

# ----------------------------------------------------------------------------------- demo-sprite design

SPRITE_ARCH: dict[str, Any] = {
    "arch": "stylegan2",
    "init_kwargs": {
        "z_dim": 64,
        "c_dim": 0,
        "w_dim": 64,
        "img_resolution": 128,
        "img_channels": 3,
        "mapping_kwargs": {"num_layers": 2},
        "channel_base": 2048,
        "channel_max": 64,
        "num_fp16_res": 0,
        "conv_clamp": 256,
        "activation": "relu",  # exact zeros in the background (see the module docstring)
    },
}
SPRITE_CELL = 32  # frame size in pixels
SPRITE_COLUMNS, SPRITE_ROWS = 3, 4  # frames in the sheet area (top-left 96 x 128)
_SPRITE_BACKGROUND = (0.78, 0.75, 0.68)  # last toRGB bias: a light, warm paper colour
_SPRITE_TEMPLATE_DEPTH = 8.0  # how far below zero the gate template goes outside the figures
_SPRITE_TEMPLATE_HEIGHT = 2.5  # noise_strength of the gate: figure interior strength vs feature texture
_SPRITE_NOISE_STRENGTH = 0.2  # ordinary layers: a little per-pixel texture
_SPRITE_TORGB_GAIN = 0.15  # scale of the last toRGB weights (colour contrast of the figures)
_SPRITE_TORGB_DARKEN = 0.4  # mean negative toRGB weight: figures darker than the background
_SPRITE_COLOUR_BIAS = 0.4  # last toRGB modulation bias (official init: 1); lower = more w-dependent hue


def _sprite_template(size: int = 128) -> np.ndarray:
    """Gate template [size, size]: 1 inside each figure, 0 on its outline, negative outside.

    A figure = head (circle) over body (ellipse), one per cell of the 3 x 4 sheet area; the fourth
    column (x >= 96) stays background.
    """
    scale = size / 128.0
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / scale
    dist = np.full((size, size), np.inf)
    for row in range(SPRITE_ROWS):
        for col in range(SPRITE_COLUMNS):
            cx, cy = col * SPRITE_CELL + 16.0, row * SPRITE_CELL + 16.0
            head = np.hypot(x - cx, y - (cy - 7.0)) / 5.5
            body = np.hypot((x - cx) / 7.5, (y - (cy + 4.0)) / 8.5)
            dist = np.minimum(dist, np.minimum(head, body))
    inside = 2.5 * (1.0 - dist)
    outside = 8.0 * (1.0 - dist)  # steep outside, so feature texture cannot push a figure past its cell
    return np.clip(
        np.where(dist < 1.0, inside, outside), -_SPRITE_TEMPLATE_DEPTH / _SPRITE_TEMPLATE_HEIGHT, 1.0
    )


def _sprite_tensor(
    name: str, shape: tuple[int, ...], rng: np.random.RandomState, last_res: int
) -> np.ndarray | None:
    """Value of one demo-sprite tensor, or None to keep the module's own (designed filter taps)."""
    last = f"synthesis.b{last_res}."
    if name.endswith("resample_filter"):
        return None
    if name.startswith("mapping."):
        return _mapping_tensor(name, shape, rng)
    if name.endswith("affine.weight") or name.endswith("conv0.weight") or name.endswith("conv1.weight"):
        return rng.standard_normal(shape)
    if name.endswith("affine.bias"):  # the last toRGB's colours depend more on w than the official init's
        return np.full(shape, _SPRITE_COLOUR_BIAS if name == last + "torgb.affine.bias" else 1.0)
    if name.endswith(".const"):
        return rng.standard_normal(shape)
    if name.endswith("noise_const"):
        return (
            _sprite_template(shape[0]) if name == last + "conv1.noise_const" else rng.standard_normal(shape)
        )
    if name.endswith("noise_strength"):
        strength = (
            _SPRITE_TEMPLATE_HEIGHT if name == last + "conv1.noise_strength" else _SPRITE_NOISE_STRENGTH
        )
        return np.full(shape, strength)
    if name.endswith("torgb.weight"):
        if not name.startswith(last):
            return np.zeros(shape)  # lower-resolution toRGB layers would tint the background
        return _SPRITE_TORGB_GAIN * (rng.standard_normal(shape) - _SPRITE_TORGB_DARKEN)
    if name.endswith("torgb.bias"):
        return np.asarray(_SPRITE_BACKGROUND) if name.startswith(last) else np.zeros(shape)
    if name.endswith(".bias"):
        return np.zeros(shape)
    raise AssertionError(f"demo-sprite: no rule for tensor {name}")


# ------------------------------------------------------------------------------------- demo-face design

FACE_ARCH: dict[str, Any] = {
    "arch": "stylegan3",
    "init_kwargs": {
        "z_dim": 64,
        "c_dim": 0,
        "w_dim": 64,
        "img_resolution": 128,
        "img_channels": 3,
        "mapping_kwargs": {"num_layers": 2},
        "channel_base": 1024,
        "channel_max": 64,
        "magnitude_ema_beta": 0.999,
    },
}
_FACE_TORGB_GAIN = 2.0
FACE_COLOUR_OFFSET: tuple[float, float, float] = (-0.72168, 0.65044, 0.26126)
_face_calibrated = True  # False only while calibrate_face() measures from scratch

# Mean square of every layer's input over 16 random w (what training's magnitude_ema converges to),
# measured once with `calibrate_face()` and kept here so the weights never depend on
# floating-point details of the machine that builds them. A test re-measures them.
FACE_MAGNITUDES: tuple[float, ...] = (
    0.51996, 0.60727, 0.58568, 0.79942, 1.3063, 0.91242, 0.98860, 0.98380,
    1.0377, 0.56586, 1.3321, 1.2919, 0.83676, 0.62629, 0.79982,
)  # fmt: skip


def _face_tensor(
    name: str, shape: tuple[int, ...], rng: np.random.RandomState, layer_names: list[str], bandwidth: float
) -> np.ndarray | None:
    """Value of one demo-face tensor, or None to keep the module's own (designed filters, transform)."""
    if name.startswith("mapping."):
        return _mapping_tensor(name, shape, rng)
    leaf = name.rsplit(".", 1)[-1]
    if leaf in ("up_filter", "down_filter", "transform"):
        return None
    if name == "synthesis.input.freqs":  # the official distribution: inside a disc of radius `bandwidth`
        freqs = rng.standard_normal(shape)
        radii = np.sqrt(np.square(freqs).sum(axis=1, keepdims=True))
        return freqs / (radii * np.exp(np.square(radii)) ** 0.25) * bandwidth
    if name == "synthesis.input.phases":
        return rng.uniform(size=shape) - 0.5
    if name.endswith("magnitude_ema"):
        layer = name.split(".")[1]
        idx = layer_names.index(layer)
        return np.full(shape, FACE_MAGNITUDES[idx] if _face_calibrated else 1.0)
    if name.endswith("affine.weight"):
        return rng.standard_normal(shape)
    if name.endswith("affine.bias"):
        return _face_affine_bias(name, shape)
    if name.endswith(".weight"):
        gain = _FACE_TORGB_GAIN if name.split(".")[1] == layer_names[-1] else 1.0
        return gain * rng.standard_normal(shape)
    if name.endswith(".bias"):
        if name.split(".")[1] == layer_names[-1]:
            return np.asarray(FACE_COLOUR_OFFSET) if _face_calibrated else np.zeros(shape)
        return 0.1 * rng.standard_normal(shape)
    raise AssertionError(f"demo-face: no rule for tensor {name}")


def _face_affine_bias(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The official initial affine biases: [1, 0, 0, 0] for the input transform, 1 for the layers."""
    if name == "synthesis.input.affine.bias":
        return np.asarray([1.0, 0.0, 0.0, 0.0])
    return np.ones(shape)


# ------------------------------------------------------------------------------------------ shared parts


def _mapping_tensor(name: str, shape: tuple[int, ...], rng: np.random.RandomState) -> np.ndarray | None:
    """Mapping weights with the official scale (stored / lr_multiplier); w_avg is filled in later."""
    if name.endswith("w_avg"):
        return np.zeros(shape)
    if name.endswith(".weight"):
        return rng.standard_normal(shape) / 0.01
    return np.zeros(shape)


def _rng_for(name: str) -> np.random.RandomState:
    """A RandomState per tensor name, so adding or reordering tensors changes no other tensor."""
    return np.random.RandomState((_BASE_SEED + zlib.crc32(name.encode("utf-8"))) % (2**32))


def _numpy_mapping(
    state: dict[str, np.ndarray], z: np.ndarray, num_layers: int, lr_multiplier: float = 0.01
) -> np.ndarray:
    """The mapping network in float64 numpy (z normalisation, lrelu layers with equalised lr)."""
    x = z * (np.square(z).mean(axis=1, keepdims=True) + 1e-8) ** -0.5
    for i in range(num_layers):
        weight = state[f"mapping.fc{i}.weight"].astype(np.float64)
        bias = state[f"mapping.fc{i}.bias"].astype(np.float64)
        x = x @ (weight * (lr_multiplier / np.sqrt(weight.shape[1]))).T + bias * lr_multiplier
        x = np.where(x >= 0, x, 0.2 * x) * np.sqrt(2.0)
    return x


def _fill_state(
    G: nn.Module, rule: Callable[[str, tuple[int, ...], np.random.RandomState], np.ndarray | None]
) -> dict[str, torch.Tensor]:
    """Every tensor of G from `rule` (float64 numpy, cast to float32), w_avg from many mapped samples."""
    state: dict[str, torch.Tensor] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, tensor in G.state_dict().items():
        value = rule(name, tuple(tensor.shape), _rng_for(name))
        if value is None:
            state[name] = tensor.clone()
            continue
        value = np.asarray(value, dtype=np.float64).reshape(tensor.shape)
        arrays[name] = value.astype(np.float32)
        state[name] = torch.from_numpy(arrays[name].copy())
    z = np.random.RandomState(_BASE_SEED).standard_normal([_W_AVG_SAMPLES, G.z_dim])
    w = _numpy_mapping(arrays, z, G.mapping.num_layers)
    state["mapping.w_avg"] = torch.from_numpy(np.round(w.mean(axis=0), 4).astype(np.float32))
    return state


def _build_untrained(arch: dict[str, Any], rule_factory: Callable[[nn.Module], Callable]) -> nn.Module:
    torch_state = torch.random.get_rng_state()
    try:  # construction draws throw-away initial weights from torch's RNG; leave the caller's RNG alone
        G = build_generator(arch["arch"], dict(arch["init_kwargs"]))
    finally:
        torch.random.set_rng_state(torch_state)
    G.load_state_dict(_fill_state(G, rule_factory(G)), strict=True)
    return G.eval().requires_grad_(False)


def _sprite_rules(G: nn.Module) -> Callable:
    last = G.img_resolution
    return lambda name, shape, rng: _sprite_tensor(name, shape, rng, last)


def _face_rules(G: nn.Module) -> Callable:
    names = list(G.synthesis.layer_names)
    bandwidth = float(G.synthesis.input.bandwidth)
    return lambda name, shape, rng: _face_tensor(name, shape, rng, names, bandwidth)


_DEMOS: dict[str, tuple[dict[str, Any], Callable[[nn.Module], Callable]]] = {
    "demo-sprite": (SPRITE_ARCH, _sprite_rules),
    "demo-face": (FACE_ARCH, _face_rules),
}
_cache: dict[str, Network] = {}
_lock = threading.Lock()


def make_demo_generator(name: str) -> nn.Module:
    """A fresh (uncached) generator of the demo network `name`, eval mode, no gradients."""
    if name not in _DEMOS:
        raise NetworkLoadError(f"unknown demo network {name!r}: choose one of {', '.join(DEMO_NAMES)}")
    arch, rules = _DEMOS[name]
    return _build_untrained(arch, rules)


def build_demo(name: str) -> Network:
    """The demo network `name` ("demo-face" or "demo-sprite"), built once per process."""
    if name not in _DEMOS:
        raise NetworkLoadError(f"unknown demo network {name!r}: choose one of {', '.join(DEMO_NAMES)}")
    with _lock:
        network = _cache.get(name)
        if network is None:
            arch = _DEMOS[name][0]
            G = make_demo_generator(name)
            network = Network(
                G=G,
                kind=generator_kind(arch["arch"], arch["init_kwargs"]),
                arch={"arch": arch["arch"], "init_kwargs": dict(arch["init_kwargs"])},
                fingerprint=weights_fingerprint(G.state_dict()),
                name=name,
                source=name,
                is_demo=True,
            )
            _cache[name] = network
        return network


def calibrate_face(samples: int = 16) -> tuple[list[float], list[float]]:
    """Re-measure the demo-face constants from scratch: (FACE_MAGNITUDES, FACE_COLOUR_OFFSET).

    Magnitudes: each layer's mean input square over random w (what training's magnitude_ema tracks),
    measured layer by layer so later layers see calibrated inputs. Colour offset: the last layer's
    bias that makes the average picture mid-grey, so no colour cast is shared by every seed.
    """
    global _face_calibrated
    arch, rules = _DEMOS["demo-face"]
    _face_calibrated = False
    try:
        G = _build_untrained(arch, rules)
    finally:
        _face_calibrated = True
    syn = G.synthesis
    z = torch.from_numpy(
        np.random.RandomState(_BASE_SEED + 1).standard_normal([samples, G.z_dim]).astype(np.float32)
    )
    with torch.no_grad():
        ws = G.mapping(z, None).split(1)  # one sample per call: batches are slow for StyleGAN3 on a CPU
        states = [syn.run_steps(w, None, 0, 1) for w in ws]
        magnitudes: list[float] = []
        for i, name in enumerate(syn.layer_names):
            measured = float(np.mean([float(x.to(torch.float64).square().mean()) for x in states]))
            magnitudes.append(measured)
            getattr(syn, name).magnitude_ema.fill_(measured)  # later layers then see calibrated inputs
            states = [syn.run_steps(w, x, i + 1, i + 2) for w, x in zip(ws, states, strict=True)]
        mean_colour = torch.stack([x.to(torch.float64).mean(dim=[0, 2, 3]) for x in states]).mean(dim=0)
    return magnitudes, [-float(v) for v in mean_colour]
