"""Which generator a snapshot holds (StyleGAN3 T/R, StyleGAN2 of either repo), read from its records.

Why: the module import name is not stored in official pickles and the embedded source is never run, so
the architecture has to be recognised from class names, submodule structure and constructor kwargs.
"""

from __future__ import annotations

from typing import Any

from renderer.errors import NetworkLoadError
from renderer.loading.records import ModuleRecord, plain
from renderer.nets import generator_kind

# Castmaker-only Generator option for stylegan2-ada-pytorch networks: that code base runs its use_fp16
# blocks in float16 even on the CPU (the stylegan3 repo's StyleGAN2 does not), and Castmaker's StyleGAN2
# reproduces either behaviour when told which code base the weights come from.
ADA_FP16_OPTION = "fp16_on_cpu"

SOURCE_STYLEGAN3 = "NVlabs/stylegan3"
SOURCE_STYLEGAN2_ADA = "NVlabs/stylegan2-ada-pytorch"

# SHA-256 of embedded module source texts observed for the official code (see
# docs/official-pickle-format.md); other code versions or forks give other values, which is not an error.
KNOWN_SOURCES = {
    "06082fb3e8929e477f58fb8bc78e7ecb9a9209eb01444272d1d153c85a6a89f7": "NVlabs/stylegan3 training/networks_stylegan3.py @ c233a919",
    "b6f14e8fa2a95de4d38218fef31380c6a70de770f585107e209ff83075c307ef": "NVlabs/stylegan3 training/networks_stylegan2.py @ c233a919",
    "53b4e1ec457171d4e2c1454d48013765ab626141c35cdd383b020950effe11a5": "NVlabs/stylegan2-ada-pytorch training/networks.py @ d72cc7d0",
}


def identify_sources(hashes: set[str] | list[str]) -> list[str]:
    """Readable names of embedded source texts: a known official file, or 'unrecognised (sha256 prefix)'."""
    return [KNOWN_SOURCES.get(h, f"unrecognised source text (sha256 {h[:12]})") for h in sorted(hashes)]


def _unknown(what: str) -> NetworkLoadError:
    return NetworkLoadError(
        f"unknown network architecture: {what}. Castmaker reads StyleGAN3 (T, R) and StyleGAN2(-ADA) "
        "generators from the official NVlabs code (and forks that keep its classes, such as stylegan3-fun)"
    )


def detect_architecture(g: ModuleRecord) -> dict[str, Any]:
    """The arch record {"arch", "init_kwargs", "source_repo"} of a generator record, or NetworkLoadError."""
    if g.class_name != "Generator":
        raise _unknown(f"the generator is of class {g.class_name!r}, not 'Generator'")
    synthesis = g.children.get("synthesis")
    mapping = g.children.get("mapping")
    if synthesis is None or mapping is None:
        raise _unknown(
            f"the Generator has submodules {sorted(g.children)}, expected 'synthesis' and 'mapping'"
        )
    if g.init_args:
        raise _unknown(
            "the Generator was constructed with positional arguments, which official code never does"
        )
    kinds = {child.class_name for child in synthesis.children.values()}
    kwargs = plain(g.init_kwargs, json_safe=True)
    if "SynthesisInput" in kinds:
        arch, source = "stylegan3", SOURCE_STYLEGAN3
    elif "SynthesisBlock" in kinds:
        arch = "stylegan2"
        if isinstance(kwargs.get("synthesis_kwargs"), dict):
            source = SOURCE_STYLEGAN2_ADA
            kwargs[ADA_FP16_OPTION] = True
        else:
            source = SOURCE_STYLEGAN3
    else:
        names = ", ".join(sorted(kinds)) or "none"
        raise _unknown(f"its {synthesis.class_name} holds modules of class {names} "
                       "(neither SynthesisInput nor SynthesisBlock)")  # fmt: skip
    for key in ("z_dim", "w_dim", "img_resolution", "img_channels"):
        if not isinstance(kwargs.get(key), int):
            raise _unknown(f"the Generator kwargs lack an integer {key!r}")
    return {"arch": arch, "init_kwargs": kwargs, "source_repo": source}


def kind_of(arch: dict[str, Any]) -> str:
    """stylegan3-t | stylegan3-r | stylegan2 for an arch record."""
    return generator_kind(arch["arch"], arch["init_kwargs"])
