"""Projection on tiny networks: convergence in W and W+, cancel, stabilise, determinism, files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderer.engine import Engine
from renderer.errors import ProjectionError
from renderer.latents import load_w
from renderer.nets import build_generator
from renderer.network import Network
from renderer.projector import ProjectionConfig, project
from renderer.projector.outputs import write_projection
from renderer.projector.projector import learning_rate, psnr_db
from renderer.projector.wstats import w_stats

TINY = {
    "stylegan3": dict(
        z_dim=16,
        w_dim=16,
        c_dim=0,
        img_resolution=16,
        img_channels=3,
        channel_base=256,
        channel_max=16,
        num_layers=4,
        margin_size=4,
        mapping_kwargs=dict(num_layers=2),
    ),
    "stylegan2": dict(
        z_dim=16,
        w_dim=16,
        c_dim=0,
        img_resolution=16,
        img_channels=3,
        mapping_kwargs=dict(num_layers=2),
        synthesis_kwargs=dict(channel_base=256, channel_max=16),
    ),
}


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_network(arch: str = "stylegan3", seed: int = 0) -> Network:
    torch.manual_seed(seed)
    G = build_generator(arch, TINY[arch])
    kind = "stylegan3-t" if arch == "stylegan3" else "stylegan2"
    return Network(
        G=G,
        kind=kind,
        arch={"arch": arch},
        fingerprint=f"tiny-{arch}-{seed}",
        name=f"tiny {arch}",
        source="test",
    )


@pytest.fixture(scope="module")
def sg3() -> Engine:
    return Engine(tiny_network("stylegan3"), "cpu")


@pytest.fixture(scope="module")
def sg2() -> Engine:
    return Engine(tiny_network("stylegan2"), "cpu")


def rendered_target(engine: Engine, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    w = engine.map_seed(seed, psi=1.0)
    return engine.render_ws(w).image, w


def start_psnr(engine: Engine, target: np.ndarray) -> float:
    stats = w_stats(engine.network, engine.device, samples=1000)
    ws = np.repeat(stats.w_avg[None], engine.num_ws, axis=0)
    img = engine.render_ws(ws).image.astype(np.float64)
    return 10 * np.log10(255.0**2 / np.mean((img - target.astype(np.float64)) ** 2))


@pytest.mark.parametrize("space", ["w", "wplus"])
def test_projection_improves_far_beyond_the_start(sg3: Engine, space: str) -> None:
    target, _ = rendered_target(sg3)
    before = start_psnr(sg3, target)
    result = project(sg3, target, ProjectionConfig(steps=40, space=space, loss="pixel", w_avg_samples=1000))
    assert result.w.shape == (sg3.num_ws, sg3.network.w_dim) and result.w.dtype == np.float32
    assert result.best_psnr > before + 6.0, (before, result.best_psnr)
    # the reported image is the rendering of the returned w, and its PSNR is the one reported
    again = sg3.render_ws(result.w).image
    assert np.array_equal(again, result.image)
    mse = np.mean((again.astype(np.float64) - target) ** 2)
    assert 10 * np.log10(255.0**2 / mse) == pytest.approx(result.best_psnr, abs=1e-6)
    if space == "w":
        assert np.array_equal(result.w, np.repeat(result.w[:1], sg3.num_ws, axis=0))
    else:
        assert not np.allclose(result.w[0], result.w[-1])
    assert len(result.log) == 41 and result.loss_name == "pixel"


def test_same_seed_same_w_and_other_seed_differs(sg3: Engine) -> None:
    target, _ = rendered_target(sg3, seed=4)
    cfg = dict(steps=6, loss="pixel", w_avg_samples=1000)
    a = project(sg3, target, ProjectionConfig(seed=1, **cfg))
    b = project(sg3, target, ProjectionConfig(seed=1, **cfg))
    c = project(sg3, target, ProjectionConfig(seed=2, **cfg))
    assert np.array_equal(a.w, b.w)
    assert not np.array_equal(a.w, c.w)


def test_cancel_stops_within_one_step_and_returns_best_so_far(sg3: Engine) -> None:
    target, _ = rendered_target(sg3)
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) > 4  # four steps run, the fifth poll cancels

    seen = []
    result = project(
        sg3,
        target,
        ProjectionConfig(steps=50, loss="pixel", w_avg_samples=1000),
        progress=seen.append,
        should_stop=should_stop,
    )
    assert result.stopped_early
    assert len(polls) == 5 and len(seen) == 4 and len(result.log) == 4
    best = min(result.log, key=lambda r: r[1])
    assert result.best_step == best[0] and result.best_psnr == pytest.approx(best[2])
    assert np.isfinite(result.w).all()
    assert np.array_equal(sg3.render_ws(result.w).image, result.image)


def test_cancel_before_the_first_step_returns_the_start(sg3: Engine) -> None:
    target, _ = rendered_target(sg3)
    result = project(
        sg3, target, ProjectionConfig(steps=10, w_avg_samples=1000, loss="pixel"), should_stop=lambda: True
    )
    stats = w_stats(sg3.network, sg3.device, samples=1000)
    assert result.stopped_early and result.log == []
    assert np.array_equal(result.w, np.repeat(stats.w_avg[None], sg3.num_ws, axis=0))
    assert result.image is not None


def test_progress_reports_every_step_and_w_every_preview(sg3: Engine) -> None:
    target, _ = rendered_target(sg3)
    seen = []
    project(
        sg3,
        target,
        ProjectionConfig(steps=7, preview_every=3, loss="pixel", w_avg_samples=1000),
        progress=seen.append,
    )
    assert [p.step for p in seen] == list(range(1, 8))
    assert [p.w is not None for p in seen] == [False, False, True, False, False, True, True]
    assert seen[2].w.shape == (sg3.num_ws, sg3.network.w_dim)


@pytest.mark.parametrize("space", ["w", "wplus"])
def test_stabilized_projection_pins_row0_and_rerenders_identically(sg3: Engine, space: str) -> None:
    target, _ = rendered_target(sg3, seed=5)
    stats = w_stats(sg3.network, sg3.device, samples=1000)
    result = project(
        sg3, target, ProjectionConfig(steps=8, space=space, stabilize=True, loss="pixel", w_avg_samples=1000)
    )
    assert np.array_equal(result.w[0], stats.w_avg)
    assert not np.allclose(result.w[1], stats.w_avg)
    # the written w renders the same picture on the unmodified network
    assert np.array_equal(sg3.render_ws(result.w).image, result.image)


def test_pinning_row0_equals_folding_the_input_affine(sg3: Engine) -> None:
    """The stylegan3-fun way (affine(w_avg) folded into a frozen bias) and ours give the same image."""
    import copy

    G = sg3.G
    w_avg = torch.from_numpy(w_stats(sg3.network, sg3.device, samples=1000).w_avg)
    folded = copy.deepcopy(G)
    affine = folded.synthesis.input.affine
    with torch.no_grad():
        t = affine(w_avg[None])[0]
        affine.weight.zero_()
        affine.bias.copy_(t / affine.bias_gain)
    ws = torch.randn(2, sg3.num_ws, sg3.network.w_dim)
    pinned = ws.clone()
    pinned[:, 0] = w_avg
    with torch.no_grad():
        a = folded.synthesis(ws, noise_mode="const")
        b = G.synthesis(pinned, noise_mode="const")
    torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_stabilize_is_refused_for_stylegan2(sg2: Engine) -> None:
    target, _ = rendered_target(sg2)
    with pytest.raises(ProjectionError, match="StyleGAN3"):
        project(sg2, target, ProjectionConfig(steps=2, stabilize=True, w_avg_samples=1000))


def test_stylegan2_projects_in_w_and_wplus_with_the_networks_noise_untouched(sg2: Engine) -> None:
    target, _ = rendered_target(sg2)
    noise_before = {k: v.clone() for k, v in sg2.G.synthesis.named_buffers() if k.endswith("noise_const")}
    for space in ("w", "wplus"):
        result = project(
            sg2, target, ProjectionConfig(steps=20, space=space, loss="pixel", w_avg_samples=1000)
        )
        assert result.best_psnr > result.log[0][2] + 1.0
        assert np.array_equal(sg2.render_ws(result.w).image, result.image)
    for k, v in sg2.G.synthesis.named_buffers():
        if k.endswith("noise_const"):
            assert torch.equal(v, noise_before[k])


def test_optimize_noise_fits_noise_maps_on_a_private_copy(sg2: Engine) -> None:
    target, _ = rendered_target(sg2)
    before = {k: v.clone() for k, v in sg2.G.synthesis.named_buffers() if k.endswith("noise_const")}
    result = project(
        sg2, target, ProjectionConfig(steps=5, optimize_noise=True, loss="pixel", w_avg_samples=1000)
    )
    assert result.noise is not None and set(result.noise) == set(before)
    for k, v in result.noise.items():
        assert v.shape == tuple(before[k].shape)
        assert abs(float(v.mean())) < 1e-4 and abs(float(v.std()) - 1) < 0.1  # re-normalised every step
    for k, v in sg2.G.synthesis.named_buffers():
        if k.endswith("noise_const"):
            assert torch.equal(v, before[k])  # the shared network is untouched


def test_optimize_noise_refused_without_noise_inputs(sg3: Engine) -> None:
    target, _ = rendered_target(sg3)
    with pytest.raises(ProjectionError, match="no noise inputs"):
        project(sg3, target, ProjectionConfig(steps=2, optimize_noise=True, w_avg_samples=1000))


def test_written_w_round_trips_through_load_w(sg3: Engine, tmp_path) -> None:
    target, _ = rendered_target(sg3)
    result = project(
        sg3,
        target,
        ProjectionConfig(steps=3, space="wplus", loss="pixel", w_avg_samples=1000, keep_frames=True),
    )
    written = write_projection(tmp_path, target, result, save_video=True)
    for name in ("projected_w.npz", "projected_w.npy"):
        assert np.array_equal(load_w(written[name], sg3.num_ws, sg3.network.w_dim), result.w)
    with np.load(written["projected_w.npz"]) as data:
        assert data["w"].shape == (1, sg3.num_ws, sg3.network.w_dim) and data["w"].dtype == np.float32
    assert np.load(written["projected_w.npy"]).shape == (1, sg3.num_ws, sg3.network.w_dim)
    lines = written["log.csv"].read_text().splitlines()
    assert lines[0] == "step,loss,psnr" and len(lines) == 1 + len(result.log)
    anim = [n for n in written if n in ("proj.webp", "proj.gif")]
    assert len(anim) == 1
    from PIL import Image

    with Image.open(written[anim[0]]) as im:
        assert getattr(im, "n_frames", 1) == len(result.frames) and im.size == (32, 16)
    # a second run keeps the first one's files as .bak
    write_projection(tmp_path, target, result)
    assert (tmp_path / "projected_w.bak.npz").is_file()
    assert not list(tmp_path.glob(".*.tmp"))


def test_bad_config_and_bad_target_are_refused(sg3: Engine) -> None:
    target, _ = rendered_target(sg3)
    with pytest.raises(ProjectionError, match="steps"):
        project(sg3, target, ProjectionConfig(steps=0))
    with pytest.raises(ProjectionError, match="space"):
        project(sg3, target, ProjectionConfig(space="z"))
    with pytest.raises(ProjectionError, match="uint8"):
        project(sg3, target[:8], ProjectionConfig(steps=1))
    with pytest.raises(ProjectionError, match="lpips"):
        project(sg3, target, ProjectionConfig(steps=1, loss="lpips"))
    with pytest.raises(ProjectionError, match="discriminator"):
        project(sg3, target, ProjectionConfig(steps=1, loss="disc"))


def test_learning_rate_schedule_and_psnr() -> None:
    cfg = ProjectionConfig(lr=0.1)
    assert learning_rate(cfg, 0.0) == 0.0
    assert learning_rate(cfg, 0.5) == pytest.approx(0.1)
    assert learning_rate(cfg, 0.999) < 0.001
    t = torch.zeros(1, 3, 4, 4) + 128
    assert psnr_db(torch.zeros(1, 3, 4, 4), t) == float("inf")
    assert psnr_db(torch.full((1, 3, 4, 4), 1 / 127.5), t) == pytest.approx(10 * np.log10(255**2))
    assert psnr_db(torch.full((1, 3, 4, 4), 0.5 / 127.5), t) == float("inf")  # quantised like the PNG


def test_w_stats_samples_instead_of_trusting_the_buffer() -> None:
    net = tiny_network("stylegan3", seed=1)
    net.G.mapping.w_avg.fill_(100.0)  # a stale / wrong stored buffer
    stats = w_stats(net, torch.device("cpu"), samples=500)
    with torch.no_grad():
        ws = net.G.mapping(
            torch.from_numpy(np.random.RandomState(123).randn(500, 16).astype(np.float32)), None
        )
    np.testing.assert_allclose(stats.w_avg, ws[:, 0].mean(0).numpy(), rtol=1e-5, atol=1e-5)
    assert stats.buffer_gap > 1 and stats.w_std > 0
