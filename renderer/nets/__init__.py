"""Clean-room StyleGAN3 (T, R) and StyleGAN2(-ADA) generators with official parameter names.

`build_generator(arch, init_kwargs)` turns an architecture record into a module; constructors accept
the official Generator keyword arguments as recorded in network pickles.
"""

from __future__ import annotations

from typing import Any

from torch import nn


def build_generator(arch: str, init_kwargs: dict[str, Any]) -> nn.Module:
    """Construct an (untrained) generator of `arch` ("stylegan3" or "stylegan2") from official kwargs."""
    if arch == "stylegan3":
        from renderer.nets.stylegan3 import Generator
    elif arch == "stylegan2":
        from renderer.nets.stylegan2 import Generator
    else:
        raise ValueError(f"unknown generator architecture {arch!r}")
    return Generator(**init_kwargs)


def generator_kind(arch: str, init_kwargs: dict[str, Any]) -> str:
    """Human name of the configuration: stylegan3-t, stylegan3-r or stylegan2."""
    if arch == "stylegan2":
        return "stylegan2"
    radial = bool(init_kwargs.get("use_radial_filters", False)) or int(init_kwargs.get("conv_kernel", 3)) == 1
    return "stylegan3-r" if radial else "stylegan3-t"
