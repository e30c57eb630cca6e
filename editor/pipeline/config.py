"""Pipeline config: one JSON file holds every number of the character pipeline, checked on load.

Unknown keys are refused (a typo must not silently fall back to a default), every value is checked
for type and range, and each error names the key path, e.g. `cleanup.palette_colors`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editor.pipeline.errors import PipelineError
from editor.rpgmaker.sheet_layout import FACE_COLS, FACE_ROWS, RESAMPLE
from editor.sprites import CleanupSettings, HeadBox, SheetGrid, SpriteError
from editor.sprites.frames import RPGMAKER_DIRECTIONS
from editor.sprites.head import UPSCALE_METHODS

CONFIG_FORMAT = "castmaker-pipeline"
CONFIG_VERSION = 1
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "resources" / "pipeline" / "default.json"
DEMO_CONFIG = DEFAULT_CONFIG.with_name("demo.json")  # the untrained demo networks, portrait by projection
PORTRAIT_BASES = ("projection", "shared-latent")
PROJECTION_KEYS = {
    "steps", "space", "stabilize", "loss", "vgg_path", "seed", "lr", "noise_ramp", "initial_noise",
    "lr_rampup", "lr_rampdown", "w_avg_samples",
}


@dataclass(frozen=True)
class SheetSettings:
    cell_width: int = 48
    cell_height: int = 48
    scale: int | str = "auto"  # whole-number frame scale, or the largest that fits
    plain_sheet: bool = False  # also write an 8-character sheet filled from --count


@dataclass(frozen=True)
class HeadSettings:
    direction: str = "down"
    pattern: int = 1
    box: HeadBox = HeadBox(4, 0, 24, 20)
    upscale: str = "nearest"
    pad_color: str | tuple[int, int, int] = "background"  # "background": the sprite canvas's own


@dataclass(frozen=True)
class Archetype:
    sprite_preset: str
    portrait_preset: str
    description: str = ""


@dataclass(frozen=True)
class Expression:
    name: str
    preset: str
    rows: tuple[int, ...] | None = None  # None: the preset's own rows


@dataclass(frozen=True)
class FaceSetSettings:
    cell: int = 144
    resample: str = "lanczos"


@dataclass(frozen=True)
class PreviewSettings:
    walk_frame_ms: int = 200
    walk_scale: int = 3
    background: tuple[int, int, int] = (200, 208, 200)


@dataclass(frozen=True)
class PipelineConfig:
    """The parsed, checked config; `raw` is the JSON as read (stored in character.json)."""

    sprite_network: str
    portrait_network: str
    sprite_presets: str | None
    portrait_presets: str | None
    grid: SheetGrid
    sprite_archetype_rows: tuple[int, ...] | None
    cleanup: CleanupSettings
    sheet: SheetSettings
    head: HeadSettings
    projection: dict[str, Any]
    portrait_archetype_rows: tuple[int, ...] | None
    archetypes: dict[str, Archetype]
    expressions: tuple[Expression, ...]
    faceset: FaceSetSettings
    preview: PreviewSettings
    base_dir: Path
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    source: str = ""
    portrait_base: str = "projection"  # or "shared-latent": both networks read one cast latent space

    def archetype(self, name: str) -> Archetype:
        try:
            return self.archetypes[name]
        except KeyError:
            known = ", ".join(sorted(self.archetypes)) or "none"
            raise PipelineError(f"archetype {name!r} is not in the config {self.source}: use one of {known}") from None

    def resolve_path(self, value: str) -> str:
        """A network or preset-folder entry: a demo / bundled name stays as is, a path is taken relative to the config."""
        from renderer.loading.sniff import is_url

        if is_url(value):
            return value  # kept intact so the loader can say it never downloads
        if "/" in value or "\\" in value or value.endswith((".pkl", ".safetensors")):
            p = Path(value).expanduser()
            return str(p if p.is_absolute() else (self.base_dir / p).resolve())
        return value


class _Reader:
    """Typed access to one JSON object that refuses unknown keys and names the key path in every error."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise PipelineError(f"config {where or 'file'} must be a JSON object, got {type(data).__name__}")
        self.data, self.where, self.used = data, where, set()

    def _path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise PipelineError(f"config key {self._path(key)} is missing")
            return default
        return self.data[key]

    def sub(self, key: str, required: bool = False) -> _Reader:
        value = self.raw(key, ... if required else {})
        return _Reader(value, self._path(key))

    def integer(self, key: str, default: Any = ..., lo: int | None = None, hi: int | None = None) -> int:
        v = self.raw(key, default)
        if not isinstance(v, int) or isinstance(v, bool) or (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f" from {lo}" if lo is not None else ""
            rng += f" to {hi}" if hi is not None else ""
            raise PipelineError(f"config {self._path(key)} must be a whole number{rng}, got {v!r}")
        return v

    def number(self, key: str, default: Any = ..., lo: float | None = None) -> float:
        v = self.raw(key, default)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or (lo is not None and v < lo):
            raise PipelineError(f"config {self._path(key)} must be a number{f' ≥ {lo}' if lo is not None else ''}, got {v!r}")
        return float(v)

    def boolean(self, key: str, default: Any = ...) -> bool:
        v = self.raw(key, default)
        if not isinstance(v, bool):
            raise PipelineError(f"config {self._path(key)} must be true or false, got {v!r}")
        return v

    def string(self, key: str, default: Any = ..., choices: tuple[str, ...] | None = None) -> str:
        v = self.raw(key, default)
        if not isinstance(v, str) or not v or (choices is not None and v not in choices):
            extra = f" (one of {', '.join(choices)})" if choices else ""
            raise PipelineError(f"config {self._path(key)} must be a non-empty string{extra}, got {v!r}")
        return v

    def optional_string(self, key: str) -> str | None:
        return None if self.raw(key, None) is None else self.string(key)

    def rows(self, key: str) -> tuple[int, ...] | None:
        v = self.raw(key, None)
        if v is None:
            return None
        if not isinstance(v, list) or not v or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 0 for r in v):
            raise PipelineError(f"config {self._path(key)} must be a non-empty list of row numbers ≥ 0, got {v!r}")
        return tuple(sorted(set(v)))

    def color(self, key: str, default: Any, allow: tuple[str, ...] = ()) -> str | tuple[int, int, int]:
        v = self.raw(key, default)
        if isinstance(v, str) and v in allow:
            return v
        if isinstance(v, (list, tuple)) and len(v) == 3 and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in v):
            return (int(v[0]), int(v[1]), int(v[2]))
        words = " or ".join([repr(a) for a in allow] + ["[r, g, b] (0-255)"])
        raise PipelineError(f"config {self._path(key)} must be {words}, got {v!r}")

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise PipelineError(
                f"config {self.where or 'file'} has unknown key(s) {', '.join(unknown)}: "
                f"known keys are {', '.join(sorted(self.used))}"
            )


