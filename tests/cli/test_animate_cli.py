"""`main.py animate`: keys from sessions or a seed tour -> files read back with Pillow; one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from editor.cli import run as cli
from editor.session import save_session
from renderer import load_network
from renderer.engine import Engine
from renderer.latents import Recipe, RowEdit, SeedSource
from renderer.loading import save_native
from renderer.network import Network

REPO = Path(__file__).resolve().parents[2]
TINY = dict(z_dim=16, c_dim=0, w_dim=16, img_resolution=16, img_channels=3,
            mapping_kwargs=dict(num_layers=2), synthesis_kwargs=dict(channel_base=256, channel_max=32))  # fmt: skip


def _save_tiny(path: Path, seed: int) -> Path:
    from renderer.nets import build_generator

    torch.manual_seed(seed)
    G = build_generator("stylegan2", TINY)
    G.mapping.w_avg.copy_(torch.randn_like(G.mapping.w_avg) * 0.3)
    net = Network(G=G, kind="stylegan2", arch={"arch": "stylegan2", "init_kwargs": TINY}, fingerprint="",
                  name=path.stem, source=str(path))  # fmt: skip
    save_native(net, path)
    return path


@pytest.fixture(scope="module")
def nets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("nets")
    return _save_tiny(folder / "tiny.safetensors", 0), _save_tiny(folder / "other.safetensors", 1)


@pytest.fixture(scope="module")
def keys(nets, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Recipe, Recipe]:
    net = load_network(str(nets[0]))
    folder = tmp_path_factory.mktemp("keys")
    a = Recipe.plain(SeedSource(2, psi=0.7), net.num_ws)
    b = a.with_rows([3, 4], RowEdit(SeedSource(8, psi=0.7), "replace"))
    pa = save_session(folder / "neutral", a, str(nets[0]), net.fingerprint)
    pb = save_session(folder / "smile", b, str(nets[0]), net.fingerprint)
    return pa, pb, a, b


def gif_frames(path: Path):
    im = Image.open(path)
    return im, [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def test_keys_to_looping_gif_and_webp(nets, keys, tmp_path, capsys) -> None:
    pa, pb, a, b = keys
    out = tmp_path / "clip.gif"
    rc = cli(["animate", "--network", str(nets[0]), "--keys", str(pa), str(pb), "--seconds", "1", "--fps", "10",
              "--loop", "--ease", "in-out", "--out", str(out), "--device", "cpu"])  # fmt: skip
    assert rc == 0
    im, frames = gif_frames(out)
    assert im.n_frames == 10 and im.info["loop"] == 0 and im.info["duration"] == 100
    assert "10 frames" in capsys.readouterr().out
    webp = tmp_path / "clip.webp"
    assert cli(["animate", "--network", str(nets[0]), "--keys", str(pa), str(pb), "--seconds", "1", "--fps", "10",
                "--out", str(webp), "--scale", "3", "--device", "cpu"]) == 0  # fmt: skip
    wi = Image.open(webp)
    assert wi.n_frames == 11 and wi.info["loop"] == 1 and wi.size == (48, 48)  # no loop: plays once, closing key
    wi.seek(10)
    engine = Engine(load_network(str(nets[0])), "cpu")
    last = np.asarray(wi.convert("RGB"))[::3, ::3]
    np.testing.assert_array_equal(last, engine.render(b).image)  # lossless WebP: the key's render exactly
    wi.seek(0)
    np.testing.assert_array_equal(np.asarray(wi.convert("RGB"))[::3, ::3], engine.render(a).image)


def test_seed_tour_strip_and_determinism(nets, tmp_path) -> None:
    args = ["animate", "--network", str(nets[0]), "--seeds", "0,5,9", "--rows", "4-5", "--seconds", "1.5",
            "--fps", "4", "--loop", "--format", "strip", "--device", "cpu"]  # fmt: skip
    assert cli(args + ["--out", str(tmp_path / "a.png")]) == 0
    strip = np.asarray(Image.open(tmp_path / "a.png"))
    assert strip.shape == (16, 16 * 6, 3)  # 3 segments of 0.5 s at 4 fps
    assert cli(args + ["--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "c.png").read_bytes()  # byte-identical rerun


def test_png_sequence_folder(nets, keys, tmp_path) -> None:
    pa, pb, _, _ = keys
    out = tmp_path / "frames"
    assert cli(["animate", "--network", str(nets[0]), "--keys", str(pa), str(pb), str(pa), "--seconds", "1",
                "--fps", "4", "--out", str(out), "--device", "cpu"]) == 0  # fmt: skip
    assert len(list(out.glob("frame_*.png"))) == 2 + 2 + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_errors_are_one_line_and_write_nothing(nets, keys, tmp_path, capsys, monkeypatch) -> None:
    pa, pb, _, _ = keys
    other = load_network(str(nets[1]))
    po = save_session(tmp_path / "other", Recipe.plain(SeedSource(1), other.num_ws), str(nets[1]), other.fingerprint)
    base = ["animate", "--network", str(nets[0]), "--device", "cpu", "--seconds", "1", "--fps", "4"]
    cases = [
        (["--keys", str(pa), str(po), "--out", str(tmp_path / "x.gif")], "was saved with another network"),
        (["--keys", str(pa), "--out", str(tmp_path / "x.gif")], "at least 2 session files"),
        (["--seeds", "1,2", "--out", str(tmp_path / "x.gif")], "--seeds needs --rows"),
        (["--keys", str(pa), str(pb), "--out", str(tmp_path / "x.avi")], "don't know how to write x.avi"),
        (["--keys", str(pa), str(pb), "--out", str(tmp_path / "x.gif"), "--delay", "0,2,0"], "middle delay"),
    ]
    for extra, expected in cases:
        assert cli(base + extra) == 2
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, err
    (tmp_path / "taken.gif").write_bytes(b"mine")
    assert cli(base + ["--keys", str(pa), str(pb), "--out", str(tmp_path / "taken.gif")]) == 2
    assert "already exists" in capsys.readouterr().err and (tmp_path / "taken.gif").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.castmaker-session", "taken.gif"]


def test_mp4_without_encoder_fails_with_one_clear_line(nets, keys, tmp_path) -> None:
    """In a fresh interpreter where imageio_ffmpeg cannot be imported: exit 2, one line naming the pip command."""
    pa, pb, _, _ = keys
    code = (
        "import sys; sys.modules['imageio_ffmpeg'] = None\n"
        "from editor.cli import run\n"
        f"sys.exit(run(['animate', '--network', {str(nets[0])!r}, '--keys', {str(pa)!r}, {str(pb)!r}, "
        f"'--out', {str(tmp_path / 'clip.mp4')!r}, '--device', 'cpu']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "imageio-ffmpeg" in lines[0] and "pip install" in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_seed_tour_on_a_conditional_network_takes_class(tmp_path, capsys) -> None:
    """A seed tour on a class-conditional network draws the seeds (and a base seed) of `--class K`; without
    it the error names --class, which animate has; --class with session keys is refused before any work."""
    from tests.helpers.conditional import save_tiny_conditional

    net_path = save_tiny_conditional(tmp_path / "cond.safetensors")
    base = ["animate", "--network", str(net_path), "--seeds", "0,1", "--rows", "2-3", "--seconds", "0.5",
            "--fps", "4", "--format", "strip", "--device", "cpu"]  # fmt: skip
    assert cli(base + ["--out", str(tmp_path / "none.png")]) == 2
    err = capsys.readouterr().err
    assert "give a class with --class K (0-2)" in err and err.count("\n") == 1, err
    assert cli(base + ["--out", str(tmp_path / "c1.png"), "--class", "1"]) == 0
    assert cli(base + ["--out", str(tmp_path / "c2.png"), "--class", "2"]) == 0
    strip1 = np.asarray(Image.open(tmp_path / "c1.png"))
    engine = Engine(load_network(str(net_path)), "cpu")
    first = Recipe.plain(SeedSource(0, psi=0.7, class_idx=1), engine.num_ws)
    first = first.with_rows([2, 3], RowEdit(SeedSource(0, psi=0.7, class_idx=1), "replace"))
    np.testing.assert_array_equal(strip1[:, :16], engine.render(first).image)  # frame 0 is key 0, class 1
    assert strip1.tobytes() != np.asarray(Image.open(tmp_path / "c2.png")).tobytes()
    assert cli(base + ["--out", str(tmp_path / "c9.png"), "--class", "9"]) == 2
    assert "out of range" in capsys.readouterr().err
    keys = ["animate", "--network", str(net_path), "--keys", str(tmp_path / "c1.png"), str(tmp_path / "c2.png"),
            "--class", "1", "--out", str(tmp_path / "k.gif")]  # fmt: skip
    assert cli(keys) == 2 and "--class applies to seed tours" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1.png", "c2.png", "cond.safetensors"]


def test_keys_without_network_use_the_first_sessions_network(nets, keys, tmp_path) -> None:
    pa, pb, _, _ = keys
    out = tmp_path / "clip.gif"
    # the sessions were saved on nets[0], a tiny network: no --network means that one, not cast-portrait
    assert cli(["animate", "--keys", str(pa), str(pb), "--seconds", "0.5", "--fps", "4", "--out", str(out),
                "--device", "cpu"]) == 0  # fmt: skip
    assert Image.open(out).size == (16, 16)
