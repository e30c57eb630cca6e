"""character.json: everything needed to re-make a character byte-for-byte.

Seed, ψ, the whole config, both networks' fingerprints, software versions, and every recipe. Explicit
w sources (presets, the projected head) are stored beside it as `w/<sha256[:16]>.npy` ([1, num_ws, w_dim],
loadable by other StyleGAN tools), referenced from the recipes by that key. A recipe's moves along directions
(if any) are listed under "directions", each unit vector stored as `d/<sha256[:16]>.npy` (float32 [w_dim]).
No timestamps: the same character gives the same file.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import numpy as np

from renderer.latents import DirectionEdit, Recipe, SeedSource, Source, WSource, load_w
from renderer.network import Network

RECORD_FORMAT = "castmaker-character"
RECORD_VERSION = 1


def w_key(w: np.ndarray) -> str:
    """Content key of a w: the first 16 hex digits of the SHA-256 of its float32 bytes."""
    return hashlib.sha256(np.ascontiguousarray(w, dtype="<f4").tobytes()).hexdigest()[:16]


def npy_bytes(w: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(w, dtype="<f4")[None])
    return buf.getvalue()


class SourceTable:
    """Collects the explicit w sources that recipes use, keyed by content."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.vectors: dict[str, np.ndarray] = {}

    def source(self, src: Source) -> dict[str, Any]:
        if isinstance(src, SeedSource):
            return {"seed": src.seed, "psi": src.psi, "cutoff": src.cutoff, "class": src.class_idx}
        key = w_key(src.w)
        self.arrays[key] = src.w
        return {"w": f"w/{key}.npy", "label": src.label, "kind": src.kind}

    def recipe(self, recipe: Recipe) -> dict[str, Any]:
        rows = []
        for edit in recipe.rows:
            if edit.mode == "keep" or edit.source is None:
                rows.append({"mode": "keep"})
            else:
                rows.append({"mode": edit.mode, "weight": float(edit.weight), "source": self.source(edit.source)})
        out: dict[str, Any] = {"base": self.source(recipe.base), "rows": rows}
        if recipe.directions:
            out["directions"] = []
            for d in recipe.directions:
                key = w_key(d.vector)
                self.vectors[key] = d.vector
                out["directions"].append(
                    {"name": d.name, "rows": list(d.rows), "sigma": d.sigma, "alpha": d.alpha, "method": d.method,
                     "vector": f"d/{key}.npy"}
                )
        return out

    def files(self) -> dict[str, bytes]:
        """Relative path → .npy bytes for every w the recipes reference."""
        out = {f"w/{key}.npy": npy_bytes(w) for key, w in sorted(self.arrays.items())}
        for key, v in sorted(self.vectors.items()):
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(v, dtype="<f4"))
            out[f"d/{key}.npy"] = buf.getvalue()
        return out


def network_info(network: Network) -> dict[str, Any]:
    return {
        "name": network.name,
        "source": network.source,
        "kind": network.kind,
        "fingerprint": network.fingerprint,
        "resolution": network.img_resolution,
        "num_ws": network.num_ws,
    }


def software_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import PIL
    import torch

    try:
        castmaker = version("castmaker")
    except PackageNotFoundError:
        castmaker = "unknown"
    return {"castmaker": castmaker, "numpy": np.__version__, "pillow": PIL.__version__, "torch": torch.__version__}


def recipe_from_record(data: dict[str, Any], folder: Any) -> Recipe:
    """Rebuild a Recipe from its character.json form (w files read from `folder`)."""
    from pathlib import Path

    from renderer.latents import RowEdit

    def src(d: dict[str, Any]) -> Source:
        if "seed" in d:
            return SeedSource(seed=int(d["seed"]), psi=float(d["psi"]), cutoff=d.get("cutoff"), class_idx=d.get("class"))
        return WSource(load_w(Path(folder) / d["w"]), label=d["label"], kind=d["kind"])

    rows = tuple(
        RowEdit() if r["mode"] == "keep" else RowEdit(source=src(r["source"]), mode=r["mode"], weight=float(r["weight"]))
        for r in data["rows"]
    )
    directions = tuple(
        DirectionEdit(
            name=str(d["name"]),
            rows=tuple(int(r) for r in d["rows"]),
            vector=np.load(Path(folder) / d["vector"], allow_pickle=False),
            sigma=float(d["sigma"]),
            alpha=float(d["alpha"]),
            method=str(d.get("method", "")),
        )
        for d in data.get("directions", [])
    )
    return Recipe(base=src(data["base"]), rows=rows, directions=directions)


def dumps_record(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
