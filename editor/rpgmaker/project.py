"""Recognise an RPG Maker MV or MZ project folder, and where its character files live.

MV projects hold `Game.rpgproject`, MZ projects `game.rmmzproject`. Anything else is refused before a
single byte is written, so pointing the exporter at the wrong folder is harmless.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editor.rpgmaker.errors import ExportError

log = logging.getLogger(__name__)

PROJECT_FILES = {"MV": "Game.rpgproject", "MZ": "game.rmmzproject"}


def backups_root() -> Path:
    """Castmaker's per-user backup folder (CASTMAKER_DATA_DIR/backups overrides it, for tests and portable installs).

    Backups live outside the game: RPG Maker MV/MZ's Deployment copies every folder of the project into the
    game it ships ("Exclude unused files" only prunes unused img/ and audio/ assets), so a backup folder
    inside the project would be shipped to players.
    """
    override = os.environ.get("CASTMAKER_DATA_DIR")
    if override:
        base = Path(override)
    else:
        import platformdirs

        base = Path(platformdirs.user_data_dir("castmaker", appauthor=False))
    return base / "backups"


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
    def system_path(self) -> Path:
        return self.root / "data" / "System.json"

    @property
    def sv_actors_dir(self) -> Path:
        """Side-view battler images (img/sv_actors/<battlerName>.png)."""
        return self.root / "img" / "sv_actors"

    @property
    def backups_dir(self) -> Path:
        """Where the exporter keeps copies of files it replaced: outside the game folder, one folder per project.

        `backups_root()/<folder name>-<8 hex digits of the project path's SHA-1>`, so two projects of the
        same name keep separate backups and nothing of Castmaker's is deployed with the game.
        """
        digest = hashlib.sha1(str(self.root).encode("utf-8")).hexdigest()[:8]
        slug = re.sub(r"[^\w\-]+", "_", self.root.name)[:40] or "project"
        return backups_root() / f"{slug}-{digest}"

    def system(self) -> dict[str, Any]:
        """data/System.json as a dict, or {} if it is missing or unreadable (logged; export then uses defaults)."""
        try:
            data = json.loads(self.system_path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.warning("cannot read %s (%s): using RPG Maker's defaults", self.system_path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def side_view(self) -> bool:
        """True if the project uses side-view battles (`optSideView` in data/System.json)."""
        return self.system().get("optSideView") is True

    @property
    def equip_slots(self) -> int:
        """Equipment slots of an actor: the project's equip types (System.json `equipTypes`, index 0 is "")."""
        types = self.system().get("equipTypes")
        if isinstance(types, list) and len(types) > 1:
            return len(types) - 1
        return 5  # a new MV/MZ project: weapon, shield, head, body, accessory


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
