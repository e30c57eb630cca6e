"""Large projection targets are decoded reduced (JPEG draft mode / Image.reduce), refused only past the bound."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import renderer.projector.targets as targets
from renderer.errors import ProjectionError
from renderer.projector import load_target

NET = SimpleNamespace(img_resolution=16, img_channels=3)


def _big_jpeg(path: Path, size: tuple[int, int]) -> None:
    """A valid JPEG of `size` with a left/right colour split, written without holding it as numpy."""
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((30, 30, 200), (size[0] // 2, 0, size[0], size[1]))
    img.save(path, quality=50)


def test_a_100_megapixel_jpeg_is_read_reduced(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    _big_jpeg(path, (12000, 8500))  # 102 megapixels: beyond Pillow's bomb warning, like the trial's photo
    assert 12000 * 8500 > Image.MAX_IMAGE_PIXELS
    out = load_target(path, NET)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    left, right = out[:, 2].astype(int).mean(axis=0), out[:, -3].astype(int).mean(axis=0)
    assert left[0] > 150 and left[2] < 80 and right[2] > 150 and right[0] < 80
    assert Image.MAX_IMAGE_PIXELS is not None  # the global bomb check is back in force afterwards


def test_a_large_png_is_reduced_after_decoding(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("P", (1200, 900), 1).save(path, palette=None)
    img = Image.open(path)
    img.putpalette([0, 0, 0, 10, 220, 10] + [0] * 762)
    img.save(path)
    out = load_target(path, NET)
    assert out.shape == (16, 16, 3)
    assert np.all(np.abs(out.astype(int) - [10, 220, 10]) <= 2)  # colours averaged, never palette indices


def test_beyond_the_documented_bound_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (400, 300), (1, 2, 3)).save(path)
    monkeypatch.setattr(targets, "MAX_DECODED_PIXELS", 100_000)  # the bound, scaled down to keep the test fast
    with pytest.raises(ProjectionError, match=r"400×300 .*at most 0 megapixels of a PNG target.*scale the image down") as info:
        load_target(path, NET)
    assert str(info.value).startswith("wide.png is 400×300") and "corrupt" not in str(info.value)
    jpeg = tmp_path / "wide.jpg"
    Image.new("RGB", (800, 600), (1, 2, 3)).save(jpeg)
    assert load_target(jpeg, NET).shape == (16, 16, 3)  # a JPEG decodes at 1/8 per side: within the bound
