"""LPIPS with VGG16 features, from a local weights file that is read, never executed.

Why: LPIPS is the loss the official projectors use, but its weights cannot be downloaded at run time.
The user points `--vgg` at a file they have: NVIDIA's `vgg16.pt` (a TorchScript archive that also
carries the five LPIPS channel weights) or torchvision's `vgg16` state dict (no LPIPS weights: every
channel then weighs 1, the "baseline" LPIPS variant). TorchScript archives contain code; instead of
loading them with `torch.jit.load` we unpickle only their tensors with a restricted unpickler and build
our own VGG16 feature stack from them.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from renderer.errors import ProjectionError

log = logging.getLogger(__name__)

NUM_CONVS = 13
POOL_AFTER = (1, 3, 6, 9)  # 0-based conv indices followed by 2x2 max pooling
LPIPS_TAPS = (1, 3, 6, 9, 12)  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MAX_FEATURE_RES = 256  # larger images are area-downsampled first, as the official projectors do

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": None,  # handled separately (numpy has no bfloat16)
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


@dataclass
class VGGWeights:
    """The 13 conv layers of VGG16 and, when the file has them, the LPIPS channel weights."""

    convs: list[tuple[torch.Tensor, torch.Tensor]]  # (weight [out, in, 3, 3], bias [out])
    lpips: list[torch.Tensor] | None  # five [channels] tensors, or None (uniform weights)
    source: str  # "nvidia-torchscript" | "torchvision" | "safetensors"


# ----------------------------------------------------------------------------- reading


class _ScriptObject:
    """Stand-in for any `__torch__.*` class in a TorchScript archive: just keeps its attribute dict."""

    def __init__(self, *args: Any) -> None:
        self.attrs: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):
            self.attrs = dict(state)


def _rebuild_tensor(
    storage: torch.Tensor, offset: int, size: tuple, stride: tuple, *_rest: Any
) -> torch.Tensor:
    return torch.as_strided(storage, tuple(size), tuple(stride), int(offset)).clone()


def _rebuild_parameter(data: torch.Tensor, *_rest: Any) -> torch.Tensor:
    return data


def _plain_list(values: Any) -> list:
    return list(values)


def _restore_type_tag(value: Any, _tag: Any = None) -> Any:
    return value


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _ArchiveUnpickler(pickle.Unpickler):
    """Unpickles a TorchScript `data.pkl`: module objects become _ScriptObject, storages come from the zip."""

    _ALLOWED: dict[tuple[str, str], Any] = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("collections", "OrderedDict"): OrderedDict,
        ("torch.jit._pickle", "build_intlist"): _plain_list,
        ("torch.jit._pickle", "build_doublelist"): _plain_list,
        ("torch.jit._pickle", "build_boollist"): _plain_list,
        ("torch.jit._pickle", "build_tensorlist"): _plain_list,
        ("torch.jit._pickle", "build_genericlist"): _plain_list,
        ("torch.jit._pickle", "restore_type_tag"): _restore_type_tag,
    }

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._prefix = prefix
        self._storages: dict[str, torch.Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            return _ScriptObject
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        fn = self._ALLOWED.get((module, name))
        if fn is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the VGG16 file")
        return fn

    def persistent_load(self, pid: Any) -> torch.Tensor:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        storage_type, key = pid[1], str(pid[2])
        if key not in self._storages:
            name = storage_type.name if isinstance(storage_type, _StorageType) else str(storage_type)
            raw = self._archive.read(f"{self._prefix}data/{key}")
            if name == "BFloat16Storage":
                words = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                arr = words.view(np.float32)
            else:
                dtype = _STORAGE_DTYPES.get(name)
                if dtype is None:
                    raise pickle.UnpicklingError(f"unsupported storage type {name}")
                arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
            self._storages[key] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True))
        return self._storages[key]


def _is_torchscript(names: list[str]) -> bool:
    return any("/code/" in n or n.endswith("/constants.pkl") for n in names)


def _flatten_script_object(obj: Any, prefix: str, out: dict[str, torch.Tensor]) -> None:
    if isinstance(obj, _ScriptObject):
        for key, value in obj.attrs.items():
            _flatten_script_object(value, f"{prefix}{key}.", out)
    elif isinstance(obj, torch.Tensor):
        out[prefix[:-1]] = obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, str):
                _flatten_script_object(value, f"{prefix}{key}.", out)


def read_torchscript_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor attribute of a TorchScript archive, by dotted name, without running its code."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        data_pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if not data_pkl:
            raise ProjectionError(f"{path.name}: TorchScript archive without data.pkl")
        prefix = data_pkl[0][: -len("data.pkl")]
        root = _ArchiveUnpickler(archive.read(data_pkl[0]), archive, prefix).load()
    out: dict[str, torch.Tensor] = {}
    _flatten_script_object(root, "", out)
    return out


def read_weight_file(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    """All tensors of a VGG16 weights file and which kind of file it was."""
    p = Path(path)
    if not p.is_file():
        raise ProjectionError(
            f"VGG16 weights not found: {p} (give the path of NVIDIA's vgg16.pt or a torchvision vgg16 .pth)"
        )
    try:
        if p.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(p)), "safetensors"
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as archive:
                script = _is_torchscript(archive.namelist())
            if script:
                return read_torchscript_tensors(p), "nvidia-torchscript"
        state = torch.load(p, map_location="cpu", weights_only=True)
    except ProjectionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure becomes one clear message
        raise ProjectionError(
            f"cannot read VGG16 weights from {p.name} ({type(exc).__name__}: {exc}); expected NVIDIA's vgg16.pt "
            "or a torchvision vgg16 state dict (.pth)"
        ) from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ProjectionError(f"{p.name} holds a {type(state).__name__}, not a state dict of VGG16 weights")
    tensors = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    return tensors, "torchvision"


# ----------------------------------------------------------------------------- interpreting


def _numbered(tensors: dict[str, torch.Tensor], pattern: str) -> list[tuple[int, str]]:
    rx = re.compile(pattern)
    found = []
    for key in tensors:
        m = rx.fullmatch(key)
        if m:
            found.append((int(m.group(1)), key))
    return sorted(found)


def interpret_vgg_weights(
    tensors: dict[str, torch.Tensor], source: str, name: str = "VGG16 file"
) -> VGGWeights:
    """Pick the 13 conv layers (torchvision `features.N`, NVIDIA `layers.convK`) and LPIPS weights."""
    candidates = [
        _numbered(tensors, r"(?:module\.)?features\.(\d+)\.weight"),
        _numbered(tensors, r"(?:.*\.)?conv(\d+)\.weight"),
    ]
    weight_keys = next((c for c in candidates if len(c) == NUM_CONVS), None)
    if weight_keys is None:
        counts = ", ".join(str(len(c)) for c in candidates)
        raise ProjectionError(
            f"{name} does not look like VGG16: expected 13 conv layers (features.N or layers.convK), found {counts}"
        )
    convs = []
    in_ch = 3
    for _, key in weight_keys:
        w = tensors[key].to(torch.float32)
        b = tensors.get(key[: -len("weight")] + "bias")
        if (
            w.ndim != 4
            or w.shape[1] != in_ch
            or w.shape[2:] != (3, 3)
            or b is None
            or b.shape != (w.shape[0],)
        ):
            raise ProjectionError(
                f"{name}: layer {key} has shape {list(w.shape)}, which does not chain as VGG16"
            )
        convs.append((w.contiguous(), b.to(torch.float32).contiguous()))
        in_ch = w.shape[0]
    lpips_keys = _numbered(tensors, r"(?:.*\.)?lpips\.?(\d)(?:\.weight)?")
    lpips = None
    if len(lpips_keys) == len(LPIPS_TAPS):
        lpips = [tensors[k].to(torch.float32).reshape(-1) for _, k in lpips_keys]
        for tap, lw in zip(LPIPS_TAPS, lpips, strict=True):
            if lw.numel() != convs[tap][0].shape[0]:
                raise ProjectionError(f"{name}: LPIPS weights do not match the VGG16 channel counts")
    return VGGWeights(convs=convs, lpips=lpips, source=source)


def load_vgg_weights(path: str | os.PathLike) -> VGGWeights:
    """Read and interpret a local VGG16 weights file (see the module docstring for the accepted kinds)."""
    tensors, source = read_weight_file(path)
    weights = interpret_vgg_weights(tensors, source, Path(path).name)
    if weights.lpips is None:
        log.info("%s has no LPIPS channel weights: using uniform weights (baseline LPIPS)", Path(path).name)
    return weights


# ----------------------------------------------------------------------------- the module


class VGG16Features(nn.Module):
    """VGG16's convolutional stack returning the five LPIPS feature maps (relu1_2 ... relu5_3)."""

    def __init__(self, weights: VGGWeights) -> None:
        super().__init__()
        self.convs = nn.ModuleList()
        for w, b in weights.convs:
            conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
            conv.weight.data.copy_(w)
            conv.bias.data.copy_(b)
            self.convs.append(conv)
        lp = weights.lpips or [torch.ones(weights.convs[t][0].shape[0]) for t in LPIPS_TAPS]
        for i, lw in enumerate(lp):
            self.register_buffer(f"lpips{i}", lw.clone().view(1, -1, 1, 1))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.has_lpips_weights = weights.lpips is not None
        self.requires_grad_(False).eval()

    def forward(self, img: torch.Tensor) -> list[torch.Tensor]:
        """img [N, C, H, W] in [-1, 1] (C = 1, 3 or 4: grey is repeated, alpha dropped) -> 5 feature maps."""
        x = img[:, :3] if img.shape[1] >= 3 else img[:, :1].repeat(1, 3, 1, 1)
        if x.shape[2] > MAX_FEATURE_RES:
            x = F.interpolate(x, size=(MAX_FEATURE_RES, MAX_FEATURE_RES), mode="area")
        x = ((x + 1) * 0.5 - self.mean) / self.std
        taps = []
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            if i in LPIPS_TAPS:
                taps.append(x)
            if i in POOL_AFTER:
                x = F.max_pool2d(x, 2)
        return taps

    def lpips_features(self, img: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised features scaled so that the squared distance summed over everything is LPIPS."""
        out = []
        for i, f in enumerate(self.forward(img)):
            f = f / (f.square().sum(dim=1, keepdim=True).sqrt() + 1e-10)
            weight = getattr(self, f"lpips{i}")
            out.append(f * weight.clamp_min(0).sqrt() / np.sqrt(f.shape[2] * f.shape[3]))
        return out

    def distance(self, a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
        """LPIPS distance per image [N] between two lpips_features results."""
        return sum((x - y).square().sum(dim=(1, 2, 3)) for x, y in zip(a, b, strict=True))
