"""Decode one tensor storage blob: the legacy (non-zip) `torch.save` stream nested in official pickles.

Why: every tensor in a network snapshot carries its data as `torch.storage._load_from_bytes(blob)`.
Calling torch for that would run torch's own unpickler on untrusted bytes, so the stream is read here
with a second allow-list unpickler that only knows the storage type names, and the raw little-endian
data is turned into a numpy array without trusting any declared size.
"""

from __future__ import annotations

import io
import pickle
import struct
from typing import Any

import numpy as np

from renderer.errors import NetworkLoadError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch storage class name -> numpy dtype of its elements (little-endian). BFloat16 has no numpy dtype:
# it is read as uint16 and widened to float32 (the upper half of a float32's bits).
STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class StorageType:
    """Stand-in for a `torch.<Name>Storage` class named inside a blob; carries only the name."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __setstate__(self, state: Any) -> None:
        raise NetworkLoadError("refused pickle BUILD on a storage type (the file is corrupt or hostile)")

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _StorageRef:
    """What the blob's persistent id points at: type, key and element count (data read later)."""

    __slots__ = ("storage_type", "key", "numel")

    def __init__(self, storage_type: StorageType, key: str, numel: int) -> None:
        self.storage_type = storage_type
        self.key = key
        self.numel = numel

    def __setstate__(self, state: Any) -> None:
        raise NetworkLoadError("refused pickle BUILD on a storage reference (the file is corrupt or hostile)")


class _BlobUnpickler(pickle.Unpickler):
    """Allows only `torch.<X>Storage` names and the storage persistent id; nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise NetworkLoadError(
            f"refused global {module}.{name} inside a tensor storage blob: only torch storage types may "
            "appear there (the file is corrupt or hostile; it was not executed)"
        )

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6)):
            raise NetworkLoadError(f"unexpected storage reference {_short(pid)} in a tensor storage blob")
        tag, storage_type, key, location, numel = pid[:5]
        view = pid[5] if len(pid) == 6 else None
        if tag != "storage" or not isinstance(storage_type, StorageType):
            raise NetworkLoadError(f"unexpected storage reference {_short(pid)} in a tensor storage blob")
        if (
            not isinstance(key, str)
            or not isinstance(numel, int)
            or numel < 0
            or not isinstance(location, str)
        ):
            raise NetworkLoadError(f"malformed storage reference {_short(pid)} in a tensor storage blob")
        if view is not None:
            raise NetworkLoadError("tensor storage blob holds a storage view, which Castmaker does not read")
        return _StorageRef(storage_type, key, numel)


def _short(obj: Any) -> str:
    try:
        text = repr(obj)
    except RecursionError:  # hostile data can be nested too deeply to print
        return f"<deeply nested {type(obj).__name__}>"
    return text if len(text) <= 100 else text[:97] + "..."


def _load_one(f: io.BytesIO) -> Any:
    return _BlobUnpickler(f).load()


def parse_storage_blob(blob: bytes) -> np.ndarray:
    """The 1-D element array of the single storage a legacy `torch.save` stream holds.

    Raises NetworkLoadError for anything that is not exactly: magic, version, system info, one storage
    reference, its key list, then count + data for that key, with the count matching the reference.
    """
    if not isinstance(blob, bytes | bytearray):
        raise NetworkLoadError(
            f"tensor storage blob is a {type(blob).__name__}, expected bytes (corrupt file)"
        )
    f = io.BytesIO(blob)
    try:
        magic = _load_one(f)
        if magic != LEGACY_MAGIC:
            raise NetworkLoadError(
                "tensor storage blob does not start with the torch.save magic number (corrupt file)"
            )
        version = _load_one(f)
        if version != LEGACY_PROTOCOL:
            raise NetworkLoadError(f"tensor storage blob has torch.save version {version!r}, expected 1001")
        sys_info = _load_one(f)
        if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
            raise NetworkLoadError("tensor storage blob was written on a big-endian machine or is corrupt")
        ref = _load_one(f)
        if not isinstance(ref, _StorageRef):
            raise NetworkLoadError("tensor storage blob does not hold a storage (corrupt or hostile file)")
        keys = _load_one(f)
    except NetworkLoadError:
        raise
    except MemoryError as exc:
        raise NetworkLoadError(
            "tensor storage blob declares an object larger than memory (corrupt or hostile file)"
        ) from exc
    except Exception as exc:  # pickle raises many types on garbage; all mean the same to the user
        raise NetworkLoadError(
            f"tensor storage blob is truncated or corrupt ({type(exc).__name__}: {exc})"
        ) from exc
    if keys != [ref.key]:
        raise NetworkLoadError(
            f"tensor storage blob lists keys {_short(keys)}, expected [{ref.key!r}] (corrupt file)"
        )
    dtype = np.dtype(STORAGE_DTYPES[ref.storage_type.name])
    header = f.read(8)
    if len(header) != 8:
        raise NetworkLoadError("tensor storage blob is truncated before its element count")
    (count,) = struct.unpack("<q", header)
    if count != ref.numel:
        raise NetworkLoadError(
            f"tensor storage blob declares {ref.numel} elements but its data header says {count}"
        )
    start = f.tell()
    available = len(blob) - start
    if count * dtype.itemsize != available:
        raise NetworkLoadError(
            f"tensor storage blob declares {count} elements ({count * dtype.itemsize} bytes) "
            f"but holds {available} bytes of data (truncated or corrupt file)"
        )
    data = np.frombuffer(blob, dtype=dtype, count=count, offset=start)
    if ref.storage_type.name == "BFloat16Storage":
        data = (data.astype("<u4") << 16).view("<f4")
    return data
