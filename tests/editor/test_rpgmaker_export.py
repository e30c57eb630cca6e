"""Export into fake RPG Maker MV / MZ projects: files, Actors.json registration, renames, backups, all-or-nothing.

Tests run as root, where a read-only folder does not stop writes, so failures are simulated by
monkeypatching `os.replace` (the swap step) and `os.fsync` (a disk that fills while staging).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from editor.rpgmaker import ExportError, detect_project, export_character, plan_export
from editor.rpgmaker.actors import ACTOR_FIELDS, parse_actors
from editor.rpgmaker.png import decode_png

ACTOR_1 = {
    "id": 1, "battlerName": "Actor1_1", "characterIndex": 0, "characterName": "Actor1", "classId": 3,
    "equips": [1, 1, 2, 3, 0], "faceIndex": 0, "faceName": "Actor1",
    "traits": [{"code": 23, "dataId": 0, "value": 1}], "initialLevel": 5, "maxLevel": 60, "name": "リード",
    "nickname": "", "note": "", "profile": "",
}
ACTOR_2 = {**ACTOR_1, "id": 2, "name": "Priscilla", "classId": 2, "characterIndex": 7, "battlerName": "Actor1_8"}


@pytest.fixture(autouse=True)
def backups_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Backups go to Castmaker's per-user data folder: keep them under tmp_path, never the user's own."""
    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "userdata"))
    return tmp_path / "userdata" / "backups"


def make_project(root: Path, kind: str = "MV") -> Path:
    root.mkdir(parents=True)
    if kind == "MV":
        (root / "Game.rpgproject").write_text("RPGMV 1.6.2")
    else:
        (root / "game.rmmzproject").write_text("RPGMZ 1.8.0")
    (root / "data").mkdir()
    text = "[\n" + ",\n".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in [None, ACTOR_1, ACTOR_2]) + "\n]"
    (root / "data" / "Actors.json").write_text(text, encoding="utf-8")
    for sub in ("characters", "faces", "pictures"):
        (root / "img" / sub).mkdir(parents=True)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def images(tag: int = 0) -> tuple[np.ndarray, np.ndarray]:
    sheet = np.zeros((192, 144, 4), np.uint8)
    sheet[16:48, 8:40] = (200, 10 + tag, 10, 255)
    faceset = np.zeros((288, 576, 4), np.uint8)
    faceset[:144, :144] = (20, 40 + tag, 200, 255)
    return sheet, faceset


@pytest.mark.parametrize("kind", ["MV", "MZ"])
def test_export_writes_images_and_registers_actor(tmp_path: Path, kind: str) -> None:
    root = make_project(tmp_path / "game", kind)
    sheet, faceset = images()
    report = export_character(root, "Heroine", sheet, faceset)
    assert report.project.kind == kind
    assert report.actor_id == 3 and report.actor_created and report.renamed_to is None
    np.testing.assert_array_equal(decode_png((root / "img/characters/$Heroine.png").read_bytes()), sheet)
    np.testing.assert_array_equal(decode_png((root / "img/faces/Heroine.png").read_bytes()), faceset)
    text = (root / "data/Actors.json").read_text(encoding="utf-8")
    actors = parse_actors(text)  # valid JSON, null first, ids == positions
    assert text.startswith("[\nnull,\n{") and text.endswith("}\n]") and text.count("\n") == 5  # one line per entry
    assert actors[1] == ACTOR_1 and actors[2] == ACTOR_2  # untouched (and the Japanese name kept as-is)
    new = actors[3]
    assert list(new) == list(ACTOR_FIELDS)
    assert new["characterName"] == "$Heroine" and new["faceName"] == "Heroine" and new["name"] == "Heroine"
    assert new["characterIndex"] == 0 and new["faceIndex"] == 0
    # RPG Maker's own new actor: class 1, levels 1-99, nothing equipped (one 0 per equip slot), not actor 1's
    assert (new["classId"], new["equips"], new["initialLevel"], new["maxLevel"]) == (1, [0, 0, 0, 0, 0], 1, 99)
    assert new["battlerName"] == "" and new["traits"] == [] and report.warnings == []  # front-view: no battler needed
    # a backup of the previous Actors.json is kept outside the game folder (Deployment would ship it)
    assert len(report.backups) == 1
    assert report.backups[0].name == "Actors.json" and report.backup_dir is not None
    assert root.resolve() not in report.backups[0].resolve().parents
    assert report.backups[0].is_relative_to(report.project.backups_dir) and report.backup_dir in report.backups[0].parents
    assert not any("backup" in p.name for p in root.iterdir())
    assert parse_actors(report.backups[0].read_text(encoding="utf-8"))[1:] == [ACTOR_1, ACTOR_2]
    assert not any(p.name.endswith(".tmp") for p in root.rglob("*"))


def test_second_export_never_clobbers_the_first(tmp_path: Path) -> None:
    root = make_project(tmp_path / "game")
    first = images(0)
    export_character(root, "Heroine", *first)
    before = (root / "img/characters/$Heroine.png").read_bytes()
    report = export_character(root, "Heroine", *images(1))
    assert report.renamed_to == "Heroine_2" and report.name == "Heroine_2" and report.actor_id == 4
    assert (root / "img/characters/$Heroine.png").read_bytes() == before
    assert (root / "img/characters/$Heroine_2.png").is_file() and (root / "img/faces/Heroine_2.png").is_file()
    actors = parse_actors((root / "data/Actors.json").read_text(encoding="utf-8"))
    assert [a["characterName"] for a in actors[3:]] == ["$Heroine", "$Heroine_2"]


