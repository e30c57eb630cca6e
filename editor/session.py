"""Sessions: the whole editor state worth keeping (network + recipe) in one `*.castmaker-session` file.

Why one .npz: a recipe holds explicit w arrays (presets, projections, w files) beside plain settings;
an .npz keeps both in a single file without pickle. It holds `session_json` (uint8 array of UTF-8 JSON)
and one float32 array per WSource (`w_0`, `w_1`, ...).

JSON: {"format": "castmaker-session", "version": 1,
       "network": {"source": "<path or demo name>", "fingerprint": "..."},
       "base": <source>, "rows": [{"mode", "weight", "source": <source> | null}, ...],
       "directions": [{"name", "rows", "sigma", "alpha", "method", "array": "d_0"}, ...]}   (version 2; optional)
Direction vectors are float32 [w_dim] arrays `d_0`, `d_1`, ... A session without directions is written as
version 1, so older Castmakers still open it; one with directions as version 2, which they refuse rather than
silently dropping the moves.
<source> = {"type": "seed", "seed", "psi", "cutoff", "class_idx"}
         | {"type": "w", "label", "kind": "w" | "preset" | "projected", "array": "w_0"}
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from renderer.errors import CastmakerError, LatentError
from renderer.fileio import write_atomic
from renderer.latents import DirectionEdit, Recipe, RowEdit, SeedSource, Source, WSource

log = logging.getLogger(__name__)

SESSION_FORMAT = "castmaker-session"
SESSION_VERSION = 2
SESSION_SUFFIX = ".castmaker-session"
WSOURCE_KINDS = ("w", "preset", "projected")


class SessionError(CastmakerError):
    """A session file could not be written or read back."""


@dataclass
class SessionData:
    """What a session file restores: the recipe and the network it was made with."""

    recipe: Recipe
    network_source: str
    fingerprint: str


def _encode_source(
    src: Source, arrays: dict[str, np.ndarray], seen: list[tuple[WSource, str]]
) -> dict[str, Any]:
    if isinstance(src, SeedSource):
        return {
            "type": "seed",
            "seed": int(src.seed),
            "psi": float(src.psi),
            "cutoff": None if src.cutoff is None else int(src.cutoff),
            "class_idx": None if src.class_idx is None else int(src.class_idx),
        }
    if isinstance(src, WSource):
        key = next((k for s, k in seen if s is src or s == src), None)
        if key is None:
            key = f"w_{len(arrays)}"
            arrays[key] = np.asarray(src.w, dtype=np.float32)
            seen.append((src, key))
        return {"type": "w", "label": src.label, "kind": src.kind, "array": key}
    raise SessionError(f"cannot save a source of type {type(src).__name__}")


def save_session(path: str | os.PathLike, recipe: Recipe, network_source: str, fingerprint: str) -> Path:
    """Write `recipe` and its network reference to `path` atomically (suffix added if missing)."""
    p = Path(path)
    if not p.name.endswith(SESSION_SUFFIX):
        p = p.with_name(p.name + SESSION_SUFFIX)
    arrays: dict[str, np.ndarray] = {}
    seen: list[tuple[WSource, str]] = []
    doc = {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION if recipe.directions else 1,
        "network": {"source": str(network_source), "fingerprint": str(fingerprint)},
        "base": _encode_source(recipe.base, arrays, seen),
        "rows": [
            {
                "mode": edit.mode,
                "weight": float(edit.weight),
                "source": None if edit.source is None else _encode_source(edit.source, arrays, seen),
            }
            for edit in recipe.rows
        ],
    }
    if recipe.directions:
        doc["directions"] = encode_directions(recipe.directions, arrays)
    text = np.frombuffer(json.dumps(doc, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    write_atomic(p, lambda f: np.savez(f, session_json=text, **arrays))
    log.info("saved session %s (%d w arrays)", p, len(arrays))
    return p


def encode_directions(directions: tuple[DirectionEdit, ...], arrays: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """JSON entries of a recipe's direction moves; each vector goes into `arrays` as `d_<i>` (float32 [w_dim])."""
    out = []
    for d in directions:
        key = f"d_{sum(1 for k in arrays if k.startswith('d_'))}"
        arrays[key] = np.asarray(d.vector, np.float32)
        out.append(
            {"name": d.name, "rows": list(d.rows), "sigma": d.sigma, "alpha": d.alpha, "method": d.method, "array": key}
        )
    return out


