"""Presets: named, saved parts of a recipe ("happy" = row 6 from some w), in a folder of small files.

Why a library outside Qt: the editor's preset panel, the pipeline (archetypes, expressions) and the
CLI all read the same folders. A preset is `<slug>.json` + `<slug>.npy` (+ optional `<slug>.png`
thumbnail); every write is atomic and a corrupt file is reported, never fatal.

JSON: {"format": "castmaker-preset", "version": 1, "name", "network": {"fingerprint", "name"},
       "rows": [..], "mode": "replace" | "blend", "weight", "w": "<slug>.npy",
       "thumbnail": "<slug>.png" | null, "description", "created": ISO 8601 UTC,
       "directions": [{"name", "rows", "sigma", "alpha", "method", "vector": "<slug>.d0.npy"}, ...]}
NPY:  float32 [1, num_ws, w_dim], the full w of the source; only `rows` are applied.
Directions (optional, version 2): moves along directions in W the preset adds to a recipe, each vector a
float32 [w_dim] `.npy` beside the JSON. A preset without them is written as version 1 (older Castmakers read it).
"class_idx" (optional, any version): on a class-conditional network, the class the saved rows were drawn
with; informational (the w already carries it), absent when there is none or the rows mix classes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from renderer.errors import CastmakerError, LatentError
from renderer.fileio import png_bytes, write_atomic
from renderer.latents import DirectionEdit, Recipe, RowEdit, WSource, load_w

log = logging.getLogger(__name__)

PRESET_FORMAT = "castmaker-preset"
PRESET_VERSION = 2
PRESET_MODES = ("replace", "blend")
BUNDLED_ROOT = Path(__file__).resolve().parents[1] / "latent_presets"


class PresetError(CastmakerError):
    """A preset could not be read, written, found or applied."""


# ----------------------------------------------------------------------------- the value


def slugify(name: str) -> str:
    """File-name stem of a preset name: 'Happy Face!' -> 'happy-face'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:64]


@dataclass
class Preset:
    """A saved part of a recipe: which rows of `w` to apply, how, and for which network."""

    name: str
    fingerprint: str
    network_name: str
    rows: list[int]
    w: np.ndarray  # float32 [num_ws, w_dim]
    mode: str = "replace"
    weight: float = 1.0
    description: str = ""
    thumbnail_path: Path | None = None
    path: Path | None = None  # the .json file, once saved or listed
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    directions: tuple[DirectionEdit, ...] = ()  # moves along directions in W added with the rows
    class_idx: int | None = None  # conditional networks: the class the rows were drawn with (the w already holds it)

    def __post_init__(self) -> None:
        validate_preset(self)

    @property
    def slug(self) -> str:
        return slugify(self.name)


def validate_preset(p: Preset) -> None:
    """Raise PresetError naming the first thing wrong with `p` (name, mode, rows, w)."""
    if not isinstance(p.name, str) or not p.name.strip():
        raise PresetError("a preset needs a name: type one with at least one letter or digit")
    if not slugify(p.name):
        raise PresetError(
            f"preset name {p.name!r} has no letters or digits: use a name like 'happy' or 'elf 2'"
        )
    if p.mode not in PRESET_MODES:
        raise PresetError(f"preset {p.name!r}: mode {p.mode!r} is unknown; use 'replace' or 'blend'")
    if not np.isfinite(p.weight):
        raise PresetError(f"preset {p.name!r}: weight must be a finite number")
    w = np.asarray(p.w, dtype=np.float32)
    if w.ndim == 3 and w.shape[0] == 1:
        w = w[0]
    if w.ndim != 2:
        raise PresetError(f"preset {p.name!r}: w must be [num_ws, w_dim], got {list(w.shape)}")
    if not np.isfinite(w).all():
        raise PresetError(f"preset {p.name!r}: w contains NaN or infinite values")
    p.w = w
    rows = [int(r) for r in p.rows]
    if not rows:
        raise PresetError(f"preset {p.name!r} applies no rows: select at least one row")
    bad = [r for r in rows if not 0 <= r < w.shape[0]]
    if bad:
        raise PresetError(f"preset {p.name!r}: rows {bad} are outside 0-{w.shape[0] - 1} of its w")
    p.rows = sorted(set(rows))
    p.directions = tuple(p.directions)
    for d in p.directions:
        if d.rows[-1] >= w.shape[0] or d.vector.size != w.shape[1]:
            raise PresetError(f"preset {p.name!r}: direction {d.name!r} does not fit its w {list(w.shape)}")
    if not isinstance(p.fingerprint, str) or not p.fingerprint:
        raise PresetError(
            f"preset {p.name!r} has no network fingerprint: it cannot say which network it fits"
        )


