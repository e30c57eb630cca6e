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


def test_a_camera_mpo_jpeg_is_read_reduced_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Phones and cameras write multi-picture JPEGs, which Pillow opens as format "MPO": a JPEG all the same,
    so it decodes reduced (draft mode) like any JPEG instead of in full against the bound."""
    path = tmp_path / "camera.jpg"
    img = Image.new("RGB", (800, 600), (200, 30, 30))
    img.save(path, "MPO", save_all=True, append_images=[img])
    assert Image.open(path).format == "MPO"
    monkeypatch.setattr(targets, "MAX_DECODED_PIXELS", 100_000)  # full 800×600 decode would pass it 4.8×
    out = load_target(path, NET)
    # a flat colour survives JPEG up to the RGB -> YCbCr -> RGB rounding (<= 1 each way); the resize keeps it flat
    assert out.shape == (16, 16, 3) and np.all(np.abs(out.astype(int) - [200, 30, 30]) <= 2)


def _record_pixel_limit(monkeypatch: pytest.MonkeyPatch, cls) -> list:
    """While `cls` reads a header, note the process-wide Image.MAX_IMAGE_PIXELS (what other threads' opens use)."""
    seen = []
    real = cls._open

    def spy(self):
        seen.append(Image.MAX_IMAGE_PIXELS)
        return real(self)

    monkeypatch.setattr(cls, "_open", spy)
    return seen


def test_the_global_bomb_check_stays_in_force_while_a_target_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another thread's Image.open at any moment of a target's opening still has Pillow's decompression-bomb check."""
    from PIL import JpegImagePlugin, PngImagePlugin

    default = Image.MAX_IMAGE_PIXELS
    jpeg_seen = _record_pixel_limit(monkeypatch, JpegImagePlugin.JpegImageFile)
    png_seen = _record_pixel_limit(monkeypatch, PngImagePlugin.PngImageFile)
    for name, fmt in (("a.jpg", "JPEG"), ("b.png", "PNG")):
        Image.new("RGB", (64, 48), (10, 200, 10)).save(tmp_path / name, fmt)
        assert load_target(tmp_path / name, NET).shape == (16, 16, 3)
    assert jpeg_seen and png_seen and set(jpeg_seen + png_seen) == {default}


def test_a_png_beyond_pillows_limit_is_refused_with_the_bound_in_the_message(tmp_path: Path) -> None:
    """A PNG header claiming 20000 × 20000 pixels (a decompression bomb) is refused before any pixel is decoded."""
    import struct
    import zlib

    path = tmp_path / "bomb.png"
    Image.new("RGB", (8, 8)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = bytes(data[12:16]) + struct.pack(">II", 20000, 20000) + bytes(data[24:29])
    data[16:24] = ihdr[4:12]
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    with pytest.raises(ProjectionError, match=r"bomb.png is too large to decode safely.*179 megapixels.*scale the image"):
        load_target(path, NET)