def decode_directions(entries: Any, arrays: dict[str, np.ndarray], num_ws: int) -> tuple[DirectionEdit, ...]:
    """The direction moves of a recipe from their JSON entries and arrays; LatentError says what is wrong."""
    if not isinstance(entries, list):
        raise LatentError("'directions' must be a list")
    out = []
    for i, e in enumerate(entries):
        try:
            vec = arrays[e["array"]]
            if vec.dtype != np.float32 or vec.ndim != 1:
                raise ValueError(f"array {e['array']!r} is not a float32 [w_dim] vector")
            d = DirectionEdit(
                name=str(e["name"]),
                rows=tuple(int(r) for r in e["rows"]),
                vector=vec,
                sigma=float(e["sigma"]),
                alpha=float(e.get("alpha", 0.0)),
                method=str(e.get("method", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LatentError(f"direction {i}: bad entry ({exc!r})") from None
        if d.rows[-1] >= num_ws:
            raise LatentError(f"direction {d.name!r} acts on row {d.rows[-1]} but the recipe has {num_ws} rows")
        out.append(d)
    return tuple(out)


def _decode_source(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Source:
    if not isinstance(obj, dict):
        raise SessionError(f"{where}: a source must be an object, got {type(obj).__name__}")
    kind = obj.get("type")
    try:
        if kind == "seed":
            cutoff = obj.get("cutoff")
            class_idx = obj.get("class_idx")
            return SeedSource(
                seed=int(obj["seed"]),
                psi=float(obj.get("psi", 0.7)),
                cutoff=None if cutoff is None else int(cutoff),
                class_idx=None if class_idx is None else int(class_idx),
            )
        if kind == "w":
            key = obj["array"]
            if key not in arrays:
                raise SessionError(f"{where}: the file has no array {key!r}; it is incomplete or damaged")
            wkind = str(obj.get("kind", "w"))
            if wkind not in WSOURCE_KINDS:
                raise SessionError(f"{where}: unknown w source kind {wkind!r}")
            return WSource(arrays[key], label=str(obj.get("label", key)), kind=wkind)
    except (KeyError, TypeError, ValueError) as exc:
        raise SessionError(f"{where}: bad source entry ({exc!r})") from None
    except LatentError as exc:
        raise SessionError(f"{where}: {exc}") from None
    raise SessionError(f"{where}: unknown source type {kind!r} (expected 'seed' or 'w')")


def load_session(path: str | os.PathLike) -> SessionData:
    """Read a session file; SessionError says exactly what is wrong with a bad one."""
    p = Path(path)
    if not p.is_file():
        raise SessionError(f"session file not found: {p}")
    try:
        with open(p, "rb") as f:
            head = f.read(6)
        if not head.startswith((b"PK", b"\x93NUMPY")):  # numpy would call anything else "pickled data"
            raise SessionError(f"{p.name} is not a readable session file: save one in the editor (File ▸ Save session…)")
        with np.load(p, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise SessionError(f"{p.name} is a single array, not a Castmaker session (.npz)")
            if "session_json" not in data.files:
                raise SessionError(f"{p.name} is not a Castmaker session: it has no 'session_json' entry")
            raw = data["session_json"]
            arrays = {k: np.asarray(data[k]) for k in data.files if k != "session_json"}
    except SessionError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise SessionError(f"{p.name} is not a readable session file ({exc})") from None
    try:
        doc = json.loads(np.asarray(raw, dtype=np.uint8).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError) as exc:
        raise SessionError(f"{p.name}: its session description is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != SESSION_FORMAT:
        raise SessionError(f"{p.name} is not a Castmaker session (format is not {SESSION_FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or version > SESSION_VERSION:
        raise SessionError(
            f"{p.name} is session format version {version!r}; this Castmaker reads version {SESSION_VERSION}: "
            "update Castmaker to open it"
        )
    for key, arr in arrays.items():
        if key.startswith("d_"):
            continue  # direction vectors: checked by decode_directions
        if arr.dtype != np.float32 or arr.ndim != 2 or not np.isfinite(arr).all():
            raise SessionError(f"{p.name}: array {key!r} is not a finite float32 [num_ws, w_dim] w")
    net = doc.get("network")
    if not isinstance(net, dict) or "source" not in net or "fingerprint" not in net:
        raise SessionError(f"{p.name}: the 'network' entry is missing its source or fingerprint")
    rows_doc = doc.get("rows")
    if not isinstance(rows_doc, list) or not rows_doc:
        raise SessionError(f"{p.name}: 'rows' must be a non-empty list, one entry per w row")
    base = _decode_source(doc.get("base"), arrays, f"{p.name}: base")
    rows: list[RowEdit] = []
    for i, entry in enumerate(rows_doc):
        where = f"{p.name}: row {i}"
        if not isinstance(entry, dict):
            raise SessionError(f"{where}: must be an object with mode, weight and source")
        src = None if entry.get("source") is None else _decode_source(entry["source"], arrays, where)
        try:
            rows.append(
                RowEdit(
                    source=src, mode=str(entry.get("mode", "keep")), weight=float(entry.get("weight", 1.0))
                )
            )
        except (LatentError, TypeError, ValueError) as exc:
            raise SessionError(f"{where}: {exc}") from None
    try:
        directions = decode_directions(doc.get("directions", []), arrays, len(rows))
    except LatentError as exc:
        raise SessionError(f"{p.name}: {exc}") from None
    recipe = Recipe(base=base, rows=tuple(rows), directions=directions)
    for src in [recipe.base, *(e.source for e in recipe.rows)]:
        if isinstance(src, WSource) and src.w.shape[0] != recipe.num_ws:
            raise SessionError(
                f"{p.name}: source {src.label!r} has {src.w.shape[0]} w rows but the recipe has {recipe.num_ws}"
            )
    return SessionData(recipe=recipe, network_source=str(net["source"]), fingerprint=str(net["fingerprint"]))
