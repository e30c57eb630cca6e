"""An allow-list unpickler for official StyleGAN network snapshots: builds data, never runs file code.

Why: `pickle.load` on a network snapshot executes the Python source embedded in it. Here every global
the file names is looked up in a fixed table of harmless stand-ins; anything else (os.system, eval,
copyreg tricks, unknown classes) stops the load with NetworkLoadError naming the global. Nothing on
the unpickling stack is a real class or numpy/torch object, so REDUCE/NEWOBJ/BUILD can only reach the
functions below. Persistent objects become `PersistentObject` records holding their state; their
embedded module source is kept only as a SHA-256 for identification.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import IO, Any

import numpy as np

from renderer.errors import NetworkLoadError
from renderer.loading.storage_blob import parse_storage_blob

PERSISTENCE_FORMAT_VERSION = 6
# numpy dtypes a pickle may name (typestr -> canonical); no object, string, void or structured dtypes.
_NUMPY_TYPESTRS = {
    "b1": "?", "?": "?",
    "i1": "i1", "i2": "<i2", "i4": "<i4", "i8": "<i8",
    "u1": "u1", "u2": "<u2", "u4": "<u4", "u8": "<u8",
    "f2": "<f2", "f4": "<f4", "f8": "<f8",
}  # fmt: skip
_MAX_ARRAY_BYTES = 1 << 31


class _Refuses:
    """Base of every stand-in: a pickle BUILD on it is an attack or corruption, never official data."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise NetworkLoadError(
            f"refused pickle BUILD on {type(self).__name__} (official network files never do this; "
            "the file is corrupt or hostile and was not executed)"
        )


class PersistentObject(_Refuses):
    """One `torch_utils.persistence` object: class name, its instance state, and a hash of its source."""

    __slots__ = ("class_name", "state", "source_sha256", "source_chars")

    def __init__(self, class_name: str, state: dict[str, Any], source_sha256: str, source_chars: int) -> None:
        self.class_name = class_name
        self.state = state
        self.source_sha256 = source_sha256
        self.source_chars = source_chars


class TensorData(_Refuses):
    """A tensor or parameter read from the file: a C-contiguous numpy array (often a read-only view of its blob)."""

    __slots__ = ("array", "is_parameter")

    def __init__(self, array: np.ndarray, is_parameter: bool = False) -> None:
        self.array = array
        self.is_parameter = is_parameter


class _Storage(_Refuses):
    __slots__ = ("data",)

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


class _NdarrayMarker(_Refuses):
    """Stands for the class `numpy.ndarray`; only `_reconstruct` accepts it."""

    __slots__ = ()


class DtypeSpec:
    """`numpy.dtype(typestr, ...)` plus its BUILD state, validated before use."""

    __slots__ = ("typestr", "byteorder", "built")

    def __init__(self, typestr: str) -> None:
        self.typestr = typestr
        self.byteorder = "="
        self.built = False

    def __setstate__(self, state: Any) -> None:
        if self.built:
            raise NetworkLoadError("refused a second pickle BUILD on a numpy dtype (corrupt or hostile file)")
        if not (isinstance(state, tuple) and len(state) >= 2 and state[1] in ("<", "|", "=", ">")):
            raise NetworkLoadError(f"unsupported numpy dtype state {_short(state)} (corrupt or hostile file)")
        if any(part is not None for part in state[2:5]):
            raise NetworkLoadError(
                "refused a structured numpy dtype (official network files hold plain numbers)"
            )
        self.byteorder = state[1]
        self.built = True

    def resolve(self) -> np.dtype:
        base = np.dtype(_NUMPY_TYPESTRS[self.typestr])
        if self.byteorder == ">" and base.itemsize > 1:
            return base.newbyteorder(">")
        return base


