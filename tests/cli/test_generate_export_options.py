"""`generate`: an existing out/characters/<Name>/ is kept (a fresh <Name>-2/ is used and the output says so) unless
--replace; --battler and --copy-actor reach the new actor; a side-view project is warned; bad values fail first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from editor.cli import run as cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "editor"))
from test_rpgmaker_export import ACTOR_1, make_project, snapshot  # noqa: E402


@pytest.fixture(autouse=True)
def backups_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "userdata"))


def generate(*extra: str) -> list[str]:
    return ["generate", "heroine", "0.6", "--seed", "3", "--device", "cpu", *extra]


def test_an_existing_character_folder_is_kept_unless_replace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "characters"
    assert cli(generate("--outdir", str(out))) == 0
    first = (out / "Heroine3" / "character.json").read_bytes()
    (out / "Heroine3" / "notes.txt").write_text("my notes")
    capsys.readouterr()
    assert cli(generate("--outdir", str(out))) == 0
    said = capsys.readouterr().out
    assert f"{out / 'Heroine3'} already holds a character" in said and str(out / "Heroine3-2") in said
    assert (out / "Heroine3" / "character.json").read_bytes() == first  # untouched
    assert (out / "Heroine3-2" / "$Heroine3.png").is_file()
    assert cli(generate("--outdir", str(out), "--replace")) == 0
    assert "already holds" not in capsys.readouterr().out
    assert not (out / "Heroine3-3").exists() and (out / "Heroine3" / "notes.txt").read_text() == "my notes"


def test_side_view_battler_and_copied_actor_reach_actors_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    game = make_project(tmp_path / "game", "MZ")
    (game / "data" / "System.json").write_text(json.dumps({"optSideView": True, "equipTypes": ["", "W", "S", "H"]}))
    out = str(tmp_path / "o")
    assert cli(generate("--outdir", out, "--export", str(game))) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "side-view" in err and "does not make side-view battlers" in err and "--battler" in err
    before = snapshot(game)
    assert cli(generate("--outdir", out, "--export", str(game), "--battler", "Nobody")) == 2
    assert "no side-view battler Nobody.png" in capsys.readouterr().err
    assert snapshot(game) == before
    (game / "img" / "sv_actors").mkdir()
    (game / "img" / "sv_actors" / "Actor1_1.png").write_bytes(b"png")
    assert cli(generate("--outdir", out, "--export", str(game), "--battler", "Actor1_1", "--copy-actor", "1")) == 0
    assert "warning" not in capsys.readouterr().err
    actors = json.loads((game / "data" / "Actors.json").read_text(encoding="utf-8"))
    default, copied = actors[3], actors[4]
    assert (default["battlerName"], default["classId"], default["equips"]) == ("", 1, [0, 0, 0])
    assert (copied["battlerName"], copied["classId"], copied["equips"]) == ("Actor1_1", ACTOR_1["classId"], ACTOR_1["equips"])


def test_export_options_without_export_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for option in (["--battler", "Actor1_1"], ["--copy-actor", "1"]):
        assert cli(generate("--outdir", str(tmp_path / "o"), *option)) == 2
        assert f"{option[0]} only applies with --export" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
