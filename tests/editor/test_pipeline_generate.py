"""`generate heroine 0.6 --export` end to end on the default (trained cast) networks: files, sheet/face-set shape,
export, determinism; and the demo config, whose portrait comes from projection (2 steps, so it runs in CI on 2 cores).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from editor.cli import run
from editor.pipeline import DEFAULT_CONFIG
from editor.pipeline.config import DEMO_CONFIG
from editor.pipeline.record import recipe_from_record
from editor.rpgmaker import face_at, face_set, frame_size_for, sheet_frame
from editor.rpgmaker.actors import parse_actors
from editor.rpgmaker.png import decode_png

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_rpgmaker_export import make_project, snapshot  # noqa: E402

pytestmark = pytest.mark.slow


def make_test_presets(folder: Path) -> dict[str, str]:
    """Presets with the bundled ones' names, rows and modes, for the demo networks as they are right now.

    The bundled presets are checked separately (test_pipeline_presets.py); making our own keeps this
    end-to-end test about the pipeline, not about whether latent_presets/ was re-made after a demo change.
    """
    from editor.pipeline.make_demo_presets import FACE_SPECS, SPRITE_SPECS
    from editor.presets import Preset, PresetLibrary
    from renderer import load_network
    from renderer.engine import Engine

    out = {}
    for which, net_name, specs in (("sprite", "demo-sprite", SPRITE_SPECS), ("portrait", "demo-face", FACE_SPECS)):
        net = load_network(net_name)
        engine = Engine(net, "cpu")
        library = PresetLibrary(folder / net_name)
        for i, spec in enumerate(specs):
            w = engine.map_seed(100 + i, 0.7)
            library.save(Preset(
                name=spec["name"], fingerprint=net.fingerprint, network_name=net_name, rows=list(spec["rows"]), w=w,
                mode=spec.get("mode", "replace"), weight=spec.get("weight", 1.0),
            ))
        out[which] = str(library.folder)
    return out


def fast_config(folder: Path) -> Path:
    """The shipped default config (cast networks, bundled presets) with a plain sheet as well."""
    data = json.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["sheet"]["plain_sheet"] = True
    path = folder / "fast.json"
    path.write_text(json.dumps(data))
    return path


def fast_demo_config(folder: Path) -> Path:
    """The demo config with 2 projection steps and test-made presets."""
    data = json.loads(DEMO_CONFIG.read_text(encoding="utf-8"))
    data["projection"].update(steps=2, w_avg_samples=256)
    data["presets"] = make_test_presets(folder / "presets")
    path = folder / "demo.json"
    path.write_text(json.dumps(data))
    return path


def cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = run(argv)
    return rc, out.getvalue(), err.getvalue()


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("generate")
    config = fast_config(base)
    game = make_project(base / "game", "MZ")
    # One thread here and in the re-render below: a remake is bit-exact at the same thread count (a float sum split
    # over another number of threads can round a pixel the other way by 1/255).
    common = ["generate", "heroine", "0.6", "--config", str(config), "--export", str(game), "--device", "cpu", "--threads", "1"]
    with pytest.MonkeyPatch.context() as mp:  # export backups go to the per-user data folder: keep them here
        mp.setenv("CASTMAKER_DATA_DIR", str(base / "userdata"))
        first = cli(common + ["--seed", "7", "--count", "2", "--outdir", str(base / "out1")])
        second = cli(common + ["--seed", "7", "--outdir", str(base / "out2")])
    return {"base": base, "game": game, "first": first, "second": second}


def test_runs_succeed_and_print_stage_times(generated: dict[str, Any]) -> None:
    for rc, out, err in (generated["first"], generated["second"]):
        assert rc == 0, err
        summary = [line for line in out.splitlines() if line.startswith("stage times:")]
        assert len(summary) == 1
        for stage in ("render", "cleanup", "shared latent", "expressions", "write", "export", "total"):
            assert f"{stage} " in summary[0]
    assert "Heroine7_2" in generated["second"][1]  # the second export could not take the first one's name


def test_repeat_with_same_seed_is_byte_identical(generated: dict[str, Any]) -> None:
    base = generated["base"]
    a, b = folder_bytes(base / "out1" / "Heroine7"), folder_bytes(base / "out2" / "Heroine7")
    assert {"$Heroine7.png", "Heroine7.png", "preview.png", "walk.gif", "character.json"} <= set(a)
    assert a == b
    other = folder_bytes(base / "out1" / "Heroine8")
    assert other["$Heroine8.png"] != a["$Heroine7.png"]  # a different seed makes a different character
    assert other["Heroine8.png"] != a["Heroine7.png"]


def test_sheet_is_an_rpgmaker_big_character(generated: dict[str, Any]) -> None:
    sheet = decode_png((generated["base"] / "out1" / "Heroine7" / "$Heroine7.png").read_bytes())
    assert sheet.shape == (192, 144, 4)
    assert frame_size_for("$Heroine7.png", 144, 192) == (48, 48)
    assert set(np.unique(sheet[..., 3]).tolist()) <= {0, 255}
    for direction in ("down", "left", "right", "up"):
        for pattern in range(3):
            cell = sheet_frame(sheet, "$Heroine7.png", 0, direction, pattern)
            frame = cell[..., 3] > 0  # 24-px frames scaled 2x by nearest neighbour fill the 48-px cell
            assert (cell[0::2, 0::2] == cell[1::2, 1::2]).all(), "integer nearest-neighbour scaling"
            ring = np.concatenate([frame[0], frame[-1], frame[:, 0], frame[:, -1]])
            assert ring.mean() < 0.5, "the border-connected background should have become transparent"
            assert frame.mean() > 0.02, "cleanup must keep the character"


def test_plain_sheet_holds_the_count_characters(generated: dict[str, Any]) -> None:
    out = generated["base"] / "out1"
    plain = decode_png((out / "Heroine_7-8.png").read_bytes())
    assert plain.shape == (384, 576, 4) and frame_size_for("Heroine_7-8.png", 576, 384) == (48, 48)
    for index, name in enumerate(["Heroine7", "Heroine8"]):
        own = decode_png((out / name / f"${name}.png").read_bytes())
        for direction in ("down", "left", "right", "up"):
            for pattern in range(3):
                np.testing.assert_array_equal(
                    sheet_frame(plain, "Heroine_7-8.png", index, direction, pattern),
                    sheet_frame(own, f"${name}.png", 0, direction, pattern),
                )
    assert all(sheet_frame(plain, "Heroine_7-8.png", i, "down", 1).max() == 0 for i in range(2, 8))


def test_face_set_has_neutral_and_expressions(generated: dict[str, Any]) -> None:
    faces = decode_png((generated["base"] / "out1" / "Heroine7" / "Heroine7.png").read_bytes())
    assert faces.shape == (288, 576, 4)
    cells = [face_at(faces, i) for i in range(8)]
    assert all((c[..., 3] == 255).all() for c in cells[:5]) and all(c.max() == 0 for c in cells[5:])
    for i in range(1, 5):  # happy, worried, angry, surprised each changed the face
        assert not np.array_equal(cells[0], cells[i])


def test_walk_gif_and_preview(generated: dict[str, Any]) -> None:
    folder = generated["base"] / "out1" / "Heroine7"
    with Image.open(folder / "walk.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 4 and gif.info.get("loop") == 0
        assert gif.size == (4 * 48 * 3, 48 * 3)
    with Image.open(folder / "preview.png") as preview:
        assert preview.width > 576 and preview.height > 300


def test_character_json_remakes_the_portrait(generated: dict[str, Any], one_thread: None) -> None:
    from renderer import load_network
    from renderer.engine import Engine

    folder = generated["base"] / "out1" / "Heroine7"
    record = json.loads((folder / "character.json").read_text(encoding="utf-8"))
    assert (record["seed"], record["psi"], record["archetype"]) == (7, 0.6, "heroine")
    assert record["portrait"]["projection"] == {"method": "shared-latent"}
    face_net = load_network("cast-portrait")
    assert record["networks"]["portrait"]["fingerprint"] == face_net.fingerprint
    assert record["networks"]["sprite"]["fingerprint"] == load_network("cast-sprite").fingerprint
    recipe = recipe_from_record(record["portrait"]["recipe"], folder)
    assert [i for i, r in enumerate(recipe.rows) if r.mode != "keep"] == list(range(11))  # the heroine preset's rows
    image = Engine(face_net, "cpu").render(recipe).image
    faces = decode_png((folder / "Heroine7.png").read_bytes())
    np.testing.assert_array_equal(face_at(face_set([image]), 0), face_at(faces, 0))
    assert [e["name"] for e in record["expressions"]] == ["happy", "worried", "angry", "surprised"]


def test_export_registered_every_character(generated: dict[str, Any]) -> None:
    game, base = generated["game"], generated["base"]
    actors = parse_actors((game / "data" / "Actors.json").read_text(encoding="utf-8"))
    new = actors[3:]
    assert [a["characterName"] for a in new] == ["$Heroine7", "$Heroine8", "$Heroine7_2"]
    assert [a["id"] for a in new] == [3, 4, 5] and all(a["faceIndex"] == 0 for a in new)
    sheet = (game / "img" / "characters" / "$Heroine7.png").read_bytes()
    assert sheet == (base / "out1" / "Heroine7" / "$Heroine7.png").read_bytes()
    assert (game / "img" / "characters" / "$Heroine7_2.png").read_bytes() == sheet
    assert (game / "img" / "faces" / "Heroine8.png").read_bytes() == (base / "out1" / "Heroine8" / "Heroine8.png").read_bytes()


def test_bad_requests_fail_cleanly_before_any_work(tmp_path: Path) -> None:
    not_game = tmp_path / "folder"
    not_game.mkdir()
    rc, out, err = cli(["generate", "heroine", "0.6", "--export", str(not_game), "--outdir", str(tmp_path / "o")])
    assert rc == 2 and "not an RPG Maker MV or MZ project" in err and err.count("\n") == 1
    assert list(not_game.iterdir()) == [] and not (tmp_path / "o").exists()
    rc, _, err = cli(["generate", "paladin", "0.6", "--outdir", str(tmp_path / "o")])
    assert rc == 2 and "archetype 'paladin'" in err and "heroine" in err
    rc, _, err = cli(["generate", "heroine", "strong", "--outdir", str(tmp_path / "o")])
    assert rc == 2 and "ψ must be a number" in err
    rc, _, err = cli(["generate", "heroine", "0.6", "--count", "0"])
    assert rc == 2 and "--count" in err
    assert snapshot(tmp_path) == {}


def test_demo_config_projects_the_head_crop(tmp_path: Path) -> None:
    config = fast_demo_config(tmp_path)
    rc, out, err = cli(["generate", "heroine", "0.6", "--config", str(config), "--device", "cpu", "--seed", "3",
                        "--outdir", str(tmp_path / "out")])
    assert rc == 0, err
    assert "projection " in [line for line in out.splitlines() if line.startswith("stage times:")][0]
    record = json.loads((tmp_path / "out" / "Heroine3" / "character.json").read_text(encoding="utf-8"))
    assert record["portrait"]["projection"]["steps"] == 2 and record["portrait"]["projection"]["loss"]
    recipe = recipe_from_record(record["portrait"]["recipe"], tmp_path / "out" / "Heroine3")
    assert [i for i, r in enumerate(recipe.rows) if r.mode != "keep"] == [0, 2, 6, 7, 8]
    assert [e["name"] for e in record["expressions"]] == ["happy", "worried", "sideways", "dusk"]
