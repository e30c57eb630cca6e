"""Write a clip's frames: GIF, animated WebP, APNG (Pillow), MP4 (imageio-ffmpeg), PNG sequence, sprite strip.

No Qt, no torch: frames arrive as uint8 H x W x 3/4 arrays. Every write is atomic: a temp file (or, for a
PNG sequence, a temp folder) beside the target, renamed into place only when complete; an error or a
cancel (`should_stop()` returning True, polled between frames and before the rename) removes it and
leaves the target as it was. An existing target is replaced only with `overwrite=True`.

MP4 goes through imageio-ffmpeg (the optional extra `castmaker[video]`). Why it and not PyAV: its wheels
carry a static ffmpeg binary (H.264 through libx264 included), so nothing has to be installed on the
system; its API is one generator we feed raw RGB frames; it is small and pure Python around that binary
and has been maintained with imageio for years. PyAV ships FFmpeg's libraries too but is a much larger
binary binding whose API (streams, frames, codecs contexts) we would not use. The encoder runs with one
thread and bit-exact flags so the same frames give the same file.

Pillow notes: GIF stores durations in 1/100 s (41.7 ms at 24 fps is written as 40 ms) and at most 256
colours per frame; Pillow merges consecutive identical frames into one longer frame in GIF, APNG and WebP
(the total duration is kept).
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from renderer.fileio import existing_mode, png_bytes, write_atomic_path
from renderer.latents.motion import MotionCancelled, MotionError

FORMATS = ("gif", "webp", "apng", "mp4", "frames", "strip")
SUFFIX_FORMATS = {".gif": "gif", ".webp": "webp", ".png": "apng", ".apng": "apng", ".mp4": "mp4"}
FORMAT_SUFFIX = {"gif": ".gif", "webp": ".webp", "apng": ".png", "mp4": ".mp4", "frames": "", "strip": ".png"}
MP4_INSTALL = "pip install 'castmaker[video]'  (or: pip install imageio-ffmpeg)"


def format_for_path(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The output format: `fmt` if given, else from the suffix (.gif .webp .png/.apng .mp4; none -> frames)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise MotionError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if not suffix:
        return "frames"
    if suffix not in SUFFIX_FORMATS:
        raise MotionError(
            f"don't know how to write {Path(path).name}: use .gif, .webp, .png (APNG), .mp4, a folder name "
            "(PNG sequence) or --format strip"
        )
    return SUFFIX_FORMATS[suffix]


def scale_nearest(frame: np.ndarray, factor: int) -> np.ndarray:
    """Enlarge a uint8 H x W x C frame by an integer factor with nearest neighbour (pixel art stays crisp)."""
    if int(factor) != factor or factor < 1:
        raise MotionError(f"scale must be a whole number 1 or more, got {factor}")
    if factor == 1:
        return frame
    return np.repeat(np.repeat(frame, int(factor), axis=0), int(factor), axis=1)


def check_mp4_encoder() -> None:
    """MotionError with the pip command when imageio-ffmpeg (and its ffmpeg binary) is not available."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MotionError(f"MP4 export needs imageio-ffmpeg, which is not installed: {MP4_INSTALL}") from None
    try:
        imageio_ffmpeg.get_ffmpeg_exe()
    except (RuntimeError, OSError) as exc:
        raise MotionError(f"MP4 export: imageio-ffmpeg has no ffmpeg binary ({exc}): reinstall it, {MP4_INSTALL}") from None


def _checked_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    if not frames:
        raise MotionError("no frames to write")
    out = []
    for f in frames:
        arr = np.asarray(f)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise MotionError(f"frames must be uint8 H x W x 3/4, got {arr.dtype} {list(arr.shape)}")
        if arr.shape != np.asarray(frames[0]).shape:
            raise MotionError("every frame must have the same size")
        out.append(np.ascontiguousarray(arr))
    return out


