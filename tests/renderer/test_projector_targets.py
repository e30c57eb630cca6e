"""Projection targets: every image mode and size becomes uint8 [R, R, C]; bad files are refused clearly."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from renderer.errors import ProjectionError
from renderer.projector import load_target
from renderer.projector.targets import NEUTRAL_BACKGROUND


def net(res: int = 8, channels: int = 3) -> SimpleNamespace:
    return SimpleNamespace(img_resolution=res, img_channels=channels)


def save(tmp_path, arr: np.ndarray, mode: str | None = None, name: str = "t.png", **kw) -> str:
    path = tmp_path / name
    Image.fromarray(arr, mode).save(path, **kw) if mode else Image.fromarray(arr).save(path, **kw)
    return str(path)


def test_rgba_is_composited_on_neutral_grey_or_kept_for_four_channel_networks(tmp_path) -> None:
    arr = np.zeros((8, 8, 4), np.uint8)
    arr[:, :4] = (255, 0, 0, 255)  # opaque red left half, fully transparent right half
    path = save(tmp_path, arr, "RGBA")
    rgb = load_target(path, net())
    assert rgb.shape == (8, 8, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0]) == (255, 0, 0)
    assert tuple(rgb[0, 7]) == NEUTRAL_BACKGROUND
    rgba = load_target(path, net(channels=4))
    assert rgba.shape == (8, 8, 4) and np.array_equal(rgba, arr)


def test_greyscale_and_palette_images(tmp_path) -> None:
    grey = np.tile(np.arange(0, 256, 32, dtype=np.uint8), (8, 1))
    out = load_target(save(tmp_path, grey, "L"), net())
    assert np.array_equal(out[:, :, 0], grey) and np.array_equal(out[:, :, 0], out[:, :, 2])
    one = load_target(save(tmp_path, grey, "L"), net(channels=1))
    assert one.shape == (8, 8, 1) and np.array_equal(one[:, :, 0], grey)
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([0, 0, 255] + [0, 255, 0] * 255)
    pal.paste(1, (0, 0, 4, 8))
    path = tmp_path / "p.png"
    pal.save(path, transparency=0)  # index 0 (blue) transparent
    out = load_target(path, net())
    assert tuple(out[0, 0]) == (0, 255, 0) and tuple(out[0, 7]) == NEUTRAL_BACKGROUND


def test_odd_sized_image_is_centre_cropped_and_resized(tmp_path) -> None:
    arr = np.zeros((21, 45, 3), np.uint8)
    arr[:, :12] = (255, 0, 0)  # left margin, cropped away
    arr[:, 12:33] = (0, 200, 0)  # the centred 21 x 21 square
    arr[:, 33:] = (0, 0, 255)  # right margin, cropped away
    out = load_target(save(tmp_path, arr, "RGB", name="odd.png"), net(res=16))
    assert out.shape == (16, 16, 3)
    assert np.all(np.abs(out.astype(int) - (0, 200, 0)).max(axis=2) <= 2)


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path) -> None:
    arr = np.full((8, 8), 65535, np.uint16)
    arr[:, :4] = 32896  # 128 * 257
    path = tmp_path / "deep.png"
    Image.fromarray(arr).save(path)
    assert Image.open(path).mode.startswith("I")
    out = load_target(path, net())
    assert tuple(out[0, 0]) == (128, 128, 128) and tuple(out[0, 7]) == (255, 255, 255)


def test_unreadable_targets_are_refused_with_a_clear_message(tmp_path) -> None:
    with pytest.raises(ProjectionError, match="not found"):
        load_target(tmp_path / "missing.png", net())
    with pytest.raises(ProjectionError, match="not a file"):
        load_target(tmp_path, net())
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(ProjectionError, match="not an image"):
        load_target(text, net())
    good = save(tmp_path, np.zeros((32, 32, 3), np.uint8), "RGB", name="cut.png")
    data = open(good, "rb").read()
    cut = tmp_path / "truncated.png"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProjectionError, match="truncated|corrupt|not an image"):
        load_target(cut, net())
