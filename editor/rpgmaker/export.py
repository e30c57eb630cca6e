"""One-click export of a character into an RPG Maker MV / MZ project, all or nothing.

`plan_export` says what would be written (and under which name) without touching the game;
`export_character` writes `img/characters/$<Name>.png`, `img/faces/<Name>.png` and a new actor in
`data/Actors.json` in one transaction: if anything fails, the game folder is exactly as before.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from editor.rpgmaker.actors import (
    actor_by_id,
    find_actor_by_character,
    new_actor,
    read_actors,
    serialize_actors,
)
from editor.rpgmaker.errors import ExportError
from editor.rpgmaker.files import FileTransaction
from editor.rpgmaker.png import as_rgba, encode_png
from editor.rpgmaker.project import GameProject, detect_project
from editor.rpgmaker.sheet_layout import FACE_COLS, FACE_ROWS, FACE_SIZE, frame_size_for

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[^\W_][\w\- ]{0,62}[\w\-]|[^\W_]", re.UNICODE)
MAX_RENAMES = 999


def check_character_name(name: str) -> str:
    """The name if it makes safe RPG Maker file names ('Heroine 2', 'elf_mage'); ExportError otherwise."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ExportError(
            f"character name {name!r} cannot be used as an RPG Maker file name: use 1-64 letters, digits, "
            "spaces, '-' or '_', starting with a letter or digit (the '$' is added for you)"
        )
    return name


@dataclass(frozen=True)
class ExportPlan:
    """What an export will write: final name (maybe renamed), paths, the actor id, files it replaces."""

    project: GameProject
    requested_name: str
    name: str
    character_path: Path
    face_path: Path
    actors_path: Path
    actor_id: int
    new_actor: bool
    replaces: tuple[Path, ...] = ()
    battler_name: str = ""
    copy_actor: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def renamed(self) -> bool:
        return self.name != self.requested_name

    @property
    def character_name(self) -> str:
        return "$" + self.name

    def describe(self) -> list[str]:
        """Human lines for a preview panel or the CLI."""
        lines = [f"{self.project.kind} project {self.project.root}"]
        if self.renamed:
            lines.append(f"'{self.requested_name}' is taken: exporting as '{self.name}'")
        lines.append(f"write {self.character_path.relative_to(self.project.root)}")
        lines.append(f"write {self.face_path.relative_to(self.project.root)}")
        if self.new_actor:
            start = (
                f"class and equipment of actor {self.copy_actor}"
                if self.copy_actor is not None
                else "RPG Maker's new-actor defaults (class 1, nothing equipped)"
            )
            lines.append(f"add actor {self.actor_id} '{self.name}' to data/Actors.json with {start}")
            if self.battler_name:
                lines.append(f"side-view battler: img/sv_actors/{self.battler_name}.png")
        else:
            lines.append(f"actor {self.actor_id} already uses {self.character_name}: Actors.json unchanged")
        lines.extend(f"replace {p.relative_to(self.project.root)} (a backup is kept)" for p in self.replaces)
        lines.extend(f"⚠ {w}" for w in self.warnings)
        return lines


@dataclass
class ExportReport:
    """What an export did: files written, the actor id, the name used if it had to change, backups kept."""

    project: GameProject
    name: str
    written: list[Path]
    actor_id: int
    actor_created: bool
    renamed_to: str | None = None
    backups: list[Path] = field(default_factory=list)
    backup_dir: Path | None = None  # where this export's backups went (outside the game folder)
    warnings: list[str] = field(default_factory=list)  # things the user must know (e.g. no side-view battler)


def _exists_nocase(folder: Path, file_name: str) -> Path | None:
    """The file in `folder` whose name equals `file_name` ignoring case (deployed games are case-sensitive,
    Windows and macOS folders are not, so 'Hero.png' and 'hero.png' must count as the same name)."""
    if (folder / file_name).exists():
        return folder / file_name
    if not folder.is_dir():
        return None
    lowered = file_name.lower()
    for entry in folder.iterdir():
        if entry.name.lower() == lowered:
            return entry
    return None


def _taken(project: GameProject, name: str) -> list[Path]:
    found = [
        _exists_nocase(project.characters_dir, f"${name}.png"),
        _exists_nocase(project.faces_dir, f"{name}.png"),
    ]
    return [p for p in found if p is not None]


SIDE_VIEW_NOTE = (
    "this project uses side-view battles (optSideView in data/System.json), and Castmaker does not make "
    "side-view battlers yet"
)


def check_battler(project: GameProject, battler: str) -> str:
    """The battler's name as its file in img/sv_actors is spelled; ExportError if there is no such file."""
    stem = battler[:-4] if battler.lower().endswith(".png") else battler
    if not stem or "/" in stem or "\\" in stem:
        raise ExportError(f"battler {battler!r} is not a file name: give the name of a file in img/sv_actors, e.g. Actor1_1")
    found = _exists_nocase(project.sv_actors_dir, f"{stem}.png")
    if found is None:
        have = sorted(p.stem for p in project.sv_actors_dir.glob("*.png")) if project.sv_actors_dir.is_dir() else []
        listed = ", ".join(have[:8]) + (" …" if len(have) > 8 else "") if have else "none"
        raise ExportError(
            f"there is no side-view battler {stem}.png in {project.sv_actors_dir} (battlers there: {listed}): "
            "give the name of one of them, or add your battler image there first"
        )
    return found.stem


