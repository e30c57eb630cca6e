"""`main.py project`: files in the official layouts, `render --w` reads them back, Ctrl+C keeps the best w."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import renderer.projector as projector_pkg
from editor.cli import run as cli
from renderer import load_network
from renderer.engine import Engine
from renderer.latents import load_w
from renderer.loading import save_native
from renderer.nets import build_generator
from renderer.network import Network

TINY_SG3 = dict(
    z_dim=16, w_dim=16, c_dim=0, img_resolution=16, img_channels=3, channel_base=256, channel_max=16,
    num_layers=4, margin_size=4, mapping_kwargs=dict(num_layers=2),
)  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    G = build_generator("stylegan3", TINY_SG3)
    net = Network(
        G=G, kind="stylegan3-t", arch={"arch": "stylegan3", "init_kwargs": TINY_SG3}, fingerprint="",
        name="tiny-sg3", source="test",
    )  # fmt: skip
    path = tmp_path_factory.mktemp("net") / "tiny.safetensors"
    save_native(net, path)
    return path


@pytest.fixture(scope="module")
def target_png(net_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    engine = Engine(load_network(str(net_file)), "cpu")
    img = engine.render_ws(engine.map_seed(2, psi=1.0)).image
    path = tmp_path_factory.mktemp("target") / "target.png"
    # a larger RGBA picture: the CLI must crop/resize/composite it
    Image.fromarray(img).resize((40, 40), Image.Resampling.NEAREST).convert("RGBA").save(path)
    return path


def test_project_writes_every_file_and_render_reads_the_w(net_file, target_png, tmp_path, capsys) -> None:
    out = tmp_path / "proj"
    argv = ["project", "--network", str(net_file), "--target", str(target_png), "--steps", "12", "--loss", "pixel",
            "--space", "wplus", "--outdir", str(out), "--save-video", "--device", "cpu", "--seed", "3"]  # fmt: skip
    assert cli(argv) == 0
    text = capsys.readouterr().out
    assert "loss: pixel" in text and "best PSNR" in text
    for name in ("projected_w.npz", "projected_w.npy", "target.png", "proj.png", "log.csv"):
        assert (out / name).is_file(), name
    assert (out / "proj.webp").is_file() or (out / "proj.gif").is_file()
    w = load_w(out / "projected_w.npz")
    assert w.shape == (6, 16)
    assert np.array_equal(w, load_w(out / "projected_w.npy"))
    assert len((out / "log.csv").read_text().splitlines()) == 1 + 13
    # the render command turns the written w into exactly the proj.png picture
    rendered = tmp_path / "rendered"
    argv = ["render", "--network", str(net_file), "--w", str(out / "projected_w.npz"), "--outdir", str(rendered),
            "--device", "cpu"]  # fmt: skip
    assert cli(argv) == 0
    pngs = list(rendered.glob("*.png"))
    assert len(pngs) == 1
    assert np.array_equal(np.asarray(Image.open(pngs[0])), np.asarray(Image.open(out / "proj.png")))
    # deterministic with --seed: a second run gives the same w (and keeps the first as .bak)
    argv = ["project", "--network", str(net_file), "--target", str(target_png), "--steps", "12", "--loss", "pixel",
            "--space", "wplus", "--outdir", str(out), "--device", "cpu", "--seed", "3"]  # fmt: skip
    assert cli(argv) == 0
    assert np.array_equal(load_w(out / "projected_w.npz"), load_w(out / "projected_w.bak.npz"))


def test_ctrl_c_stops_cleanly_and_writes_the_best_w(net_file, target_png, tmp_path, capsys, monkeypatch) -> None:
    real_project = projector_pkg.project

    def project_then_interrupt(engine, target, config, progress=None, should_stop=None):
        def on_progress(p):
            progress(p)
            if p.step == 3:
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl+C delivers

        return real_project(engine, target, config, progress=on_progress, should_stop=should_stop)

    monkeypatch.setattr(projector_pkg, "project", project_then_interrupt)
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN when the suite runs in the background
    out = tmp_path / "stopped"
    argv = ["project", "--network", str(net_file), "--target", str(target_png), "--steps", "500", "--outdir", str(out),
            "--device", "cpu", "--loss", "pixel"]  # fmt: skip
    assert cli(argv) == 130
    text = capsys.readouterr().out
    assert "interrupted after 3 steps" in text
    assert len((out / "log.csv").read_text().splitlines()) == 1 + 3
    assert load_w(out / "projected_w.npz").shape == (6, 16)
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


def test_bad_target_and_missing_vgg_exit_2_with_one_line(net_file, target_png, tmp_path, capsys) -> None:
    assert cli(["project", "--network", str(net_file), "--target", str(tmp_path / "nope.png"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "target image not found" in err[0]
    argv = ["project", "--network", str(net_file), "--target", str(target_png), "--loss", "lpips", "--device", "cpu",
            "--outdir", str(tmp_path / "x")]  # fmt: skip
    assert cli(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--vgg" in err[0]
    assert not (tmp_path / "x").exists()


def test_projection_bench_prints_psnr_per_space_and_budget(net_file, capsys) -> None:
    import argparse
    import json

    from renderer.projector.bench import run_projection_bench

    args = argparse.Namespace(network=str(net_file), device="cpu", json=True, quick=True, projection_steps=(3, 6))
    assert run_projection_bench(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(r["space"], r["steps"]) for r in report["rows"]] == [("w", 3), ("w", 6), ("wplus", 3), ("wplus", 6)]
    for row in report["rows"]:
        assert np.isfinite(row["psnr_mean"]) and row["steps_per_s"] > 0 and row["loss"] == "ssim+pixel"


def test_space_takes_the_papers_spelling_too() -> None:
    from editor.cli import build_parser

    parser = build_parser()
    for text, want in (("W", "w"), ("w", "w"), ("W+", "wplus"), ("wplus", "wplus"), ("WPLUS", "wplus")):
        assert parser.parse_args(["project", "--target", "t.png", "--space", text]).space == want
