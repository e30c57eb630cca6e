"""The loaded network: a generator module plus what Castmaker knows about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn


@dataclass
class DiscriminatorRecord:
    """A discriminator kept from an official snapshot (for projection losses): config + weights, not built."""

    init_kwargs: dict[str, Any]
    state: dict[str, Any]  # official state_dict names -> numpy float32 arrays


@dataclass
class Network:
    """A generator ready to render, with its identity.

    `arch` is the serialisable architecture config: {"arch": "stylegan3" | "stylegan2",
    "init_kwargs": {... official Generator kwargs ...}}. `fingerprint` hashes the weights (not the file),
    so a pickle and its converted .safetensors share it.
    """

    G: nn.Module
    kind: str  # "stylegan3-t" | "stylegan3-r" | "stylegan2"
    arch: dict[str, Any]
    fingerprint: str
    name: str
    source: str  # file path, or a bundled / demo name ("cast-portrait", "demo-face", ...)
    is_demo: bool = False
    bundled: bool = False  # one of Castmaker's own trained networks, opened by name
    discriminator: DiscriminatorRecord | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def preset_key(self) -> str:
        """Folder name of its bundled presets: the name for demo and bundled networks, else the fingerprint."""
        return self.name if (self.is_demo or self.bundled) else self.fingerprint

    @property
    def cast_record(self) -> dict[str, Any] | None:
        """How Castmaker trained this network (the file's "cast" record: command, kimg, held-out scores,
        row groups, mapping fit), or None for any network Castmaker did not train."""
        record = self.extra.get("cast")
        return record if isinstance(record, dict) and record else None

    @property
    def z_dim(self) -> int:
        return int(self.G.z_dim)

    @property
    def c_dim(self) -> int:
        return int(self.G.c_dim)

    @property
    def w_dim(self) -> int:
        return int(self.G.w_dim)

    @property
    def num_ws(self) -> int:
        return int(self.G.num_ws)

    @property
    def img_resolution(self) -> int:
        return int(self.G.img_resolution)

    @property
    def img_channels(self) -> int:
        return int(self.G.img_channels)

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:12]