def plan_export(
    game_dir: str | os.PathLike | GameProject,
    name: str,
    overwrite: bool = False,
    battler: str | None = None,
    copy_actor: int | None = None,
) -> ExportPlan:
    """Plan an export without writing anything (raises ExportError for a non-project, bad name, a battler
    missing from img/sv_actors or a `copy_actor` id that is not an actor).

    `battler`: an existing side-view battler (file name in img/sv_actors, without .png) for the new actor.
    `copy_actor`: an actor id whose class and starting equipment the new actor copies (default: RPG Maker's
    new-actor values). On a side-view project without `battler`, the plan's `warnings` say that the new actor
    has no battler.
    """
    project = game_dir if isinstance(game_dir, GameProject) else detect_project(game_dir)
    requested = check_character_name(name)
    actors = read_actors(project.actors_path)
    battler_name = check_battler(project, battler) if battler else ""
    if copy_actor is not None:
        actor_by_id(actors, copy_actor)
    final = requested
    replaces: tuple[Path, ...] = ()
    if overwrite:
        replaces = tuple(_taken(project, requested))
        expected = {f"${requested}.png", f"{requested}.png"}
        for p in replaces:
            if p.name not in expected:
                raise ExportError(
                    f"{p} differs from {requested!r} only in letter case; deployed games treat them as two "
                    "files: rename or delete it, or choose another name"
                )
    else:
        n = 1
        while _taken(project, final):
            n += 1
            if n > MAX_RENAMES:
                raise ExportError(f"no free name like {requested}_2 … {requested}_{MAX_RENAMES} in {project.root}")
            final = f"{requested}_{n}"
    existing = find_actor_by_character(actors, "$" + final) if overwrite else None
    warnings = []
    if existing is None and not battler_name and project.side_view:
        warnings.append(
            f"{SIDE_VIEW_NOTE}: actor '{final}' gets no battler and is invisible in battle. Name an existing "
            "battler (a file in img/sv_actors) to use, or set one in RPG Maker's database before battle testing"
        )
    return ExportPlan(
        project=project,
        requested_name=requested,
        name=final,
        character_path=project.characters_dir / f"${final}.png",
        face_path=project.faces_dir / f"{final}.png",
        actors_path=project.actors_path,
        actor_id=existing if existing is not None else len(actors),
        new_actor=existing is None,
        replaces=replaces,
        battler_name=battler_name,
        copy_actor=copy_actor,
        warnings=tuple(warnings),
    )


def _check_images(sheet: np.ndarray, faceset: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    sheet = as_rgba(sheet, "character sheet")
    faceset = as_rgba(faceset, "face set")
    frame_size_for(f"${name}.png", sheet.shape[1], sheet.shape[0])
    want = (FACE_ROWS * FACE_SIZE, FACE_COLS * FACE_SIZE)
    if faceset.shape[:2] != want:
        raise ExportError(
            f"the face set is {faceset.shape[1]}×{faceset.shape[0]}; RPG Maker MV/MZ face sets are "
            f"{want[1]}×{want[0]} (4×2 faces of {FACE_SIZE}×{FACE_SIZE})"
        )
    return sheet, faceset


def _backup_folder(project: GameProject) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = project.backups_dir / stamp
    n = 1
    while folder.exists():
        n += 1
        folder = project.backups_dir / f"{stamp}-{n}"
    return folder


def export_character(
    game_dir: str | os.PathLike | GameProject,
    name: str,
    sheet_rgba: np.ndarray,
    faceset_rgba: np.ndarray,
    overwrite: bool = False,
    battler: str | None = None,
    copy_actor: int | None = None,
) -> ExportReport:
    """Write the sheet and face set into the game and register an actor; all or nothing.

    Without `overwrite` a taken name becomes Name_2, Name_3, … (the report says which). With it, the
    old files are replaced and copies kept under `project.backups_dir/<time>/`, outside the game folder
    (RPG Maker's Deployment would ship a folder inside it). Actors.json is always backed up there before
    it changes. `battler` and `copy_actor` as in `plan_export`; the report's `warnings` repeat the plan's.
    """
    plan = plan_export(game_dir, name, overwrite=overwrite, battler=battler, copy_actor=copy_actor)
    sheet, faceset = _check_images(sheet_rgba, faceset_rgba, plan.name)
    project = plan.project
    backup_dir = _backup_folder(project)
    txn = FileTransaction(root=project.root, backup_dir=backup_dir)
    txn.add(plan.character_path, encode_png(sheet))
    txn.add(plan.face_path, encode_png(faceset))
    if plan.new_actor:
        actors = read_actors(project.actors_path)  # read again right before writing
        if len(actors) != plan.actor_id:
            raise ExportError(f"{project.actors_path} changed while exporting: export again")
        actors.append(
            new_actor(
                actors,
                plan.name,
                plan.character_name,
                plan.name,
                equip_slots=project.equip_slots,
                copy_from=plan.copy_actor,
                battler_name=plan.battler_name,
            )
        )
        txn.add(project.actors_path, serialize_actors(actors))
    try:
        backups = txn.commit()
    except OSError as exc:
        raise ExportError(
            f"could not write into {project.root} ({exc.strerror or exc}); nothing in the game folder was "
            "changed: check free disk space and that the folder is writable, then export again"
        ) from None
    log.info("exported %s into %s project %s as actor %d", plan.name, project.kind, project.root, plan.actor_id)
    return ExportReport(
        project=project,
        name=plan.name,
        written=txn.targets,
        actor_id=plan.actor_id,
        actor_created=plan.new_actor,
        renamed_to=plan.name if plan.renamed else None,
        backups=backups,
        backup_dir=backup_dir if backups else None,
        warnings=list(plan.warnings),
    )