def preset_content_key(p: Preset) -> str:
    """A hex SHA-256 of everything applying `p` reads (name, network, rows, w, mode, weight, directions, class).

    Two presets with equal keys give the same recipe, so a preview built with one is current for the other; a
    preset re-saved under the same name with another w, rows or mode gets another key.
    """
    h = hashlib.sha256()
    w = np.ascontiguousarray(p.w, dtype=np.float32)
    head = [p.name, p.fingerprint, list(p.rows), p.mode, float(p.weight), p.class_idx, list(w.shape)]
    h.update(json.dumps(head).encode("utf-8") + w.tobytes())
    for d in p.directions:
        h.update(json.dumps([d.name, list(d.rows), d.sigma, d.alpha, d.method]).encode("utf-8"))
        h.update(np.ascontiguousarray(d.vector, dtype=np.float32).tobytes())
    return h.hexdigest()


def _direction_file(slug: str, i: int) -> str:
    return f"{slug}.d{i}.npy"


def _preset_json(p: Preset, npy_name: str, png_name: str | None) -> dict[str, Any]:
    meta = {
        "format": PRESET_FORMAT,
        "version": PRESET_VERSION if p.directions else 1,
        "name": p.name,
        "network": {"fingerprint": p.fingerprint, "name": p.network_name},
        "rows": list(p.rows),
        "mode": p.mode,
        "weight": float(p.weight),
        "w": npy_name,
        "thumbnail": png_name,
        "description": p.description,
        "created": p.created,
    }
    if p.class_idx is not None:
        meta["class_idx"] = int(p.class_idx)
    if p.directions:
        stem = Path(npy_name).stem
        meta["directions"] = [
            {"name": d.name, "rows": list(d.rows), "sigma": d.sigma, "alpha": d.alpha, "method": d.method,
             "vector": _direction_file(stem, i)}
            for i, d in enumerate(p.directions)
        ]
    return meta


