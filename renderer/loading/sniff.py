"""Tell what a file is before reading it, so wrong files get a message that says what they are.

Why: users point the app at PNGs, folders, half-downloaded files and torch checkpoints; "unpickling
error" helps nobody, "this is a PNG image, not a network file" does.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from urllib.parse import unquote, urlsplit

from renderer.errors import NetworkLoadError

WHAT_WE_READ = (
    "Castmaker reads official StyleGAN3 / StyleGAN2-ADA network snapshots (.pkl) and its own .safetensors "
    "files (written by `castmaker convert`)"
)

_MAGIC_NAMES = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BM", None),  # too short to trust alone; ignored
    (b"PK\x03\x04", "a zip archive (for example a torch.save checkpoint .pt or a zipped download)"),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"\x89HDF", "an HDF5 file (for example a Keras model)"),
    (b"%PDF", "a PDF document"),
]


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")  # any scheme (https, http, s3, gs, ftp, file, ...)


def is_url(source: object) -> bool:
    """True for text that starts like a URL (`scheme://`); a Windows drive path (`C:\\x`) is not one."""
    return isinstance(source, str) and bool(_URL.match(source.strip()))


def refuse_url(source: str) -> None:
    """Raise NetworkLoadError for a URL given as a network: Castmaker never downloads. No-op for paths."""
    if not is_url(source):
        return
    text = source.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() == "file":
        raise NetworkLoadError(
            f"{text} is a file:// URL: Castmaker reads files by path, so give the path itself: {unquote(parts.path)}"
        )
    name = Path(unquote(parts.path)).name or "the network file"
    raise NetworkLoadError(
        f"{text} is a URL, and Castmaker never downloads anything (it works offline): download the file "
        f"yourself (browser, curl -LO or wget), then give the local path of {name}"
    )


def sniff(path: Path) -> str:
    """'pickle' or 'safetensors' for a readable network file; NetworkLoadError saying what it is otherwise."""
    if not path.exists():
        raise NetworkLoadError(
            f"network file not found: {path}. Give the path of a .pkl or .safetensors network file, "
            "or a bundled name (cast-portrait, cast-sprite; untrained demos: demo-face, demo-sprite)"
        )
    if path.is_dir():
        raise NetworkLoadError(
            f"{path} is a folder; give the path of a network file (.pkl or .safetensors) inside it"
        )
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise NetworkLoadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise NetworkLoadError(
            f"{path} is empty (0 bytes); the download or copy probably failed, fetch it again"
        )
    for magic, what in _MAGIC_NAMES:
        if what and head.startswith(magic):
            raise NetworkLoadError(f"{path} is {what}, not a network file. {WHAT_WE_READ}")
    if len(head) >= 9:
        (header_len,) = struct.unpack("<Q", head[:8])
        if 0 < header_len <= size - 8 and head[8:9] == b"{":
            return "safetensors"
    if head[:1] == b"\x80" and len(head) >= 2 and 2 <= head[1] <= 5:
        return "pickle"
    if head[:1] in (b"(", b"]", b"}", b"c") and path.suffix.lower() == ".pkl":
        return "pickle"  # protocol 0/1 pickles (very old files); the reader says what they hold
    if path.suffix.lower() == ".safetensors":
        raise NetworkLoadError(
            f"{path} is not a valid safetensors file (bad header); it is truncated or corrupt"
        )
    if path.suffix.lower() == ".pkl":
        raise NetworkLoadError(f"{path} is not a pickle (unrecognised content); it is corrupt or mislabelled")
    raise NetworkLoadError(f"{path} is not a network file (unrecognised content). {WHAT_WE_READ}")
