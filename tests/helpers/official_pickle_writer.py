"""Write network-snapshot pickles in the official StyleGAN2-ADA / StyleGAN3 byte layout, for tests.

Why: official snapshots embed NVIDIA source text, so none are stored in the project. This helper
rebuilds the same structure from a fixture's init.json + weights.safetensors: each module is a
`torch_utils.persistence._reconstruct_persistent_obj(meta)` call (meta = type, version 6, module_src,
class_name, state = the Module __dict__), tensors are `_rebuild_tensor_v2` / `_rebuild_parameter` over
`torch.storage._load_from_bytes(<legacy torch.save stream>)`, kwargs dicts are `dnnlib.util.EasyDict`,
numpy scalars and arrays use numpy's reducers under the numpy-1 or numpy-2 module names. The embedded
`module_src` is a short dummy text of our own. G deliberately gets different weights than G_ema.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file

from .pickle_emitter import Call, Emitter, Global, NewObj, PersId, dumps

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
BUFFER_NAMES = {"w_avg", "transform", "freqs", "phases", "magnitude_ema", "up_filter", "down_filter",
                "resample_filter", "noise_const", "p", "Hz_geom", "Hz_fbank"}  # fmt: skip
DUMMY_G_SOURCE = "# Placeholder module text written by Castmaker's test helper (not real network code).\n"
DUMMY_D_SOURCE = "# Placeholder discriminator module text from Castmaker's test helper.\n"
DUMMY_AUG_SOURCE = "# Placeholder augmentation module text from Castmaker's test helper.\n"
_TORCH_BOOKKEEPING_DICTS = [
    "_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks",
]  # fmt: skip
_ARRAY_ATTRS = {"in_size", "out_size", "size"}
_F8_ATTRS = {"in_cutoff", "out_cutoff", "in_half_width", "out_half_width", "sampling_rate", "bandwidth"}
_DTYPE_STATE = {"f8": "<", "i8": "<", "b1": "|", "f4": "<"}


def legacy_storage_stream(data: np.ndarray, key: str = "0", storage_class: str = "FloatStorage",
                          numel: int | None = None, extra_payload: Any = None) -> bytes:  # fmt: skip
    """The nested `torch.save` (legacy, protocol 2) stream of one storage, as torch writes it.

    `numel` overrides the declared element count and `extra_payload` replaces the storage pickle
    (both only for hostile tests).
    """
    flat = np.array(data, order="C").reshape(-1)
    count = flat.size if numel is None else numel
    sys_info = {
        "protocol_version": 1001,
        "little_endian": True,
        "type_sizes": {"short": 2, "int": 4, "long": 4},
    }
    ref = (extra_payload if extra_payload is not None
           else PersId(("storage", Global("torch", storage_class), key, "cpu", count, None)))  # fmt: skip
    parts = [dumps(LEGACY_MAGIC, 2), dumps(1001, 2), dumps(sys_info, 2), dumps(ref, 2), dumps([key], 2)]
    return b"".join(parts) + struct.pack("<q", count) + flat.astype("<" + flat.dtype.str[1:]).tobytes()


class SnapshotWriter:
    """Builds emitter nodes for one pickle; shares globals and dtype objects as pickle's memo would."""

    def __init__(self, numpy_major: int = 2) -> None:
        np_core = "numpy._core.multiarray" if numpy_major >= 2 else "numpy.core.multiarray"
        self.g_persist = Global("torch_utils.persistence", "_reconstruct_persistent_obj")
        self.g_tensor = Global("torch._utils", "_rebuild_tensor_v2")
        self.g_param = Global("torch._utils", "_rebuild_parameter")
        self.g_bytes = Global("torch.storage", "_load_from_bytes")
        self.g_odict = Global("collections", "OrderedDict")
        self.g_easydict = Global("dnnlib.util", "EasyDict")
        self.g_dtype = Global("numpy", "dtype")
        self.g_ndarray = Global("numpy", "ndarray")
        self.g_scalar = Global(np_core, "scalar")
        self.g_reconstruct = Global(np_core, "_reconstruct")
        self._dtypes: dict[str, Call] = {}
        self._storage_ids = 0

    # ---- leaves --------------------------------------------------------------------------------
    def odict(self) -> Call:
        return Call(self.g_odict, ())

    def dtype(self, code: str) -> Call:
        if code not in self._dtypes:
            self._dtypes[code] = Call(self.g_dtype, (code, False, True), state=(3, _DTYPE_STATE[code], None, None,
                                      None, -1, -1, 0), has_state=True)  # fmt: skip
        return self._dtypes[code]

    def scalar(self, value: Any, code: str) -> Call:
        raw = np.asarray(value, dtype={"f8": "<f8", "i8": "<i8", "b1": "?"}[code]).tobytes()
        return Call(self.g_scalar, (self.dtype(code), raw))

    def ndarray(self, arr: np.ndarray, code: str) -> Call:
        arr = np.array(arr, dtype={"f8": "<f8", "i8": "<i8", "b1": "?", "f4": "<f4"}[code], order="C")
        return Call(self.g_reconstruct, (self.g_ndarray, (0,), b"b"),
                    state=(1, tuple(arr.shape), self.dtype(code), False, arr.tobytes()), has_state=True)  # fmt: skip

    def tensor(self, arr: np.ndarray, parameter: bool) -> Call:
        arr = np.array(arr, dtype=np.float32, order="C")
        blob = legacy_storage_stream(arr, key=str(self._storage_ids))
        storage = Call(self.g_bytes, (blob,))
        strides = tuple(s // 4 for s in arr.strides) if arr.ndim else ()
        t = Call(self.g_tensor, (storage, 0, tuple(arr.shape), strides, False, self.odict()))
        return Call(self.g_param, (t, False, self.odict())) if parameter else t

    def easydict(self, items: Mapping[str, Any]) -> NewObj:
        return NewObj(self.g_easydict, (), dictitems=dict(items) or None)

    def module(self, class_name: str, source: str, *, params: Mapping[str, Any] | None = None,
               buffers: Mapping[str, Any] | None = None, children: Mapping[str, Any] | None = None,
               init_args: tuple = (), init_kwargs: Any = None, attrs: Mapping[str, Any] | None = None) -> Call:  # fmt: skip
        """A persistent object with torch's Module __dict__ layout as its state."""
        state: dict[str, Any] = {"training": False, "_parameters": dict(params or {}),
                                 "_buffers": dict(buffers or {}), "_non_persistent_buffers_set": set()}  # fmt: skip
        for name in _TORCH_BOOKKEEPING_DICTS[:2]:
            state[name] = self.odict()
        state["_is_full_backward_hook"] = None
        for name in _TORCH_BOOKKEEPING_DICTS[2:]:
            state[name] = self.odict()
        state["_modules"] = dict(children or {})
        state.update(attrs or {})
        state["_init_args"] = tuple(init_args)
        state["_init_kwargs"] = init_kwargs if init_kwargs is not None else {}
        meta = {"type": "class", "version": 6, "module_src": source, "class_name": class_name, "state": state}
        return Call(self.g_persist, (meta,))

    # ---- kwargs with recorded python types -------------------------------------------------------
    def typed_kwargs(self, kwargs: Mapping[str, Any], types: Mapping[str, str], prefix: str = "") -> dict:
        out: dict[str, Any] = {}
        for key, value in kwargs.items():
            t = types.get(prefix + key, "")
            if t == "dnnlib.util.EasyDict":
                out[key] = self.easydict(self.typed_kwargs(value, types, prefix + key + "."))
            elif t == "numpy.float64":
                out[key] = self.scalar(value, "f8")
            elif t in ("numpy.bool", "numpy.bool_"):
                out[key] = self.scalar(value, "b1")
            elif t == "numpy.int64":
                out[key] = self.scalar(value, "i8")
            elif t == "builtins.tuple":
                out[key] = tuple(value)
            else:
                out[key] = value
        return out


# ---- generator tree from a fixture --------------------------------------------------------------


def _layer_attrs(w: SnapshotWriter, entry: Mapping[str, Any], stylegan3: bool) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "name":
            continue
        if key in _ARRAY_ATTRS and isinstance(value, list):
            attrs[key] = w.ndarray(np.asarray(value), "i8")
        elif key in _F8_ATTRS:
            attrs[key] = w.scalar(value, "f8")
        elif key == "use_fp16" and stylegan3:
            attrs[key] = w.scalar(value, "b1")
        else:
            attrs[key] = value
    return attrs


def generator_node(w: SnapshotWriter, init: Mapping[str, Any], weights: Mapping[str, np.ndarray],
                   source: str = DUMMY_G_SOURCE) -> Call:  # fmt: skip
    """The Generator persistent object of a fixture, with `weights` as its tensors."""
    stylegan3 = init["module_name"].endswith("stylegan3")
    layer_info = {entry["name"]: entry for entry in init.get("layers", [])}
    order = [item["key"] for item in init["state_dict"]]
    modules = {m["path"]: m for m in init["persistent_modules"]}
    children_of: dict[str, list[str]] = {p: [] for p in modules}
    for p in modules:
        if p:
            parent = p.rpartition(".")[0]
            children_of[parent].append(p)

    def build(path: str) -> Call:
        info = modules[path]
        dot = path + "." if path else ""
        own = [k for k in order if k.startswith(dot) and "." not in k[len(dot) :]]
        params = {k[len(dot) :]: w.tensor(weights[k], True) for k in own if k[len(dot) :] not in BUFFER_NAMES}
        buffers: dict[str, Any] = {}
        if stylegan3 and info["class_name"] == "SynthesisLayer":
            buffers = {"magnitude_ema": None, "up_filter": None, "down_filter": None}
        for k in own:
            if k[len(dot) :] in BUFFER_NAMES:
                buffers[k[len(dot) :]] = w.tensor(weights[k], False)
        leaf = path.rpartition(".")[2]
        attrs: dict[str, Any] = {}
        if leaf in layer_info and path.startswith("synthesis."):
            attrs = _layer_attrs(w, layer_info[leaf], stylegan3)
        elif path == "":
            attrs = {
                k: init[k] for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "num_ws")
            }
        elif path == "synthesis" and stylegan3:
            attrs = {"layer_names": [e["name"] for e in init["layers"] if e["name"] != "input"]}
        elif path == "synthesis":
            attrs = {"block_resolutions": [e["resolution"] for e in init["layers"]]}
        children = {c.rpartition(".")[2]: build(c) for c in children_of[path]}
        kwargs = w.typed_kwargs(info["init_kwargs"], info.get("init_kwargs_python_types", {}))
        return w.module(info["class_name"], source, params=params, buffers=buffers, children=children,
                        init_args=tuple(info["init_args"]), init_kwargs=kwargs, attrs=attrs)  # fmt: skip

    return build("")


