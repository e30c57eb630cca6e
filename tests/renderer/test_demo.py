"""Demo networks: deterministic builds, the promised shapes, and pictures that are varied and colourful."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderer.demo import (
    DEMO_NAMES,
    FACE_COLOUR_OFFSET,
    FACE_MAGNITUDES,
    SPRITE_CELL,
    SPRITE_COLUMNS,
    SPRITE_ROWS,
    build_demo,
    calibrate_face,
    make_demo_generator,
)
from renderer.errors import NetworkLoadError
from renderer.fingerprint import weights_fingerprint

EXPECTED = {  # name -> (kind, arch, num_ws, resolution)
    "demo-sprite": ("stylegan2", "stylegan2", 12, 128),
    "demo-face": ("stylegan3-t", "stylegan3", 16, 128),
}


def _z(seed: int, z_dim: int) -> torch.Tensor:
    return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim).astype(np.float32))


def _to_uint8(img: torch.Tensor) -> np.ndarray:
    return (img[0].permute(1, 2, 0).numpy() * 127.5 + 128).clip(0, 255).astype(np.uint8)


def _saturation(rgb: np.ndarray) -> np.ndarray:
    """HSV saturation in [0, 1] per pixel."""
    rgb = rgb.astype(np.float64)
    hi, lo = rgb.max(axis=-1), rgb.min(axis=-1)
    return np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-9), 0.0)


def _difference(a: np.ndarray, b: np.ndarray, sprite: bool) -> float:
    """Mean absolute difference; for sprites only over figure pixels (the background is identical by design)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    if not sprite:
        return float(np.abs(a - b).mean())
    bg = np.median(a[:, SPRITE_COLUMNS * SPRITE_CELL + 4 :].reshape(-1, 3), axis=0)
    figure = (np.sqrt(((a - bg) ** 2).sum(-1)) > 40) | (np.sqrt(((b - bg) ** 2).sum(-1)) > 40)
    return float(np.abs(a - b)[figure].mean())


