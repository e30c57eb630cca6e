"""`main.py render`: the files it writes match Engine renders; bad arguments exit 2 with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

from editor.cli import run as cli
from renderer import load_network
from renderer.engine import Engine
from renderer.latents import Recipe, RowEdit, SeedSource, WSource, save_w
from renderer.loading import save_native
from renderer.nets import build_generator, generator_kind
from renderer.network import Network

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "data" / "official" / "stylegan2-ada-64"


@pytest.fixture(scope="module")
def net_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stylegan2-ada-64 fixture saved as a Castmaker network file (small and fast on CPU)."""
    info = json.loads((FIXTURE / "init.json").read_text())
    G = build_generator("stylegan2", info["init_kwargs"])
    G.load_state_dict(load_file(str(FIXTURE / "weights.safetensors")), strict=True)
    net = Network(
        G=G,
        kind=generator_kind("stylegan2", info["init_kwargs"]),
        arch={"arch": "stylegan2", "init_kwargs": info["init_kwargs"]},
        fingerprint="",
        name="sg2-fixture",
        source="fixture",
    )
    path = tmp_path_factory.mktemp("net") / "sg2.safetensors"
    save_native(net, path)
    return path


@pytest.fixture(scope="module")
def engine(net_file: Path) -> Engine:
    return Engine(load_network(str(net_file)), device="cpu")


def png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_seeds_write_expected_files_matching_engine(net_file: Path, engine: Engine, tmp_path: Path) -> None:
    rc = cli(["render", "--network", str(net_file), "--seeds", "0-1,5", "--trunc", "0.6", "--outdir", str(tmp_path),
              "--save-w", "--device", "cpu"])  # fmt: skip
    assert rc == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "seed0000.npy", "seed0000.png", "seed0001.npy", "seed0001.png", "seed0005.npy", "seed0005.png"
    ]  # fmt: skip
    for seed in (0, 1, 5):
        want = engine.render(Recipe.plain(SeedSource(seed, psi=0.6), engine.num_ws))
        assert np.array_equal(png(tmp_path / f"seed{seed:04d}.png"), want.image)
        w = np.load(tmp_path / f"seed{seed:04d}.npy")
        assert w.shape == (1, engine.num_ws, engine.network.w_dim)
        assert np.array_equal(w[0], want.ws)


def test_style_mix_with_blend_and_cutoff(net_file: Path, engine: Engine, tmp_path: Path) -> None:
    rc = cli(["render", "--network", str(net_file), "--seeds", "3", "--trunc", "0.8", "--trunc-cutoff", "4",
              "--mix-seed", "9", "--mix-rows", "5-9", "--mix-weight", "0.5", "--outdir", str(tmp_path)])  # fmt: skip
    assert rc == 0
    src = lambda s: SeedSource(s, psi=0.8, cutoff=4)  # noqa: E731
    recipe = Recipe.plain(src(3), engine.num_ws).with_rows(
        range(5, 10), RowEdit(src(9), mode="blend", weight=0.5)
    )
    got = png(tmp_path / "seed0003.png")
    assert np.array_equal(got, engine.render(recipe).image)
    assert not np.array_equal(got, engine.render(Recipe.plain(src(3), engine.num_ws)).image)


def test_w_file_renders_that_w(net_file: Path, engine: Engine, tmp_path: Path) -> None:
    w = engine.map_seed(11, psi=0.5) * np.float32(1.1)
    save_w(tmp_path / "look.npz", w)
    rc = cli(
        [
            "render",
            "--network",
            str(net_file),
            "--w",
            str(tmp_path / "look.npz"),
            "--outdir",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 0
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["look.png"]
    want = engine.render(Recipe.plain(WSource(w, "look"), engine.num_ws)).image
    assert np.array_equal(png(tmp_path / "o" / "look.png"), want)


def test_save_w_never_overwrites_the_input_w(net_file: Path, engine: Engine, tmp_path: Path) -> None:
    save_w(tmp_path / "look.npy", engine.map_seed(1))
    before = (tmp_path / "look.npy").read_bytes()
    rc = cli(["render", "--network", str(net_file), "--w", str(tmp_path / "look.npy"), "--outdir", str(tmp_path),
              "--mix-seed", "2", "--mix-rows", "3-9", "--save-w"])  # fmt: skip
    assert rc == 2
    assert (tmp_path / "look.npy").read_bytes() == before


def _bad_w(tmp: Path) -> str:
    p = tmp / "wrong.npy"
    np.save(p, np.zeros((1, 7, 64), np.float32))
    return str(p)


BAD = [
    (["--network", "/no/such/net.pkl", "--seeds", "0"], "net.pkl"),
    (["--seeds", "0-x"], "0-x"),
    (["--seeds", "0", "--trunc", "abc"], "--trunc"),
    (["--seeds", "0", "--mix-seed", "1", "--mix-rows", "8-40"], "row 10"),
    (["--seeds", "0", "--mix-rows", "8-9"], "--mix-seed"),
    (["--seeds", "0", "--mix-seed", "3"], "--mix-rows"),
    (["--w", "WRONG"], "[1, 7, 64]"),
    (["--w", "/no/such/w.npy"], "not found"),
    ([], "--seeds"),
    (["--seeds", "0", "--class", "2"], "unconditional"),
    (["--seeds", "0", "--trunc-cutoff", "99"], "cutoff"),
]


@pytest.mark.parametrize("argv,needle", BAD, ids=[" ".join(a) or "nothing" for a, _ in BAD])
def test_bad_arguments_exit_2_with_one_line(
    net_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    argv = [_bad_w(tmp_path) if a == "WRONG" else a for a in argv]
    if "--network" not in argv:
        argv = ["--network", str(net_file), *argv]
    rc = cli(["render", *argv, "--outdir", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert needle in err
    assert not any((tmp_path / "out").glob("*.png"))


def test_entry_point_subprocess(net_file: Path, tmp_path: Path) -> None:
    """The real `python main.py render` entry point, including a bad-argument exit."""
    ok = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "render", "--network", str(net_file), "--seeds", "2",
         "--outdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "seed0002.png").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    bad = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "render", "--network", str(net_file), "--seeds", "1-y"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
