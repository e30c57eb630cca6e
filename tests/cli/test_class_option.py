"""`--class K` on render, project, generate and view, with a tiny class-conditional network."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from editor.cli import build_parser
from editor.cli import run as cli
from editor.cli.cmd_generate import _check_class
from editor.pipeline import PipelineError
from renderer import load_network
from renderer.engine import Engine
from renderer.errors import LatentError
from renderer.latents import Recipe, SeedSource, load_w
from tests.helpers.conditional import C_DIM, save_tiny_conditional

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def cond_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_conditional(tmp_path_factory.mktemp("net") / "cond.safetensors")


@pytest.fixture(scope="module")
def engine(cond_file: Path) -> Engine:
    return Engine(load_network(str(cond_file)), device="cpu")


def test_render_draws_the_class_asked_for(cond_file: Path, engine: Engine, tmp_path: Path) -> None:
    assert cli(["render", "--network", str(cond_file), "--seeds", "3", "--class", "2", "--trunc", "1",
                "--outdir", str(tmp_path), "--device", "cpu"]) == 0  # fmt: skip
    want = engine.render(Recipe.plain(SeedSource(3, psi=1.0, class_idx=2), engine.num_ws)).image
    other = engine.render(Recipe.plain(SeedSource(3, psi=1.0, class_idx=0), engine.num_ws)).image
    got = np.asarray(Image.open(tmp_path / "seed0003.png"))
    assert np.array_equal(got, want) and not np.array_equal(got, other)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [([], "give a class with --class K (0-2)"), (["--class", "3"], "--class 3 is out of range"), (["--class", "-1"], "must be 0 or more")],
)
def test_render_and_project_explain_the_class_in_their_own_option(cond_file, tmp_path, capsys, extra, needle) -> None:
    target = tmp_path / "t.png"
    Image.new("RGB", (16, 16), (90, 20, 20)).save(target)
    for argv in (
        ["render", "--network", str(cond_file), "--seeds", "0", "--outdir", str(tmp_path / "r")],
        ["project", "--network", str(cond_file), "--target", str(target), "--steps", "1", "--outdir", str(tmp_path / "p")],
    ):
        assert cli([*argv, "--device", "cpu", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err
    assert not (tmp_path / "p").exists() and not (tmp_path / "r").exists()


def test_project_takes_a_class_and_projects_with_it(cond_file: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "t.png"
    Image.new("RGB", (16, 16), (90, 20, 20)).save(target)
    out = tmp_path / "proj"
    assert cli(["project", "--network", str(cond_file), "--target", str(target), "--steps", "3", "--class", "1",
                "--outdir", str(out), "--device", "cpu"]) == 0  # fmt: skip
    assert load_w(out / "projected_w.npz").shape == (6, 16)


def test_generate_and_view_take_the_class_option() -> None:
    parser = build_parser()
    assert parser.parse_args(["generate", "heroine", "0.6", "--class", "2"]).class_idx == 2
    assert parser.parse_args(["view", "--class", "1"]).class_idx == 1


def test_generate_checks_the_class_against_both_networks() -> None:
    cond = SimpleNamespace(c_dim=C_DIM, name="cond")
    plain = SimpleNamespace(c_dim=0, name="plain")
    _check_class(None, plain, plain)
    _check_class(1, cond, plain)
    with pytest.raises(PipelineError, match="leave out --class"):
        _check_class(1, plain, plain)
    with pytest.raises(LatentError, match="--class K"):
        _check_class(None, plain, cond)
    with pytest.raises(LatentError, match="out of range"):
        _check_class(C_DIM, cond, cond)


def test_view_starts_on_the_class_asked_for(engine: Engine, tmp_path: Path) -> None:
    from editor.viewer.app import ViewerApp, ViewerInfo, ViewerOptions
    from editor.viewer.frames import render_frame
    from editor.viewer.render_thread import RenderThread

    info = ViewerInfo.from_engine(engine)
    worker = RenderThread(lambda request: render_frame(engine, request))
    try:
        assert ViewerApp(info, worker, ViewerOptions(capture_dir=tmp_path, class_idx=2)).state.class_idx == 2
        assert ViewerApp(info, worker, ViewerOptions(capture_dir=tmp_path)).state.class_idx == 0
    finally:
        worker.stop()


def test_directions_on_a_conditional_network_need_and_use_a_class(cond_file: Path, tmp_path: Path, capsys) -> None:
    base = ["directions", "--network", str(cond_file), "--rows", "0-2", "--top", "2", "--device", "cpu"]
    assert cli([*base, "--outdir", str(tmp_path / "none")]) == 2
    assert "--class K" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
    for method in ("sefa", "pca"):
        out = tmp_path / method
        argv = [*base, "--method", method, "--samples", "30", "--class", "1", "--outdir", str(out)]
        assert cli(argv) == 0
        assert (out / f"{method}-rows0-2.png").exists()


def test_sampled_ws_cover_every_class_unless_one_is_given() -> None:
    import numpy as np

    from renderer.latents.directions import class_labels, mapped_ws
    from tests.helpers.conditional import tiny_conditional_network

    net = tiny_conditional_network()
    labels = class_labels(net, 7)
    assert labels.argmax(axis=1).tolist() == [0, 1, 2, 0, 1, 2, 0] and labels.sum() == 7
    assert class_labels(net, 3, 2).argmax(axis=1).tolist() == [2, 2, 2]
    with pytest.raises(LatentError, match="out of range"):
        class_labels(net, 3, C_DIM)
    # the label reaches the mapping: the same seed in another class maps elsewhere
    assert not np.allclose(mapped_ws(net, [5], 0), mapped_ws(net, [5], 1))
