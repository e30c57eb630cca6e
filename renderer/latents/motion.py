"""Motion between keyframes in W: per-row weights (easing, per-band delays) and row-wise interpolation.

Pure numpy, no torch, no Qt: the editor's Motion panel, the `animate` command and the tests share it.
A clip is a list of keyframe w+ arrays `[num_ws, w_dim]` (each the evaluation of a keyframe recipe) and a
duration in seconds for each segment between consecutive keys (one more segment, last key -> first key,
when the clip loops). Between two keys every w row moves on its own:

  * its weight runs from 0 (the segment's start key) to 1 (its end key) over the segment, shaped by the
    easing ("linear" or "in-out", a cubic smoothstep);
  * a per-band delay d in [0, 1) (coarse / middle / fine rows, see renderer/nets/contract.band_of_row)
    holds the row at the start key for the first fraction d of the segment; it then catches up and
    arrives with the others at the segment's end;
  * the row is interpolated linearly in W ((1-t)·a + t·b) or spherically: the angle between the rows'
    offsets from a centre (the network's w_avg, the truncation centre) is interpolated along the great
    circle and the offset length linearly.

Exactness (what the tests rely on): a weight of exactly 0 gives the start key's row bit for bit, exactly 1
the end key's row, and a row that is identical in both keys is copied unchanged whatever the weight. So the
first and last frames of a clip are the keys' own w+, and rows no key changes stay bit-identical.

Frame timing: segment i gets n_i = max(1, round(duration_i · fps)) frames at local times j / n_i,
j = 0 … n_i - 1; a clip that does not loop ends with one extra frame on the last key (so a 3 s clip at 24
fps has 73 frames, the last one the last key), a looping clip does not (its next frame is the first key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from renderer.errors import LatentError
from renderer.nets.contract import BANDS

EASINGS = ("linear", "in-out")
INTERPOLATIONS = ("linear", "spherical")
_SLERP_MIN_ANGLE = 1e-6  # radians: below this, spherical falls back to linear (sin Ω ~ 0)


class MotionError(LatentError):
    """A motion clip (keys, durations, fps, easing, delays, interpolation) is not valid."""


class MotionCancelled(MotionError):
    """The user cancelled a clip's rendering or export (nothing was written)."""


@dataclass(frozen=True)
class MotionOptions:
    """How a clip moves: frames per second, loop, easing, interpolation and per-band delays.

    fps: frames per second, > 0 (float; 24 is typical).
    loop: True adds the segment last key -> first key and leaves out the closing frame.
    ease: "linear" or "in-out".
    interpolation: "linear" (in W) or "spherical" (around the centre given to `clip_ws`).
    band_delays: (coarse, middle, fine) fractions of each segment, each in [0, 1).
    """

    fps: float = 24.0
    loop: bool = False
    ease: str = "linear"
    interpolation: str = "linear"
    band_delays: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise MotionError(f"fps must be a positive number, got {self.fps}")
        if self.ease not in EASINGS:
            raise MotionError(f"unknown easing {self.ease!r}: use one of {', '.join(EASINGS)}")
        if self.interpolation not in INTERPOLATIONS:
            raise MotionError(
                f"unknown interpolation {self.interpolation!r}: use one of {', '.join(INTERPOLATIONS)}"
            )
        delays = tuple(float(d) for d in self.band_delays)
        if len(delays) != 3:
            raise MotionError(f"band delays need 3 values (coarse, middle, fine), got {len(delays)}")
        for band, d in zip(BANDS, delays, strict=True):
            if not (np.isfinite(d) and 0.0 <= d < 1.0):
                raise MotionError(f"{band} delay {d} must be in [0, 1): a fraction of each segment")
        object.__setattr__(self, "band_delays", delays)


@dataclass(frozen=True)
class FramePlan:
    """One frame: it lies between keys `a` and `b`, with weight `weights[r]` of key b on row r."""

    a: int
    b: int
    t: float  # segment-local time in [0, 1]
    weights: np.ndarray  # float64 [num_ws] in [0, 1]


def ease(t: np.ndarray | float, kind: str = "linear") -> np.ndarray:
    """Easing curve on [0, 1] -> [0, 1] (float64); exact at 0 and 1. "in-out" is 3t² - 2t³."""
    x = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if kind == "linear":
        return x
    if kind == "in-out":
        return x * x * (3.0 - 2.0 * x)
    raise MotionError(f"unknown easing {kind!r}: use one of {', '.join(EASINGS)}")


def row_delays(band_delays: Sequence[float], row_bands: Sequence[str]) -> np.ndarray:
    """Per-row delay (float64 [num_ws]) from (coarse, middle, fine) delays and each row's band name."""
    table = dict(zip(BANDS, (float(d) for d in band_delays), strict=True))
    try:
        return np.array([table[b] for b in row_bands], dtype=np.float64)
    except KeyError as exc:
        raise MotionError(f"unknown band {exc.args[0]!r}: rows belong to coarse, middle or fine") from None


def row_weights(t: float, delays: np.ndarray, kind: str = "linear") -> np.ndarray:
    """Weights of the segment's end key per row at segment time t in [0, 1] (float64 [num_ws]).

    A row with delay d stays at 0 until t = d, then runs ease((t - d) / (1 - d)) and reaches 1 at t = 1.
    """
    d = np.asarray(delays, dtype=np.float64)
    if np.any(d < 0) or np.any(d >= 1):
        raise MotionError("row delays must be in [0, 1)")
    local = np.clip((float(t) - d) / (1.0 - d), 0.0, 1.0)
    return ease(local, kind)


