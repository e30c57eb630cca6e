"""Recognise an RPG Maker MV or MZ project folder, and where its character files live.

MV projects hold `Game.rpgproject`, MZ projects `game.rmmzproject`. Anything else is refused before a
single byte is written, so pointing the exporter at the wrong folder is harmless.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from editor.rpgmaker.errors import ExportError

PROJECT_FILES = {"MV": "Game.rpgproject", "MZ": "game.rmmzproject"}


@dataclass(frozen=True)
class GameProject:
    """An RPG Maker project: its kind ("MV" | "MZ") and root folder, with the paths export uses."""

    kind: str
    root: Path

    @property
    def characters_dir(self) -> Path:
        return self.root / "img" / "characters"

    @property
    def faces_dir(self) -> Path:
        return self.root / "img" / "faces"

    @property
    def actors_path(self) -> Path:
        return self.root / "data" / "Actors.json"

    @property
    def backups_dir(self) -> Path:
        """Where the exporter keeps copies of files it replaced (outside img/ and data/)."""
        return self.root / "castmaker-backups"


def _find_project_file(root: Path, name: str) -> bool:
    # exact name first; then a case-insensitive match (projects copied between systems change case)
    if (root / name).is_file():
        return True
    lowered = name.lower()
    try:
        return any(entry.is_file() and entry.name.lower() == lowered for entry in root.iterdir())
    except OSError:
        return False


def detect_project(folder: str | os.PathLike) -> GameProject:
    """The project in `folder`, or ExportError saying why it is not one (nothing is touched)."""
    root = Path(folder).expanduser()
    if not root.exists():
        raise ExportError(f"game folder {root} does not exist: choose the folder that holds your project file")
    if not root.is_dir():
        raise ExportError(f"{root} is a file, not a folder: choose the folder that holds your RPG Maker project file")
    kinds = [kind for kind, name in PROJECT_FILES.items() if _find_project_file(root, name)]
    if not kinds:
        raise ExportError(
            f"{root} is not an RPG Maker MV or MZ project (no Game.rpgproject or game.rmmzproject in it): "
            "choose the project's top folder"
        )
    if len(kinds) > 1:
        raise ExportError(
            f"{root} holds both an MV (Game.rpgproject) and an MZ (game.rmmzproject) project file: "
            "remove the stale one so it is clear which engine the game uses"
        )
    project = GameProject(kind=kinds[0], root=root.resolve())
    if not (project.root / "data").is_dir():
        raise ExportError(
            f"{root} has a {kinds[0]} project file but no data/ folder: open and save the project in "
            f"RPG Maker {kinds[0]} once, then export again"
        )
    if not project.actors_path.is_file():
        raise ExportError(
            f"{project.actors_path} is missing: open and save the project in RPG Maker {kinds[0]}, then export again"
        )
    return project
