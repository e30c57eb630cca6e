"""Pure motion maths (renderer/latents/motion.py): weights, easing, band delays, frame plans, interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.latents.motion import (
    MotionError,
    MotionOptions,
    clip_ws,
    ease,
    frame_count,
    interpolate_rows,
    plan_frames,
    row_delays,
    row_weights,
    segment_frame_counts,
)

NUM_WS, W_DIM = 6, 8
BANDS = ["coarse", "coarse", "middle", "middle", "fine", "fine"]


def keys(n: int = 3, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((NUM_WS, W_DIM)).astype(np.float32) for _ in range(n)]


def test_easing_values() -> None:
    t = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(ease(t, "linear"), t)
    np.testing.assert_allclose(ease(t, "in-out"), [0.0, 0.15625, 0.5, 0.84375, 1.0])
    assert ease(1.0, "in-out") == 1.0 and ease(0.0, "in-out") == 0.0
    # in-out is slower than linear at the start and faster in the middle
    assert ease(0.1, "in-out") < 0.1 and ease(0.5, "in-out") == 0.5
    with pytest.raises(MotionError, match="unknown easing"):
        ease(0.5, "bounce")


def test_band_delays_give_expected_weights() -> None:
    delays = row_delays((0.0, 0.5, 0.75), BANDS)
    np.testing.assert_array_equal(delays, [0, 0, 0.5, 0.5, 0.75, 0.75])
    # at t = 0.5: coarse halfway, middle just starting, fine still waiting
    np.testing.assert_allclose(row_weights(0.5, delays), [0.5, 0.5, 0.0, 0.0, 0.0, 0.0])
    # at t = 0.75: middle (0.75-0.5)/(1-0.5) = 0.5, fine 0
    np.testing.assert_allclose(row_weights(0.75, delays), [0.75, 0.75, 0.5, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(row_weights(0.875, delays, "linear")[4], 0.5)
    # easing applies to each row's own local time
    np.testing.assert_allclose(row_weights(0.75, delays, "in-out")[2], 0.5)
    np.testing.assert_allclose(row_weights(0.625, delays, "in-out")[2], ease(0.25, "in-out"))
    # every row arrives exactly at the end of the segment and starts exactly at 0
    assert np.all(row_weights(1.0, delays) == 1.0) and np.all(row_weights(0.0, delays) == 0.0)


def test_options_are_validated() -> None:
    with pytest.raises(MotionError, match="fps"):
        MotionOptions(fps=0)
    with pytest.raises(MotionError, match="fine delay"):
        MotionOptions(band_delays=(0, 0, 1.0))
    with pytest.raises(MotionError, match="interpolation"):
        MotionOptions(interpolation="cubic")
    with pytest.raises(MotionError, match="positive duration"):
        segment_frame_counts([1.0, 0.0], 24)


def test_frame_plan_counts_and_ends() -> None:
    opts = MotionOptions(fps=10)
    plans = plan_frames(3, [1.0, 0.5], opts, BANDS)
    assert len(plans) == 10 + 5 + 1  # closing frame on the last key
    assert (plans[0].a, plans[0].t) == (0, 0.0) and (plans[10].a, plans[10].t) == (1, 0.0)
    assert (plans[-1].b, plans[-1].t) == (2, 1.0)
    looped = plan_frames(3, [1.0, 0.5, 0.5], MotionOptions(fps=10, loop=True), BANDS)
    assert len(looped) == 20 and (looped[-1].a, looped[-1].b) == (2, 0)
    with pytest.raises(MotionError, match="at least 2 keyframes"):
        plan_frames(1, [], opts, BANDS)
    with pytest.raises(MotionError, match="need 2 segment durations"):
        plan_frames(3, [1.0], opts, BANDS)


@pytest.mark.parametrize("loop", [False, True])
@pytest.mark.parametrize("fps", [10.0, 24.0, 7.3])
def test_frame_count_is_the_plan_length(loop: bool, fps: float) -> None:
    opts = MotionOptions(fps=fps, loop=loop, band_delays=(0.0, 0.3, 0.6))
    durations = [1.0, 0.5, 0.04][: 3 if loop else 2]
    assert frame_count(3, durations, opts) == len(plan_frames(3, durations, opts, BANDS))
    with pytest.raises(MotionError, match="at least 2 keyframes"):
        frame_count(1, [], opts)
    with pytest.raises(MotionError, match="segment durations"):
        frame_count(3, [1.0] * 5, opts)
    with pytest.raises(MotionError, match="positive duration"):
        frame_count(3, [1.0, -1.0, 1.0][: 3 if loop else 2], opts)


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_endpoints_exact_and_unchanged_rows_bit_identical(method: str) -> None:
    a, b = keys(2)
    b[[0, 5]] = a[[0, 5]]  # rows 0 and 5 do not change between the keys
    center = np.random.default_rng(3).standard_normal(W_DIM).astype(np.float32)
    np.testing.assert_array_equal(interpolate_rows(a, b, np.zeros(NUM_WS), method, center), a)
    np.testing.assert_array_equal(interpolate_rows(a, b, np.ones(NUM_WS), method, center), b)
    for t in np.linspace(0.05, 0.95, 7):
        mid = interpolate_rows(a, b, np.full(NUM_WS, t), method, center)
        assert mid.dtype == np.float32
        assert np.array_equal(mid[[0, 5]], a[[0, 5]])  # bit-identical, whatever t
        assert not np.array_equal(mid[1], a[1]) and not np.array_equal(mid[1], b[1])


def test_linear_and_spherical_paths() -> None:
    a, b = keys(2, seed=1)
    mid = interpolate_rows(a, b, np.full(NUM_WS, 0.5), "linear")
    np.testing.assert_allclose(mid, (a.astype(np.float64) + b) / 2, rtol=1e-6, atol=1e-6)
    # spherical around a centre: the offset's angle moves linearly, its length interpolates linearly
    c = np.zeros(W_DIM, np.float32)
    u = np.zeros((NUM_WS, W_DIM), np.float32)
    v = np.zeros((NUM_WS, W_DIM), np.float32)
    u[:, 0], v[:, 1] = 2.0, 4.0  # perpendicular offsets of lengths 2 and 4
    s = interpolate_rows(u, v, np.full(NUM_WS, 1 / 3), "spherical", c)
    angle = np.arctan2(s[:, 1], s[:, 0])
    np.testing.assert_allclose(angle, np.pi / 6, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 2 + (4 - 2) / 3, atol=1e-5)


def test_clip_ws_first_last_and_rows_outside_stay(tmp_path) -> None:
    ks = keys(3, seed=2)
    for k in ks[1:]:
        k[[0, 1]] = ks[0][[0, 1]]  # the coarse rows never change
    opts = MotionOptions(fps=8, ease="in-out", band_delays=(0, 0.3, 0.6))
    ws = clip_ws(ks, [1.0, 1.0], opts, BANDS)
    assert ws.shape == (17, NUM_WS, W_DIM)
    np.testing.assert_array_equal(ws[0], ks[0])
    np.testing.assert_array_equal(ws[8], ks[1])
    np.testing.assert_array_equal(ws[-1], ks[2])
    assert all(np.array_equal(f[[0, 1]], ks[0][[0, 1]]) for f in ws)
    # deterministic: same keys and options, same bytes
    assert clip_ws(ks, [1.0, 1.0], opts, BANDS).tobytes() == ws.tobytes()
    looped = clip_ws(ks, [1.0, 1.0, 1.0], MotionOptions(fps=8, loop=True), BANDS)
    assert looped.shape[0] == 24 and np.array_equal(looped[0], ks[0])
