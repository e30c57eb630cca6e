"""`main.py bench`: the report has its keys and sane values; --ui / --projection dispatch lazily."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import pytest
from safetensors.torch import load_file

from editor.cli import cmd_bench
from editor.cli import run as cli
from renderer.loading import save_native
from renderer.nets import build_generator, generator_kind
from renderer.network import Network

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "official"
OFFICIAL_DIR = Path(os.environ.get("CASTMAKER_OFFICIAL_DIR", "/tmp/official/stylegan3"))


def _save_fixture(name: str, arch: str, folder: Path) -> Path:
    info = json.loads((FIXTURES / name / "init.json").read_text())
    G = build_generator(arch, info["init_kwargs"])
    G.load_state_dict(load_file(str(FIXTURES / name / "weights.safetensors")), strict=True)
    net = Network(G=G, kind=generator_kind(arch, info["init_kwargs"]), arch={"arch": arch, "init_kwargs": info["init_kwargs"]},
                  fingerprint="", name=name, source="fixture")  # fmt: skip
    path = folder / f"{name}.safetensors"
    save_native(net, path)
    return path


@pytest.fixture(scope="module")
def sg2_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_fixture("stylegan2-ada-64", "stylegan2", tmp_path_factory.mktemp("bench"))


def test_json_report_has_keys_and_formats(sg2_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli(["bench", "--network", str(sg2_file), "--device", "cpu", "--repeats", "1", "--json"])
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("device", "network", "full_ms", "incremental_ms", "thumb_ms", "thumb_single_ms", "mapping_ms",
                "peak_rss_mb", "incremental_ratio", "thumb_ratio", "incremental_start_step", "cpu_ms"):  # fmt: skip
        assert key in report, key
    assert report["network"] == "stylegan2-ada-64" and report["device"].startswith("CPU")
    assert set(report["incremental_ms"]) == {"2", "4", "8"}  # the k that fit 10 rows
    assert all(v > 0 for v in report["incremental_ms"].values()) and report["full_ms"] > 0
    # the edit of rows >= k really resumed at the first step reading row k (StyleGAN2: conv + toRGB per row)
    assert report["incremental_start_step"]["2"] < report["incremental_start_step"]["8"] < report["num_steps"]
    assert report["peak_rss_mb"] > 10
    # the share of the FLOPs an edit re-runs shrinks as the edit starts later
    share = report["incremental_work_share"]
    assert 1 > share["2"] > share["4"] > share["8"] > 0
    table = cmd_bench.format_table(report)  # the human form of the same numbers
    assert "full synthesis" in table and "rows >= 8" in table and "ms/image" in table and "peak RSS" in table
    assert f"{share['8']:.0%} of the FLOPs" in table


def test_bad_repeats(sg2_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "--network", str(sg2_file), "--repeats", "0"]) == 2
    assert "--repeats" in capsys.readouterr().err


def test_ui_and_projection_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    ui = types.ModuleType("editor.ui.ui_bench")
    ui.run_ui_bench = lambda args: seen.append(("ui", args.repeats)) or 0  # type: ignore[attr-defined]
    proj = types.ModuleType("renderer.projector.bench")
    proj.run_projection_bench = lambda args: seen.append(("projection", args.repeats)) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "editor.ui.ui_bench", ui)
    monkeypatch.setitem(sys.modules, "renderer.projector.bench", proj)
    assert cli(["bench", "--ui", "--repeats", "3"]) == 0
    assert cli(["bench", "--projection", "--repeats", "2"]) == 0
    assert seen == [("ui", 3), ("projection", 2)]


def test_missing_delegate_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cmd_bench._DELEGATES, "ui", ("editor.ui.no_such_bench_module", "run_ui_bench"))
    assert cli(["bench", "--ui"]) == 2
    err = capsys.readouterr().err
    assert "--ui is not available" in err and len(err.strip().splitlines()) == 1


def test_official_dir_must_be_a_checkout(
    sg2_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["bench", "--network", str(sg2_file), "--repeats", "1", "--official", str(tmp_path)]) == 2
    assert "not an NVlabs" in capsys.readouterr().err


@pytest.mark.skipif(
    not (OFFICIAL_DIR / "training").is_dir(), reason=f"no official NVlabs checkout at {OFFICIAL_DIR}"
)
def test_official_side_by_side_agrees(sg2_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Where a checkout (and what its dnnlib imports: requests) exists, the two codes must agree."""
    from renderer.engine.official_compare import build_official_generator
    from renderer.errors import RenderError
    from renderer.loading import load_network

    try:
        build_official_generator(load_network(str(sg2_file)), OFFICIAL_DIR)
    except RenderError as exc:
        pytest.skip(f"official code not importable here: {exc}")
    rc = cli(["bench", "--network", str(sg2_file), "--device", "cpu", "--repeats", "1", "--json",
              "--official", str(OFFICIAL_DIR)])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert rc == 0
    off = report["official"]
    assert off["agree"] and off["max_abs_diff"] <= 1e-4
    assert off["official_ms"] > 0 and off["ours_ms"] > 0
