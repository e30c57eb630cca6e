"""Precision and acceleration options of the Engine, resolved once per device.

Why a separate value: the prefix cache must be invalidated whenever anything that changes the numbers
changes (device, fp16, memory format, compiled code), so these options form part of the cache context.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from renderer.errors import RenderError

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class EngineOptions:
    """What the engine does on its device; `resolve_options` turns user wishes into this."""

    fp16: bool  # run the network's use_fp16 layers in float16 (CUDA only: force_fp32=False)
    channels_last: bool  # store conv weights channels-last (CUDA only)
    compile: bool  # torch.compile the step runner
    cuda_graphs: bool  # compile with mode="reduce-overhead" (CUDA graphs); implies compile

    @property
    def force_fp32(self) -> bool:
        return not self.fp16


def resolve_options(
    device: torch.device,
    fp16: bool | None = None,
    channels_last: bool = False,
    compile: bool = False,
    cuda_graphs: bool = False,
) -> EngineOptions:
    """Defaults: fp16 on CUDA (as the official networks run), everything else off until measured faster.

    MPS and CPU always run float32: the official fp16 layers are a CUDA feature, MPS has no float64
    and patchy half-precision ops, and CPU half precision is slower than float32.
    """
    cuda = device.type == "cuda"
    if fp16 is None:
        fp16 = cuda
    if fp16 and not cuda:
        raise RenderError(f"fp16 rendering needs a CUDA device (this engine runs on {device.type}): leave fp16 off")
    if channels_last and not cuda:
        raise RenderError("channels-last is a CUDA option: leave it off on CPU / MPS")
    if cuda_graphs and not cuda:
        raise RenderError("CUDA graphs need a CUDA device: leave cuda_graphs off on CPU / MPS")
    return EngineOptions(fp16=bool(fp16), channels_last=bool(channels_last), compile=bool(compile or cuda_graphs), cuda_graphs=bool(cuda_graphs))
