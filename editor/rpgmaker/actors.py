"""Read, extend and write `data/Actors.json` the way RPG Maker MV / MZ do.

The file is a JSON array: `null` at index 0, then one object per actor whose `id` equals its position.
RPG Maker writes it as `[`, one compact entry per line, `]`; we write the same shape so the editor
loads it and version control shows a one-line diff per new actor.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from editor.rpgmaker.errors import ExportError

# the fields RPG Maker MV / MZ write for every actor, in their order
ACTOR_FIELDS = (
    "id",
    "battlerName",
    "characterIndex",
    "characterName",
    "classId",
    "equips",
    "faceIndex",
    "faceName",
    "traits",
    "initialLevel",
    "maxLevel",
    "name",
    "nickname",
    "note",
    "profile",
)
DEFAULT_EQUIPS = [0, 0, 0, 0, 0]


def parse_actors(text: str, where: str = "Actors.json") -> list[Any]:
    """Parse and check the file's shape; ExportError (the file is left alone) if it is not RPG Maker's."""
    fix = "restore it from a backup or re-save the project in RPG Maker, then export again"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{where} is not valid JSON ({exc.msg} at line {exc.lineno}): {fix}") from None
    if not isinstance(data, list) or not data:
        raise ExportError(f"{where} is not a JSON array of actors: {fix}")
    if data[0] is not None:
        raise ExportError(f"{where} does not start with null as RPG Maker writes it: {fix}")
    for index, actor in enumerate(data[1:], start=1):
        if actor is None:
            continue
        if not isinstance(actor, dict):
            raise ExportError(f"{where}: entry {index} is not an actor object: {fix}")
        if actor.get("id") != index or isinstance(actor.get("id"), bool):
            raise ExportError(f"{where}: entry {index} has id {actor.get('id')!r}; ids must equal positions: {fix}")
    return data


def read_actors(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ExportError(f"{path} is missing: open and save the project in RPG Maker, then export again") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path} cannot be read ({exc}): check the file and its permissions") from None
    return parse_actors(text, where=str(path))


def new_actor(actors: list[Any], name: str, character_name: str, face_name: str) -> dict[str, Any]:
    """An actor as RPG Maker's database makes it, taking class, equips and levels from actor 1 if present."""
    template = actors[1] if len(actors) > 1 and isinstance(actors[1], dict) else {}

    def from_template(key: str, default: Any, kind: type) -> Any:
        value = template.get(key, default)
        return copy.deepcopy(value) if isinstance(value, kind) and not isinstance(value, bool) else default

    equips = from_template("equips", list(DEFAULT_EQUIPS), list)
    if not all(isinstance(e, int) and not isinstance(e, bool) for e in equips):
        equips = list(DEFAULT_EQUIPS)
    return {
        "id": len(actors),
        "battlerName": "",
        "characterIndex": 0,
        "characterName": character_name,
        "classId": from_template("classId", 1, int),
        "equips": equips,
        "faceIndex": 0,
        "faceName": face_name,
        "traits": [],
        "initialLevel": from_template("initialLevel", 1, int),
        "maxLevel": from_template("maxLevel", 99, int),
        "name": name,
        "nickname": "",
        "note": "",
        "profile": "",
    }


def find_actor_by_character(actors: list[Any], character_name: str) -> int | None:
    """Id of the first actor that walks with `character_name`, or None."""
    for index, actor in enumerate(actors):
        if isinstance(actor, dict) and actor.get("characterName") == character_name:
            return index
    return None


def serialize_actors(actors: list[Any]) -> bytes:
    """RPG Maker's layout: `[` + one compact JSON value per line + `]`, UTF-8, no trailing newline."""
    lines = [json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in actors]
    return ("[\n" + ",\n".join(lines) + "\n]").encode("utf-8")
