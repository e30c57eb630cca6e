"""Capture from the viewer: the image as PNG, the w as .npy [1, num_ws, w_dim], the recipe as a session.

Why apart from the window: file writing is testable without a display, and every write here is atomic
(temp file in the target folder, fsync, os.replace) and never replaces an existing file: names get a
numeric suffix instead.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from renderer.errors import CastmakerError
from renderer.fileio import save_png as save_png_atomic
from renderer.latents import Recipe, save_w

log = logging.getLogger(__name__)

SESSION_SUFFIX = ".castmaker-session"


class CaptureError(CastmakerError):
    """A capture could not be written (folder not writable, bad image, session support missing)."""


@dataclass(frozen=True)
class CaptureResult:
    png: Path
    w: Path


def default_capture_dir() -> Path:
    """Where captures go unless the user picks a folder: <user pictures>/Castmaker."""
    from platformdirs import user_pictures_dir

    return Path(user_pictures_dir()) / "Castmaker"


def viewer_config_dir() -> Path:
    """Per-user config folder for the viewer's window settings (never the working directory)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("castmaker", appauthor=False))


def save_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a uint8 H x W x {1,3,4} image as PNG, atomically."""
    try:
        return save_png_atomic(Path(path), image, CaptureError)
    except OSError as exc:
        raise CaptureError(f"cannot write {path}: {exc.strerror or exc}") from None


def free_stem(folder: Path, stem: str, suffixes: tuple[str, ...]) -> str:
    """`stem`, or `stem-2`, `stem-3`, ... : the first for which no file with any of `suffixes` exists."""
    candidate, n = stem, 1
    while any((folder / f"{candidate}{s}").exists() for s in suffixes):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def capture(folder: str | os.PathLike, stem: str, image: np.ndarray, ws: np.ndarray) -> CaptureResult:
    """Save `image` as <stem>.png and `ws` [num_ws, w_dim] as <stem>.npy ([1, num_ws, w_dim]) in `folder`."""
    out = Path(folder).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
        name = free_stem(out, stem, (".png", ".npy"))
        png = save_png(out / f"{name}.png", image)
        w = save_w(out / f"{name}.npy", ws)
    except OSError as exc:
        raise CaptureError(f"cannot write captures into {out}: {exc.strerror or exc}") from None
    log.info("captured %s and %s", png, w)
    return CaptureResult(png=png, w=w)


def save_handoff_session(
    folder: str | os.PathLike, stem: str, recipe: Recipe, network_source: str, fingerprint: str
) -> Path:
    """Save `recipe` as a session file the Qt editor opens; returns its path (never overwrites)."""
    try:
        from editor.session import save_session
    except ImportError as exc:
        raise CaptureError(
            f"cannot save a session: the editor's session support is missing ({exc})"
        ) from None
    out = Path(folder).expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{free_stem(out, stem, (SESSION_SUFFIX,))}{SESSION_SUFFIX}"
        save_session(path, recipe, network_source, fingerprint)
    except OSError as exc:
        raise CaptureError(f"cannot write a session into {out}: {exc.strerror or exc}") from None
    log.info("session saved to %s", path)
    return path
