"""Motion clips of recipes: keyframes, their w+, batched frame rendering, session keys and seed tours.

No Qt and no torch here: the engine is used through its public methods (`evaluate`, `resolve`,
`render_ws`, `render_thumbnails`, `network`), so the editor's worker job, the `animate` command and the
tests run the same code. The interpolation itself is renderer/latents/motion.py.

Keyframes are recipes, so a key's w+ always comes from the engine's recipe evaluation (whatever a
recipe holds: seeds, presets, projections, direction offsets).

Rendering: frames that are exactly a keyframe (each segment's first frame and a non-looping clip's last
frame) are rendered one by one through `Engine.render_ws`, the path the editor's preview uses, so they are
the keys' renders bit for bit; the frames in between go through batched passes that run the synthesis
steps before the first row moving within the batch once (`Engine.render_batch_shared_prefix`). Batched
passes may differ from a single render in the last bit of a few pixels on CPU, but the same clip and
batch size give the same bytes, so a clip is deterministic.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from renderer.latents import Recipe, RowEdit, SeedSource
from renderer.latents.motion import (
    FramePlan,
    MotionCancelled,
    MotionError,
    MotionOptions,
    clip_ws,
    frame_count,
    interpolate_rows,
    plan_frames,
)
from renderer.nets.contract import band_of_row

DEFAULT_SEGMENT_SECONDS = 1.0
DEFAULT_BATCH = 8


@dataclass(frozen=True)
class Keyframe:
    """A recipe in a clip, with a label for the strip and the seconds to the next key."""

    recipe: Recipe
    label: str = ""
    seconds: float = DEFAULT_SEGMENT_SECONDS  # duration of the segment that starts here


@dataclass(frozen=True)
class Clip:
    """Keyframes plus how they move (fps, loop, easing, interpolation, band delays)."""

    keys: tuple[Keyframe, ...] = ()
    options: MotionOptions = field(default_factory=MotionOptions)

    def durations(self) -> list[float]:
        """Segment durations in seconds (the last key's own duration counts only when the clip loops)."""
        keys = self.keys if self.options.loop else self.keys[:-1]
        return [k.seconds for k in keys]

    @property
    def num_ws(self) -> int:
        return self.keys[0].recipe.num_ws if self.keys else 0

    def row_bands(self) -> list[str]:
        return [band_of_row(r, self.num_ws) for r in range(self.num_ws)]

    def num_frames(self) -> int:
        return frame_count(len(self.keys), self.durations(), self.options)

    def seconds(self) -> float:
        return self.num_frames() / self.options.fps

    # pure edits (the Motion panel's gestures)
    def with_key(self, key: Keyframe, index: int | None = None) -> Clip:
        keys = list(self.keys)
        keys.insert(len(keys) if index is None else index, key)
        return replace(self, keys=tuple(keys))

    def without_key(self, index: int) -> Clip:
        keys = list(self.keys)
        del keys[index]
        return replace(self, keys=tuple(keys))

    def moved(self, index: int, to: int) -> Clip:
        keys = list(self.keys)
        keys.insert(to, keys.pop(index))
        return replace(self, keys=tuple(keys))

    def with_seconds(self, index: int, seconds: float) -> Clip:
        keys = list(self.keys)
        keys[index] = replace(keys[index], seconds=float(seconds))
        return replace(self, keys=tuple(keys))

    def with_options(self, **changes: Any) -> Clip:
        return replace(self, options=replace(self.options, **changes))


def check_keys(clip: Clip) -> list[FramePlan]:
    """The clip's frame plans; MotionError unless the clip has >= 2 keys of one row count and valid durations."""
    if len(clip.keys) < 2:
        raise MotionError(f"a clip needs at least 2 keyframes, it has {len(clip.keys)}: add keys first")
    counts = {k.recipe.num_ws for k in clip.keys}
    if len(counts) != 1:
        raise MotionError(f"keyframes have different row counts {sorted(counts)}: all must fit one network")
    return plan_frames(len(clip.keys), clip.durations(), clip.options, clip.row_bands())


def w_center(engine: Any) -> np.ndarray | None:
    """The network's w_avg `[w_dim]` float32 (centre of spherical interpolation), or None if it has none."""
    return engine.w_avg()


def key_ws(engine: Any, clip: Clip) -> list[np.ndarray]:
    """Each keyframe's w+ `[num_ws, w_dim]` float32, through the engine's recipe evaluation."""
    return [np.asarray(engine.evaluate(k.recipe), dtype=np.float32) for k in clip.keys]


def clip_frames_ws(engine: Any, clip: Clip) -> np.ndarray:
    """The w+ of every frame, float32 `[num_frames, num_ws, w_dim]`."""
    check_keys(clip)
    return clip_ws(key_ws(engine, clip), clip.durations(), clip.options, clip.row_bands(), w_center(engine))


def frame_ws(engine: Any, clip: Clip, index: int) -> np.ndarray:
    """The w+ of frame `index` alone (scrubbing), float32 `[num_ws, w_dim]`."""
    plans = check_keys(clip)
    p = plans[max(0, min(index, len(plans) - 1))]
    a = engine.evaluate(clip.keys[p.a].recipe)
    b = engine.evaluate(clip.keys[p.b].recipe)
    return interpolate_rows(a, b, p.weights, clip.options.interpolation, w_center(engine))


def render_frame(engine: Any, clip: Clip, index: int) -> np.ndarray:
    """Frame `index` as uint8 H x W x C (single render, prefix cache: fast when only late rows move)."""
    return engine.render_ws(frame_ws(engine, clip, index)).image


def render_clip(
    engine: Any,
    clip: Clip,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    use_cache: bool = False,
    share_prefix: bool = True,
) -> list[np.ndarray]:
    """Every frame of `clip` as uint8 H x W x C, keys rendered singly, the rest in batches of `batch_size`.

    `progress(done, total)` is called after each batch; `should_stop()` is polled between batches and
    True raises MotionCancelled. Frames whose w+ repeats an earlier frame's (the way back of a loop
    between two keys with a symmetric easing) are rendered once. batch_size 1 renders one frame at a time (what `--bench` compares);
    with `use_cache` those single renders resume from the engine's prefix cache (steps before the first
    moving row are shared), as the editor's preview does. `share_prefix=False` runs every step of every
    batched frame (the plain batched pass, for `--bench`).
    """
    if batch_size < 1:
        raise MotionError(f"batch size must be 1 or more, got {batch_size}")
    plans = check_keys(clip)
    keys = key_ws(engine, clip)
    all_ws = clip_ws(keys, clip.durations(), clip.options, clip.row_bands(), w_center(engine))
    total = len(plans)
    frames: list[np.ndarray | None] = [None] * total
    key_images: dict[int, np.ndarray] = {}
    between: list[int] = []  # frames to render in batches: the first of each distinct w+
    same_as: dict[int, int] = {}  # a frame whose w+ repeats an earlier one (a ping-pong loop's way back)
    first_of: dict[bytes, int] = {}
    for i, p in enumerate(plans):
        key = p.a if p.t == 0.0 else (p.b if p.t == 1.0 else None)
        if key is None:
            digest = all_ws[i].tobytes()
            if digest in first_of:
                same_as[i] = first_of[digest]
            else:
                first_of[digest] = i
                between.append(i)
            continue
        if key not in key_images:
            key_images[key] = engine.render_ws(keys[key]).image
        frames[i] = key_images[key]
    done = total - len(between)
    if progress is not None:
        progress(done, total)
    for j in range(0, len(between), batch_size):
        if should_stop is not None and should_stop():
            raise MotionCancelled("cancelled: no file was written")
        idx = between[j : j + batch_size]
        if batch_size == 1:
            images = [engine.render_ws(all_ws[idx[0]], use_cache=use_cache).image]
        else:
            batch = [all_ws[i] for i in idx]
            if share_prefix:
                images = engine.render_batch_shared_prefix(batch, use_cache=True)
            else:
                images = engine.render_thumbnails(batch, batch_size=batch_size, mode="batched")
        for i, img in zip(idx, images, strict=True):
            frames[i] = img
        done += len(idx)
        if progress is not None:
            progress(done, total)
    for i, j in same_as.items():
        frames[i] = frames[j]
    if should_stop is not None and should_stop():
        raise MotionCancelled("cancelled: no file was written")
    return [f for f in frames if f is not None]


# ----------------------------------------------------------------------------- keys from files / seeds


def session_keys(paths: Sequence[str | os.PathLike], fingerprint: str, network_label: str) -> list[Keyframe]:
    """Keyframes from saved sessions; MotionError if one was saved with another network or is unreadable."""
    from editor.session import SESSION_SUFFIX, SessionError, load_session

    keys = []
    for path in paths:
        name = Path(path).name
        try:
            data = load_session(path)
        except SessionError as exc:
            raise MotionError(f"key {name}: {exc}") from None
        if data.fingerprint != fingerprint:
            raise MotionError(
                f"key {name} was saved with another network (fingerprint {data.fingerprint[:12]}…, "
                f"{data.network_source}); the loaded network is {network_label} (fingerprint {fingerprint[:12]}…): "
                f"animate on {data.network_source}, or make every key again on {network_label}"
            )
        keys.append(Keyframe(data.recipe, label=Path(name).stem.replace(SESSION_SUFFIX, "")))
    return keys


def seed_tour_keys(base: Recipe, seeds: Sequence[int], rows: Sequence[int], psi: float = 0.7,
                   cutoff: int | None = None, class_idx: int | None = None) -> list[Keyframe]:  # fmt: skip
    """One key per seed: `base` with `rows` replaced by that seed's rows (other rows stay the base's)."""
    if len(seeds) < 2:
        raise MotionError(f"a seed tour needs at least 2 seeds, got {len(seeds)} (e.g. --seeds 0,5,9)")
    if not rows:
        raise MotionError("a seed tour needs rows to move (e.g. --rows 8-15)")
    keys = []
    for s in seeds:
        edit = RowEdit(source=SeedSource(int(s), psi=psi, cutoff=cutoff, class_idx=class_idx), mode="replace")
        keys.append(Keyframe(base.with_rows(rows, edit), label=f"seed {s}"))
    return keys


@dataclass
class ExportTiming:
    """How long a clip took: rendering and writing, for the status line and `animate --bench`."""

    frames: int
    render_s: float
    write_s: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.render_s if self.render_s > 0 else float("inf")


def timed_render(engine: Any, clip: Clip, batch_size: int, **kwargs: Any) -> tuple[list[np.ndarray], ExportTiming]:
    """render_clip plus its wall-clock time."""
    t0 = time.perf_counter()
    frames = render_clip(engine, clip, batch_size=batch_size, **kwargs)
    return frames, ExportTiming(len(frames), time.perf_counter() - t0)