# ---- a discriminator with the official (resnet) key layout ---------------------------------------


def discriminator_state(d_kwargs: Mapping[str, Any], seed: int = 7) -> dict[str, np.ndarray]:
    """Seeded weights with the official StyleGAN2 discriminator's key names and shapes."""
    res, base, cmax, img_ch = (d_kwargs["img_resolution"], d_kwargs["channel_base"], d_kwargs["channel_max"],
                               d_kwargs["img_channels"])  # fmt: skip
    resolutions = [2**i for i in range(int(np.log2(res)), 2, -1)]
    ch = {r: min(base // r, cmax) for r in [*resolutions, 4]}
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}
    filt = np.outer([1, 3, 3, 1], [1, 3, 3, 1]).astype(np.float32) / 64.0

    def conv(prefix: str, cin: int, cout: int, k: int, bias: bool = True) -> None:
        state[prefix + ".weight"] = rng.standard_normal((cout, cin, k, k), dtype=np.float32)
        if bias:
            state[prefix + ".bias"] = rng.standard_normal(cout, dtype=np.float32)
        state[prefix + ".resample_filter"] = filt

    for r in resolutions:
        tmp, out = ch[r], ch[r // 2]
        if r == res:
            conv(f"b{r}.fromrgb", img_ch, tmp, 1)
        conv(f"b{r}.conv0", tmp, tmp, 3)
        conv(f"b{r}.conv1", tmp, out, 3)
        conv(f"b{r}.skip", tmp, out, 1, bias=False)
        state[f"b{r}.resample_filter"] = filt
    c4 = ch[4]
    conv("b4.conv", c4 + 1, c4, 3)
    state["b4.fc.weight"] = rng.standard_normal((c4, c4 * 16), dtype=np.float32)
    state["b4.fc.bias"] = rng.standard_normal(c4, dtype=np.float32)
    state["b4.out.weight"] = rng.standard_normal((1, c4), dtype=np.float32)
    state["b4.out.bias"] = rng.standard_normal(1, dtype=np.float32)
    return state


def discriminator_node(w: SnapshotWriter, d_kwargs: Mapping[str, Any], state: Mapping[str, np.ndarray],
                       source: str = DUMMY_D_SOURCE) -> Call:  # fmt: skip
    """A Discriminator persistent object whose submodule tree follows `state`'s dotted names."""
    tree: dict[str, Any] = {}
    for key in state:
        node = tree
        for part in key.split(".")[:-1]:
            node = node.setdefault(part, {})
    class_of = {"fromrgb": "Conv2dLayer", "conv0": "Conv2dLayer", "conv1": "Conv2dLayer", "skip": "Conv2dLayer",
                "conv": "Conv2dLayer", "fc": "FullyConnectedLayer", "out": "FullyConnectedLayer"}  # fmt: skip

    def build(path: str, sub: dict[str, Any]) -> Call:
        dot = path + "." if path else ""
        own = {k[len(dot) :]: v for k, v in state.items() if k.startswith(dot) and "." not in k[len(dot) :]}
        params = {n: w.tensor(v, True) for n, v in own.items() if n not in BUFFER_NAMES}
        buffers = {n: w.tensor(v, False) for n, v in own.items() if n in BUFFER_NAMES}
        children = {n: build(dot + n, s) for n, s in sub.items()}
        leaf = path.rpartition(".")[2]
        if path == "":
            cls, kwargs = "Discriminator", _easy_nested(w, d_kwargs)
        elif leaf == "b4":
            cls, kwargs = "DiscriminatorEpilogue", {"resolution": 4}
            children["mbstd"] = w.module("MinibatchStdLayer", source, init_kwargs={"group_size": 4},
                                         attrs={"group_size": 4, "num_channels": 1})  # fmt: skip
        elif leaf.startswith("b"):
            cls, kwargs = "DiscriminatorBlock", {"resolution": int(leaf[1:])}
        else:
            cls, kwargs = class_of.get(leaf, "Conv2dLayer"), {}
        return w.module(cls, source, params=params, buffers=buffers, children=children, init_kwargs=kwargs)

    return build("", tree)


def _easy_nested(w: SnapshotWriter, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: w.easydict(v) if isinstance(v, dict) else v for k, v in kwargs.items()}


def augment_pipe_node(w: SnapshotWriter) -> Call:
    buffers = {"p": w.tensor(np.zeros((), np.float32), False),
               "Hz_geom": w.tensor(np.linspace(-1, 1, 12, dtype=np.float32), False),
               "Hz_fbank": w.tensor(np.ones((4, 43), np.float32), False)}  # fmt: skip
    attrs = {"xflip": 1.0, "rotate90": 1.0, "xint": 1.0, "scale": 1.0, "imgfilter_bands": [1, 1, 1, 1]}
    return w.module("AugmentPipe", DUMMY_AUG_SOURCE, buffers=buffers, init_kwargs={"xflip": 1}, attrs=attrs)


# ---- whole snapshots ----------------------------------------------------------------------------


def perturbed(weights: Mapping[str, np.ndarray], seed: int = 1) -> dict[str, np.ndarray]:
    """Different weights with the same names and shapes (the training G is not G_ema)."""
    rng = np.random.default_rng(seed)
    return {k: (v + rng.standard_normal(v.shape).astype(np.float32) * 0.5 + 0.25).astype(np.float32)
            for k, v in weights.items()}  # fmt: skip


def snapshot_node(fixture_dir: Path, *, numpy_major: int = 2, keys: tuple[str, ...] = ("G", "D", "G_ema"),
                  with_augment: bool = False, g_source: str = DUMMY_G_SOURCE,
                  extra: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The top-level snapshot dict (as emitter nodes) for an official fixture folder."""
    init = json.loads((fixture_dir / "init.json").read_text())
    weights = load_file(str(fixture_dir / "weights.safetensors"))
    w = SnapshotWriter(numpy_major)
    d_info = init["discriminator_in_pickle"]
    parts: dict[str, Any] = {}
    if "G" in keys:
        parts["G"] = generator_node(w, init, perturbed(weights), g_source)
    if "D" in keys:
        parts["D"] = discriminator_node(w, d_info["init_kwargs"], discriminator_state(d_info["init_kwargs"]))
    if "G_ema" in keys:
        parts["G_ema"] = generator_node(w, init, weights, g_source)
    parts["augment_pipe"] = augment_pipe_node(w) if with_augment else None
    parts["training_set_kwargs"] = None
    if init["official_repo"].endswith("stylegan2-ada-pytorch"):
        order = ["training_set_kwargs", "G", "D", "G_ema", "augment_pipe"]
    else:
        order = ["G", "D", "G_ema", "augment_pipe", "training_set_kwargs"]
    top = {k: parts[k] for k in order if k in parts}
    top.update(extra or {})
    return top


def write_snapshot(fixture_dir: Path, out_path: Path, *, protocol: int = 4, numpy_major: int = 2,
                   **kwargs: Any) -> Path:  # fmt: skip
    """Write an official-layout snapshot pickle for `fixture_dir` to `out_path`; returns the path."""
    node = snapshot_node(fixture_dir, numpy_major=numpy_major, **kwargs)
    e = Emitter(protocol)
    e.out.write(b"\x80" + bytes([protocol]))
    e.save(node)
    out_path.write_bytes(e.finish())
    return out_path
