"""Every output file honours the umask (no mkstemp 0600), replaced files keep their mode; compare.png is written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.rpgmaker.files import FileTransaction
from editor.rpgmaker.files import write_atomic as rpg_write_atomic
from renderer.fileio import write_bytes_atomic
from renderer.latents import save_w
from renderer.projector.outputs import compare_image, write_projection
from renderer.projector.projector import ProjectionResult


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def _result() -> ProjectionResult:
    rng = np.random.RandomState(0)
    return ProjectionResult(
        w=rng.randn(6, 16).astype(np.float32),
        loss_name="pixel",
        log=[(1, 0.5, 12.0), (2, 0.4, 13.0)],
        image=rng.randint(0, 255, (16, 16, 3), dtype=np.uint8),
    )


def test_projection_outputs_honour_the_umask_and_include_compare_png(tmp_path: Path, umask: int) -> None:
    result = _result()
    target = np.full((16, 16, 3), 7, np.uint8)
    written = write_projection(tmp_path / "out", target, result)
    assert {"projected_w.npz", "projected_w.npy", "target.png", "proj.png", "compare.png", "log.csv"} <= set(written)
    for name, path in written.items():
        assert mode(path) == 0o666 & ~umask, (name, oct(mode(path)))
    both = np.asarray(Image.open(written["compare.png"]))
    assert both.shape == (16, 32, 3)
    assert np.array_equal(both[:, :16], target) and np.array_equal(both[:, 16:], result.image)


def test_every_atomic_writer_honours_the_umask(tmp_path: Path, umask: int) -> None:
    want = 0o666 & ~umask
    assert mode(write_bytes_atomic(tmp_path / "a.bin", b"x")) == want
    assert mode(save_w(tmp_path / "w.npy", np.zeros((2, 3), np.float32))) == want
    assert mode(rpg_write_atomic(tmp_path / "game" / "b.png", b"y")) == want
    txn = FileTransaction(root=tmp_path / "game")
    txn.add(tmp_path / "game" / "c.json", b"{}")
    txn.commit()
    assert mode(tmp_path / "game" / "c.json") == want


def test_a_replaced_file_keeps_its_own_mode(tmp_path: Path, umask: int) -> None:
    p = tmp_path / "shared.png"
    p.write_bytes(b"old")
    p.chmod(0o640)
    write_bytes_atomic(p, b"new")
    rpg_write_atomic(p, b"newer")
    assert p.read_bytes() == b"newer" and mode(p) == 0o640


def test_compare_image_matches_channels_and_size() -> None:
    grey = np.full((8, 8, 1), 100, np.uint8)
    rgb = np.zeros((4, 4, 3), np.uint8)
    out = compare_image(grey, rgb)
    assert out.shape == (8, 16, 1) and (out[:, :8] == 100).all() and (out[:, 8:] == 0).all()