@pytest.fixture(scope="module")
def renders() -> dict[str, dict[str, np.ndarray]]:
    """Per demo: seeds 0-2, and seed 0 coarse rows + seed 1 fine rows (and the reverse)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in DEMO_NAMES:
        G = build_demo(name).G
        with torch.no_grad():
            ws = {s: G.mapping(_z(s, G.z_dim), None) for s in range(3)}
            half = G.num_ws // 2
            mix01 = torch.cat([ws[0][:, :half], ws[1][:, half:]], dim=1)
            mix10 = torch.cat([ws[1][:, :half], ws[0][:, half:]], dim=1)
            images = {f"seed{s}": _to_uint8(G.synthesis(w)) for s, w in ws.items()}
            images["mix01"] = _to_uint8(G.synthesis(mix01))
            images["mix10"] = _to_uint8(G.synthesis(mix10))
        out[name] = images
    return out


def test_names() -> None:
    assert DEMO_NAMES == ("demo-face", "demo-sprite")
    with pytest.raises(NetworkLoadError, match="unknown demo network"):
        build_demo("demo-dragon")


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_network_record_and_shapes(name) -> None:
    kind, arch, num_ws, res = EXPECTED[name]
    net = build_demo(name)
    assert build_demo(name) is net  # memoised
    assert net.is_demo and net.name == name and net.source == name and net.kind == kind
    assert net.arch["arch"] == arch and isinstance(net.arch["init_kwargs"], dict)
    assert (net.num_ws, net.img_resolution, net.img_channels, net.z_dim, net.w_dim) == (
        num_ws,
        res,
        3,
        64,
        64,
    )
    assert net.fingerprint == weights_fingerprint(net.G.state_dict())
    assert not net.G.training and not any(p.requires_grad for p in net.G.parameters())


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_builds_are_deterministic_and_leave_torch_rng_alone(name) -> None:
    torch.manual_seed(1)
    before = torch.random.get_rng_state()
    first = weights_fingerprint(make_demo_generator(name).state_dict())
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(2)  # a different torch RNG state changes nothing: weights come from numpy
    second = weights_fingerprint(make_demo_generator(name).state_dict())
    assert first == second == build_demo(name).fingerprint


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_w_avg_is_the_mean_of_mapped_samples(name) -> None:
    G = build_demo(name).G
    z = torch.from_numpy(np.random.RandomState(7).randn(2048, G.z_dim).astype(np.float32))
    with torch.no_grad():
        w = G.mapping(z, None)[:, 0]
    spread = float(w.std(dim=0).mean())
    # The mean of 2048 samples has a standard error of about spread / 45.
    assert float((w.mean(dim=0) - G.mapping.w_avg).abs().max()) < spread * 0.15
    assert float(G.mapping.w_avg.abs().max()) > 0


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_pictures_are_colourful_and_differ_between_seeds(renders, name) -> None:
    images = renders[name]
    for key in ("seed0", "seed1", "seed2"):
        img = images[key]
        assert img.shape == (128, 128, 3)
        assert img.std() > 15, f"{key} is nearly flat"
        assert _saturation(img).mean() > 0.12, f"{key} is nearly grey"
    # sprite: figure pixels only (they carry the palette); face: every pixel, 10 levels on average.
    threshold = 20 if name == "demo-sprite" else 10
    for a, b in (("seed0", "seed1"), ("seed1", "seed2"), ("seed0", "seed2")):
        assert _difference(images[a], images[b], name == "demo-sprite") > threshold, f"{a} and {b} look alike"


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_swapping_coarse_and_fine_rows_changes_the_picture(renders, name) -> None:
    """mix01 = coarse rows of seed 0 + fine rows of seed 1: it must differ from both parents.

    In demo-sprite the fine rows set the palette and the coarse rows the markings and outlines inside
    the fixed figure layout, so its coarse-row change is the smaller one (measured ~7 levels on
    figure pixels vs ~40 for a palette change); demo-face changes strongly either way.
    """
    images = renders[name]
    coarse_change = 5 if name == "demo-sprite" else 10
    for mix, same_fine, same_coarse in (("mix01", "seed1", "seed0"), ("mix10", "seed0", "seed1")):
        sprite = name == "demo-sprite"
        assert _difference(images[mix], images[same_fine], sprite) > coarse_change, (
            f"{mix} looks like {same_fine}"
        )
        assert _difference(images[mix], images[same_coarse], sprite) > 10, f"{mix} looks like {same_coarse}"


def test_sprite_sheet_layout(renders) -> None:
    """Light uniform background connected to the border, one figure inside each 32x32 sheet cell."""
    for key in ("seed0", "seed1", "seed2"):
        img = renders["demo-sprite"][key].astype(int)
        background = img[:, SPRITE_COLUMNS * SPRITE_CELL + 4 :]  # the unused fourth column
        bg = np.median(background.reshape(-1, 3), axis=0)
        assert bg.mean() > 170, "background should be light"
        assert np.abs(background - bg).max() <= 2, "background should be uniform"
        for row in range(SPRITE_ROWS):
            for col in range(SPRITE_COLUMNS):
                cell = img[
                    row * SPRITE_CELL : (row + 1) * SPRITE_CELL, col * SPRITE_CELL : (col + 1) * SPRITE_CELL
                ]
                border = np.concatenate([cell[0], cell[-1], cell[:, 0], cell[:, -1]])
                assert np.sqrt(((border - bg) ** 2).sum(-1)).max() <= 40, "figure touches its cell border"
                core = cell[12:24, 12:20].reshape(-1, 3)
                far = np.sqrt(((core - bg) ** 2).sum(-1)) > 40
                assert far.mean() > 0.8, f"cell ({row}, {col}) of {key} has no figure"


def test_face_calibration_table_is_current() -> None:
    """FACE_MAGNITUDES / FACE_COLOUR_OFFSET are what calibrate_face() measures (kept to 5 digits)."""
    magnitudes, offset = calibrate_face()
    np.testing.assert_allclose(magnitudes, FACE_MAGNITUDES, rtol=1e-3)
    np.testing.assert_allclose(offset, FACE_COLOUR_OFFSET, rtol=1e-3, atol=1e-4)
