"""Network statistics outside the renderer go through public calls: Engine.w_avg() for the motion centre, and the
children grid's w covariance / band SeFa directions cached per network fingerprint in editor/variations.py
(never as attributes attached to the Engine)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import renderer.latents.directions as rdirections
from editor.motion import w_center
from editor.variations import VariationSettings, band_sefa_directions, clear_network_stats, w_covariance
from renderer.engine import Engine
from renderer.latents import Recipe, SeedSource
from renderer.network import Network
from tests.helpers.tiny import tiny_network as tiny_helper


def tiny_network(seed: int = 0) -> Network:
    return tiny_helper(f"tiny{seed}", seed)


@pytest.fixture(autouse=True)
def fresh_stats():
    clear_network_stats()
    yield
    clear_network_stats()


def test_engine_w_avg_is_a_float32_copy_and_motion_uses_it() -> None:
    net = tiny_network()
    engine = Engine(net, "cpu")
    w_avg = engine.w_avg()
    assert w_avg.dtype == np.float32 and w_avg.shape == (16,)
    np.testing.assert_array_equal(w_avg, net.G.mapping.w_avg.numpy())
    w_avg[:] = 0  # a copy: the network's buffer is untouched
    assert float(net.G.mapping.w_avg.abs().sum()) > 0
    # editor/motion.py asks the engine, never the network's tensors
    stub = SimpleNamespace(w_avg=lambda: np.arange(4, dtype=np.float32), network=SimpleNamespace())
    np.testing.assert_array_equal(w_center(stub), np.arange(4, dtype=np.float32))


def test_children_statistics_are_cached_per_fingerprint_not_on_the_engine(monkeypatch) -> None:
    from editor.ui.render_worker import JobContext
    from editor.ui.variations_panel import children_job

    calls = []
    real = rdirections.mapped_ws

    def counting(network, *args, **kwargs):
        calls.append(network.fingerprint)
        return real(network, *args, **kwargs)

    monkeypatch.setattr(rdirections, "mapped_ws", counting)
    a, b = tiny_network(0), tiny_network(1)
    cov = w_covariance(a, 300)
    np.testing.assert_allclose(cov, np.cov(real(a, 300).T))
    assert w_covariance(a, 300) is cov and calls == [a.fingerprint]  # mapped once per network
    assert not np.allclose(w_covariance(b, 300), cov) and calls == [a.fingerprint, b.fingerprint]
    found = band_sefa_directions(a, 2)
    assert band_sefa_directions(a, 2) is found and len(calls) == 3
    assert set(found) == {"coarse", "middle", "fine"} and all(len(v) == 2 for v in found.values())

    engine = Engine(a, "cpu")
    before = set(vars(engine))
    ctx = JobContext(engine=engine, report=lambda _p: None, should_stop=lambda: False)
    for kind in ("jitter", "directions"):
        children, images = children_job(Recipe.plain(SeedSource(3), a.num_ws), VariationSettings(1, 2, kind=kind))(ctx)
        assert len(children) == len(images) == 2
    assert set(vars(engine)) == before  # nothing attached to the Engine
