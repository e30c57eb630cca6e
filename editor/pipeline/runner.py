"""The character pipeline: seed + ψ + archetype → walk sheet, face set, previews and a re-makeable record.

sprite net renders the seed ▶ archetype rows mixed in ▶ cleanup and frames ▶ `$` sheet │ head crop ▶
projection into the portrait net ▶ archetype portrait rows ▶ expressions ▶ face set. Every number comes
from the PipelineConfig; each stage's time is added to a StageTimes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from editor.pipeline.config import PipelineConfig
from editor.pipeline.errors import PipelineError
from editor.pipeline.previews import contact_sheet, upscale, walk_gif
from editor.pipeline.record import (
    RECORD_FORMAT,
    RECORD_VERSION,
    SourceTable,
    dumps_record,
    network_info,
    software_versions,
)
from editor.pipeline.timing import StageTimes
from editor.presets import Preset, PresetLibrary, apply_preset, bundled_library, check_fits, user_library
from editor.rpgmaker.export import check_character_name
from editor.rpgmaker.files import FileTransaction
from editor.rpgmaker.png import encode_png
from editor.rpgmaker.sheet_layout import character_sheet, face_at, face_set
from editor.sprites import clean_frames, estimate_background, head_of, portrait_target
from renderer import load_network
from renderer.engine import Engine
from renderer.latents import Recipe, SeedSource, WSource
from renderer.network import Network
from renderer.projector import ProjectionConfig, ProjectionProgress, project

log = logging.getLogger(__name__)


@dataclass
class Character:
    """One made character, all in memory (uint8 images, recipes, the projected w)."""

    name: str
    archetype: str
    seed: int
    psi: float
    sprite_recipe: Recipe
    sprite_canvas: np.ndarray  # RGB, the sprite network's raw output
    background: tuple[int, int, int]
    frames: list[list[np.ndarray]]  # RGBA [direction][pattern]
    sheet: np.ndarray  # RGBA `$` sheet
    head: np.ndarray  # RGBA head crop
    head_target: np.ndarray  # RGB, portrait resolution
    projection: dict[str, Any]
    portrait_recipe: Recipe
    expression_recipes: dict[str, Recipe]
    faces: list[tuple[str, np.ndarray]]  # (name, RGB) neutral first
    faceset: np.ndarray  # RGBA 4×2 cells
    extra: dict[str, Any] = field(default_factory=dict)


def shared_portrait_w(sprite_engine: Engine, sprite_recipe: Recipe, sprite_net: Network, portrait_net: Network) -> np.ndarray:
    """The portrait w [portrait num_ws, w_dim] of the character a cast sprite recipe draws.

    Castmaker's cast networks share one latent space: every factor sits at the same w entries in both
    (`renderer.cast.description.LAYOUT`). The sprite recipe may take each row group from another source
    (an archetype preset on the hair rows, say), so the character's w is assembled factor by factor from
    the first sprite row that reads the factor; factors the sprite does not draw (head turn, expression,
    eye shape) come from the recipe's base.
    """
    from renderer.cast.description import FACTOR_SLICES

    spaces = {(net.cast_record or {}).get("latent_space") for net in (sprite_net, portrait_net)}
    if len(spaces) != 1 or None in spaces:
        raise PipelineError(
            f"portrait.base 'shared-latent' needs two Castmaker cast networks with one latent space; "
            f"{sprite_net.name} and {portrait_net.name} are not: use \"base\": \"projection\""
        )
    wplus = sprite_engine.evaluate(sprite_recipe)
    w = sprite_engine.resolve(sprite_recipe.base)[0].copy()
    for group in sprite_net.cast_record["row_groups"]:
        for factor in group["factors"]:
            dims = FACTOR_SLICES[factor]
            w[dims] = wplus[group["rows"][0], dims]
    return np.repeat(w[None], portrait_net.num_ws, axis=0).astype(np.float32)


def check_psi(psi: float | str) -> float:
    try:
        value = float(psi)
    except (TypeError, ValueError):
        raise PipelineError(f"ψ must be a number such as 0.6, got {psi!r}") from None
    if not math.isfinite(value):
        raise PipelineError(f"ψ must be a finite number, got {psi!r}")
    return value


def default_name(archetype: str, seed: int) -> str:
    """'heroine', 7 → 'Heroine7' (safe as an RPG Maker file name)."""
    stem = "".join(ch for ch in archetype.title() if ch.isalnum()) or "Character"
    return f"{stem}{seed}"


def fresh_character_folder(outdir: Path, name: str) -> Path:
    """`outdir/<name>` unless it already holds a made character (character.json), else the first free `<name>-K`."""
    folder = outdir / name
    k = 1
    while (folder / "character.json").is_file():
        k += 1
        if k > 999:
            raise PipelineError(f"{outdir} already holds {name} and {name}-2 … {name}-999: clear some or use --replace")
        folder = outdir / f"{name}-{k}"
    return folder


class CharacterPipeline:
    """Holds both networks, their engines and preset libraries; `make` one character, `files` to write it."""

    def __init__(
        self,
        config: PipelineConfig,
        device: str = "auto",
        sprite_network: Network | None = None,
        portrait_network: Network | None = None,
        class_idx: int | None = None,
    ) -> None:
        self.config = config
        self.sprite_net = sprite_network or load_network(config.resolve_path(config.sprite_network))
        self.portrait_net = portrait_network or load_network(config.resolve_path(config.portrait_network))
        self.sprite_engine = Engine(self.sprite_net, device)
        self.portrait_engine = Engine(self.portrait_net, device)
        self.sprite_library = self._library(config.sprite_presets, self.sprite_net)
        self.portrait_library = self._library(config.portrait_presets, self.portrait_net)
        # Class-conditional networks draw class `class_idx`; an unconditional network ignores it.
        self.sprite_class = class_idx if self.sprite_net.c_dim > 0 else None
        self.portrait_class = class_idx if self.portrait_net.c_dim > 0 else None
        try:
            self.projection_config = ProjectionConfig(**config.projection)
            if self.portrait_class is not None:
                self.projection_config = dataclasses.replace(self.projection_config, class_idx=self.portrait_class)
            self.projection_config.validate()
        except TypeError as exc:
            raise PipelineError(f"config projection: {exc}") from None
        self._check_config()

    # ----- set-up
    def _library(self, key: str | None, network: Network) -> PresetLibrary:
        if key is not None:
            resolved = self.config.resolve_path(key)
            if Path(resolved).is_dir():
                return PresetLibrary(resolved, read_only=True)
            lib = bundled_library(key)
            if lib is None:
                raise PipelineError(
                    f"preset folder {key!r} (from {self.config.source}) is neither a folder nor a bundled "
                    "library in latent_presets/: fix the config's presets section"
                )
            return lib
        lib = bundled_library(network.preset_key)
        return lib if lib is not None else user_library(network.fingerprint)

    def _check_config(self) -> None:
        """Fail before any rendering if the config does not fit the networks."""
        cfg = self.config
        for rows, net, where in (
            (cfg.sprite_archetype_rows, self.sprite_net, "sprite.archetype_rows"),
            (cfg.portrait_archetype_rows, self.portrait_net, "portrait.archetype_rows"),
            *((e.rows, self.portrait_net, f"expression {e.name!r} rows") for e in cfg.expressions),
        ):
            if rows and max(rows) >= net.num_ws:
                raise PipelineError(f"config {where} {list(rows)} reach past the {net.num_ws} rows (0-{net.num_ws - 1}) of {net.name}")
        res = self.sprite_net.img_resolution
        need_w = cfg.grid.origin_x + cfg.grid.columns * cfg.grid.frame_width
        need_h = cfg.grid.origin_y + cfg.grid.rows * cfg.grid.frame_height
        if need_w > res or need_h > res:
            raise PipelineError(f"config sprite.grid needs a {need_w}×{need_h} canvas but {self.sprite_net.name} draws {res}×{res}")

    def preset(self, library: PresetLibrary, name: str, rows: tuple[int, ...] | None, what: str, network: Network) -> Preset:
        """A preset by name, with the config's rows if it gives any; refused unless it fits `network`."""
        if not library.exists(name):
            raise PipelineError(
                f"{what} preset {name!r} is not in {library.folder}: make it in the editor (or run "
                "`python -m editor.pipeline.make_demo_presets` for the demo networks)"
            )
        preset = library.get(name)
        check_fits(preset, network.fingerprint, network.name)
        return dataclasses.replace(preset, rows=list(rows)) if rows else preset

    def presets_for(self, archetype: str) -> dict[str, Preset]:
        """Every preset a character of `archetype` needs, checked before any work starts (fail fast)."""
        cfg = self.config
        arch = cfg.archetype(archetype)
        out = {
            "sprite": self.preset(self.sprite_library, arch.sprite_preset, cfg.sprite_archetype_rows, "sprite", self.sprite_net),
            "portrait": self.preset(
                self.portrait_library, arch.portrait_preset, cfg.portrait_archetype_rows, "portrait", self.portrait_net
            ),
        }
        for e in cfg.expressions:
            out[f"expression:{e.name}"] = self.preset(
                self.portrait_library, e.preset, e.rows, f"expression {e.name!r}", self.portrait_net
            )
        return out

    # ----- the stages
    def make(
        self,
        archetype: str,
        psi: float,
        seed: int,
        name: str | None = None,
        times: StageTimes | None = None,
        on_stage: Callable[[str], None] | None = None,
        projection_progress: Callable[[ProjectionProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Character:
        cfg = self.config
        presets = self.presets_for(archetype)
        psi = check_psi(psi)
        name = check_character_name(name or default_name(archetype, seed))
        times = times or StageTimes()

        def stage(label: str) -> Any:
            if on_stage is not None:
                on_stage(label)
            return times.stage(label)

        with stage("render"):
            base = Recipe.plain(SeedSource(seed=int(seed), psi=psi, class_idx=self.sprite_class), self.sprite_net.num_ws)
            sprite_recipe = apply_preset(base, presets["sprite"], self.sprite_net.fingerprint, self.sprite_net.name)
            canvas = self.sprite_engine.render(sprite_recipe).image
            if canvas.shape[2] == 1:
                canvas = np.repeat(canvas, 3, axis=2)
        with stage("cleanup"):
            frames = clean_frames(canvas, cfg.grid, cfg.cleanup)
            sheet = character_sheet(frames, (cfg.sheet.cell_width, cfg.sheet.cell_height), cfg.sheet.scale)
            if cfg.cleanup.background_color == "auto":
                bg_arr = estimate_background(canvas)
            else:
                bg_arr = np.asarray(cfg.cleanup.background_color, np.float32)
            background = tuple(int(round(float(c))) for c in bg_arr)
            pad = background if cfg.head.pad_color == "background" else cfg.head.pad_color
            head = head_of(frames, cfg.head.direction, cfg.head.pattern, cfg.head.box)  # as the editor's face set
            target = portrait_target(head, self.portrait_net.img_resolution, cfg.head.upscale, pad)
            if self.portrait_net.img_channels == 1:
                target = np.round(target.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))[..., None].astype(np.uint8)
        if cfg.portrait_base == "shared-latent":
            with stage("shared latent"):
                portrait_w = shared_portrait_w(self.sprite_engine, sprite_recipe, self.sprite_net, self.portrait_net)
                projected = WSource(portrait_w, label=f"{name} (from the sprite)", kind="w")
                projection_info: dict[str, Any] = {"method": "shared-latent"}
        else:
            with stage("projection"):
                result = project(self.portrait_engine, target, self.projection_config, projection_progress, should_stop)
                if result.stopped_early:
                    raise PipelineError(f"{name}: projection was stopped before it finished; nothing was written")
                projected = WSource(result.w, label=f"{name} head", kind="projected")
                psnr = float(result.best_psnr)
                projection_info = {
                    "loss": result.loss_name,
                    "steps": self.projection_config.steps,
                    "best_step": int(result.best_step),
                    "best_psnr": round(psnr, 4) if math.isfinite(psnr) else None,
                }
        with stage("expressions"):
            fp, label = self.portrait_net.fingerprint, self.portrait_net.name
            portrait_recipe = apply_preset(Recipe.plain(projected, self.portrait_net.num_ws), presets["portrait"], fp, label)
            recipes = {"neutral": portrait_recipe}
            for expr in cfg.expressions:
                recipes[expr.name] = apply_preset(portrait_recipe, presets[f"expression:{expr.name}"], fp, label)
            faces = [(n, self.portrait_engine.render(r).image) for n, r in recipes.items()]
            faces = [(n, np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img) for n, img in faces]
            faceset = face_set([img for _, img in faces], cfg.faceset.cell, cfg.faceset.resample)
        return Character(
            name=name,
            archetype=archetype,
            seed=int(seed),
            psi=psi,
            sprite_recipe=sprite_recipe,
            sprite_canvas=canvas,
            background=background,  # type: ignore[arg-type]
            frames=frames,
            sheet=sheet,
            head=head,
            head_target=target,
            projection=projection_info,
            portrait_recipe=portrait_recipe,
            expression_recipes={k: v for k, v in recipes.items() if k != "neutral"},
            faces=faces,
            faceset=faceset,
        )

    # ----- outputs
    def record(self, ch: Character, sources: SourceTable) -> dict[str, Any]:
        cfg = self.config
        return {
            "format": RECORD_FORMAT,
            "version": RECORD_VERSION,
            "name": ch.name,
            "archetype": ch.archetype,
            "seed": ch.seed,
            "psi": ch.psi,
            "networks": {"sprite": network_info(self.sprite_net), "portrait": network_info(self.portrait_net)},
            "config": cfg.raw,
            "sprite": {
                "recipe": sources.recipe(ch.sprite_recipe),
                "background_color": list(ch.background),
            },
            "portrait": {
                "projection": ch.projection,
                "recipe": sources.recipe(ch.portrait_recipe),
            },
            "expressions": [
                {"name": e.name, "preset": e.preset, "face_index": i + 1, "recipe": sources.recipe(ch.expression_recipes[e.name])}
                for i, e in enumerate(cfg.expressions)
            ],
            "files": {
                "sheet": f"${ch.name}.png",
                "faceset": f"{ch.name}.png",
                "preview": "preview.png",
                "walk": "walk.gif",
            },
            "software": software_versions(),
        }

    def preview(self, ch: Character) -> np.ndarray:
        scale_sheet = max(1, 256 // max(ch.sheet.shape[:2]))
        head_view = upscale(ch.head, max(1, 128 // max(ch.head.shape[:2])))
        faces = [(f"{i}: {n}", face_at(ch.faceset, i), True) for i, (n, _) in enumerate(ch.faces)]
        target_view = upscale(ch.head_target, max(1, 128 // ch.head_target.shape[0]))
        return contact_sheet(
            [
                [
                    (f"sprite seed {ch.seed} psi {ch.psi:g}", upscale(ch.sprite_canvas, 2), False),
                    (f"${ch.name}.png", upscale(ch.sheet, scale_sheet), True),
                    ("head crop", head_view, True),
                    *([] if ch.projection.get("method") == "shared-latent" else [("projection target", target_view, False)]),
                ],
                faces,
            ]
        )

    def files(self, ch: Character) -> dict[str, bytes]:
        """Relative path → bytes of everything a character folder holds (deterministic)."""
        sources = SourceTable()
        record = self.record(ch, sources)
        out = {
            f"${ch.name}.png": encode_png(ch.sheet),
            f"{ch.name}.png": encode_png(ch.faceset),
            "preview.png": encode_png(self.preview(ch)),
            "walk.gif": walk_gif(ch.sheet, self.config.preview.walk_scale, self.config.preview.walk_frame_ms, self.config.preview.background),
        }
        out.update(sources.files())
        out["character.json"] = dumps_record(record)
        return out

    def write(self, ch: Character, outdir: str | os.PathLike, replace: bool = False) -> Path:
        """Write the character folder all at once and return it; refuses a foreign non-empty folder.

        The folder is `outdir/<Name>/`. If that already holds a character made before (a character.json),
        it is kept and the new one goes to the first free `outdir/<Name>-2/`, `-3/`, … unless `replace`
        is True (then it is overwritten). Callers compare the returned folder's name with `ch.name` to say so.
        """
        folder = Path(outdir) / ch.name
        if not replace:
            folder = fresh_character_folder(Path(outdir), ch.name)
        if folder.exists() and not folder.is_dir():
            raise PipelineError(f"{folder} is a file: choose another --outdir or --name")
        if folder.is_dir() and any(folder.iterdir()) and not (folder / "character.json").is_file():
            raise PipelineError(
                f"{folder} already holds files that Castmaker did not write: choose another --outdir or --name"
            )
        files = self.files(ch)
        txn = FileTransaction(root=folder)
        for rel, data in files.items():
            txn.add(folder / rel, data)
        try:
            txn.commit()
        except OSError as exc:
            raise PipelineError(f"could not write {folder} ({exc}); nothing was changed there") from None
        stale_w = folder / "w"
        keep = {Path(rel).name for rel in files if rel.startswith("w/")}
        for p in stale_w.glob("*.npy") if stale_w.is_dir() else []:
            if p.name not in keep:
                p.unlink()
        log.info("wrote %s", folder)
        return folder
