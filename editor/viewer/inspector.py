"""Layer inspector: a synthesis step's activation [C, H, W] -> a viewable image plus simple statistics.

Why: an artist sees what each w row controls by looking at the feature maps of the step that reads it.
One channel is shown as grey, three channels as an RGB triple; each shown channel is stretched from
its own min to its own max so weak and strong channels are equally visible, and the numbers beside
the image (min / max / mean / std of the shown channels) say what the stretch hid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from renderer.errors import LatentError

MODES = ("channel", "rgb")


@dataclass(frozen=True)
class InspectorSettings:
    """Which step and which channels to show. `channel` for grey mode, `rgb` for the triple."""

    step_index: int = 0
    mode: str = "channel"
    channel: int = 0
    rgb: tuple[int, int, int] = (0, 1, 2)

    def shown_channels(self) -> tuple[int, ...]:
        if self.mode not in MODES:
            raise LatentError(f"unknown inspector mode {self.mode!r}: use one of {', '.join(MODES)}")
        return (self.channel,) if self.mode == "channel" else tuple(self.rgb)


@dataclass(frozen=True)
class ActivationStats:
    """Statistics of the shown channels (finite values only) and how many values were not finite."""

    min: float
    max: float
    mean: float
    std: float
    non_finite: int

    def summary(self) -> str:
        text = f"min {self.min:.3g}  max {self.max:.3g}  mean {self.mean:.3g}  std {self.std:.3g}"
        if self.non_finite:
            text += f"  ({self.non_finite} non-finite values)"
        return text


def activation_stats(values: np.ndarray) -> ActivationStats:
    """min / max / mean / std over the finite entries of `values`."""
    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    bad = int(arr.size - finite.sum())
    good = arr[finite]
    if good.size == 0:
        return ActivationStats(float("nan"), float("nan"), float("nan"), float("nan"), bad)
    return ActivationStats(float(good.min()), float(good.max()), float(good.mean()), float(good.std()), bad)


def normalise_channel(channel: np.ndarray) -> np.ndarray:
    """[H, W] float -> uint8 [H, W], min -> 0 and max -> 255; a constant channel is mid-grey, non-finite 0."""
    arr = np.asarray(channel, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return np.zeros(arr.shape, dtype=np.uint8)
    lo, hi = float(arr[finite].min()), float(arr[finite].max())
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        out = np.full(arr.shape, 128, dtype=np.uint8)
    else:
        scaled = (np.where(finite, arr, lo) - lo) * (255.0 / (hi - lo))
        out = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    out[~finite] = 0
    return out


def activation_image(
    activation: np.ndarray, settings: InspectorSettings
) -> tuple[np.ndarray, ActivationStats]:
    """[C, H, W] activation -> (uint8 H x W x 3 image, stats of the shown channels)."""
    act = np.asarray(activation)
    if act.ndim != 3:
        raise LatentError(f"an activation must be [channels, height, width], got shape {list(act.shape)}")
    channels = settings.shown_channels()
    num_channels = act.shape[0]
    for c in channels:
        if not 0 <= c < num_channels:
            raise LatentError(f"channel {c} is out of range: this layer has channels 0-{num_channels - 1}")
    planes = [normalise_channel(act[c]) for c in channels]
    if len(planes) == 1:
        planes = planes * 3
    image = np.stack(planes, axis=-1)
    return image, activation_stats(act[list(channels)])


def clamp_settings(settings: InspectorSettings, num_steps: int, num_channels: int) -> InspectorSettings:
    """Settings moved into range after the step changed (fewer channels, another network)."""
    top = max(num_channels - 1, 0)
    step = min(max(settings.step_index, 0), max(num_steps - 1, 0))
    rgb = tuple(min(max(c, 0), top) for c in settings.rgb)
    return InspectorSettings(step, settings.mode, min(max(settings.channel, 0), top), rgb)  # type: ignore[arg-type]


def upscale_nearest(image: np.ndarray, min_side: int = 256) -> np.ndarray:
    """Repeat pixels by the smallest integer factor that makes the shorter side >= `min_side`.

    Small feature maps (36 x 36) stay crisp in the window instead of being smeared by texture filtering.
    """
    arr = np.asarray(image)
    side = min(arr.shape[0], arr.shape[1])
    factor = max(1, -(-int(min_side) // max(side, 1)))
    if factor == 1:
        return arr
    return np.repeat(np.repeat(arr, factor, axis=0), factor, axis=1)


def layer_menu_labels(steps) -> tuple[list[str], list[str]]:
    """(short, full) labels of synthesis steps for the viewer's layer menu.

    The short label ('7: L7_84_1024', 'index: official name') fits the menu's width; the full one adds the w row,
    output size in pixels and channel count ('7: L7_84_1024 — row 7, 84 px, 1024 channels') and is shown as the
    menu's tooltip and under it, so nothing the artist needs is cut off.
    """
    short = [f"{i}: {st.name}" for i, st in enumerate(steps)]
    full = [f"{s} — row {st.row}, {st.size} px, {st.channels} channels" for s, st in zip(short, steps, strict=True)]
    return short, full
