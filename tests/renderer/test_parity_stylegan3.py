"""The clean-room StyleGAN3 generator against outputs of NVIDIA's official code (tests/data/official).

Tolerances: ws 1e-5, images and activations 1e-4 max-abs (float32; the official code itself moves by
~3e-7 between thread counts). Filter buffers designed by our constructor must equal the stored ones.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from renderer.errors import NetworkLoadError
from renderer.nets import build_generator, generator_kind
from renderer.nets.stylegan3 import Generator, SynthesisLayer, set_input_transform

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "official"
SG3_FIXTURES = ["stylegan3-t-64", "stylegan3-r-64", "stylegan3-t-128"]
WS_TOL = 1e-5
IMG_TOL = 1e-4
TRUNCATIONS = [("psi100", 1.0, None), ("psi070", 0.7, None), ("psi050_cut8", 0.5, 8)]


class Fixture:
    def __init__(self, name: str) -> None:
        folder = OFFICIAL / name
        self.name = name
        self.init = json.loads((folder / "init.json").read_text())
        self.weights = load_file(str(folder / "weights.safetensors"))
        self.cases = dict(np.load(folder / "cases.npz"))
        torch.manual_seed(0)
        self.fresh = Generator(**self.init["init_kwargs"]).eval()
        self.fresh_state = {k: v.clone() for k, v in self.fresh.state_dict().items()}
        self.G = Generator(**self.init["init_kwargs"]).eval().requires_grad_(False)
        self.G.load_state_dict(self.weights, strict=True)


@pytest.fixture(scope="module", params=SG3_FIXTURES)
def fx(request: pytest.FixtureRequest) -> Fixture:
    torch.set_num_threads(2)
    return Fixture(request.param)


def _maxdiff(a: torch.Tensor | np.ndarray, b: np.ndarray) -> float:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


def test_state_dict_names_shapes_and_order(fx: Fixture) -> None:
    ours = [(k, list(v.shape)) for k, v in fx.fresh.state_dict().items()]
    official = [(e["key"], list(e["shape"])) for e in fx.init["state_dict"]]
    assert ours == official


def test_attributes(fx: Fixture) -> None:
    G = fx.G
    for attr in ("z_dim", "c_dim", "w_dim", "num_ws", "img_resolution", "img_channels"):
        assert getattr(G, attr) == fx.init[attr], attr
    assert G.mapping.w_avg.shape == (G.w_dim,)
    assert G.synthesis.layer_names == [row["name"] for row in fx.init["layers"][1:]]


def test_layer_geometry_matches_official(fx: Fixture) -> None:
    keys = [
        "in_channels", "out_channels", "in_size", "out_size", "up_factor", "down_factor", "up_taps",
        "down_taps", "down_radial", "is_critically_sampled", "is_torgb", "padding", "conv_kernel",
        "in_sampling_rate", "out_sampling_rate", "tmp_sampling_rate", "use_fp16",
    ]  # fmt: skip
    for row in fx.init["layers"][1:]:
        layer = getattr(fx.G.synthesis, row["name"])
        assert isinstance(layer, SynthesisLayer)
        for key in keys:
            ours = getattr(layer, key)
            ours = ours.tolist() if isinstance(ours, np.ndarray) else ours
            assert ours == row[key], f"{row['name']}.{key}: {ours} != {row[key]}"
        for key in ("in_cutoff", "out_cutoff", "in_half_width", "out_half_width"):
            assert math.isclose(getattr(layer, key), row[key], rel_tol=1e-12), f"{row['name']}.{key}"
    inp = fx.init["layers"][0]
    assert fx.G.synthesis.input.channels == inp["channels"]
    assert fx.G.synthesis.input.size.tolist() == inp["size"]


def test_designed_filters_equal_official(fx: Fixture) -> None:
    """A freshly constructed network designs the same up/down filters the official one stored."""
    names = [k for k in fx.weights if k.endswith("_filter")]
    assert names, "fixture has no filter buffers"
    for key in names:
        ours = fx.fresh_state[key].numpy()
        ref = fx.weights[key].numpy()
        assert ours.shape == ref.shape, key
        assert np.abs(ours - ref).max() <= 1e-7, f"{key}: {np.abs(ours - ref).max()}"
    radial = [k for k in names if fx.weights[k].ndim == 2]
    if fx.name == "stylegan3-r-64":
        assert radial, "the R config must have radial (2-D) down filters"


@torch.no_grad()
def test_mapping_parity(fx: Fixture) -> None:
    z = torch.from_numpy(fx.cases["z"])
    for tag, psi, cutoff in TRUNCATIONS:
        ws = fx.G.mapping(z, None, truncation_psi=psi, truncation_cutoff=cutoff)
        assert _maxdiff(ws, fx.cases[f"ws_{tag}"]) < WS_TOL, tag


@torch.no_grad()
def test_image_parity_batch1(fx: Fixture) -> None:
    """One image per call, as the official fixtures were made (seed 0 of each case, and the mix)."""
    for tag, _psi, _cut in TRUNCATIONS:
        ws = torch.from_numpy(fx.cases[f"ws_{tag}"][:1])
        img = fx.G.synthesis(ws, noise_mode="const", force_fp32=True)
        assert img.dtype == torch.float32
        assert _maxdiff(img, fx.cases[f"img_{tag}"][:1]) < IMG_TOL, tag
    img = fx.G.synthesis(torch.from_numpy(fx.cases["ws_mix"]), noise_mode="const", force_fp32=True)
    assert _maxdiff(img, fx.cases["img_mix"]) < IMG_TOL


@torch.no_grad()
def test_image_parity_batched(fx: Fixture) -> None:
    """A batch (the thumbnail path) gives each sample its official image (seeds 1, 2, 1 of the cases)."""
    picks = [(tag, 1 + i % 2) for i, (tag, _, _) in enumerate(TRUNCATIONS)]
    ws = torch.from_numpy(np.stack([fx.cases[f"ws_{tag}"][i] for tag, i in picks]))
    img = fx.G.synthesis(ws, noise_mode="const", force_fp32=True)
    ref = np.stack([fx.cases[f"img_{tag}"][i] for tag, i in picks])
    assert _maxdiff(img, ref) < IMG_TOL


@torch.no_grad()
def test_generator_call_surface(fx: Fixture) -> None:
    z = torch.from_numpy(fx.cases["z"][:1])
    img = fx.G(z, None, truncation_psi=0.5, truncation_cutoff=8, noise_mode="const", force_fp32=True)
    assert _maxdiff(img, fx.cases["img_psi050_cut8"][:1]) < IMG_TOL


@torch.no_grad()
def test_activation_parity(fx: Fixture) -> None:
    acts = {k[len("act_") :]: v for k, v in fx.cases.items() if k.startswith("act_")}
    if fx.name != "stylegan3-t-128":
        assert acts, "fixture should hold activations"
    syn = fx.G.synthesis
    ws = torch.from_numpy(fx.cases["ws_psi100"][0:1])
    state = None
    seen = set()
    for i, step in enumerate(syn.steps):
        state = syn.run_steps(ws, state, i, i + 1)
        act = syn.state_activation(state)
        assert list(act.shape[1:]) == [step.channels, step.size, step.size]
        if step.name in acts:
            assert _maxdiff(act, acts[step.name]) < IMG_TOL, step.name
            seen.add(step.name)
    assert seen == set(acts)


@torch.no_grad()
def test_steps_describe_rows_and_geometry(fx: Fixture) -> None:
    steps = fx.G.synthesis.steps
    assert [s.name for s in steps] == ["input"] + fx.G.synthesis.layer_names
    assert [s.row for s in steps] == list(range(fx.G.num_ws))
    assert steps[-1].size == fx.G.img_resolution and steps[-1].channels == fx.G.img_channels


@torch.no_grad()
def test_stepwise_split_is_bit_identical(fx: Fixture) -> None:
    syn = fx.G.synthesis
    ws = torch.from_numpy(fx.cases["ws_psi100"][:1])
    full = syn(ws, noise_mode="const", force_fp32=True)
    n = len(syn.steps)
    for k in [1, n // 2, n - 1]:
        state = syn.run_steps(ws, None, 0, k, force_fp32=True)
        state = syn.run_steps(ws, state, k, n, force_fp32=True)
        assert torch.equal(syn.state_to_image(state), full), f"split at {k}"


@torch.no_grad()
def test_input_transform_helper_reproduces_fixture_transform(fx: Fixture) -> None:
    """The fixture stores the inverse of a rotation+translation; recover it and rebuild it."""
    stored = fx.weights["synthesis.input.transform"].numpy().astype(np.float64)
    m = np.linalg.inv(stored)
    angle = math.degrees(math.atan2(m[0, 1], m[0, 0]))
    G = Generator(**fx.init["init_kwargs"])
    set_input_transform(G, translate=(m[0, 2], m[1, 2]), rotate_deg=angle)
    assert np.abs(G.synthesis.input.transform.numpy() - stored).max() < 1e-6
    assert abs(angle) > 0.1  # the fixture's transform is not the identity


def test_input_transform_helper_matrix() -> None:
    G = build_generator("stylegan3", json.loads((OFFICIAL / "stylegan3-t-64" / "init.json").read_text())["init_kwargs"])
    set_input_transform(G)
    assert torch.equal(G.synthesis.input.transform, torch.eye(3))
    set_input_transform(G.synthesis, translate=(0.25, -0.1), rotate_deg=30.0)
    t = G.synthesis.input.transform.double().numpy()
    a = math.radians(30.0)
    forward = np.array([[math.cos(a), math.sin(a), 0.25], [-math.sin(a), math.cos(a), -0.1], [0, 0, 1]])
    assert np.abs(t @ forward - np.eye(3)).max() < 1e-6
    with pytest.raises(NetworkLoadError):
        set_input_transform(torch.nn.Linear(2, 2))


@torch.no_grad()
def test_input_translation_moves_the_image() -> None:
    """Translating by k output pixels (k / resolution) shifts a StyleGAN3-T image by about k pixels."""
    fx = Fixture("stylegan3-t-64")
    G, res, k = fx.G, fx.G.img_resolution, 4
    ws = torch.from_numpy(fx.cases["ws_psi070"][:1])
    set_input_transform(G, translate=(0.0, 0.0))
    base = G.synthesis(ws)[0]
    set_input_transform(G, translate=(k / res, 0.0))
    moved = G.synthesis(ws)[0]
    inner = slice(12, res - 12)
    shifted = torch.roll(base, shifts=k, dims=2)
    err_shift = (moved[:, inner, inner] - shifted[:, inner, inner]).abs().mean()
    err_still = (moved[:, inner, inner] - base[:, inner, inner]).abs().mean()
    assert err_shift < 0.25 * err_still, (float(err_shift), float(err_still))


TINY_R = dict(
    z_dim=8, c_dim=0, w_dim=8, img_resolution=16, img_channels=3, mapping_kwargs={"num_layers": 2},
    channel_base=256, channel_max=16, conv_kernel=1, use_radial_filters=True, num_layers=6,
)  # fmt: skip


def test_conditional_generator_and_kind() -> None:
    kwargs = TINY_R | {"c_dim": 5}
    assert generator_kind("stylegan3", kwargs) == "stylegan3-r"
    G = Generator(**kwargs).eval()
    keys = G.state_dict().keys()
    assert "mapping.embed.weight" in keys and G.mapping.fc0.weight.shape[1] == G.z_dim + G.w_dim
    z, c = torch.randn(2, G.z_dim), torch.eye(5)[:2]
    with torch.no_grad():
        img = G(z, c, truncation_psi=0.7)
    assert img.shape == (2, 3, 16, 16) and torch.isfinite(img).all()
    with pytest.raises(ValueError, match="conditional"):
        G(z, None)


def test_unknown_option_is_refused() -> None:
    kwargs = json.loads((OFFICIAL / "stylegan3-t-64" / "init.json").read_text())["init_kwargs"]
    with pytest.raises(NetworkLoadError, match="warp_factor"):
        Generator(**kwargs, warp_factor=2)


def test_no_float64_in_forward() -> None:
    """MPS has no float64: every tensor produced during synthesis must be float32 (on CPU)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class DtypeSpy(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.dtypes: set[torch.dtype] = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else [out]:
                if isinstance(t, torch.Tensor):
                    self.dtypes.add(t.dtype)
            return out

    G = Generator(**TINY_R).eval()
    z = torch.randn(2, G.z_dim)
    spy = DtypeSpy()
    with torch.no_grad(), spy:
        G(z, None, truncation_psi=0.5)
    assert torch.float64 not in spy.dtypes
    assert torch.float32 in spy.dtypes


def _cuda_available() -> bool:
    return torch.cuda.is_available()


@pytest.mark.cuda
@pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA device")
@torch.no_grad()
def test_cuda_fp32_parity_and_fp16_path() -> None:
    fx = Fixture("stylegan3-t-64")
    G = fx.G.to("cuda")
    ws = torch.from_numpy(fx.cases["ws_psi100"]).to("cuda")
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        img32 = G.synthesis(ws, force_fp32=True)
        assert _maxdiff(img32, fx.cases["img_psi100"]) < IMG_TOL
        img16 = G.synthesis(ws, force_fp32=False)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    assert img16.dtype == torch.float32 and torch.isfinite(img16).all()
    # float16 layers: close to float32, but not identical (they really ran in half precision)
    diff = (img16 - img32).abs()
    assert 0 < float(diff.max()) < 0.1 * float(img32.abs().max()), float(diff.max())
    state = G.synthesis.run_steps(ws, None, 0, 3, force_fp32=False)
    assert state.dtype == torch.float16  # every layer of this config has use_fp16