def segment_frame_counts(durations: Sequence[float], fps: float) -> list[int]:
    """Frames per segment: max(1, round(duration · fps)); durations are seconds, each > 0."""
    out = []
    for i, d in enumerate(durations):
        if not np.isfinite(d) or d <= 0:
            raise MotionError(f"segment {i + 1} lasts {d} s: every segment needs a positive duration")
        out.append(max(1, int(round(float(d) * fps))))
    return out


def _check_segments(num_keys: int, durations: Sequence[float], options: MotionOptions) -> None:
    if num_keys < 2:
        raise MotionError(f"a clip needs at least 2 keyframes, got {num_keys}")
    want = num_keys if options.loop else num_keys - 1
    if len(durations) != want:
        raise MotionError(
            f"{num_keys} keys {'looping ' if options.loop else ''}need {want} segment durations, got {len(durations)}"
        )


def frame_count(num_keys: int, durations: Sequence[float], options: MotionOptions) -> int:
    """len(plan_frames(...)) without planning each frame (the editor asks on every gesture); same MotionErrors
    for the keys and durations."""
    _check_segments(num_keys, durations, options)
    return sum(segment_frame_counts(durations, options.fps)) + (0 if options.loop else 1)


def plan_frames(
    num_keys: int, durations: Sequence[float], options: MotionOptions, row_bands: Sequence[str]
) -> list[FramePlan]:
    """Every frame of a clip of `num_keys` keys: which keys it lies between and the per-row weights.

    `durations` has num_keys - 1 entries (num_keys with options.loop: the last is last key -> first key).
    Raises MotionError for fewer than 2 keys or a wrong number of durations.
    """
    _check_segments(num_keys, durations, options)
    delays = row_delays(options.band_delays, row_bands)
    frames: list[FramePlan] = []
    for seg, n in enumerate(segment_frame_counts(durations, options.fps)):
        a, b = seg, (seg + 1) % num_keys
        for j in range(n):
            t = j / n
            frames.append(FramePlan(a, b, t, row_weights(t, delays, options.ease)))
    if not options.loop:
        frames.append(FramePlan(num_keys - 2, num_keys - 1, 1.0, np.ones(len(row_bands), dtype=np.float64)))
    return frames


def interpolate_rows(
    wa: np.ndarray, wb: np.ndarray, weights: np.ndarray, method: str = "linear", center: np.ndarray | None = None
) -> np.ndarray:
    """Row-wise interpolation of two w+ `[num_ws, w_dim]` with per-row weights `[num_ws]` -> float32 w+.

    Weight 0 returns wa's row, 1 wb's row, and rows equal in wa and wb are copied, all bit-exact.
    "spherical" interpolates each row's offset from `center` (`[w_dim]` or `[num_ws, w_dim]`, default 0)
    along the great circle, its length linearly; nearly parallel offsets fall back to linear.
    """
    a = np.asarray(wa, dtype=np.float32)
    b = np.asarray(wb, dtype=np.float32)
    if a.shape != b.shape or a.ndim != 2:
        raise MotionError(f"keys must be w+ of one shape [num_ws, w_dim], got {list(a.shape)} and {list(b.shape)}")
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != a.shape[0]:
        raise MotionError(f"{w.shape[0]} weights for {a.shape[0]} rows")
    if method not in INTERPOLATIONS:
        raise MotionError(f"unknown interpolation {method!r}: use one of {', '.join(INTERPOLATIONS)}")
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    t = w[:, None]
    if method == "linear":
        mixed = (1.0 - t) * a64 + t * b64
    else:
        c = np.zeros(a.shape[1]) if center is None else np.asarray(center, dtype=np.float64)
        c = np.broadcast_to(c, a.shape)
        u, v = a64 - c, b64 - c
        nu = np.linalg.norm(u, axis=1, keepdims=True)
        nv = np.linalg.norm(v, axis=1, keepdims=True)
        safe = (nu > 0) & (nv > 0)
        uh = np.divide(u, nu, out=np.zeros_like(u), where=safe)
        vh = np.divide(v, nv, out=np.zeros_like(v), where=safe)
        omega = np.arccos(np.clip(np.sum(uh * vh, axis=1, keepdims=True), -1.0, 1.0))
        sin_o = np.sin(omega)
        curved = safe & (omega > _SLERP_MIN_ANGLE) & (sin_o > _SLERP_MIN_ANGLE)
        sin_o = np.where(curved, sin_o, 1.0)
        direction = (np.sin((1.0 - t) * omega) * uh + np.sin(t * omega) * vh) / sin_o
        length = (1.0 - t) * nu + t * nv
        slerped = c + length * direction
        mixed = np.where(curved, slerped, (1.0 - t) * a64 + t * b64)
    out = mixed.astype(np.float32)
    same = np.all(a == b, axis=1)
    out[w == 0.0] = a[w == 0.0]
    out[w == 1.0] = b[w == 1.0]
    out[same] = a[same]
    return out


def clip_ws(
    keys: Sequence[np.ndarray],
    durations: Sequence[float],
    options: MotionOptions,
    row_bands: Sequence[str],
    center: np.ndarray | None = None,
) -> np.ndarray:
    """The w+ of every frame: float32 `[num_frames, num_ws, w_dim]` (see plan_frames for the timing)."""
    arrays = [np.asarray(k, dtype=np.float32) for k in keys]
    if arrays and any(k.shape != arrays[0].shape for k in arrays):
        raise MotionError("every keyframe must be a w+ of the same shape [num_ws, w_dim]")
    if arrays and arrays[0].shape[0] != len(row_bands):
        raise MotionError(f"keys have {arrays[0].shape[0]} rows but {len(row_bands)} row bands were given")
    plans = plan_frames(len(arrays), durations, options, row_bands)
    return np.stack(
        [interpolate_rows(arrays[p.a], arrays[p.b], p.weights, options.interpolation, center) for p in plans]
    )
