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
DEFAULT_EQUIPS = [0, 0, 0, 0, 0]  # weapon, shield, head, body, accessory: a new project's equip types


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


def new_actor(
    actors: list[Any],
    name: str,
    character_name: str,
    face_name: str,
    equip_slots: int = len(DEFAULT_EQUIPS),
    copy_from: int | None = None,
    battler_name: str = "",
) -> dict[str, Any]:
    """An actor as RPG Maker MV/MZ's database makes a new one, with Castmaker's files on it.

    By default it has RPG Maker's new-actor values: class 1, level 1 to 99, nothing equipped (`equips`
    holds one 0 per equipment slot, `equip_slots` = the project's equip types, see `equip_slot_count`).
    With `copy_from` = an actor id, class, starting equipment and levels are copied from that actor instead.
    `battler_name` is a file name (no extension) in img/sv_actors for side-view battles; "" for none.
    Raises ExportError if `copy_from` is not an actor of the file or `equip_slots` is negative.
    """
    if isinstance(equip_slots, bool) or not isinstance(equip_slots, int) or equip_slots < 0:
        raise ExportError(f"the number of equipment slots must be a whole number ≥ 0, got {equip_slots!r}")
    actor: dict[str, Any] = {
        "id": len(actors),
        "battlerName": battler_name,
        "characterIndex": 0,
        "characterName": character_name,
        "classId": 1,
        "equips": [0] * equip_slots,
        "faceIndex": 0,
        "faceName": face_name,
        "traits": [],
        "initialLevel": 1,
        "maxLevel": 99,
        "name": name,
        "nickname": "",
        "note": "",
        "profile": "",
    }
    if copy_from is None:
        return actor
    template = actor_by_id(actors, copy_from)
    for key in ("classId", "initialLevel", "maxLevel"):
        value = template.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            actor[key] = value
    equips = template.get("equips")
    if isinstance(equips, list) and all(isinstance(e, int) and not isinstance(e, bool) for e in equips):
        actor["equips"] = copy.deepcopy(equips)
    return actor


def actor_by_id(actors: list[Any], actor_id: int) -> dict[str, Any]:
    """The actor object with `actor_id`; ExportError naming the valid ids if there is none."""
    ids = [i for i, a in enumerate(actors) if isinstance(a, dict)]
    if isinstance(actor_id, bool) or not isinstance(actor_id, int) or actor_id not in ids:
        shown = f"{ids[0]}-{ids[-1]}" if ids else "none"
        raise ExportError(
            f"there is no actor {actor_id!r} to copy class and equipment from (actors in the project: {shown}): "
            "give the id of an actor in RPG Maker's database, or leave it out for RPG Maker's new-actor defaults"
        )
    return actors[actor_id]


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