def read_preset(json_path: str | os.PathLike) -> Preset:
    """Read one preset from its .json file (and the .npy it names); PresetError says what is wrong."""
    jp = Path(json_path)
    try:
        meta = json.loads(jp.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PresetError(f"preset file not found: {jp}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PresetError(f"{jp.name} is not a readable preset JSON file ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != PRESET_FORMAT:
        raise PresetError(f"{jp.name} is not a Castmaker preset (its 'format' is not {PRESET_FORMAT!r})")
    version = meta.get("version")
    if not isinstance(version, int) or version > PRESET_VERSION:
        raise PresetError(
            f"{jp.name} is preset format version {version!r}; this Castmaker reads version {PRESET_VERSION}: "
            "update Castmaker to use it"
        )
    try:
        net = meta["network"]
        npy_name = meta["w"]
        if not isinstance(net, dict) or not isinstance(npy_name, str):
            raise TypeError("'network' must be an object and 'w' a file name")
        if Path(npy_name).name != npy_name:
            raise ValueError(f"'w' must be a file name beside the JSON, not a path ({npy_name!r})")
        thumb = meta.get("thumbnail")
        if thumb is not None and (not isinstance(thumb, str) or Path(thumb).name != thumb):
            raise ValueError(f"'thumbnail' must be a file name beside the JSON or null ({thumb!r})")
        name = str(meta["name"])
        fields = dict(
            fingerprint=str(net["fingerprint"]),
            network_name=str(net.get("name", "")),
            rows=[int(r) for r in meta["rows"]],
            mode=str(meta.get("mode", "replace")),
            weight=float(meta.get("weight", 1.0)),
            description=str(meta.get("description", "")),
            created=str(meta.get("created", "")),
            class_idx=None if meta.get("class_idx") is None else int(meta["class_idx"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PresetError(f"{jp.name} is missing or has a bad field ({exc!r})") from None
    try:
        w = load_w(jp.parent / npy_name)
    except LatentError as exc:
        raise PresetError(f"{jp.name}: its w file cannot be used: {exc}") from None
    directions = _read_directions(jp, meta.get("directions", []))
    thumb_path = jp.parent / thumb if thumb else None
    if thumb_path is not None and not thumb_path.is_file():
        log.warning("preset %s: thumbnail %s is missing", jp.name, thumb)
        thumb_path = None
    try:
        return Preset(name=name, w=w, thumbnail_path=thumb_path, path=jp, directions=directions, **fields)
    except PresetError as exc:
        raise PresetError(f"{jp.name}: {exc}") from None


def _read_directions(jp: Path, entries: Any) -> tuple[DirectionEdit, ...]:
    """The direction moves a preset JSON names (vectors in .npy files beside it); PresetError if one is bad."""
    if not isinstance(entries, list):
        raise PresetError(f"{jp.name}: 'directions' must be a list")
    out = []
    for i, e in enumerate(entries):
        try:
            name = e["vector"]
            if not isinstance(name, str) or Path(name).name != name:
                raise ValueError(f"'vector' must be a file name beside the JSON ({name!r})")
            vec = np.load(jp.parent / name, allow_pickle=False)
            if vec.ndim != 1:
                raise ValueError(f"{name} is not a [w_dim] vector")
            out.append(
                DirectionEdit(
                    name=str(e["name"]),
                    rows=tuple(int(r) for r in e["rows"]),
                    vector=vec.astype(np.float32),
                    sigma=float(e["sigma"]),
                    alpha=float(e.get("alpha", 0.0)),
                    method=str(e.get("method", "")),
                )
            )
        except (OSError, KeyError, TypeError, ValueError, LatentError) as exc:
            raise PresetError(f"{jp.name}: direction {i} cannot be used ({exc})") from None
    return tuple(out)


# ----------------------------------------------------------------------------- the library


@dataclass(frozen=True)
class PresetProblem:
    """A file in a library that could not be read, and why (shown in the panel, never fatal)."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.message}"


class PresetLibrary:
    """One folder of presets. `read_only` libraries (bundled ones) refuse save / rename / delete."""

    def __init__(self, folder: str | os.PathLike, read_only: bool = False) -> None:
        self.folder = Path(folder)
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"PresetLibrary({str(self.folder)!r}, read_only={self.read_only})"

    def _check_writable(self, what: str) -> None:
        if self.read_only:
            raise PresetError(
                f"cannot {what}: the presets in {self.folder} ship with Castmaker and are read-only; "
                "save a copy to your own library instead"
            )

    def list(self) -> tuple[list[Preset], list[PresetProblem]]:
        """Every readable preset (sorted by name) and a problem record for each unreadable one."""
        presets: list[Preset] = []
        problems: list[PresetProblem] = []
        if not self.folder.is_dir():
            return presets, problems
        for jp in sorted(self.folder.glob("*.json")):
            try:
                presets.append(read_preset(jp))
            except PresetError as exc:
                log.warning("skipping preset %s: %s", jp, exc)
                problems.append(PresetProblem(jp, str(exc)))
            except Exception as exc:  # a library must never take the panel down
                log.exception("unexpected error reading preset %s", jp)
                problems.append(PresetProblem(jp, f"unexpected error: {exc}"))
        presets.sort(key=lambda p: p.name.lower())
        return presets, problems

    def _json_path(self, name: str) -> Path:
        slug = slugify(name)
        if not slug:
            raise PresetError(f"preset name {name!r} has no letters or digits: use a name like 'happy'")
        return self.folder / f"{slug}.json"

    def exists(self, name: str) -> bool:
        return self._json_path(name).is_file()

    def get(self, name: str) -> Preset:
        """The preset called `name` (matched by its file slug); PresetError if there is none."""
        jp = self._json_path(name)
        if not jp.is_file():
            raise PresetError(f"no preset named {name!r} in {self.folder}")
        return read_preset(jp)

    def save(self, preset: Preset, thumbnail: np.ndarray | None = None, overwrite: bool = False) -> Preset:
        """Write `preset` (+ PNG thumbnail) atomically; refuses to replace an existing one unless `overwrite`."""
        self._check_writable(f"save preset {preset.name!r}")
        validate_preset(preset)
        jp = self._json_path(preset.name)
        if jp.exists() and not overwrite:
            raise PresetError(
                f"a preset named {preset.name!r} already exists in {self.folder}: choose another name "
                "or confirm replacing it"
            )
        slug = jp.stem
        npy_name = f"{slug}.npy"
        png_name: str | None = None
        png_data = png_bytes(thumbnail, PresetError) if thumbnail is not None else None
        w = np.asarray(preset.w, dtype=np.float32)[None]
        write_atomic(self.folder / npy_name, lambda f: np.save(f, w))
        for i, d in enumerate(preset.directions):
            vec = np.asarray(d.vector, np.float32)
            write_atomic(self.folder / _direction_file(slug, i), lambda f, v=vec: np.save(f, v))
        if png_data is not None:
            png_name = f"{slug}.png"
            write_atomic(self.folder / png_name, lambda f: f.write(png_data))
        elif preset.thumbnail_path is not None and Path(preset.thumbnail_path).is_file():
            src = Path(preset.thumbnail_path)
            png_name = f"{slug}.png"
            if src.resolve() != (self.folder / png_name).resolve():
                data = src.read_bytes()
                write_atomic(self.folder / png_name, lambda f: f.write(data))
        meta = _preset_json(preset, npy_name, png_name)
        text = json.dumps(meta, indent=2, ensure_ascii=False).encode("utf-8")
        write_atomic(jp, lambda f: f.write(text))  # the JSON last: a preset is listed only once complete
        stale = len(preset.directions)  # a replaced preset's extra direction vectors: nothing names them now
        while (self.folder / _direction_file(slug, stale)).is_file():
            (self.folder / _direction_file(slug, stale)).unlink()
            stale += 1
        log.info("saved preset %r to %s", preset.name, jp)
        return replace(preset, path=jp, thumbnail_path=self.folder / png_name if png_name else None)

    def rename(self, old: str, new: str) -> Preset:
        """Rename a preset (its files follow its new name); refuses to clobber another preset."""
        self._check_writable(f"rename preset {old!r}")
        preset = self.get(old)
        if slugify(new) == slugify(old):
            if new == preset.name:
                return preset
            renamed = replace(preset, name=new)
            return self.save(renamed, overwrite=True)
        if self.exists(new):
            raise PresetError(f"cannot rename {old!r} to {new!r}: a preset with that name already exists")
        renamed = replace(preset, name=new, path=None)
        saved = self.save(renamed)
        self._remove_files(preset)
        return saved

    def delete(self, name: str) -> None:
        """Delete a preset's files (JSON first, so a half-deleted preset is never listed)."""
        self._check_writable(f"delete preset {name!r}")
        self._remove_files(self.get(name))

    def _remove_files(self, preset: Preset) -> None:
        assert preset.path is not None
        meta_path = preset.path
        stem = meta_path.stem
        meta_path.unlink()
        extras = [self.folder / f"{stem}.npy", preset.thumbnail_path]
        extras += [self.folder / _direction_file(stem, i) for i in range(len(preset.directions))]
        for extra in extras:
            if extra is not None and Path(extra).exists() and Path(extra).parent == self.folder:
                Path(extra).unlink()

    def import_w(
        self,
        path: str | os.PathLike,
        name: str,
        rows: Sequence[int],
        fingerprint: str,
        network_name: str = "",
        num_ws: int | None = None,
        w_dim: int | None = None,
        mode: str = "replace",
        weight: float = 1.0,
        description: str = "",
        thumbnail: np.ndarray | None = None,
        overwrite: bool = False,
    ) -> Preset:
        """Turn a `.npy` / `.npz` w file (stylegan3-fun / stylegan2-ada projector output) into a saved preset."""
        try:
            w = load_w(path, num_ws=num_ws, w_dim=w_dim)
        except LatentError as exc:
            raise PresetError(f"cannot import {Path(path).name} as a preset: {exc}") from None
        preset = Preset(
            name=name,
            fingerprint=fingerprint,
            network_name=network_name,
            rows=list(rows),
            w=w,
            mode=mode,
            weight=weight,
            description=description or f"imported from {Path(path).name}",
        )
        return self.save(preset, thumbnail=thumbnail, overwrite=overwrite)


# ----------------------------------------------------------------------------- applying


def check_fits(preset: Preset, network_fingerprint: str, network_label: str = "") -> None:
    """Raise PresetError unless `preset` was made for the network with `network_fingerprint`."""
    if preset.fingerprint != network_fingerprint:
        made_for = preset.network_name or "another network"
        loaded = (
            f"{network_label} (fingerprint {network_fingerprint[:12]}…)"
            if network_label
            else (f"fingerprint {network_fingerprint[:12]}…")
        )
        raise PresetError(
            f"preset {preset.name!r} was made for network {made_for} (fingerprint {preset.fingerprint[:12]}…); "
            f"the loaded network is {loaded}: presets only fit the network they were made with"
        )


def preset_source(preset: Preset) -> WSource:
    """The source a preset contributes to a recipe (kind 'preset', labelled with its name)."""
    return WSource(preset.w, label=preset.name, kind="preset")


def apply_preset(recipe: Recipe, preset: Preset, network_fingerprint: str, network_label: str = "") -> Recipe:
    """Recipe with the preset's rows set to RowEdit(WSource(w, name, 'preset'), mode, weight)."""
    check_fits(preset, network_fingerprint, network_label)
    if preset.w.shape[0] != recipe.num_ws:
        raise PresetError(
            f"preset {preset.name!r} has {preset.w.shape[0]} w rows but the recipe has {recipe.num_ws}"
        )
    edit = RowEdit(source=preset_source(preset), mode=preset.mode, weight=preset.weight)
    out = recipe.with_rows(preset.rows, edit)
    if preset.directions:
        kept = tuple(d for d in out.directions if not any(d.same_direction(p) for p in preset.directions))
        out = replace(out, directions=kept + tuple(preset.directions))
    return out


# ----------------------------------------------------------------------------- where libraries live


def data_dir() -> Path:
    """Castmaker's per-user data folder; CASTMAKER_DATA_DIR overrides it (tests, portable installs)."""
    override = os.environ.get("CASTMAKER_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("castmaker", appauthor=False))


def user_library(fingerprint: str) -> PresetLibrary:
    """The user's own (writable) presets for the network with `fingerprint`."""
    if not fingerprint:
        raise PresetError("cannot open a user preset library without a network fingerprint")
    return PresetLibrary(data_dir() / "presets" / fingerprint[:16])


def bundled_library(network_name_or_fingerprint: str, root: Path | None = None) -> PresetLibrary | None:
    """The read-only presets shipped in latent_presets/ for a demo network name or a fingerprint, or None."""
    base = BUNDLED_ROOT if root is None else Path(root)
    key = network_name_or_fingerprint
    candidates = [key]
    if re.fullmatch(r"[0-9a-fA-F]{16,}", key):
        candidates.append(key[:16].lower())
    for cand in candidates:
        if not cand or Path(cand).name != cand:
            continue
        folder = base / cand
        if folder.is_dir():
            return PresetLibrary(folder, read_only=True)
    return None
