"""Plain records of the modules found in a network snapshot: class name, constructor kwargs, tensors.

Why: the unpickler yields stand-in objects with torch's `Module.__dict__` layout; everything after it
(architecture detection, building, conversion, `info`) wants a small typed tree with official
state_dict names and plain Python/numpy values instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from renderer.errors import NetworkLoadError
from renderer.loading.safe_unpickler import (
    ArrayBuilder,
    DtypeSpec,
    EasyDictRecord,
    PersistentObject,
    TensorData,
)

MAX_DEPTH = 64


@dataclass
class ModuleRecord:
    """One persistent module: what it was built with, its own tensors and its child modules."""

    class_name: str
    init_args: tuple[Any, ...]
    init_kwargs: dict[str, Any]
    attributes: dict[str, Any]
    parameters: dict[str, np.ndarray]
    buffers: dict[str, np.ndarray]
    children: dict[str, ModuleRecord] = field(default_factory=dict)
    source_sha256: str = ""

    def walk(self, prefix: str = "") -> Iterator[tuple[str, ModuleRecord]]:
        """(dotted path, record) for this module and every descendant, parents first."""
        yield prefix, self
        for name, child in self.children.items():
            yield from child.walk(f"{prefix}.{name}" if prefix else name)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Official state_dict names -> arrays, in torch's order (own params, own buffers, children)."""
        out: dict[str, np.ndarray] = {}
        for path, rec in self.walk():
            dot = f"{path}." if path else ""
            for name, arr in rec.parameters.items():
                out[dot + name] = arr
            for name, arr in rec.buffers.items():
                out[dot + name] = arr
        return out

    def class_names(self) -> set[str]:
        return {rec.class_name for _, rec in self.walk()}

    def source_hashes(self) -> set[str]:
        return {rec.source_sha256 for _, rec in self.walk() if rec.source_sha256}


def plain(value: Any, json_safe: bool = False) -> Any:
    """Stand-ins -> plain values: EasyDict -> dict, numpy data -> ndarray (list when json_safe)."""
    if isinstance(value, EasyDictRecord | dict):
        return {k: plain(v, json_safe) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, json_safe) for v in value]
    if isinstance(value, tuple):
        items = [plain(v, json_safe) for v in value]
        return items if json_safe else tuple(items)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr) if json_safe else set(value)
    if isinstance(value, ArrayBuilder | TensorData):
        arr = value.array
        if arr is None:
            raise NetworkLoadError("numpy array in the file has no data (corrupt file)")
        return arr.tolist() if json_safe else arr
    if isinstance(value, DtypeSpec):
        return str(value.resolve())
    if isinstance(value, PersistentObject):
        return f"<{value.class_name} module>"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>" if json_safe else bytes(value)
    return value


def _tensor_dict(value: Any, what: str, path: str, skip: set[str]) -> dict[str, np.ndarray]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NetworkLoadError(
            f"module {path or '<root>'}: {what} is a {type(value).__name__}, expected a dict"
        )
    out: dict[str, np.ndarray] = {}
    for name, t in value.items():
        if t is None or name in skip:
            continue
        if not isinstance(t, TensorData) or not isinstance(name, str):
            raise NetworkLoadError(
                f"module {path or '<root>'}: {what} entry {name!r} is not a tensor (corrupt file)"
            )
        out[name] = t.array
    return out


def module_record(obj: Any, path: str = "", depth: int = 0) -> ModuleRecord:
    """Turn a PersistentObject (torch Module __dict__ layout) into a ModuleRecord tree."""
    if depth > MAX_DEPTH:
        raise NetworkLoadError("module tree in the file is nested too deeply (corrupt or hostile file)")
    if not isinstance(obj, PersistentObject):
        raise NetworkLoadError(
            f"{path or 'the network'} is a {type(obj).__name__}, not a StyleGAN network module"
        )
    state = obj.state
    non_persistent = state.get("_non_persistent_buffers_set") or set()
    if not isinstance(non_persistent, set):
        non_persistent = set()
    params = _tensor_dict(state.get("_parameters"), "_parameters", path, set())
    buffers = _tensor_dict(state.get("_buffers"), "_buffers", path, set(non_persistent))
    modules = state.get("_modules") or {}
    if not isinstance(modules, dict):
        raise NetworkLoadError(f"module {path or '<root>'}: _modules is not a dict (corrupt file)")
    children: dict[str, ModuleRecord] = {}
    for name, child in modules.items():
        if child is None:
            continue
        child_path = f"{path}.{name}" if path else str(name)
        children[str(name)] = module_record(child, child_path, depth + 1)
    init_args = state.get("_init_args", ())
    init_kwargs = state.get("_init_kwargs", {})
    if not isinstance(init_args, tuple | list) or not isinstance(init_kwargs, dict):
        raise NetworkLoadError(f"module {path or '<root>'}: malformed constructor arguments (corrupt file)")
    attributes = {
        k: plain(v)
        for k, v in state.items()
        if isinstance(k, str) and not k.startswith("_") and k != "training"
    }
    return ModuleRecord(
        class_name=obj.class_name,
        init_args=tuple(plain(a) for a in init_args),
        init_kwargs=plain(init_kwargs),
        attributes=attributes,
        parameters=params,
        buffers=buffers,
        children=children,
        source_sha256=obj.source_sha256,
    )