class ArrayBuilder:
    """`numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')`; its BUILD state carries the data."""

    __slots__ = ("array",)

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if self.array is not None:
            raise NetworkLoadError("refused a second pickle BUILD on a numpy array (corrupt or hostile file)")
        if not (isinstance(state, tuple) and len(state) == 5):
            raise NetworkLoadError(f"unsupported numpy array state {_short(state)}")
        _version, shape, dtype, is_fortran, raw = state
        if not isinstance(dtype, DtypeSpec) or not isinstance(raw, bytes | bytearray):
            raise NetworkLoadError("numpy array in the file is not a plain numeric array (refused)")
        if not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise NetworkLoadError(f"numpy array with invalid shape {_short(shape)}")
        dt = dtype.resolve()
        expected = int(np.prod(shape, dtype=np.float64)) * dt.itemsize if shape else dt.itemsize
        if expected != len(raw) or expected > _MAX_ARRAY_BYTES:
            raise NetworkLoadError(
                f"numpy array declares shape {shape} ({expected} bytes) but holds {len(raw)} bytes"
            )
        arr = np.frombuffer(bytes(raw), dtype=dt).reshape(shape, order="F" if is_fortran else "C")
        self.array = np.array(arr, dtype=dt.newbyteorder("=") if dt.byteorder == ">" else dt)


