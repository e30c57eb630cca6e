"""RPG Maker MV / MZ: project detection, sheet and face-set layout, Actors.json, one-click export.

Pure numpy + Pillow (never torch): it takes uint8 images and writes files, so the editor's export
panel and the `generate --export` command share it.
"""

from editor.rpgmaker.errors import ExportError
from editor.rpgmaker.export import (
    ExportPlan,
    ExportReport,
    check_battler,
    check_character_name,
    export_character,
    plan_export,
)
from editor.rpgmaker.project import GameProject, detect_project
from editor.rpgmaker.sheet_layout import (
    DIRECTIONS,
    PATTERNS,
    character_sheet,
    face_at,
    face_set,
    frame_size_for,
    is_big_character,
    plain_sheet,
    sheet_frame,
    shrink_factor,
)

__all__ = [
    "DIRECTIONS",
    "PATTERNS",
    "ExportError",
    "ExportPlan",
    "ExportReport",
    "GameProject",
    "check_battler",
    "character_sheet",
    "check_character_name",
    "detect_project",
    "export_character",
    "face_at",
    "face_set",
    "frame_size_for",
    "is_big_character",
    "plain_sheet",
    "plan_export",
    "sheet_frame",
    "shrink_factor",
]