def test_taken_name_ignores_letter_case(tmp_path: Path) -> None:
    root = make_project(tmp_path / "game")
    (root / "img/faces/heroine.png").write_bytes(b"someone else's face")
    assert plan_export(root, "Heroine").name == "Heroine_2"


def test_overwrite_replaces_files_keeps_backups_and_reuses_actor(tmp_path: Path) -> None:
    root = make_project(tmp_path / "game")
    export_character(root, "Heroine", *images(0))
    old_sheet = (root / "img/characters/$Heroine.png").read_bytes()
    old_actors = (root / "data/Actors.json").read_bytes()
    plan = plan_export(root, "Heroine", overwrite=True)
    assert not plan.renamed and not plan.new_actor and plan.actor_id == 3 and len(plan.replaces) == 2
    report = export_character(root, "Heroine", *images(5), overwrite=True)
    assert report.actor_id == 3 and not report.actor_created
    assert (root / "data/Actors.json").read_bytes() == old_actors  # the actor already exists: unchanged
    np.testing.assert_array_equal(decode_png((root / "img/characters/$Heroine.png").read_bytes()), images(5)[0])
    backups = {p.name: p for p in report.backups}
    assert backups["$Heroine.png"].read_bytes() == old_sheet
    assert root.resolve() not in backups["$Heroine.png"].resolve().parents  # kept outside the game folder


def test_non_project_folder_is_refused_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-game"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(ExportError, match="not an RPG Maker MV or MZ project"):
        export_character(folder, "Heroine", *images())
    assert snapshot(folder) == {"notes.txt": b"hello"}
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    with pytest.raises(ExportError, match="does not exist"):
        detect_project(tmp_path / "missing")


@pytest.mark.parametrize(
    "text",
    ["{not json", "{}", "[]", '[{"id": 1}]', '[null, {"id": 2, "name": "x"}]', '[null, "actor"]'],
)
def test_malformed_actors_json_is_refused_untouched(tmp_path: Path, text: str) -> None:
    root = make_project(tmp_path / "game")
    (root / "data/Actors.json").write_text(text)
    before = snapshot(root)
    with pytest.raises(ExportError, match="Actors.json"):
        export_character(root, "Heroine", *images())
    assert snapshot(root) == before
    assert not (root / "castmaker-backups").exists() and not Path(os.environ["CASTMAKER_DATA_DIR"]).exists()


def test_bad_names_and_images_are_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "game")
    before = snapshot(root)
    for bad in ["", "$Hero", "../evil", "a/b", "x" * 65, " lead"]:
        with pytest.raises(ExportError, match="file name"):
            export_character(root, bad, *images())
    sheet, faceset = images()
    with pytest.raises(ExportError, match="face set"):
        export_character(root, "Heroine", sheet, faceset[:, :500])
    with pytest.raises(ExportError, match="multiple of 3"):
        export_character(root, "Heroine", sheet[:, :100], faceset)
    assert snapshot(root) == before


def fail_replace_into(monkeypatch: pytest.MonkeyPatch, target_name: str) -> list[str]:
    """Make os.replace fail (as on a read-only or full disk) when it would write `target_name`."""
    real = os.replace
    calls: list[str] = []

    def flaky(src: str | os.PathLike, dst: str | os.PathLike) -> None:
        calls.append(Path(dst).name)
        if Path(dst).name == target_name:
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    return calls


@pytest.mark.parametrize("failing", ["$Heroine.png", "Heroine.png", "Actors.json"])
def test_failed_write_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    root = make_project(tmp_path / "game")
    before = snapshot(root)
    dirs_before = sorted(str(p) for p in root.rglob("*") if p.is_dir())
    calls = fail_replace_into(monkeypatch, failing)
    with pytest.raises(ExportError, match="nothing in the game folder was changed"):
        export_character(root, "Heroine", *images())
    assert failing in calls
    assert snapshot(root) == before
    assert sorted(str(p) for p in root.rglob("*") if p.is_dir()) == dirs_before


def test_failed_overwrite_restores_previous_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "game")
    export_character(root, "Heroine", *images(0))
    (root / "data/Actors.json").write_text((root / "data/Actors.json").read_text())  # same content
    before = snapshot(root)
    fail_replace_into(monkeypatch, "Heroine.png")  # the face set, after the sheet was already swapped in
    with pytest.raises(ExportError):
        export_character(root, "Heroine", *images(9), overwrite=True)
    assert snapshot(root) == before  # the sheet was put back, the backup copies removed again


def test_disk_full_while_staging_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "game", "MZ")
    before = snapshot(root)
    real_fsync = os.fsync
    count = {"n": 0}

    def full(fd: int) -> None:
        count["n"] += 1
        if count["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExportError, match="No space left"):
        export_character(root, "Heroine", *images())
    assert snapshot(root) == before


def test_missing_image_folders_are_created(tmp_path: Path) -> None:
    root = make_project(tmp_path / "game", "MZ")
    (root / "img/faces").rmdir()
    report = export_character(root, "Villain", *images())
    assert (root / "img/faces/Villain.png").is_file() and report.actor_id == 3


def test_written_files_are_readable_by_others_and_keep_modes(tmp_path: Path) -> None:
    root = make_project(tmp_path / "game")
    actors = root / "data/Actors.json"
    actors.chmod(0o664)
    export_character(root, "Heroine", *images())
    assert (root / "img/characters/$Heroine.png").stat().st_mode & 0o777 == 0o644
    assert actors.stat().st_mode & 0o777 == 0o664