def _stop_check(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise MotionCancelled("cancelled: no file was written")


def frame_duration_ms(fps: float) -> float:
    return 1000.0 / fps


def _pillow_animation(frames: list[np.ndarray], fmt: str, fps: float, loop: bool) -> Callable[[io.BufferedIOBase], None]:
    from PIL import Image

    def write(f) -> None:
        images = [Image.fromarray(a) for a in frames]
        kwargs: dict = {"save_all": True, "append_images": images[1:], "duration": frame_duration_ms(fps)}
        if fmt == "gif":
            kwargs["format"] = "GIF"
            kwargs["disposal"] = 1
            if loop:
                kwargs["loop"] = 0  # without a loop entry a GIF plays once
        elif fmt == "webp":
            kwargs.update(format="WEBP", lossless=True, loop=0 if loop else 1, method=4)
        else:
            kwargs.update(format="PNG", loop=0 if loop else 1, compress_level=6)
        images[0].save(f, **kwargs)

    return write


def _mp4_writer(frames: list[np.ndarray], fps: float, should_stop) -> Callable[[str], None]:
    def write(tmp_path: str) -> None:
        import imageio_ffmpeg

        h, w = frames[0].shape[:2]
        rgb = [a[:, :, :3] for a in frames]
        if h % 2 or w % 2:  # yuv420p needs even sizes: pad by repeating the last row / column
            rgb = [np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") for a in rgb]
        gen = imageio_ffmpeg.write_frames(
            tmp_path,
            (rgb[0].shape[1], rgb[0].shape[0]),
            fps=fps,
            codec="libx264",
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            quality=None,
            macro_block_size=1,
            output_params=["-f", "mp4", "-crf", "18", "-threads", "1", "-fflags", "+bitexact", "-flags", "+bitexact",
                           "-map_metadata", "-1"],  # fmt: skip
            ffmpeg_log_level="error",
        )
        gen.send(None)
        try:
            for a in rgb:
                _stop_check(should_stop)
                gen.send(np.ascontiguousarray(a))
        finally:
            gen.close()

    return write


def _refuse_existing(target: Path, overwrite: bool) -> None:
    if target.exists() and not overwrite:
        raise MotionError(f"{target} already exists: choose another name or allow overwriting (--force)")


def write_clip(
    path: str | os.PathLike,
    frames: Sequence[np.ndarray],
    fps: float,
    loop: bool,
    fmt: str | None = None,
    scale: int = 1,
    overwrite: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Write `frames` (uint8 H x W x 3/4, all one size) to `path` in `fmt` (default: from the suffix).

    fps > 0 sets each frame's duration (1000 / fps ms); loop sets the loop flag (GIF/WebP/APNG; ignored
    for MP4, the PNG sequence and the strip). scale enlarges by an integer with nearest neighbour.
    Returns the written path (a folder for "frames"). Raises MotionError (bad input, MP4 encoder
    missing, target exists without overwrite) or MotionCancelled; either way nothing is left behind.
    """
    kind = format_for_path(path, fmt)
    if not np.isfinite(fps) or fps <= 0:
        raise MotionError(f"fps must be a positive number, got {fps}")
    if kind == "mp4":
        check_mp4_encoder()
    target = Path(path)
    _refuse_existing(target, overwrite)
    images = [scale_nearest(a, scale) for a in _checked_frames(frames)]
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind in ("gif", "webp", "apng"):
        _stop_check(should_stop)
        encode = _pillow_animation(images, kind, fps, loop)
        buf = io.BytesIO()
        encode(buf)
        data = buf.getvalue()
        return _write_via_temp_file(target, lambda tmp: Path(tmp).write_bytes(data), should_stop)
    if kind == "strip":
        _stop_check(should_stop)
        data = png_bytes(np.concatenate(images, axis=1), MotionError)
        return _write_via_temp_file(target, lambda tmp: Path(tmp).write_bytes(data), should_stop)
    if kind == "mp4":
        try:
            return _write_via_temp_file(target, _mp4_writer(images, fps, should_stop), should_stop)
        except OSError as exc:  # ffmpeg ended early (disk full, bad path): its message spans many lines
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MotionError(f"MP4 encoding of {target.name} failed: {first}") from None
    return _write_sequence(target, images, should_stop, overwrite)


def _write_via_temp_file(target: Path, write: Callable[[str], None], should_stop) -> Path:
    """`write(temp_path)` beside `target`, a last cancel check, then the replace (renderer.fileio.write_atomic_path)."""
    return write_atomic_path(target, lambda tmp: write(str(tmp)), lambda: _stop_check(should_stop))


def _make_temp_dir(target: Path, tag: str) -> Path:
    """A fresh hidden folder beside `target`, created 0o777 minus the umask (mkdtemp would make it 0700).

    Why not os.umask(0) to read the umask: that changes it for the whole process, so a file another thread
    (the editor's UI thread) creates at that moment would come out world-writable.
    """
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{tag}{secrets.token_hex(4)}.tmp"
        try:
            os.mkdir(tmp, 0o777)
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"could not create a temporary folder beside {target}")


def _write_sequence(target: Path, images: list[np.ndarray], should_stop, overwrite: bool) -> Path:
    """frame_0000.png … in a temp folder beside `target`, renamed to `target` when every frame is written.

    Overwriting keeps permissions like renderer.fileio's atomic writers: the folder takes the old folder's mode,
    each frame the mode of the old frame of that name (new ones honour the umask).
    """
    tmp = _make_temp_dir(target, "")
    old: Path | None = None
    try:
        folder_mode = existing_mode(target) if target.is_dir() else None
        digits = max(4, len(str(len(images) - 1)))
        for i, a in enumerate(images):
            _stop_check(should_stop)
            name = f"frame_{i:0{digits}d}.png"
            (tmp / name).write_bytes(png_bytes(a, MotionError))
            frame_mode = existing_mode(target / name) if folder_mode is not None else None
            if frame_mode is not None:
                os.chmod(tmp / name, frame_mode)
        if folder_mode is not None:  # last: a read-only old folder must not stop the frames being written
            os.chmod(tmp, folder_mode)
        _stop_check(should_stop)
        if target.exists():  # overwrite was allowed (checked before): move the old one aside first
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.rmdir(old)
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not target.exists():
            os.replace(old, target)
            old = None
        raise
    finally:
        if old is not None:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
    return target
