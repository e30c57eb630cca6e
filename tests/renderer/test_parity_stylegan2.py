"""StyleGAN2(-ADA) generator: official weights load strictly and reproduce the official outputs.

Reference data: tests/data/official/stylegan2-ada-64 (made with NVlabs/stylegan2-ada-pytorch on CPU,
float32). Its README suggests ~1e-4 absolute tolerance for an independent float32 implementation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from renderer.nets.stylegan2 import Generator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.fp16_reference import (  # noqa: E402
    Float16Convolutions,
    Shadow64,
    float16_ulp,
    float64_reference,
    rms,
    shadow,
    shadow_module,
)

FIXTURE = "stylegan2-ada-64"
WS_TOL = 1e-5
IMG_TOL = 1e-4


@pytest.fixture(scope="module")
def fixture(official_dir):
    d = official_dir / FIXTURE
    init = json.loads((d / "init.json").read_text())
    state = load_file(str(d / "weights.safetensors"))
    cases = dict(np.load(d / "cases.npz"))
    return init, state, cases


def _build(init, state, **extra) -> Generator:
    G = Generator(**init["init_kwargs"], **extra).eval().requires_grad_(False)
    G.load_state_dict(state, strict=True)
    return G


@pytest.fixture(scope="module")
def G(fixture):
    init, state, _ = fixture
    return _build(init, state)


def _max_diff(a: torch.Tensor, b: np.ndarray) -> float:
    return float(np.abs(a.detach().cpu().numpy() - b).max())


def test_state_dict_names_shapes_and_order_match_official(G, fixture) -> None:
    init, _, _ = fixture
    ours = [(k, list(v.shape)) for k, v in G.state_dict().items()]
    official = [(e["key"], e["shape"]) for e in init["state_dict"]]
    assert ours == official
    assert (G.z_dim, G.c_dim, G.w_dim, G.num_ws) == (
        init["z_dim"],
        init["c_dim"],
        init["w_dim"],
        init["num_ws"],
    )
    assert (G.img_resolution, G.img_channels) == (init["img_resolution"], init["img_channels"])
    for layer in init["layers"]:
        block = getattr(G.synthesis, layer["name"])
        assert block.use_fp16 == layer["use_fp16"]
        assert (block.num_conv, block.num_torgb) == (layer["num_conv"], layer["num_torgb"])


@pytest.mark.parametrize(
    "case,psi,cutoff", [("psi100", 1.0, None), ("psi070", 0.7, None), ("psi050_cut8", 0.5, 8)]
)
def test_mapping_and_images_match(G, fixture, case, psi, cutoff) -> None:
    _, _, cases = fixture
    with torch.no_grad():
        for i in range(len(cases["seeds"])):
            ws = G.mapping(
                torch.from_numpy(cases["z"][i : i + 1]), None, truncation_psi=psi, truncation_cutoff=cutoff
            )
            assert _max_diff(ws, cases[f"ws_{case}"][i : i + 1]) < WS_TOL
            img = G.synthesis(
                torch.from_numpy(cases[f"ws_{case}"][i : i + 1]), noise_mode="const", force_fp32=True
            )
            assert _max_diff(img, cases[f"img_{case}"][i : i + 1]) < IMG_TOL


def test_style_mix_and_full_generator_call(G, fixture) -> None:
    _, _, cases = fixture
    with torch.no_grad():
        assert (
            _max_diff(G.synthesis(torch.from_numpy(cases["ws_mix"]), force_fp32=True), cases["img_mix"])
            < IMG_TOL
        )
        img = G(
            torch.from_numpy(cases["z"][1:2]), None, truncation_psi=0.7, noise_mode="const", force_fp32=True
        )
        assert _max_diff(img, cases["img_psi070"][1:2]) < IMG_TOL


def test_block_activations_match(G, fixture) -> None:
    _, _, cases = fixture
    ws = torch.from_numpy(cases["ws_psi100"][0:1])
    ends = {4: 2, 8: 5, 16: 8}  # steps after b4.torgb, b8.torgb, b16.torgb
    with torch.no_grad():
        for res, stop in ends.items():
            assert G.synthesis.steps[stop - 1].name == f"b{res}.torgb"
            state = G.synthesis.run_steps(ws, None, 0, stop, force_fp32=True)
            assert _max_diff(G.synthesis.state_activation(state), cases[f"act_b{res}_x"]) < IMG_TOL
            assert _max_diff(G.synthesis.state_to_image(state), cases[f"act_b{res}_img"]) < IMG_TOL


def test_float16_on_cpu_follows_stylegan2_ada(fixture) -> None:
    """With fp16_on_cpu the use_fp16 blocks run in float16 on the CPU, as stylegan2-ada-pytorch does.

    Yardsticks (tests/helpers/fp16_reference.py): `ref`, the same computation in float64 rounded to
    float16 at exactly the points where Castmaker's pass stores float16, and `exact`, the float64 pass
    with no float16 rounding at all. sigma16 = rms(ref - exact) is float16's own rounding noise on this
    network (1.3e-3; max 5.8e-3, the same size as the official fp16-vs-fp32 gap).

    End to end, Castmaker's image is NOT within a few ulps of `ref`, and cannot be: a float32-vs-float64
    tie flips one float16 rounding by one ulp (test below: 0.05-0.3 % of each layer's outputs); the next
    layer's sums then move by ~ulp * |weight| and land on the other side of their own rounding midpoints
    at a rate ~ (that shift) / ulp, so the flips multiply from layer to layer (measured: 11 outputs of
    b8.conv0 differ, 3.5k of b16.conv1, 77k of 131k at b64.conv1) until every pixel differs. From then on
    img16 and ref are two evaluations with the same rounding points but independent rounding errors,
    each of rms sigma16 around `exact`, so rms(img16 - ref) -> sqrt(2) sigma16 (less while the flips
    are still correlated; only a mechanism anti-correlating them could exceed it, and there is none).
    A float16 error of 1e-2 on more than ~2 % of the pixels would break that bound; the per-step test
    below catches errors of a few ulps anywhere.
    """
    init, state, cases = fixture
    ws = torch.from_numpy(cases["ws_psi100"][0:1])
    G16 = _build(init, state, fp16_on_cpu=True)
    with torch.no_grad(), Float16Convolutions() as seen:
        img16 = G16.synthesis(ws, noise_mode="const")
    with torch.no_grad():
        img32 = G16.synthesis(ws, noise_mode="const", force_fp32=True)
        default = _build(init, state).synthesis(ws, noise_mode="const")  # stylegan3-repo rule: fp32 on CPU
    ref = float64_reference(G16.synthesis, lambda s, w: s(w, noise_mode="const"), ws)
    exact = float64_reference(G16.synthesis, lambda s, w: s(w, noise_mode="const", force_fp32=True), ws)
    official16 = torch.from_numpy(cases["img_psi100_seed0_noforcefp32"]).double()
    sigma16 = rms(ref - exact)
    assert img16.dtype == torch.float32
    assert seen.calls == []  # no CPU-dependent torch float16 convolution kernel ran
    # float16 really ran: img16 is as far from float32 as float16 rounding puts it (float32's own error
    # against `exact` is ~1e-6, three orders of magnitude below sigma16)
    assert rms(img16 - img32) > 0.5 * sigma16 and rms(img32 - exact) < 1e-3 * sigma16
    # end to end (docstring): measured rms 9.5e-4 against a bound of 1.8e-3
    assert rms(img16 - ref) <= np.sqrt(2) * sigma16
    # The official image was made on a CPU without float16 units, whose transposed convolutions round
    # at every overlapping tap: more rounding points than `ref`, so it is further from `ref` than
    # Castmaker's image is (measured rms 1.22e-3 against 9.5e-4).
    assert rms(img16 - ref) <= rms(official16 - ref)
    print(
        f"\nsigma16 {sigma16:.3e}; rms(img16-ref) {rms(img16 - ref):.3e} (max {float((img16 - ref).abs().max()):.3e}); "
        f"rms(official16-ref) {rms(official16 - ref):.3e}; rms(img16-img32) {rms(img16 - img32):.3e}"
    )
    assert _max_diff(img32, cases["img_psi100"][0:1]) < IMG_TOL
    assert _max_diff(default, cases["img_psi100"][0:1]) < IMG_TOL


def test_each_float16_step_is_the_float64_reference_step_up_to_ties(fixture) -> None:
    """Each step of the float16 pass, given the reference's input, gives the reference's output up to ties.

    Teacher forcing: step k of Castmaker's pass runs on the float64 reference's state after step k - 1
    (its values are float16 / float32 numbers, so the real pass sees them exactly), and is compared with
    the reference's step k. The only difference left is float32 instead of float64 arithmetic between
    the float16 rounding points, which matters only at ties (tests/renderer/test_half_conv.py):
    - Share of outputs that differ: the 3x3 convolution (k = 64 * 9 = 576 terms) ties at ~0.45 % of
      outputs by test_half_conv's model (0.16-0.23 % measured there); the noise add, bias add, leaky
      ReLU and gain, each computed in float32 from float16 / float32 operands and rounded once, tie at
      ~2**-24 / 2**-11 = 1.2e-4 each. Bound: 1 %. Measured: at most 0.22 % (b8.conv0).
    - Size of a difference: a tie moves the convolution output c by one float16 ulp of c; bias and noise
      add, leaky ReLU (slope <= 1) and the gain sqrt(2) carry it to the step's output y as <= sqrt(2) ulp(c)
      and the final rounding may add one ulp(y); |c| and |y| are at most max|y| (the clamp never acts
      here), so <= (sqrt(2) + 1) ulp16(max|y|) < 2.5 ulp16(max|y|). Measured: at most 1 ulp16(max|y|).
    A float16 bug of a few ulps in any step breaks one of the two.
    """
    init, state, cases = fixture
    G16 = _build(init, state, fp16_on_cpu=True)
    steps = _teacher_forced_steps(G16.synthesis, torch.from_numpy(cases["ws_psi100"][0:1]))
    print("\n" + ", ".join(f"{name} {share:.2%} {worst:.2f}ulp" for name, share, worst in steps))
    for name, share, worst in steps:
        assert share <= 0.01, f"{name}: {share:.2%} of outputs differ"
        assert worst <= 2.5, f"{name}: differs by {worst:.2f} ulp16(max|y|)"


def test_the_step_check_catches_one_extra_float16_rounding(fixture, monkeypatch) -> None:
    """Negative control: summing each convolution in two float16 halves (one extra rounding) fails it."""
    import renderer.nets.stylegan2 as sg2

    def split_sum(x, w, stride=1, padding=0, groups=1, transpose=False):
        if x.dtype != torch.float16 or groups != 1 or isinstance(x, Shadow64):  # the reference stays right
            return sg2.conv2d_any(x, w, stride, padding, groups, transpose)
        h = x.shape[1] // 2
        wa, wb = (w[:h], w[h:]) if transpose else (w[:, :h], w[:, h:])
        return sg2.conv2d_any(x[:, :h], wa, stride, padding, 1, transpose) + sg2.conv2d_any(
            x[:, h:], wb, stride, padding, 1, transpose
        )

    init, state, cases = fixture
    G16 = _build(init, state, fp16_on_cpu=True)
    monkeypatch.setattr(sg2, "_plain_conv", _flipping(split_sum))
    steps = _teacher_forced_steps(G16.synthesis, torch.from_numpy(cases["ws_psi100"][0:1]))
    assert max(share for _, share, _ in steps) > 0.1  # measured: 18-35 % of each float16 step's outputs


def _flipping(conv):
    """`_plain_conv` (flip_weight handling) around another convolution function."""

    def plain(x, w, stride=1, padding=0, groups=1, transpose=False, flip_weight=True):
        if not flip_weight and (w.shape[2] > 1 or w.shape[3] > 1):
            w = w.flip([2, 3])
        return conv(x, w, stride, padding, groups, transpose)

    return plain


def _teacher_forced_steps(syn, ws: torch.Tensor) -> list[tuple[str, float, float]]:
    """(step, share of outputs that differ from the reference's, largest difference / ulp16(max|y|))."""
    twin = shadow_module(syn)
    sws = shadow(ws)
    ref_state = None
    out = []
    with torch.no_grad():
        for k, step in enumerate(syn.steps):
            given = (
                None
                if ref_state is None
                else tuple(None if t is None else t.inner.to(t.dtype) for t in ref_state)
            )
            real = syn.run_steps(ws, given, k, k + 1)
            ref_state = twin.run_steps(sws, ref_state, k, k + 1)
            i = 1 if step.name.endswith("torgb") else 0  # toRGB steps: the float32 image
            ref = ref_state[i].inner
            scale = float(ref.abs().max())
            diff = (real[i].double() - ref).abs()
            share = float((diff > 2.0**-16 * scale).double().mean())  # float32 noise is ~2**-22 * scale
            out.append((step.name, share, float(diff.max() / float16_ulp(torch.tensor(scale)))))
    return out


def test_split_runs_are_bit_identical_to_the_full_run(G, fixture) -> None:
    _, _, cases = fixture
    ws = torch.from_numpy(cases["ws_mix"])
    syn = G.synthesis
    n = len(syn.steps)
    with torch.no_grad():
        full = syn(ws)
        for k in range(n + 1):
            state = syn.run_steps(ws, None, 0, k)
            img = syn.state_to_image(syn.run_steps(ws, state, k, n)) if k < n else syn.state_to_image(state)
            assert torch.equal(img, full), f"split at step {k}"
        # A cached state is not modified by running on from it.
        prefix = syn.run_steps(ws, None, 0, 4)
        saved = [t.clone() for t in prefix]
        syn.run_steps(ws, prefix, 4, n)
        assert all(torch.equal(a, b) for a, b in zip(prefix, saved, strict=True))


def test_steps_follow_the_row_layout(G) -> None:
    names = [(s.name, s.row) for s in G.synthesis.steps]
    assert names[:5] == [("b4.conv1", 0), ("b4.torgb", 1), ("b8.conv0", 1), ("b8.conv1", 2), ("b8.torgb", 3)]
    assert names[-1] == ("b64.torgb", G.num_ws - 1)
    assert sorted({row for _, row in names}) == list(range(G.num_ws))


def test_batches_use_the_equivalent_unfused_path(G, fixture) -> None:
    _, _, cases = fixture
    ws = torch.from_numpy(cases["ws_psi070"])
    with torch.no_grad():
        batch = G.synthesis(ws)
        assert _max_diff(batch, cases["img_psi070"]) < IMG_TOL
        fused = G.synthesis(ws, fused_modconv=True)
        assert _max_diff(fused, cases["img_psi070"]) < IMG_TOL


def test_stylegan3_repo_layout_loads_the_same_weights(fixture) -> None:
    """`--cfg=stylegan2` of the stylegan3 repo: flat synthesis options, same names and the same maths."""
    init, state, cases = fixture
    kw = dict(init["init_kwargs"])
    flat = kw.pop("synthesis_kwargs")
    G3 = Generator(
        **kw,
        **{k: v for k, v in flat.items() if k not in ("num_fp16_res", "conv_clamp")},
        fused_modconv_default="inference_only",
    ).eval()
    G3.load_state_dict(state, strict=True)
    assert [b.use_fp16 for b in (G3.synthesis.b8, G3.synthesis.b64)] == [True, True]  # defaults 4 / 256
    assert G3.synthesis.b4.conv1.conv_clamp == 256
    with torch.no_grad():
        img = G3.synthesis(torch.from_numpy(cases["ws_psi100"][2:3]))
    assert _max_diff(img, cases["img_psi100"][2:3]) < IMG_TOL
    # The ada layout's own defaults differ (no fp16, no clamp) when the options are left out.
    Gada = Generator(**kw, synthesis_kwargs={"channel_base": 2048, "channel_max": 64})
    assert not Gada.synthesis.b64.use_fp16 and Gada.synthesis.b64.conv1.conv_clamp is None


def test_noise_modes(G, fixture) -> None:
    _, _, cases = fixture
    ws = torch.from_numpy(cases["ws_psi100"][0:1])
    with torch.no_grad():
        const = G.synthesis(ws, noise_mode="const")
        none = G.synthesis(ws, noise_mode="none")
        torch.manual_seed(1)
        rand1 = G.synthesis(ws, noise_mode="random")
        rand2 = G.synthesis(ws, noise_mode="random")
    assert not torch.equal(const, none) and not torch.equal(rand1, rand2) and not torch.equal(rand1, const)
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(ws, noise_mode="loud")


def test_gradients_reach_ws_and_noise_buffers(fixture) -> None:
    init, state, cases = fixture
    G = _build(init, state)
    ws = torch.from_numpy(cases["ws_psi100"][0:1]).clone().requires_grad_(True)
    noise = G.synthesis.b8.conv0.noise_const
    noise.requires_grad_(True)
    G.synthesis(ws, noise_mode="const").square().mean().backward()
    assert ws.grad is not None and float(ws.grad.abs().sum()) > 0
    assert noise.grad is not None and float(noise.grad.abs().sum()) > 0


@pytest.mark.parametrize("architecture", ["orig", "skip", "resnet"])
@pytest.mark.parametrize("resolution,c_dim", [(8, 0), (32, 3)])
def test_other_configurations_build_and_split_consistently(architecture, resolution, c_dim) -> None:
    torch.manual_seed(0)
    G = Generator(
        z_dim=8,
        c_dim=c_dim,
        w_dim=8,
        img_resolution=resolution,
        img_channels=4,
        mapping_kwargs={"num_layers": 2},
        channel_base=64,
        channel_max=16,
        architecture=architecture,
    ).eval()
    blocks = int(np.log2(resolution)) - 1
    assert G.num_ws == 2 * blocks  # one row per conv + the last toRGB
    names = set(G.state_dict())
    assert ("synthesis.b8.torgb.weight" in names) == (architecture == "skip" or resolution == 8)
    assert ("synthesis.b8.skip.weight" in names) == (architecture == "resnet")
    assert ("mapping.embed.weight" in names) == (c_dim > 0)
    z = torch.randn(2, 8)
    c = torch.eye(3)[:2] if c_dim else None
    with torch.no_grad():
        img = G(z, c)
        assert img.shape == (2, 4, resolution, resolution)
        ws = G.mapping(z, c)
        half = G.synthesis.run_steps(ws, None, 0, 3)
        split = G.synthesis.state_to_image(G.synthesis.run_steps(ws, half, 3, len(G.synthesis.steps)))
    assert torch.equal(split, img)


def test_bad_inputs_are_rejected(G) -> None:
    with pytest.raises(ValueError, match="ws must have shape"):
        G.synthesis(torch.zeros(1, 3, 64))
    with pytest.raises(ValueError, match="needs the state"):
        G.synthesis.run_steps(torch.zeros(1, G.num_ws, 64), None, 2, 4)
    with pytest.raises(ValueError, match="power of two"):
        Generator(z_dim=4, c_dim=0, w_dim=4, img_resolution=48, img_channels=3)
    with pytest.raises(ValueError, match="both nested and flat"):
        Generator(
            z_dim=4,
            c_dim=0,
            w_dim=4,
            img_resolution=8,
            img_channels=3,
            synthesis_kwargs={"channel_base": 64},
            channel_base=64,
        )
