"""Write a projection's files (w, images, log, animation) atomically, in the layouts other tools read.

Why here and not in the CLI: the pipeline writes the same set of files; one writer keeps them alike.
`projected_w.npz` (key `w`) is what stylegan2-ada-pytorch's projector writes and `projected_w.npy` what
stylegan3-fun reads; both hold [1, num_ws, w_dim] float32.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, features

from renderer.fileio import write_bytes_atomic
from renderer.latents.wfile import save_w
from renderer.projector.projector import ProjectionResult


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (renderer.fileio: temp file beside it, fsync, os.replace, umask honoured)."""
    return write_bytes_atomic(path, data)


def _pil(image: np.ndarray) -> Image.Image:
    arr = np.asarray(image, dtype=np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(arr))


def write_png(path: Path, image: np.ndarray) -> Path:
    buf = io.BytesIO()
    _pil(image).save(buf, format="PNG")
    return atomic_write_bytes(path, buf.getvalue())


def write_log_csv(path: Path, rows: list[tuple[int, float, float]]) -> Path:
    lines = ["step,loss,psnr"] + [f"{s},{loss:.8g},{p:.4f}" for s, loss, p in rows]
    return atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))


def write_animation(folder: Path, target: np.ndarray, frames: list[np.ndarray], fps: int = 10) -> Path:
    """Target | preview side by side for every frame: animated WebP when Pillow has it, else GIF."""
    pairs = [_pil(np.concatenate([target, f], axis=1)).convert("RGB") for f in frames]
    if not pairs:
        raise ValueError("no frames to animate")
    webp = features.check("webp")
    path = folder / ("proj.webp" if webp else "proj.gif")
    buf = io.BytesIO()
    duration = max(1, int(1000 / fps))
    if webp:
        pairs[0].save(
            buf,
            format="WEBP",
            save_all=True,
            append_images=pairs[1:],
            duration=duration,
            loop=0,
            lossless=True,
        )
    else:
        pairs[0].save(buf, format="GIF", save_all=True, append_images=pairs[1:], duration=duration, loop=0)
    return atomic_write_bytes(path, buf.getvalue())


def compare_image(target: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Target | projection side by side: uint8 [R, 2R, C] (the projection resized to the target's size if needed)."""
    t = np.asarray(target, dtype=np.uint8)
    p = np.asarray(projection, dtype=np.uint8)
    if t.ndim == 2:
        t = t[:, :, None]
    if p.ndim == 2:
        p = p[:, :, None]
    if p.shape[2] != t.shape[2]:
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[t.shape[2]]
        p = np.asarray(_pil(p).convert(mode), dtype=np.uint8).reshape(p.shape[0], p.shape[1], t.shape[2])
    if p.shape[:2] != t.shape[:2]:
        resized = _pil(p).resize((t.shape[1], t.shape[0]), Image.Resampling.LANCZOS)
        p = np.asarray(resized, dtype=np.uint8).reshape(t.shape[0], t.shape[1], t.shape[2])
    return np.ascontiguousarray(np.concatenate([t, p], axis=1))


OUTPUT_NAMES = (
    "projected_w.npz",
    "projected_w.npy",
    "target.png",
    "proj.png",
    "compare.png",
    "log.csv",
    "projected_noise.npz",
    "proj.webp",
    "proj.gif",
)


def back_up_previous(folder: Path) -> list[Path]:
    """Rename earlier results in `folder` to `<stem>.bak<suffix>` (one generation kept) so nothing is lost."""
    moved = []
    for name in OUTPUT_NAMES:
        p = folder / name
        if p.is_file():
            bak = p.with_name(f"{p.stem}.bak{p.suffix}")
            os.replace(p, bak)
            moved.append(bak)
    return moved


def write_projection(
    outdir: str | os.PathLike,
    target: np.ndarray,
    result: ProjectionResult,
    save_video: bool = False,
    backup: bool = True,
) -> dict[str, Path]:
    """Write projected_w.npz/.npy, target.png, proj.png, compare.png (target | projection), log.csv (and the
    animation); returns name -> path. Every file honours the umask (renderer.fileio).

    With `backup`, earlier results in the folder are kept as `*.bak` (see back_up_previous).
    """
    folder = Path(outdir)
    folder.mkdir(parents=True, exist_ok=True)
    if backup:
        back_up_previous(folder)
    written = {
        "projected_w.npz": save_w(folder / "projected_w.npz", result.w),
        "projected_w.npy": save_w(folder / "projected_w.npy", result.w),
        "target.png": write_png(folder / "target.png", target),
        "log.csv": write_log_csv(folder / "log.csv", result.log),
    }
    if result.image is not None:
        written["proj.png"] = write_png(folder / "proj.png", result.image)
        written["compare.png"] = write_png(folder / "compare.png", compare_image(target, result.image))
    if result.noise:
        buf = io.BytesIO()
        np.savez(buf, **{k.replace(".", "/"): v for k, v in result.noise.items()})
        written["projected_noise.npz"] = atomic_write_bytes(folder / "projected_noise.npz", buf.getvalue())
    if save_video and result.frames:
        path = write_animation(folder, target, result.frames)
        written[path.name] = path
    return written
