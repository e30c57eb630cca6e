"""Clip files (editor/motion_files.py): read back with Pillow; atomic, cancellable, clear errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image, ImageSequence

from editor.motion_files import format_for_path, scale_nearest, write_clip
from renderer.latents.motion import MotionCancelled, MotionError


def frames(n: int = 6, size: int = 8) -> list[np.ndarray]:
    """n clearly different RGB frames (a moving bar), so no encoder merges two of them."""
    out = []
    for i in range(n):
        f = np.zeros((size, size, 3), np.uint8)
        f[:, i % size] = (255, 40 * i % 256, 0)
        f[i % size, :, 2] = 200
        out.append(f)
    return out


def read_animation(path):
    im = Image.open(path)
    durations, images = [], []
    for f in ImageSequence.Iterator(im):
        images.append(np.asarray(f.convert("RGB")))  # loads the frame (WebP sets its duration on load)
        durations.append(f.info.get("duration"))
    return im, durations, images


@pytest.mark.parametrize("loop", [True, False])
def test_gif_frame_count_duration_and_loop(tmp_path, loop: bool) -> None:
    out = write_clip(tmp_path / "clip.gif", frames(6), fps=10, loop=loop)
    im, durations, images = read_animation(out)
    assert im.format == "GIF" and im.n_frames == 6
    assert durations == [100] * 6  # GIF stores 1/100 s: 10 fps is exact
    assert ("loop" in im.info) is loop and (not loop or im.info["loop"] == 0)
    np.testing.assert_array_equal(images[3], frames(6)[3])  # few colours: the palette is exact


@pytest.mark.parametrize("loop", [True, False])
def test_webp_frame_count_duration_and_loop(tmp_path, loop: bool) -> None:
    out = write_clip(tmp_path / "clip.webp", frames(5), fps=20, loop=loop)
    im, durations, images = read_animation(out)
    assert im.format == "WEBP" and im.n_frames == 5
    assert durations == [50] * 5
    assert im.info["loop"] == (0 if loop else 1)  # 0 = forever, 1 = play once
    np.testing.assert_array_equal(images[4], frames(5)[4])  # lossless


def test_apng_frame_count_duration_and_loop(tmp_path) -> None:
    out = write_clip(tmp_path / "clip.png", frames(4), fps=25, loop=True)
    im, durations, images = read_animation(out)
    assert im.format == "PNG" and im.n_frames == 4 and im.info["loop"] == 0
    assert durations == [40] * 4
    np.testing.assert_array_equal(images[2], frames(4)[2])


def test_strip_sequence_and_integer_nearest_scaling(tmp_path) -> None:
    fs = frames(3)
    strip = write_clip(tmp_path / "strip.png", fs, fps=12, loop=False, fmt="strip", scale=2)
    arr = np.asarray(Image.open(strip))
    assert arr.shape == (16, 48, 3)
    np.testing.assert_array_equal(arr[:, 16:32], scale_nearest(fs[1], 2))
    np.testing.assert_array_equal(scale_nearest(fs[1], 2)[::2, ::2], fs[1])
    folder = write_clip(tmp_path / "seq", fs, fps=12, loop=False)
    assert sorted(p.name for p in folder.iterdir()) == ["frame_0000.png", "frame_0001.png", "frame_0002.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(folder / "frame_0002.png")), fs[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq", "strip.png"]  # no temp left
    with pytest.raises(MotionError, match="whole number"):
        scale_nearest(fs[0], 0)


def test_existing_target_needs_overwrite(tmp_path) -> None:
    target = tmp_path / "clip.gif"
    target.write_bytes(b"mine")
    with pytest.raises(MotionError, match="already exists"):
        write_clip(target, frames(2), fps=10, loop=True)
    assert target.read_bytes() == b"mine"
    write_clip(target, frames(2), fps=10, loop=True, overwrite=True)
    assert Image.open(target).n_frames == 2
    (tmp_path / "seq").mkdir()
    (tmp_path / "seq" / "old.txt").write_text("x")
    write_clip(tmp_path / "seq", frames(2), fps=10, loop=False, overwrite=True)
    assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == ["frame_0000.png", "frame_0001.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif", "seq"]


@pytest.mark.parametrize("fmt,name", [("gif", "c.gif"), ("webp", "c.webp"), ("frames", "seq"), ("strip", "s.png")])
def test_cancel_leaves_no_partial_file(tmp_path, fmt: str, name: str) -> None:
    calls = []

    def stop_after_some() -> bool:
        calls.append(1)
        return len(calls) >= 2  # the second check comes after a (temp) file was written

    with pytest.raises(MotionCancelled):
        write_clip(tmp_path / name, frames(6), fps=10, loop=True, fmt=fmt, should_stop=stop_after_some)
    assert list(tmp_path.iterdir()) == []
    # an existing file survives a cancelled overwrite untouched
    (tmp_path / "c.gif").write_bytes(b"old")
    with pytest.raises(MotionCancelled):
        write_clip(tmp_path / "c.gif", frames(3), fps=10, loop=True, overwrite=True, should_stop=lambda: True)
    assert [p.name for p in tmp_path.iterdir()] == ["c.gif"] and (tmp_path / "c.gif").read_bytes() == b"old"


def test_mp4_without_encoder_fails_with_one_clear_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import imageio_ffmpeg -> ImportError
    with pytest.raises(MotionError) as info:
        write_clip(tmp_path / "clip.mp4", frames(3), fps=10, loop=True)
    message = str(info.value)
    assert "\n" not in message and "imageio-ffmpeg" in message and "pip install" in message
    assert list(tmp_path.iterdir()) == []


def test_mp4_with_encoder_when_installed(tmp_path) -> None:
    pytest.importorskip("imageio_ffmpeg", reason="optional extra castmaker[video] not installed")
    fs = [scale_nearest(f, 2) for f in frames(6)]
    out = write_clip(tmp_path / "clip.mp4", fs, fps=12, loop=False)
    data = out.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 200
    again = write_clip(tmp_path / "again.mp4", fs, fps=12, loop=False)
    assert again.read_bytes() == data  # one thread, bit-exact flags: deterministic
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.mp4", "clip.mp4"]


def test_format_from_suffix() -> None:
    assert [format_for_path(p) for p in ("a.gif", "a.WEBP", "a.png", "a.apng", "a.mp4", "frames")] == [
        "gif", "webp", "apng", "apng", "mp4", "frames"]  # fmt: skip
    assert format_for_path("a.png", "strip") == "strip"
    with pytest.raises(MotionError, match="don't know how to write a.avi"):
        format_for_path("a.avi")


@pytest.mark.parametrize("fmt,name", [("gif", "clip.gif"), ("strip", "strip.png"), ("frames", "frames")])
def test_clip_files_honour_the_umask_without_changing_it(tmp_path, monkeypatch, fmt: str, name: str) -> None:
    """Files 0o666 and the PNG-sequence folder 0o777 minus the umask, read without os.umask(0): that call
    changes the umask of the whole process, so a file the UI thread creates meanwhile would be world-writable."""
    import os

    old = os.umask(0o027)
    try:

        def no_umask(_mask):
            raise AssertionError("os.umask called while writing a clip")

        monkeypatch.setattr(os, "umask", no_umask)
        out = write_clip(tmp_path / name, frames(3), fps=10, loop=True, fmt=fmt)
        monkeypatch.undo()
    finally:
        os.umask(old)
    if fmt == "frames":
        assert out.stat().st_mode & 0o777 == 0o750
        assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o640}
    else:
        assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file or folder left beside it


@pytest.mark.parametrize("fmt,name", [("gif", "clip.gif"), ("strip", "strip.png"), ("frames", "frames")])
def test_overwriting_a_clip_keeps_the_old_files_permissions(tmp_path, fmt: str, name: str) -> None:
    """Like renderer.fileio's atomic writers: a replaced file keeps its mode; a replaced PNG-sequence folder keeps
    the folder's mode and each replaced frame its own (a frame that is new honours the umask)."""
    import os

    out = write_clip(tmp_path / name, frames(2), fps=10, loop=True, fmt=fmt)
    if fmt == "frames":
        os.chmod(out / "frame_0000.png", 0o600)
        os.chmod(out / "frame_0001.png", 0o640)
        os.chmod(out, 0o700)
    else:
        os.chmod(out, 0o600)
    umask = os.umask(0o022)
    os.umask(umask)
    out = write_clip(tmp_path / name, frames(3), fps=10, loop=True, fmt=fmt, overwrite=True)
    if fmt == "frames":
        assert out.stat().st_mode & 0o777 == 0o700
        modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
        assert modes == {"frame_0000.png": 0o600, "frame_0001.png": 0o640, "frame_0002.png": 0o666 & ~umask}
    else:
        assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [name]