def parse_config(data: Any, base_dir: Path, source: str = "<config>") -> PipelineConfig:
    """Check a config dict and turn it into a PipelineConfig; PipelineError names the first bad key."""
    top = _Reader(data, "")
    if top.raw("format", None) != CONFIG_FORMAT:
        raise PipelineError(f"{source} is not a Castmaker pipeline config (its \"format\" must be {CONFIG_FORMAT!r})")
    version = top.integer("version", lo=1)
    if version > CONFIG_VERSION:
        raise PipelineError(f"{source} is config version {version}; this Castmaker reads version {CONFIG_VERSION}")
    top.raw("description", "")

    nets = top.sub("networks", required=True)
    sprite_net, portrait_net = nets.string("sprite"), nets.string("portrait")
    nets.done()
    presets = top.sub("presets")
    sprite_presets, portrait_presets = presets.optional_string("sprite"), presets.optional_string("portrait")
    presets.done()

    sprite = top.sub("sprite")
    g = sprite.sub("grid")
    row_dirs = g.raw("row_directions", list(RPGMAKER_DIRECTIONS))
    cols = g.raw("pattern_columns", [0, 1, 2])
    if not isinstance(row_dirs, list) or not isinstance(cols, list):
        raise PipelineError("config sprite.grid.row_directions and pattern_columns must be lists")
    try:
        grid = SheetGrid(
            frame_width=g.integer("frame_width", 32, lo=1),
            frame_height=g.integer("frame_height", 32, lo=1),
            origin_x=g.integer("origin_x", 0, lo=0),
            origin_y=g.integer("origin_y", 0, lo=0),
            row_directions=tuple(row_dirs),
            pattern_columns=tuple(cols),
        )
    except (SpriteError, TypeError) as exc:
        raise PipelineError(f"config sprite.grid: {exc}") from None
    g.done()
    sprite_rows = sprite.rows("archetype_rows")
    sprite.done()

    c = top.sub("cleanup")
    palette = c.raw("palette_colors", 16)
    if palette is not None:
        palette = c.integer("palette_colors", lo=2, hi=256)
    cleanup = CleanupSettings(
        background_tolerance=c.number("background_tolerance", 40.0, lo=0),
        background_color=c.color("background_color", "auto", allow=("auto",)),
        palette_colors=palette,
        min_neighbours=c.integer("min_neighbours", 1, lo=0, hi=8),
        alpha_threshold=c.integer("alpha_threshold", 128, lo=1, hi=255),
    )
    c.done()

    s = top.sub("sheet")
    scale = s.raw("scale", "auto")
    if scale != "auto":
        scale = s.integer("scale", lo=1)
    sheet = SheetSettings(
        cell_width=s.integer("cell_width", 48, lo=1),
        cell_height=s.integer("cell_height", 48, lo=1),
        scale=scale,
        plain_sheet=s.boolean("plain_sheet", False),
    )
    s.done()
    if sheet.scale == "auto" and (grid.frame_width > sheet.cell_width or grid.frame_height > sheet.cell_height):
        raise PipelineError(
            f"config: {grid.frame_width}×{grid.frame_height} frames do not fit {sheet.cell_width}×{sheet.cell_height} "
            "sheet cells: raise sheet.cell_width / cell_height"
        )

    h = top.sub("head")
    b = h.sub("box")
    box = HeadBox(b.integer("x", 4, lo=0), b.integer("y", 0, lo=0), b.integer("width", 24, lo=1), b.integer("height", 20, lo=1))
    b.done()
    try:
        box.check_inside(grid.frame_width, grid.frame_height)
    except SpriteError as exc:
        raise PipelineError(f"config head.box: {exc}") from None
    head = HeadSettings(
        direction=h.string("direction", "down", choices=RPGMAKER_DIRECTIONS),
        pattern=h.integer("pattern", 1, lo=0, hi=2),
        box=box,
        upscale=h.string("upscale", "nearest", choices=UPSCALE_METHODS),
        pad_color=h.color("pad_color", "background", allow=("background",)),
    )
    h.done()

    p = top.sub("projection")
    projection = {k: p.raw(k) for k in sorted(p.data) if k in PROJECTION_KEYS}
    projection.setdefault("steps", 300)
    projection.setdefault("stabilize", True)
    p.integer("steps", 300, lo=1)
    p.done()

    portrait = top.sub("portrait")
    portrait_rows = portrait.rows("archetype_rows")
    portrait_base = portrait.string("base", "projection", choices=PORTRAIT_BASES)
    portrait.done()

    arch_data = top.raw("archetypes")
    if not isinstance(arch_data, dict) or not arch_data:
        raise PipelineError("config archetypes must name at least one archetype, e.g. {\"heroine\": {...}}")
    archetypes = {}
    for name in arch_data:
        a = _Reader(arch_data[name], f"archetypes.{name}")
        archetypes[name] = Archetype(a.string("sprite_preset"), a.string("portrait_preset"), str(a.raw("description", "")))
        a.done()

    expr_data = top.raw("expressions", [])
    if not isinstance(expr_data, list):
        raise PipelineError("config expressions must be a list of {\"name\", \"preset\", \"rows\"}")
    if len(expr_data) > FACE_COLS * FACE_ROWS - 1:
        raise PipelineError(
            f"config has {len(expr_data)} expressions but a face set holds the neutral face and at most "
            f"{FACE_COLS * FACE_ROWS - 1} more: remove some"
        )
    expressions = []
    for i, e in enumerate(expr_data):
        r = _Reader(e, f"expressions[{i}]")
        expressions.append(Expression(r.string("name"), r.string("preset"), r.rows("rows")))
        r.done()
    names = [e.name for e in expressions]
    if len(set(names)) != len(names) or "neutral" in names:
        raise PipelineError(f"config expression names must be unique and not 'neutral', got {names}")

    f = top.sub("faceset")
    faceset = FaceSetSettings(cell=f.integer("cell", 144, lo=1), resample=f.string("resample", "lanczos", choices=tuple(RESAMPLE)))
    f.done()

    v = top.sub("preview")
    bg = v.color("background", [200, 208, 200])
    assert not isinstance(bg, str)
    preview = PreviewSettings(
        walk_frame_ms=v.integer("walk_frame_ms", 200, lo=20, hi=5000),
        walk_scale=v.integer("walk_scale", 3, lo=1, hi=16),
        background=bg,
    )
    v.done()
    top.done()
    return PipelineConfig(
        sprite_network=sprite_net,
        portrait_network=portrait_net,
        sprite_presets=sprite_presets,
        portrait_presets=portrait_presets,
        grid=grid,
        sprite_archetype_rows=sprite_rows,
        cleanup=cleanup,
        sheet=sheet,
        head=head,
        projection=projection,
        portrait_archetype_rows=portrait_rows,
        portrait_base=portrait_base,
        archetypes=archetypes,
        expressions=tuple(expressions),
        faceset=faceset,
        preview=preview,
        base_dir=base_dir,
        raw=data,
        source=source,
    )


def load_config(path: str | os.PathLike | None = None) -> PipelineConfig:
    """Read and check a pipeline config file (default: resources/pipeline/default.json, the cast networks)."""
    p = Path(path).expanduser() if path is not None else DEFAULT_CONFIG
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"pipeline config {p} not found: give an existing file with --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"pipeline config {p} cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise PipelineError(f"pipeline config {p} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return parse_config(data, p.resolve().parent, str(p))


def config_for_sprite_network(network_name: str | None) -> PipelineConfig:
    """The shipped config whose sprite network is `network_name` (the demo grid for demo-sprite), else the default.

    The editor's walk-sheet export cuts a sprite canvas on this config's grid.
    """
    demo = load_config(DEMO_CONFIG)
    return demo if network_name == demo.sprite_network else load_config()
