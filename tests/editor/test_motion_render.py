"""Clips of recipes rendered on a tiny real network (editor/motion.py): exact keys, still rows, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from editor.motion import (
    Clip,
    Keyframe,
    clip_frames_ws,
    frame_ws,
    render_clip,
    render_frame,
    seed_tour_keys,
    session_keys,
)
from editor.session import save_session
from renderer.engine import Engine
from renderer.latents import Recipe, RowEdit, SeedSource, WSource
from renderer.latents.motion import MotionCancelled, MotionError, MotionOptions
from renderer.network import Network
from tests.helpers.tiny import tiny_network as tiny_helper


def tiny_network(seed: int = 0) -> Network:
    return tiny_helper(f"tiny{seed}", seed)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(tiny_network(), "cpu")


def two_keys(num_ws: int) -> tuple[Recipe, Recipe]:
    base = Recipe.plain(SeedSource(1, psi=0.8), num_ws)
    rng = np.random.default_rng(5)
    preset = WSource(rng.standard_normal((num_ws, 16)).astype(np.float32), label="smile", kind="preset")
    return base, base.with_rows([2, 3], RowEdit(preset, "replace"))


def test_first_and_last_frames_are_the_keys_renders(engine: Engine) -> None:
    a, b = two_keys(engine.num_ws)
    c = a.with_rows([4], RowEdit(SeedSource(9), "blend", 0.5))
    clip = Clip((Keyframe(a), Keyframe(b, seconds=0.5), Keyframe(c)), MotionOptions(fps=8, ease="in-out"))
    frames = render_clip(engine, clip, batch_size=3)
    assert len(frames) == 8 + 4 + 1 == clip.num_frames()
    fresh = Engine(tiny_network(), "cpu")  # the editor's own render path, on another engine
    np.testing.assert_array_equal(frames[0], fresh.render(a).image)
    np.testing.assert_array_equal(frames[8], fresh.render(b).image)
    np.testing.assert_array_equal(frames[-1], fresh.render(c).image)
    assert not np.array_equal(frames[4], frames[0]) and not np.array_equal(frames[4], frames[8])
    # looping: first frame is the first key, the clip ends one step before it
    looped = render_clip(engine, Clip((Keyframe(a), Keyframe(b)), MotionOptions(fps=8, loop=True)), batch_size=4)
    assert len(looped) == 16 and np.array_equal(looped[0], frames[0]) and np.array_equal(looped[8], frames[8])


def test_rows_outside_every_changed_row_stay_bit_identical(engine: Engine) -> None:
    a, b = two_keys(engine.num_ws)
    clip = Clip((Keyframe(a), Keyframe(b)), MotionOptions(fps=10, interpolation="spherical", band_delays=(0, 0.4, 0)))
    ws = clip_frames_ws(engine, clip)
    wa = engine.evaluate(a)
    still = [r for r in range(engine.num_ws) if r not in (2, 3)]
    assert all(np.array_equal(f[still], wa[still]) for f in ws)
    assert len({f[2].tobytes() for f in ws}) > 5  # the changed rows do move
    np.testing.assert_array_equal(frame_ws(engine, clip, 4), ws[4])


def test_same_keys_and_options_give_byte_identical_frames(engine: Engine) -> None:
    a, b = two_keys(engine.num_ws)
    clip = Clip((Keyframe(a), Keyframe(b, seconds=0.7)), MotionOptions(fps=12, loop=True, ease="in-out"))
    first = render_clip(engine, clip, batch_size=4)
    second = render_clip(Engine(tiny_network(), "cpu"), clip, batch_size=4)
    assert [f.tobytes() for f in first] == [f.tobytes() for f in second]
    np.testing.assert_array_equal(render_frame(engine, clip, 0), first[0])


def test_progress_and_cancel(engine: Engine) -> None:
    a, b = two_keys(engine.num_ws)
    clip = Clip((Keyframe(a), Keyframe(b)), MotionOptions(fps=12))
    seen = []
    render_clip(engine, clip, batch_size=5, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (2, 13) and seen[-1] == (13, 13) and len(seen) == 4  # keys first, then 11 in batches of 5
    with pytest.raises(MotionCancelled):
        render_clip(engine, clip, batch_size=5, should_stop=lambda: len(seen) > 5, progress=lambda d, t: seen.append(d))
    with pytest.raises(MotionError, match="at least 2 keyframes"):
        render_clip(engine, Clip((Keyframe(a),)))


def test_session_keys_refuse_another_network(engine: Engine, tmp_path) -> None:
    a, b = two_keys(engine.num_ws)
    pa = save_session(tmp_path / "a", a, "tiny0", "00" * 32)
    pb = save_session(tmp_path / "b", b, "tiny1", "01" * 32)
    keys = session_keys([pa], "00" * 32, "tiny0")
    assert keys[0].recipe == a and keys[0].label == "a"
    with pytest.raises(MotionError, match=r"key b.castmaker-session was saved with another network .* tiny0"):
        session_keys([pa, pb], "00" * 32, "tiny0")


def test_seed_tour_replaces_only_the_given_rows(engine: Engine) -> None:
    base = Recipe.plain(SeedSource(0), engine.num_ws)
    keys = seed_tour_keys(base, [3, 4, 5], [4, 5], psi=0.7)
    assert [k.label for k in keys] == ["seed 3", "seed 4", "seed 5"]
    ws = clip_frames_ws(engine, Clip(tuple(keys), MotionOptions(fps=4, loop=True)))
    w0 = engine.evaluate(base)
    assert all(np.array_equal(f[:4], w0[:4]) for f in ws)
    np.testing.assert_array_equal(ws[4][4:], engine.map_seed(4, psi=0.7)[4:])
    with pytest.raises(MotionError, match="at least 2 seeds"):
        seed_tour_keys(base, [3], [4])


def test_shared_prefix_batch_matches_full_renders(engine: Engine) -> None:
    base = Recipe.plain(SeedSource(4), engine.num_ws)
    late = [engine.evaluate(base.with_rows([4, 5], RowEdit(SeedSource(s), "blend", 0.6))) for s in range(5)]
    assert engine.first_step_for_row(4) > 0  # there is a prefix to share
    shared = engine.render_batch_shared_prefix(late)
    singles = [engine.render_ws(w, use_cache=False).image for w in late]
    assert max(int(np.abs(a.astype(int) - b).max()) for a, b in zip(shared, singles, strict=True)) <= 1
    assert [a.tobytes() for a in engine.render_batch_shared_prefix(late)] == [a.tobytes() for a in shared]
    # a batch that differs on row 0 shares nothing: it is the plain batched pass
    early = [engine.evaluate(base.with_rows([0], RowEdit(SeedSource(s), "replace"))) for s in range(3)]
    plain = engine.render_thumbnails(early, batch_size=3, mode="batched")
    assert [a.tobytes() for a in engine.render_batch_shared_prefix(early)] == [a.tobytes() for a in plain]
