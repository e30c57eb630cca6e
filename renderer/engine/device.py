"""Device choice: CUDA > MPS > CPU for "auto", with a clear error for a device that is not there."""

from __future__ import annotations

import torch

from renderer.errors import RenderError


def pick_device(name: str = "auto") -> torch.device:
    """Resolve "auto" / "cpu" / "cuda[:n]" / "mps" to an available torch.device."""
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RenderError("device 'cuda' asked for, but this PyTorch sees no CUDA GPU: use --device cpu or auto")
        return torch.device(name)
    if name == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise RenderError("device 'mps' asked for, but Apple MPS is not available here: use --device cpu or auto")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise RenderError(f"unknown device {name!r}: use auto, cpu, cuda or mps")


def describe_device(device: torch.device) -> str:
    """Short label for status bars: 'CPU (2 threads)', 'CUDA: NVIDIA H100', 'MPS'."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "MPS"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'' if n == 1 else 's'})"
