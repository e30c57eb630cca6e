"""New actors start as RPG Maker's own (class 1, nothing equipped, one slot per equip type) unless asked to copy
one; side-view projects are told that Castmaker makes no battlers and may name an existing one; frames larger
than the cells are fitted by whole-number nearest-neighbour reduction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from editor.rpgmaker import ExportError, character_sheet, export_character, plan_export, shrink_factor
from editor.rpgmaker.actors import parse_actors

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_rpgmaker_export import ACTOR_1, images, make_project, snapshot  # noqa: E402

# what a new MZ project's System.json holds for these keys (7 equip types in this one: 2 added by the user)
EQUIP_TYPES = ["", "Weapon", "Shield", "Head", "Body", "Accessory", "Cloak", "Ring"]


@pytest.fixture(autouse=True)
def backups_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "userdata"))


def with_system(root: Path, **fields) -> Path:
    (root / "data" / "System.json").write_text(json.dumps({"gameTitle": "t", **fields}), encoding="utf-8")
    return root


def actors_of(root: Path) -> list:
    return parse_actors((root / "data" / "Actors.json").read_text(encoding="utf-8"))


def test_new_actor_has_rpg_makers_defaults_with_one_slot_per_equip_type(tmp_path: Path) -> None:
    root = with_system(make_project(tmp_path / "game", "MZ"), equipTypes=EQUIP_TYPES, optSideView=False)
    report = export_character(root, "Aria", *images())
    new = actors_of(root)[report.actor_id]
    assert new["classId"] == 1 and new["equips"] == [0] * 7
    assert (new["initialLevel"], new["maxLevel"], new["traits"]) == (1, 99, [])
    assert report.warnings == []


def test_without_system_json_a_new_actor_has_the_five_default_slots(tmp_path: Path) -> None:
    root = make_project(tmp_path / "game", "MV")
    report = export_character(root, "Aria", *images())
    assert actors_of(root)[report.actor_id]["equips"] == [0, 0, 0, 0, 0]


def test_copy_actor_takes_class_equipment_and_levels(tmp_path: Path) -> None:
    root = with_system(make_project(tmp_path / "game", "MZ"), equipTypes=EQUIP_TYPES)
    plan = plan_export(root, "Aria", copy_actor=1)
    assert any("class and equipment of actor 1" in line for line in plan.describe())
    report = export_character(root, "Aria", *images(), copy_actor=1)
    new = actors_of(root)[report.actor_id]
    assert (new["classId"], new["equips"], new["initialLevel"], new["maxLevel"]) == (
        ACTOR_1["classId"], ACTOR_1["equips"], ACTOR_1["initialLevel"], ACTOR_1["maxLevel"]
    )
    assert new["name"] == "Aria" and new["characterName"] == "$Aria"


@pytest.mark.parametrize("bad", [0, 9, -1])
def test_copy_from_a_missing_actor_is_refused_untouched(tmp_path: Path, bad: int) -> None:
    root = make_project(tmp_path / "game", "MZ")
    before = snapshot(root)
    with pytest.raises(ExportError, match=rf"no actor {bad}\b.*actors in the project: 1-2"):
        export_character(root, "Aria", *images(), copy_actor=bad)
    assert snapshot(root) == before


def test_side_view_project_is_warned_that_the_actor_has_no_battler(tmp_path: Path) -> None:
    root = with_system(make_project(tmp_path / "game", "MZ"), optSideView=True)
    plan = plan_export(root, "Aria")
    assert len(plan.warnings) == 1 and "side-view" in plan.warnings[0] and "does not make" in plan.warnings[0]
    assert any(line.startswith("⚠") and "img/sv_actors" in line for line in plan.describe())
    report = export_character(root, "Aria", *images())
    assert report.warnings == list(plan.warnings)  # said, never silent
    assert actors_of(root)[report.actor_id]["battlerName"] == ""


def test_side_view_project_uses_a_named_existing_battler(tmp_path: Path) -> None:
    root = with_system(make_project(tmp_path / "game", "MZ"), optSideView=True)
    (root / "img" / "sv_actors").mkdir()
    (root / "img" / "sv_actors" / "Actor1_3.png").write_bytes(b"png")
    report = export_character(root, "Aria", *images(), battler="actor1_3")  # letter case as on disk
    assert report.warnings == []
    assert actors_of(root)[report.actor_id]["battlerName"] == "Actor1_3"


def test_a_battler_missing_from_sv_actors_is_refused_untouched(tmp_path: Path) -> None:
    root = with_system(make_project(tmp_path / "game", "MZ"), optSideView=True)
    (root / "img" / "sv_actors").mkdir()
    (root / "img" / "sv_actors" / "Actor1_1.png").write_bytes(b"png")
    before = snapshot(root)
    with pytest.raises(ExportError, match=r"no side-view battler Hero\.png .*battlers there: Actor1_1"):
        export_character(root, "Aria", *images(), battler="Hero")
    assert snapshot(root) == before


def test_frames_larger_than_cells_are_shrunk_by_a_whole_factor_when_asked() -> None:
    frame = np.zeros((128, 128, 4), np.uint8)
    frame[..., 3] = 255
    frame[::3, ::3, 0] = 200  # the pixels a 1-in-3 nearest-neighbour reduction keeps
    frames = [[frame] * 3 for _ in range(4)]
    with pytest.raises(ExportError, match="do not fit 48×48"):
        character_sheet(frames)  # the pipeline's strict default is unchanged
    assert shrink_factor(128, 128, 48, 48) == 3 and shrink_factor(48, 40, 48, 48) == 1
    sheet = character_sheet(frames, (48, 48), shrink=True)
    assert sheet.shape == (192, 144, 4)
    cell = sheet[:48, :48]
    opaque = cell[..., 3] > 0
    assert opaque.sum() == 43 * 43  # ceil(128 / 3) pixels a side, bottom-centred
    assert (cell[opaque][:, 0] == 200).all()  # only kept pixels, none blended