class EasyDictRecord(dict):
    """`dnnlib.util.EasyDict`: a plain dict here (no attribute access, nothing executed)."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise NetworkLoadError(
            "refused pickle BUILD on dnnlib.util.EasyDict (official files never do this; "
            "the file is corrupt or hostile and was not executed)"
        )


def _short(obj: Any) -> str:
    try:
        text = repr(obj)
    except RecursionError:  # hostile data can be nested too deeply to print
        return f"<deeply nested {type(obj).__name__}>"
    return text if len(text) <= 100 else text[:97] + "..."


# ---- stand-ins for the globals official snapshots use --------------------------------------------------


def _reconstruct_persistent_obj(meta: Any) -> PersistentObject:
    if not isinstance(meta, dict):
        raise NetworkLoadError("persistent object without a meta dict (corrupt file)")
    if meta.get("type") != "class":
        raise NetworkLoadError(
            f"persistent object of type {meta.get('type')!r}; only 'class' objects are supported"
        )
    if meta.get("version") != PERSISTENCE_FORMAT_VERSION:
        raise NetworkLoadError(
            f"persistent object format version {meta.get('version')!r}; Castmaker reads version 6 "
            "(StyleGAN2-ADA / StyleGAN3 PyTorch pickles)"
        )
    src, class_name, state = meta.get("module_src"), meta.get("class_name"), meta.get("state")
    if not isinstance(src, str) or not isinstance(class_name, str) or not isinstance(state, dict):
        raise NetworkLoadError("persistent object with malformed meta (module_src, class_name, state)")
    digest = hashlib.sha256(src.encode("utf-8", "surrogatepass")).hexdigest()
    return PersistentObject(class_name, state, digest, len(src))


def _rebuild_tensor_v2(storage: Any, offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                       hooks: Any = None, metadata: Any = None) -> TensorData:  # fmt: skip
    if not isinstance(storage, _Storage):
        raise NetworkLoadError("tensor without a storage blob (corrupt or hostile file)")
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)):
        raise NetworkLoadError(f"tensor with malformed size/stride {_short(size)} / {_short(stride)}")
    if not all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride)):
        raise NetworkLoadError(
            f"tensor with negative or non-integer geometry {_short((offset, size, stride))}"
        )
    data = storage.data
    if 0 in size:
        return TensorData(np.zeros(size, dtype=data.dtype))
    numel = int(np.prod(size, dtype=np.float64))
    if numel > data.size:
        raise NetworkLoadError(
            f"tensor of shape {tuple(size)} has more elements than its storage ({data.size}); "
            "corrupt or hostile file"
        )
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= data.size:
        raise NetworkLoadError(
            f"tensor of shape {tuple(size)} reaches element {last} of a storage with {data.size} elements "
            "(corrupt or hostile file)"
        )
    if stride == _contiguous_strides(size):  # the usual case: a read-only view of the blob, no copy
        return TensorData(data[offset : offset + numel].reshape(size))
    view = np.lib.stride_tricks.as_strided(
        data[offset:], shape=size, strides=tuple(s * data.itemsize for s in stride), writeable=False
    )
    return TensorData(np.array(view, order="C"))


def _contiguous_strides(size: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for n in reversed(size):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _rebuild_parameter(
    data: Any, requires_grad: Any = False, hooks: Any = None, state: Any = None
) -> TensorData:
    if not isinstance(data, TensorData):
        raise NetworkLoadError("parameter without tensor data (corrupt or hostile file)")
    return TensorData(data.array, is_parameter=True)


def _load_from_bytes(blob: Any) -> _Storage:
    return _Storage(parse_storage_blob(blob))


def _make_dtype(typestr: Any, align: Any = False, copy: Any = True) -> DtypeSpec:
    if typestr not in _NUMPY_TYPESTRS:
        raise NetworkLoadError(f"refused numpy dtype {typestr!r}: only plain numeric dtypes are read")
    return DtypeSpec(typestr)


def _np_reconstruct(cls: Any, shape: Any, typecode: Any) -> ArrayBuilder:
    if not isinstance(cls, _NdarrayMarker):
        raise NetworkLoadError(f"refused numpy _reconstruct of {_short(cls)}: only numpy.ndarray is allowed")
    return ArrayBuilder()


def _np_scalar(dtype: Any, raw: Any = None) -> bool | int | float:
    if not isinstance(dtype, DtypeSpec) or not isinstance(raw, bytes | bytearray):
        raise NetworkLoadError("refused numpy scalar that is not a plain number")
    dt = dtype.resolve()
    if len(raw) != dt.itemsize:
        raise NetworkLoadError(f"numpy scalar of dtype {dt} holds {len(raw)} bytes (corrupt file)")
    return np.frombuffer(bytes(raw), dtype=dt)[0].item()


def _latin1_encode(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise NetworkLoadError(f"refused _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _ordered_dict(items: Any = ()) -> dict:
    return dict(items) if items else {}


def _set(items: Any = ()) -> set:
    return set(items) if items else set()


_NDARRAY = _NdarrayMarker()

ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("collections", "OrderedDict"): _ordered_dict,
    ("dnnlib.util", "EasyDict"): EasyDictRecord,
    ("builtins", "set"): _set,
    ("__builtin__", "set"): _set,
    ("_codecs", "encode"): _latin1_encode,
    ("numpy", "dtype"): _make_dtype,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy.core.multiarray", "scalar"): _np_scalar,
    ("numpy._core.multiarray", "scalar"): _np_scalar,
}

TENSORFLOW_HINT = (
    "this is a TensorFlow-era StyleGAN/StyleGAN2 pickle, which Castmaker cannot read; convert it first on "
    "a machine where running its code is acceptable, with the official converter of NVlabs/stylegan2-ada-pytorch: "
    "`python legacy.py --source=OLD.pkl --dest=NEW.pkl`, then load NEW.pkl"
)


class SafeUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose globals come only from ALLOWED_GLOBALS; no persistent ids at top level."""

    def __init__(self, file: IO[bytes], allowed: dict[tuple[str, str], Any] | None = None) -> None:
        super().__init__(file)
        self._allowed = ALLOWED_GLOBALS if allowed is None else allowed

    def find_class(self, module: str, name: str) -> Any:
        target = self._allowed.get((module, name))
        if target is not None:
            return target
        if module.startswith("dnnlib.tflib") or module.startswith("tensorflow"):
            raise NetworkLoadError(TENSORFLOW_HINT)
        raise NetworkLoadError(
            f"refused global {module}.{name}: official network files never need it, so the file may be "
            "hostile (nothing in it was executed). Load only networks from sources you trust"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise NetworkLoadError(
            "unexpected persistent id in the pickle: this looks like a torch.save checkpoint, not a "
            "StyleGAN network snapshot"
        )


def load_restricted(file: IO[bytes]) -> Any:
    """Unpickle one object from `file` with SafeUnpickler; every failure becomes NetworkLoadError."""
    try:
        return SafeUnpickler(file).load()
    except NetworkLoadError:
        raise
    except MemoryError as exc:
        raise NetworkLoadError(
            "the pickle declares an object larger than memory (corrupt or hostile file)"
        ) from exc
    except RecursionError as exc:
        raise NetworkLoadError("the pickle is nested too deeply to read (corrupt or hostile file)") from exc
    except EOFError as exc:
        raise NetworkLoadError(
            "the file is truncated (it ends in the middle of the pickle); download it again"
        ) from exc
    except Exception as exc:  # the C unpickler raises many types on garbage; all mean the same to the user
        raise NetworkLoadError(
            f"the pickle is truncated or corrupt ({type(exc).__name__}: {exc}); download or export it again"
        ) from exc
