"""Pipeline config: the shipped default loads, and every kind of mistake is refused with the key named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from editor.pipeline import (
    DEFAULT_CONFIG,
    PipelineError,
    StageTimes,
    check_psi,
    default_name,
    load_config,
    parse_config,
)


def default_data() -> dict[str, Any]:
    return json.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))


def test_default_config_uses_the_cast_networks() -> None:
    cfg = load_config()
    assert (cfg.sprite_network, cfg.portrait_network) == ("cast-sprite", "cast-portrait")
    assert cfg.portrait_base == "shared-latent"
    assert (cfg.grid.frame_width, cfg.grid.frame_height, cfg.grid.origin_x, cfg.grid.origin_y) == (24, 24, 28, 16)
    assert cfg.grid.row_directions == ("down", "left", "right", "up")
    assert cfg.sprite_archetype_rows is None and cfg.portrait_archetype_rows is None  # the presets' own rows
    assert (cfg.sheet.cell_width, cfg.sheet.cell_height) == (48, 48)
    assert {"heroine", "villain"} <= set(cfg.archetypes)
    assert [e.name for e in cfg.expressions] == ["happy", "worried", "angry", "surprised"]
    assert all(e.rows == (6, 7, 8) for e in cfg.expressions)


def test_walk_sheet_grid_matches_the_cast_drawing() -> None:
    from renderer.cast.walk_sheet import FRAME_SIZE, SHEET_ORIGIN

    cfg = load_config()
    assert (cfg.grid.frame_width, cfg.grid.origin_x, cfg.grid.origin_y) == (FRAME_SIZE, *SHEET_ORIGIN)


def test_demo_config_matches_the_tutorial_numbers() -> None:
    from editor.pipeline.config import DEMO_CONFIG

    cfg = load_config(DEMO_CONFIG)
    assert (cfg.sprite_network, cfg.portrait_network) == ("demo-sprite", "demo-face")
    assert cfg.portrait_base == "projection"
    assert (cfg.grid.frame_width, cfg.grid.frame_height, cfg.grid.columns, cfg.grid.rows) == (32, 32, 3, 4)
    assert cfg.grid.row_directions == ("down", "left", "right", "up")
    assert cfg.sprite_archetype_rows == (5, 6) and cfg.portrait_archetype_rows == (0, 2, 6, 7, 8)
    assert (cfg.head.box.width, cfg.head.box.height) == (24, 20)
    assert (cfg.sheet.cell_width, cfg.sheet.cell_height) == (48, 48)
    assert cfg.projection["steps"] == 300 and cfg.projection["stabilize"] is True
    assert {"heroine", "villain"} <= set(cfg.archetypes)
    assert [e.name for e in cfg.expressions] == ["happy", "worried", "sideways", "dusk"]
    assert cfg.expressions[3].rows == tuple(range(10, 16))


def mutated(change) -> dict[str, Any]:  # noqa: ANN001
    data = copy.deepcopy(default_data())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["cleanup"].update(toleranse=3), "unknown key.*toleranse"),
        (lambda d: d.update(format="something"), "not a Castmaker pipeline config"),
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d["cleanup"].update(palette_colors=1), "cleanup.palette_colors"),
        (lambda d: d["cleanup"].update(background_tolerance="big"), "cleanup.background_tolerance"),
        (lambda d: d["sprite"]["grid"].update(row_directions=["down", "down", "left", "up"]), "exactly once"),
        (lambda d: d["sprite"].update(archetype_rows=[]), "sprite.archetype_rows"),
        (lambda d: d["portrait"].update(base="guess"), "portrait.base"),
        (lambda d: d["head"]["box"].update(x=20), "head.box"),
        (lambda d: d["head"].update(upscale="bicubic"), "head.upscale"),
        (lambda d: d["sheet"].update(cell_width=16), "do not fit"),
        (lambda d: d["projection"].update(stepz=3), "unknown key.*stepz"),
        (lambda d: d["projection"].update(steps=0), "projection.steps"),
        (lambda d: d.update(archetypes={}), "at least one archetype"),
        (lambda d: d["archetypes"]["heroine"].pop("portrait_preset"), "archetypes.heroine.portrait_preset"),
        (lambda d: d.update(expressions=[{"name": f"e{i}", "preset": "p"} for i in range(8)]), "at most 7"),
        (lambda d: d.update(expressions=[{"name": "neutral", "preset": "p"}]), "not 'neutral'"),
        (lambda d: d["faceset"].update(resample="magic"), "faceset.resample"),
        (lambda d: d.pop("networks"), "networks is missing"),
    ],
)
def test_bad_configs_are_refused_with_the_key_named(change, message: str) -> None:  # noqa: ANN001
    with pytest.raises(PipelineError, match=message):
        parse_config(mutated(change), Path("."), "test.json")


def test_unknown_archetype_lists_the_known_ones() -> None:
    cfg = load_config()
    with pytest.raises(PipelineError, match="heroine, villain"):
        cfg.archetype("paladin")


def test_load_config_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="not found"):
        load_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    with pytest.raises(PipelineError, match="not valid JSON"):
        load_config(bad)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    data = default_data()
    data["networks"]["sprite"] = "nets/sprite.safetensors"
    f = tmp_path / "cfg.json"
    f.write_text(json.dumps(data))
    cfg = load_config(f)
    assert cfg.resolve_path(cfg.sprite_network) == str(tmp_path / "nets" / "sprite.safetensors")
    assert cfg.resolve_path(cfg.portrait_network) == "cast-portrait"


def test_psi_names_and_stage_times() -> None:
    assert check_psi("0.6") == 0.6 and check_psi(-1) == -1.0
    for bad in ("abc", "nan", "inf"):
        with pytest.raises(PipelineError, match="ψ"):
            check_psi(bad)
    assert default_name("heroine", 7) == "Heroine7" and default_name("dark-elf", 0) == "DarkElf0"
    times = StageTimes()
    with times.stage("render"):
        pass
    with times.stage("write"):
        pass
    assert times.summary().startswith("render ") and "write" in times.summary() and "total" in times.summary()
