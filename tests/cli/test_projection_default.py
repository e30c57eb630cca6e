"""One projection space by default everywhere: the CLI, the pipeline configs, the library (the editor: tests/editor/ui)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image

from editor.cli import run as cli
from renderer.projector import DEFAULT_SPACE, ProjectionConfig
from tests.helpers.conditional import save_tiny_conditional

REPO = Path(__file__).resolve().parents[2]


def test_the_library_and_the_shipped_pipeline_configs_share_the_default() -> None:
    assert ProjectionConfig().space == DEFAULT_SPACE
    for config in sorted((REPO / "resources" / "pipeline").glob("*.json")):
        space = json.loads(config.read_text(encoding="utf-8")).get("projection", {}).get("space", DEFAULT_SPACE)
        assert space == DEFAULT_SPACE, config.name


def test_the_cli_projects_in_the_default_space_and_keeps_w_on_request(tmp_path: Path, capsys) -> None:
    torch.set_num_threads(1)
    net = save_tiny_conditional(tmp_path / "cond.safetensors")
    target = tmp_path / "t.png"
    Image.new("RGB", (16, 16), (90, 20, 20)).save(target)
    base = ["project", "--network", str(net), "--target", str(target), "--steps", "1", "--class", "0", "--device", "cpu"]
    assert cli([*base, "--outdir", str(tmp_path / "a")]) == 0
    assert f" in {'W+' if DEFAULT_SPACE == 'wplus' else 'W'} on " in capsys.readouterr().out
    assert cli([*base, "--space", "w", "--outdir", str(tmp_path / "b")]) == 0
    assert " in W on " in capsys.readouterr().out
