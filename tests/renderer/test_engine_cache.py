"""Prefix cache: cached renders equal uncached ones bit for bit, the budget holds, changes invalidate.

These tests drive the Engine with a small stepwise network written here against the synthesis
contract (renderer/nets/contract.py): it has tuple states, steps sharing a row (as StyleGAN2's conv +
toRGB do) and real convolutions, so the cache logic is tested apart from the real generators
(test_engine_networks.py runs the same checks on them).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from renderer.engine import Engine, PrefixCache
from renderer.engine.prefix_cache import prefix_digests, state_nbytes
from renderer.errors import LatentError, RenderError
from renderer.latents import Recipe, RowEdit, SeedSource, WSource
from renderer.nets.contract import SynthesisStep, first_step_reading
from renderer.nets.mapping import MappingNetwork
from renderer.network import Network

STEP_ROWS = [0, 1, 1, 2, 3, 4, 5, 5]  # 8 steps over 6 rows; rows 1 and 5 are read twice
NUM_WS, W_DIM, CH, RES = 6, 8, 4, 8


class ToySynthesis(nn.Module):
    """Stepwise synthesis: state = (features, image); each step modulates a conv by its w row."""

    def __init__(self) -> None:
        super().__init__()
        self.const = nn.Parameter(torch.randn(CH, RES, RES))
        self.affines = nn.ModuleList(nn.Linear(W_DIM, CH) for _ in STEP_ROWS)
        self.convs = nn.ModuleList(nn.Conv2d(CH, CH, 3, padding=1) for _ in STEP_ROWS)
        self.torgb = nn.Conv2d(CH, 3, 1)
        self.steps = [SynthesisStep(name=f"s{i}", row=r, size=RES, channels=CH) for i, r in enumerate(STEP_ROWS)]
        self.calls: list[tuple[int, int]] = []

    def run_steps(self, ws, state, start, stop, force_fp32=False, noise_mode="const"):
        self.calls.append((start, stop))
        if start == 0:
            assert state is None
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            img = torch.zeros(ws.shape[0], 3, RES, RES)
        else:
            x, img = state
        for i in range(start, stop):
            style = self.affines[i](ws[:, STEP_ROWS[i]])[:, :, None, None]
            x = torch.tanh(self.convs[i](x * (1 + style)))
            if STEP_ROWS[i] in (1, 5) or i == len(STEP_ROWS) - 1:
                img = img + self.torgb(x)
        return (x, img)

    def state_to_image(self, state):
        return state[1].clamp(-1.5, 1.5)

    def state_activation(self, state):
        return state[0]

    def forward(self, ws, **kw):
        return self.state_to_image(self.run_steps(ws, None, 0, len(self.steps), **kw))


class ToyGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = W_DIM, 0, W_DIM, NUM_WS
        self.img_resolution, self.img_channels = RES, 3
        self.mapping = MappingNetwork(z_dim=W_DIM, c_dim=0, w_dim=W_DIM, num_ws=NUM_WS, num_layers=2)
        self.synthesis = ToySynthesis()


def toy_network(seed: int = 0, fingerprint: str = "toy0") -> Network:
    torch.manual_seed(seed)
    G = ToyGenerator()
    return Network(G=G, kind="toy", arch={}, fingerprint=fingerprint, name="toy", source="toy")


@pytest.fixture(scope="module")
def net() -> Network:
    return toy_network()


def test_toy_contract_matches_first_step_reading(net: Network) -> None:
    engine = Engine(net, device="cpu")
    for row in range(NUM_WS + 1):
        assert engine.first_step_for_row(row) == first_step_reading(engine.steps, row)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, NUM_WS - 1), st.integers(0, 3), st.floats(-2, 2, allow_nan=False)),
        min_size=1,
        max_size=6,
    )
)
def test_cached_equals_uncached_bit_for_bit(net: Network, edits: list[tuple[int, int, float]]) -> None:
    """A sequence of random edits (first row, seed to take rows from, jitter): every cached frame == uncached."""
    cached = Engine(net, device="cpu")
    plain = Engine(net, device="cpu", cache_bytes=0)
    ws = cached.map_seed(0, psi=0.7).copy()
    first = cached.render_ws(ws)
    assert not first.cache_hit and first.start_step == 0
    for k, seed, jitter in edits:
        ws = ws.copy()
        ws[k:] = cached.map_seed(seed, psi=0.7)[k:] + np.float32(jitter)
        got = cached.render_ws(ws)
        want = plain.render_ws(ws)
        assert np.array_equal(got.image, want.image)
        assert np.array_equal(cached.render_float(ws), plain.render_float(ws))
        assert got.start_step >= cached.first_step_for_row(k)
        assert got.cache_hit == (got.start_step > 0)
        assert cached.cache.nbytes <= cached.cache.budget_bytes


def test_edit_of_late_rows_resumes_at_first_step_reading_them(net: Network) -> None:
    engine = Engine(net, device="cpu")
    ws = engine.map_seed(1).copy()
    engine.render_ws(ws)
    for k in range(1, NUM_WS):
        ws = ws.copy()
        ws[k:] += 0.25
        net.G.synthesis.calls.clear()
        result = engine.render_ws(ws)
        assert result.cache_hit
        assert result.start_step == first_step_reading(engine.steps, k)
        # only the steps from there on ran, one at a time
        assert net.G.synthesis.calls[0][0] == result.start_step
        assert net.G.synthesis.calls[-1][1] == len(STEP_ROWS)
    # the same w again needs no step at all
    again = engine.render_ws(ws)
    assert again.start_step == len(STEP_ROWS) and again.cache_hit


def test_edit_of_row_zero_misses(net: Network) -> None:
    engine = Engine(net, device="cpu")
    ws = engine.map_seed(2).copy()
    engine.render_ws(ws)
    ws[0] += 1
    result = engine.render_ws(ws)
    assert result.start_step == 0 and not result.cache_hit


def test_recipe_render_uses_cache_and_matches(net: Network) -> None:
    engine = Engine(net, device="cpu")
    recipe = Recipe.plain(SeedSource(3, psi=0.6), NUM_WS)
    engine.render(recipe)
    edited = recipe.with_rows(range(4, NUM_WS), RowEdit(SeedSource(9, psi=0.6), mode="blend", weight=0.3))
    got = engine.render(edited)
    assert got.cache_hit and got.start_step == first_step_reading(engine.steps, 4)
    assert np.array_equal(got.image, Engine(net, device="cpu", cache_bytes=0).render(edited).image)


def test_lru_budget_respected_and_recent_kept() -> None:
    cache = PrefixCache(budget_bytes=3 * 400)
    t = [torch.zeros(100) for _ in range(5)]  # 400 bytes each
    for i, x in enumerate(t):
        assert cache.put(("k", i), x)
        assert cache.nbytes <= cache.budget_bytes
        if i == 2:
            assert cache.get(("k", 0)) is t[0]  # touch: 0 becomes most recent
    assert len(cache) == 3
    assert ("k", 0) in cache and ("k", 1) not in cache and ("k", 2) not in cache
    assert cache.get(("k", 4)) is t[4]
    assert not cache.put("huge", torch.zeros(1000))  # larger than the whole budget: refused, nothing evicted
    assert len(cache) == 3 and cache.stats.too_large == 1
    cache.set_budget(400)
    assert len(cache) == 1 and cache.nbytes == 400
    assert state_nbytes((torch.zeros(2, 3), [torch.zeros(4, dtype=torch.float16)])) == 24 + 8


def test_engine_cache_stays_within_budget(net: Network) -> None:
    engine = Engine(net, device="cpu")
    one_state = state_nbytes((torch.zeros(1, CH, RES, RES), torch.zeros(1, 3, RES, RES)))
    engine.cache.set_budget(5 * one_state)
    ws = engine.map_seed(4).copy()
    for i in range(6):
        ws = ws.copy()
        ws[i % NUM_WS] += 0.1
        engine.render_ws(ws)
        assert engine.cache.nbytes <= 5 * one_state
    assert engine.cache.stats.evictions > 0


def test_tight_budget_keeps_the_earliest_prefixes(net: Network) -> None:
    engine = Engine(net, device="cpu")
    one_state = state_nbytes((torch.zeros(1, CH, RES, RES), torch.zeros(1, 3, RES, RES)))
    engine.cache.set_budget(3 * one_state)
    ws = engine.map_seed(7).copy()
    engine.render_ws(ws)
    assert len(engine.cache) == 3
    ws[NUM_WS - 1] += 1  # an edit of the last row resumes from the latest prefix that survived: step 3
    assert engine.render_ws(ws).start_step == 3


def test_prefix_digests_depend_only_on_prefix() -> None:
    a = np.random.RandomState(0).randn(NUM_WS, W_DIM).astype(np.float32)
    b = a.copy()
    b[3] += 1
    da, db = prefix_digests(a), prefix_digests(b)
    assert da[:4] == db[:4]
    assert all(x != y for x, y in zip(da[4:], db[4:], strict=True))


def test_network_change_invalidates(net: Network) -> None:
    other = toy_network(seed=5, fingerprint="toy5")
    engine = Engine(net, device="cpu")
    ws = engine.map_seed(0).copy()
    engine.render_ws(ws)
    engine.set_network(other)
    assert len(engine.cache) == 0
    result = engine.render_ws(ws)
    assert not result.cache_hit
    assert np.array_equal(result.image, Engine(other, device="cpu", cache_bytes=0).render_ws(ws).image)


def test_same_fingerprint_different_context_never_shares(net: Network) -> None:
    engine = Engine(net, device="cpu")
    ws = engine.map_seed(0).copy()
    engine.render_ws(ws)
    engine.set_device("cpu")  # re-installing drops the cache even on the same device
    assert len(engine.cache) == 0
    engine.render_ws(ws)
    engine.set_fp16(None)
    assert len(engine.cache) == 0


def test_activations_shape_and_value(net: Network) -> None:
    engine = Engine(net, device="cpu")
    ws = engine.map_seed(6).copy()
    for step in (0, 3, len(STEP_ROWS) - 1):
        act = engine.activations(ws, step)
        assert act.dtype == np.float32 and act.shape == (CH, RES, RES)
        with torch.no_grad():
            ref = net.G.synthesis.run_steps(torch.from_numpy(ws[None]), None, 0, step + 1)[0][0].numpy()
        assert np.array_equal(act, ref)
    with pytest.raises(RenderError, match="out of range"):
        engine.activations(ws, len(STEP_ROWS))


def test_bad_w_shape_is_a_latent_error(net: Network) -> None:
    engine = Engine(net, device="cpu")
    with pytest.raises(LatentError, match=r"needs \[6, 8\]"):
        engine.render_ws(np.zeros((5, W_DIM), np.float32))
    with pytest.raises(LatentError):
        engine.render(Recipe.plain(WSource(np.zeros((6, 7), np.float32), "bad"), NUM_WS))


def test_fp16_off_cuda_is_refused(net: Network) -> None:
    with pytest.raises(RenderError, match="CUDA"):
        Engine(net, device="cpu", fp16=True)
    with pytest.raises(RenderError, match="CUDA"):
        Engine(net, device="cpu", cuda_graphs=True)


def test_device_choice_is_explicit(net: Network) -> None:
    engine = Engine(net, device="auto")
    assert engine.device.type in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RenderError, match="no CUDA"):
            Engine(net, device="cuda")
    with pytest.raises(RenderError, match="unknown device"):
        Engine(net, device="tpu")


def test_thumbnails_in_order_with_timing(net: Network) -> None:
    engine = Engine(net, device="cpu")
    sources = [SeedSource(s) for s in range(5)]
    thumbs = engine.render_thumbnails(sources, batch_size=2, mode="batched")
    assert engine.last_thumbnail_ms > 0
    for src, thumb in zip(sources, thumbs, strict=True):
        single = engine.render(Recipe.plain(src, NUM_WS)).image
        assert np.abs(thumb.astype(int) - single.astype(int)).max() <= 1
    with pytest.raises(ValueError, match="thumbnail mode"):
        engine.render_thumbnails(sources, mode="sideways")


def test_thumbnail_strategy_prefers_batches_on_a_near_tie() -> None:
    from renderer.engine.thumbnail_strategy import ThumbnailStrategy

    assert ThumbnailStrategy().decide(batched_ms_per_image=10.0, single_ms_per_image=9.0) == "batched"
    assert ThumbnailStrategy().decide(batched_ms_per_image=10.0, single_ms_per_image=5.0) == "single"
    fixed = ThumbnailStrategy("single")
    fixed.reset()
    assert fixed.chosen == "single"
    with pytest.raises(ValueError):
        ThumbnailStrategy("sometimes")
