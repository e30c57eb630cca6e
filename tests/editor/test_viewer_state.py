"""The live viewer without a window: seed grid, blend weights, truncation and style mix -> Recipe / w,
checked against the Engine's own computation; the render job, inspector, render thread and captures.

A tiny real StyleGAN3 generator (16 px, 16 rows, 32 channels) keeps the forward passes cheap.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from editor.viewer.capture import CaptureError, capture, save_handoff_session
from editor.viewer.display_probe import display_problem
from editor.viewer.frames import FrameRequest, render_frame
from editor.viewer.inspector import (
    InspectorSettings,
    activation_image,
    activation_stats,
    clamp_settings,
    normalise_channel,
    upscale_nearest,
)
from editor.viewer.render_thread import JobFailure, RenderThread
from editor.viewer.timing import RollingSeries
from editor.viewer.viewer_state import (
    GRID_SIZE,
    ViewerState,
    animation_step,
    blended_w,
    build_recipe,
    grid_corners,
    grid_seed,
    position_of_seed,
    rows_from,
)
from renderer.engine import Engine
from renderer.errors import LatentError
from renderer.fingerprint import weights_fingerprint
from renderer.latents import Recipe, SeedSource, WSource, z_from_seed
from renderer.nets import build_generator
from renderer.network import Network

TINY_KWARGS = dict(
    z_dim=16,
    w_dim=16,
    mapping_kwargs=dict(num_layers=2),
    channel_base=512,
    channel_max=32,
    c_dim=0,
    img_resolution=16,
    img_channels=3,
)


def tiny_network() -> Network:
    torch.manual_seed(7)
    G = build_generator("stylegan3", TINY_KWARGS)
    with torch.no_grad():  # an untrained w_avg is zero; give truncation something to pull towards
        G.mapping.w_avg.copy_(torch.randn_like(G.mapping.w_avg))
    return Network(
        G=G,
        kind="stylegan3-t",
        arch={"arch": "stylegan3", "init_kwargs": TINY_KWARGS},
        fingerprint=weights_fingerprint(G.state_dict()),
        name="tiny",
        source="tiny-test-net",
    )


@pytest.fixture(scope="module")
def engine():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the CI box is small and shared; one thread is also the fastest here
    try:
        yield Engine(tiny_network(), device="cpu")
    finally:
        torch.set_num_threads(threads)


# ----- the seed grid


def test_grid_seed_layout_is_documented_formula():
    assert grid_seed(42, 0) == 42
    assert grid_seed(3, 2) == 3 + 2 * GRID_SIZE
    assert grid_seed(-1, 0) == GRID_SIZE - 1  # the grid wraps around (a torus)
    assert grid_seed(0, GRID_SIZE) == 0
    assert grid_seed(GRID_SIZE - 1, GRID_SIZE - 1) == 2**32 - 1
    assert position_of_seed(42) == (42, 0)
    with pytest.raises(LatentError, match="out of range"):
        position_of_seed(2**32)


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_position_of_seed_inverts_grid_seed(seed):
    assert grid_seed(*position_of_seed(seed)) == seed


def test_grid_corners_bilinear_weights():
    corners = dict(grid_corners(2.25, 3.5))
    g = GRID_SIZE
    assert corners == pytest.approx(
        {2 + 3 * g: 0.75 * 0.5, 3 + 3 * g: 0.25 * 0.5, 2 + 4 * g: 0.75 * 0.5, 3 + 4 * g: 0.25 * 0.5}
    )
    assert grid_corners(5.0, 1.0) == [(5 + g, 1.0)]  # on a grid point: just that seed
    assert dict(grid_corners(5.5, 1.0)) == pytest.approx({5 + g: 0.5, 6 + g: 0.5})
    with pytest.raises(LatentError, match="finite"):
        grid_corners(float("nan"), 0.0)


@settings(max_examples=200)
@given(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4))
def test_grid_corner_weights_sum_to_one_and_reproduce_the_position(x, y):
    corners = grid_corners(x, y)
    weights = [w for _, w in corners]
    assert all(w > 0 for w in weights)
    assert sum(weights) == pytest.approx(1.0)
    # The weighted mean of the corner cells is the position itself (bilinear interpolation).
    x0, y0 = math.floor(x), math.floor(y)
    ex = ey = 0.0
    for seed, w in corners:
        ix, iy = position_of_seed(seed)
        ex += w * ((ix - x0) % GRID_SIZE)
        ey += w * ((iy - y0) % GRID_SIZE)
    assert x0 + ex == pytest.approx(x, abs=1e-6)
    assert y0 + ey == pytest.approx(y, abs=1e-6)


def test_state_moves_and_snaps():
    s = ViewerState.initial(4, seed=70000)
    assert (s.x, s.y) == (70000 - GRID_SIZE, 1)
    assert s.nearest_seed == 70000 and s.on_grid_point
    m = s.moved_by(0.4, -0.6)
    assert m.nearest_seed == grid_seed(70000 - GRID_SIZE, 0) and not m.on_grid_point
    assert m.at_seed(9).nearest_seed == 9
    wrapped = ViewerState.initial(4, seed=0).moved_by(-0.25, -1.0)  # off the edge: around the torus
    assert (wrapped.x, wrapped.y) == (GRID_SIZE - 0.25, GRID_SIZE - 1.0)
    assert wrapped.nearest_seed == 0 + (GRID_SIZE - 1) * GRID_SIZE
    with pytest.raises(LatentError, match="finite"):
        s.moved_to(float("inf"), 0.0)
    dx, dy = animation_step(0.5, 2.0, 90.0)
    assert dx == pytest.approx(0.0, abs=1e-12) and dy == pytest.approx(1.0)
    assert rows_from([0, 3], 4) == (True, False, False, True)
    with pytest.raises(LatentError, match="row 4"):
        rows_from([4], 4)
    with pytest.raises(LatentError, match="row 9"):
        s.with_mix_row(9, True)


# ----- state -> recipe -> w, against the Engine


def test_grid_point_recipe_is_the_seed_with_truncation(engine):
    n = engine.num_ws
    state = ViewerState.initial(n, seed=12, psi=0.6)
    state = ViewerState(x=state.x, y=state.y, psi=0.6, cutoff=5, mix_rows=state.mix_rows)
    recipe = build_recipe(state, engine.resolve, n)
    assert recipe.base == SeedSource(12, psi=0.6, cutoff=5)
    assert all(edit.mode == "keep" for edit in recipe.rows)
    np.testing.assert_array_equal(engine.evaluate(recipe), engine.map_seed(12, psi=0.6, cutoff=5))


def test_fractional_position_blends_four_seeds_then_truncates(engine):
    n = engine.num_ws
    psi, cutoff = 0.5, 6
    state = ViewerState(x=10.3, y=2.8, psi=psi, cutoff=cutoff, mix_rows=(False,) * n)
    recipe = build_recipe(state, engine.resolve, n)
    assert isinstance(recipe.base, WSource)
    got = engine.evaluate(recipe)

    # Independent computation: untruncated w of the four corner seeds, bilinear blend, then truncation
    # around w_avg on rows < cutoff, as the official mapping network defines it.
    g = GRID_SIZE
    corners = {10 + 2 * g: 0.7 * 0.2, 11 + 2 * g: 0.3 * 0.2, 10 + 3 * g: 0.7 * 0.8, 11 + 3 * g: 0.3 * 0.8}
    raw = sum(w * engine.map_z(z_from_seed(seed, 16))[0].astype(np.float64) for seed, w in corners.items())
    w_avg = engine.G.mapping.w_avg.detach().cpu().numpy().astype(np.float64)
    want = raw.copy()
    want[:cutoff] = w_avg + psi * (raw[:cutoff] - w_avg)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert not np.allclose(want, raw)  # the truncation really moved it
    np.testing.assert_array_equal(got, blended_w(state, engine.resolve))


def test_style_mix_rows_come_from_the_mix_seed(engine):
    n = engine.num_ws
    rows = [0, 1, 9, 15]
    state = ViewerState(x=3.0, y=0.0, psi=0.8, mix_seed=77, mix_rows=rows_from(rows, n))
    recipe = build_recipe(state, engine.resolve, n)
    got = engine.evaluate(recipe)
    base = engine.map_seed(3, psi=0.8)
    mix = engine.map_seed(77, psi=0.8)
    mask = np.zeros(n, bool)
    mask[rows] = True
    np.testing.assert_array_equal(got, np.where(mask[:, None], mix, base))
    assert [i for i, e in enumerate(recipe.rows) if e.mode == "replace"] == rows
    with pytest.raises(LatentError, match="mix rows"):
        build_recipe(ViewerState(mix_rows=(False,) * (n - 1)), engine.resolve, n)


def test_render_frame_matches_engine_and_inspects_the_chosen_layer(engine):
    n = engine.num_ws
    state = ViewerState(x=4.5, y=0.0, psi=0.7, mix_seed=5, mix_rows=rows_from([2, 3], n))
    settings_ = InspectorSettings(step_index=3, mode="rgb", rgb=(0, 5, 7))
    frame = render_frame(engine, FrameRequest(state, settings_))
    want_ws = build_recipe(state, engine.resolve, n)
    fresh = Engine(engine.network, device="cpu", cache_bytes=0)
    np.testing.assert_array_equal(frame.ws, fresh.evaluate(want_ws))
    np.testing.assert_array_equal(frame.image, fresh.render_ws(frame.ws).image)

    view = frame.inspector
    step = engine.steps[3]
    assert (view.step_name, view.step_row, view.num_channels) == (step.name, step.row, step.channels)
    act = fresh.activations(frame.ws, 3)
    img, stats = activation_image(act, settings_)
    assert stats == view.stats
    assert view.image.shape[0] >= 256 and view.image.shape[0] % img.shape[0] == 0
    np.testing.assert_array_equal(
        view.image[:: view.image.shape[0] // img.shape[0]][:, :: view.image.shape[0] // img.shape[0]], img
    )
    assert render_frame(engine, FrameRequest(state, None)).inspector is None


# ----- inspector


def test_normalise_channel_stretches_min_to_max():
    ch = np.array([[-2.0, 0.0], [1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(normalise_channel(ch), [[0, 128], [191, 255]])
    np.testing.assert_array_equal(normalise_channel(np.full((2, 2), 3.0)), np.full((2, 2), 128))
    with_nan = np.array([[np.nan, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(normalise_channel(with_nan), [[0, 0], [128, 255]])


def test_activation_image_modes_and_stats():
    rng = np.random.default_rng(0)
    act = rng.normal(size=(6, 5, 4)).astype(np.float32)
    act[4] *= 100  # a loud channel must not wash out the others in RGB mode
    img, stats = activation_image(act, InspectorSettings(mode="channel", channel=2))
    assert img.shape == (5, 4, 3) and (img[..., 0] == img[..., 1]).all()
    assert stats.min == pytest.approx(act[2].min()) and stats.std == pytest.approx(act[2].std(), rel=1e-5)
    img, stats = activation_image(act, InspectorSettings(mode="rgb", rgb=(4, 1, 0)))
    for k, c in enumerate((4, 1, 0)):
        assert img[..., k].min() == 0 and img[..., k].max() == 255
        np.testing.assert_array_equal(img[..., k], normalise_channel(act[c]))
    assert stats.max == pytest.approx(act[[4, 1, 0]].max())
    with pytest.raises(LatentError, match="channel 6"):
        activation_image(act, InspectorSettings(channel=6))
    with pytest.raises(LatentError, match="mode"):
        activation_image(act, InspectorSettings(mode="hsv"))
    with pytest.raises(LatentError, match="channels, height, width"):
        activation_image(act[0], InspectorSettings())
    assert activation_stats(np.array([np.inf, 1.0, 3.0])).non_finite == 1
    assert clamp_settings(
        InspectorSettings(step_index=40, channel=99, rgb=(1, 50, 2)), 16, 32
    ) == InspectorSettings(step_index=15, channel=31, rgb=(1, 31, 2))
    big = upscale_nearest(np.arange(4, dtype=np.uint8).reshape(2, 2), 5)
    np.testing.assert_array_equal(big[::3, ::3], [[0, 1], [2, 3]])
    assert big.shape == (6, 6)


# ----- render thread


def test_render_thread_latest_request_wins():
    started, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def job(n: int) -> int:
        seen.append(n)
        if n == 1:
            started.set()
            release.wait(10)
        return n * 10

    worker: RenderThread[int, int] = RenderThread(job)
    try:
        worker.submit(1)
        assert started.wait(10)
        for n in (2, 3, 4):  # arrive while 1 renders: only the newest may run next
            worker.submit(n)
        assert worker.busy
        release.set()
        assert worker.wait_idle(10)
        assert seen == [1, 4]
        assert worker.superseded == 2
        assert worker.poll() == 40  # the result of 1 was overtaken before anyone polled
        assert worker.poll() is None
    finally:
        worker.stop()


def test_render_thread_reports_failures_and_keeps_running():
    def job(n: int) -> int:
        if n < 0:
            raise LatentError("negative seeds do not exist")
        return n

    worker: RenderThread[int, int] = RenderThread(job)
    try:
        worker.submit(-1)
        assert worker.wait_idle(10)
        failure = worker.poll()
        assert isinstance(failure, JobFailure) and failure.request == -1
        assert failure.message == "negative seeds do not exist"
        worker.submit(3)
        assert worker.wait_idle(10)
        assert worker.poll() == 3
    finally:
        worker.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        worker.submit(1)


def test_rolling_series_keeps_the_last_values():
    s = RollingSeries(3)
    assert s.mean() is None and s.last() is None
    for v in (1, 2, 3, 4):
        s.append(v)
    np.testing.assert_array_equal(s.values(), [2, 3, 4])
    assert s.mean(2) == 3.5 and s.last() == 4.0


# ----- capture and hand-off


def test_capture_writes_png_and_w_without_overwriting(tmp_path, engine):
    frame = render_frame(engine, FrameRequest(ViewerState.initial(engine.num_ws, seed=3)))
    first = capture(tmp_path / "caps", "seed3", frame.image, frame.ws)
    assert first.png.name == "seed3.png" and first.w.name == "seed3.npy"
    np.testing.assert_array_equal(np.asarray(Image.open(first.png)), frame.image)
    w = np.load(first.w)
    assert w.shape == (1, engine.num_ws, 16) and w.dtype == np.float32
    np.testing.assert_array_equal(w[0], frame.ws)
    second = capture(tmp_path / "caps", "seed3", frame.image, frame.ws)
    assert second.png.name == "seed3-2.png" and second.w.name == "seed3-2.npy"
    assert sorted(p.name for p in (tmp_path / "caps").iterdir()) == [
        "seed3-2.npy",
        "seed3-2.png",
        "seed3.npy",
        "seed3.png",
    ]
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CaptureError, match="cannot write captures"):
        capture(blocker / "sub", "x", frame.image, frame.ws)
    with pytest.raises(CaptureError, match="cannot encode .* as PNG"):
        capture(tmp_path, "bad", frame.image.astype(np.float32), frame.ws)


def test_handoff_session_round_trips_the_recipe(tmp_path, engine):
    from editor.session import load_session

    n = engine.num_ws
    state = ViewerState(x=1.25, y=0.0, psi=0.7, mix_seed=8, mix_rows=rows_from([10, 11], n))
    frame = render_frame(engine, FrameRequest(state))
    path = save_handoff_session(
        tmp_path, "look", frame.recipe, engine.network.source, engine.network.fingerprint
    )
    assert path.name == "look.castmaker-session"
    data = load_session(path)
    assert data.network_source == "tiny-test-net" and data.fingerprint == engine.network.fingerprint
    assert isinstance(data.recipe, Recipe)
    np.testing.assert_array_equal(engine.evaluate(data.recipe), frame.ws)
    again = save_handoff_session(tmp_path, "look", frame.recipe, "tiny-test-net", engine.network.fingerprint)
    assert again.name == "look-2.castmaker-session"


# ----- display detection (the window-less half; the smoke test runs the real command)


def test_display_problem_reads_the_environment():
    assert "DISPLAY" in display_problem({}, "linux")
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({}, "win32") is None
