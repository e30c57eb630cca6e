"""The Engine on the real generators (official fixture weights): cache exactness, thumbnails, invalidation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file
from torch.utils.flop_counter import FlopCounterMode

from renderer.engine import Engine
from renderer.engine.bench import step_flops
from renderer.engine.images import to_uint8
from renderer.nets import build_generator, generator_kind
from renderer.nets.contract import first_step_reading
from renderer.network import Network

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "official"


def fixture_network(name: str) -> Network:
    info = json.loads((OFFICIAL / name / "init.json").read_text())
    arch = "stylegan3" if info["module_name"].endswith("stylegan3") else "stylegan2"
    pytest.importorskip(f"renderer.nets.{arch}", reason=f"renderer/nets/{arch}.py has not landed yet")
    G = build_generator(arch, info["init_kwargs"])
    G.load_state_dict(load_file(str(OFFICIAL / name / "weights.safetensors")), strict=True)
    return Network(
        G=G,
        kind=generator_kind(arch, info["init_kwargs"]),
        arch={"arch": arch, "init_kwargs": info["init_kwargs"]},
        fingerprint=f"fixture:{name}",
        name=name,
        source=str(OFFICIAL / name),
    )


NETS = ["stylegan3-t-64", "stylegan2-ada-64"]


@pytest.fixture(scope="module", params=NETS)
def net(request: pytest.FixtureRequest) -> Network:
    return fixture_network(request.param)


@pytest.fixture(scope="module")
def sg3() -> Network:
    return fixture_network("stylegan3-t-64")


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(k=st.integers(1, 15), seed=st.integers(0, 2**16), blend=st.floats(0.05, 1.0))
def test_cached_edit_equals_uncached_bit_for_bit(net: Network, k: int, seed: int, blend: float) -> None:
    k = k % net.num_ws or 1
    cached = Engine(net, device="cpu")
    base = cached.map_seed(seed, psi=0.7)
    cached.render_ws(base)
    ws = base.copy()
    ws[k:] = base[k:] + np.float32(blend) * (cached.map_seed(seed + 1, psi=0.7)[k:] - base[k:])
    got = cached.render_ws(ws)
    assert got.cache_hit and got.start_step == first_step_reading(cached.steps, k)
    with torch.no_grad():
        direct = net.G.synthesis(torch.from_numpy(ws[None]), noise_mode="const", force_fp32=True)
    assert np.array_equal(cached.render_float(ws), direct[0].numpy())
    assert np.array_equal(got.image, to_uint8(direct)[0])


def test_thumbnails_equal_single_renders(net: Network) -> None:
    engine = Engine(net, device="cpu")
    ws = [engine.map_seed(s, psi=0.8) for s in range(2)]
    batched = engine.render_thumbnails(ws, batch_size=2, mode="batched")
    single = engine.render_thumbnails(ws, mode="single")
    with torch.no_grad():
        batch_float = engine.synthesize(torch.from_numpy(np.stack(ws))).numpy()
    for i, w in enumerate(ws):
        render = engine.render_ws(w)
        assert np.array_equal(single[i], render.image)  # same code path: identical bytes
        assert np.abs(batch_float[i] - engine.render_float(w)).max() <= 1e-4
        assert np.abs(batched[i].astype(int) - render.image.astype(int)).max() <= 1  # uint8 rounding only


def test_auto_thumbnail_strategy_decides_and_keeps_order(sg3: Network) -> None:
    engine = Engine(sg3, device="cpu")
    ws = [engine.map_seed(s) for s in range(6)]
    thumbs = engine.render_thumbnails(ws, batch_size=2)
    assert engine.thumbnail_strategy.chosen in ("batched", "single")
    assert engine.thumbnail_strategy.probe_batched_ms is not None
    for w, t in zip(ws, thumbs, strict=True):
        assert np.abs(t.astype(int) - engine.render_ws(w).image.astype(int)).max() <= 1


def test_in_place_weight_change_invalidates(sg3: Network) -> None:
    from renderer.nets.stylegan3 import set_input_transform

    engine = Engine(sg3, device="cpu")
    ws = engine.map_seed(3)
    before = engine.render_ws(ws)
    try:
        set_input_transform(sg3.G, translate=(0.2, 0.0))
        after = engine.render_ws(ws)
        assert not after.cache_hit
        assert not np.array_equal(after.image, before.image)
        assert np.array_equal(after.image, Engine(sg3, device="cpu", cache_bytes=0).render_ws(ws).image)
    finally:
        set_input_transform(sg3.G)


def test_activations_follow_steps(sg3: Network) -> None:
    engine = Engine(sg3, device="cpu")
    ws = engine.map_seed(1)
    for i in (0, 5, engine.num_steps - 1):
        act = engine.activations(ws, i)
        assert act.dtype == np.float32 and act.ndim == 3
        assert act.shape[0] == engine.steps[i].channels


@pytest.mark.cuda
def test_cuda_fp16_close_to_cpu(sg3: Network) -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU; this machine has none")
    cpu = Engine(sg3, device="cpu")
    gpu = Engine(sg3, device="cuda")
    assert gpu.options.fp16
    ws = cpu.map_seed(0)
    diff = np.abs(cpu.render_float(ws) - gpu.render_float(ws)).max()
    assert diff < 0.05  # fp16 layers, as the official networks run on GPU
    a, b = gpu.render_ws(ws), gpu.render_ws(ws)
    assert b.cache_hit and np.array_equal(a.image, b.image)


@pytest.mark.parametrize("name", ["stylegan3-t-64", "stylegan3-r-64", "stylegan2-ada-64"])
def test_cpu_float32_maps_stay_channels_last(name: str) -> None:
    """The CPU fast path: every float32 feature map between steps is channels-last (oneDNN's fast
    layout); a network whose float16 blocks run on the CPU (stylegan2-ada) keeps the official layout."""
    network = fixture_network(name)
    syn = network.G.synthesis
    ws = network.G.mapping(torch.randn(1, network.G.z_dim), None)
    fp16_on_cpu = getattr(syn, "fp16_on_cpu", False)
    with torch.no_grad():
        state = None
        for i in range(1, len(syn.steps)):
            state = syn.run_steps(ws, state, i - 1, i)
            x = syn.state_activation(state)
            if x.dtype == torch.float32 and min(x.shape[2:]) > 1 and x.shape[1] > 1:
                assert x.is_contiguous(memory_format=torch.channels_last) != fp16_on_cpu, (i, syn.steps[i - 1])
            if isinstance(state, tuple) and state[1] is not None:  # StyleGAN2's RGB skip image
                assert state[1].is_contiguous(memory_format=torch.channels_last) != fp16_on_cpu, (i, "img")
        for force_fp32 in (False, True):  # channels-last or not, the image is an ordinary NCHW tensor
            img = syn(ws, force_fp32=force_fp32)
            assert img.is_contiguous()


def test_bench_counts_each_steps_flops(sg3: Network) -> None:
    """The bench's work shares rest on per-step FLOP counts: a StyleGAN3 layer step does at least its
    modulated 3x3 convolution's 2*Cin*Cout*9*H*W, and the steps add up to the whole synthesis."""
    engine = Engine(sg3, device="cpu")
    ws = engine.map_seed(0, psi=0.7)
    flops = step_flops(engine, ws)
    assert flops is not None and len(flops) == engine.num_steps and all(f > 0 for f in flops)
    layer = getattr(engine.G.synthesis, engine.G.synthesis.layer_names[0])
    side = int(layer.in_size[0]) + layer.conv_kernel - 1
    assert flops[1] >= 2 * layer.in_channels * layer.out_channels * layer.conv_kernel**2 * side * side
    with FlopCounterMode(display=False) as whole, torch.no_grad():
        engine.G.synthesis(torch.from_numpy(ws[None]), noise_mode="const")
    assert sum(flops) == whole.get_total_flops()
