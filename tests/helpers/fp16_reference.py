"""A float64 reference of a float16 forward pass: the same operations, rounded to float16 at the same points.

Why: to test Castmaker's float16 path we need to know what it *should* give. The float32 image is the
wrong yardstick (float16's own rounding, ~6e-3 on the fixture, is all of the difference), and the
official float16 image depends on the CPU that made it (issue 13, section 4). The reference here runs
the very same module code on `Shadow64` tensors: each one holds its value in float64 and remembers the
dtype the real pass would have ("logical dtype"). Every aten operation is computed in float64 from
float64 operands; when the logical result dtype is float16, the result is rounded to float16 (correctly,
once, from float64) and kept in float64. So the reference stores float16 at exactly the points where the
real pass stores float16 (every aten op with a float16 output: `.to(float16)`, bias + activation, noise
add, gain, clamp, the convolutions' casts back), and differs from the real pass only in how the values
between those points are computed: exactly (float64, ~1e-16) instead of in float32 (2**-24 per rounding,
k * 2**-24 relative for a k-term sum). See `tests/renderer/test_parity_stylegan2.py` for the bound that
difference implies.

Rounding: torch converts float64 to float16 through float32 (double rounding: 1 + 2**-11 + 2**-40 gives
1.0 instead of 1 + 2**-10), so the rounding here goes through numpy, whose float64 -> float16 conversion
rounds once (`round_to_float16`, checked in tests/renderer/test_half_conv.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

_FLOATS = (torch.float16, torch.float32, torch.float64, torch.bfloat16)


def round_to_float16(x: torch.Tensor) -> torch.Tensor:
    """float64 tensor -> float64 tensor of the nearest float16 values (ties to even), rounded once."""
    with np.errstate(over="ignore"):  # beyond 65504 the nearest float16 is inf, as IEEE says
        return torch.from_numpy(x.detach().cpu().numpy().astype(np.float16).astype(np.float64))


class Shadow64(torch.Tensor):
    """A tensor whose value is float64 and whose `dtype` is the dtype the real pass would have."""

    __torch_function__ = torch._C._disabled_torch_function_impl

    @staticmethod
    def __new__(cls, inner: torch.Tensor, logical: torch.dtype) -> Shadow64:  # noqa: D102
        r = torch.Tensor._make_wrapper_subclass(
            cls, inner.shape, strides=inner.stride(), storage_offset=inner.storage_offset(),
            dtype=logical, device=inner.device, requires_grad=False,
        )  # fmt: skip
        r.inner = inner
        return r

    def __repr__(self) -> str:  # noqa: D105
        return f"Shadow64(logical={self.dtype}, {self.inner!r})"

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN206 - torch's protocol
        kwargs = kwargs or {}

        def as_meta(t: Any) -> Any:  # the real pass's dtypes, no data
            if isinstance(t, Shadow64):
                return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
            if isinstance(t, torch.Tensor):
                return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="meta")
            return t

        def as_f64(t: Any) -> Any:  # the values, exactly, in float64
            if isinstance(t, Shadow64):
                return t.inner
            if isinstance(t, torch.Tensor) and t.dtype in _FLOATS:
                return t.to(torch.float64)
            return t

        def f64_kwargs(kw: dict) -> dict:
            kw = {k: as_f64(v) for k, v in kw.items()}
            if kw.get("dtype") in _FLOATS:  # e.g. _to_copy(dtype=float16): keep float64, round below
                kw["dtype"] = torch.float64
            return kw

        def as_real(t: Any) -> Any:  # the values in the real pass's dtypes (for ops meta cannot run)
            if isinstance(t, Shadow64):
                return t.inner.to(t.dtype)
            return t

        try:
            logical = func(*tree_map(as_meta, args), **tree_map(as_meta, kwargs))
        except (NotImplementedError, RuntimeError):
            logical = func(*tree_map(as_real, args), **tree_map(as_real, kwargs))
        out = func(*tree_map(as_f64, args), **f64_kwargs(kwargs))

        if any(
            a.alias_info is not None and a.alias_info.is_write for a in func._schema.arguments
        ):  # in place: the first argument (self / out) holds the result
            target = args[0]
            if isinstance(target, Shadow64) and target.dtype == torch.float16:
                target.inner.copy_(round_to_float16(target.inner))
            return target

        def wrap(meta: Any, value: Any) -> Any:
            if not isinstance(meta, torch.Tensor):
                return value
            if meta.dtype not in _FLOATS:
                return value.to(meta.dtype) if isinstance(value, torch.Tensor) else value
            if meta.dtype == torch.float16 and not func.is_view:
                value = round_to_float16(value)
            return Shadow64(value, meta.dtype)

        if isinstance(logical, tuple | list):
            return type(logical)(wrap(m, v) for m, v in zip(logical, out, strict=True))
        return wrap(logical, out)


def shadow(t: torch.Tensor) -> Shadow64:
    """A plain float tensor as a Shadow64 of the same logical dtype (float16 values are exact in float64)."""
    return Shadow64(t.detach().to(torch.float64), t.dtype)


def shadow_module(module: nn.Module) -> nn.Module:
    """A deep copy of `module` whose float parameters and buffers are Shadow64 tensors."""
    twin = copy.deepcopy(module)
    for m in twin.modules():
        for name, p in list(m._parameters.items()):
            if p is not None and p.dtype in _FLOATS:
                m._parameters[name] = shadow(p)  # type: ignore[assignment] - a plain tensor, no grad needed
        for name, b in list(m._buffers.items()):
            if b is not None and b.dtype in _FLOATS:
                m._buffers[name] = shadow(b)
    return twin


def float64_reference(
    module: nn.Module, call: Callable[[nn.Module, Shadow64], torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """Run `call(shadow_module(module), shadow(x))` and return its result's float64 values.

    Example: `float64_reference(G.synthesis, lambda s, ws: s(ws, noise_mode="const"), ws)`.
    """
    with torch.no_grad():
        out = call(shadow_module(module), shadow(x))
    if not isinstance(out, Shadow64):
        raise TypeError(f"the call returned {type(out).__name__}, not a Shadow64 tensor")
    return out.inner.clone()


def float16_ulp(v: torch.Tensor) -> torch.Tensor:
    """The spacing of float16 numbers at |v| (2**-24 in the subnormal range), as float64."""
    v = v.detach().to(torch.float64).abs().clamp_min(2.0**-14)
    return torch.exp2(torch.floor(torch.log2(v)) - 10)


def rms(t: torch.Tensor) -> float:
    """Root mean square of a tensor's values (float64)."""
    return float(t.detach().to(torch.float64).pow(2).mean().sqrt())


class Float16Convolutions(TorchDispatchMode):
    """Record every aten convolution that receives a float16 tensor (torch's CPU-dependent fp16 kernels)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204 - torch's protocol
        if "convolution" in func.overloadpacket.__name__ and any(
            isinstance(a, torch.Tensor) and a.dtype == torch.float16 for a in args
        ):
            self.calls.append(str(func))
        return func(*args, **(kwargs or {}))
