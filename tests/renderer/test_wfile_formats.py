"""w files written by other tools: a single W broadcasts to every row, TF `dlatents.npz`, real shapes in errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderer.errors import LatentError
from renderer.latents import load_w

NUM_WS, W_DIM = 6, 8


def _w(rows: int = NUM_WS) -> np.ndarray:
    return np.random.RandomState(3).randn(rows, W_DIM).astype(np.float32)


@pytest.mark.parametrize("shape", [(W_DIM,), (1, W_DIM), (1, 1, W_DIM)])
def test_a_single_w_is_broadcast_to_every_row(tmp_path: Path, shape: tuple[int, ...]) -> None:
    single = _w(1)[0]
    path = tmp_path / "single.npy"
    np.save(path, single.reshape(shape))
    w = load_w(path, num_ws=NUM_WS, w_dim=W_DIM)
    assert w.shape == (NUM_WS, W_DIM) and w.dtype == np.float32
    assert np.array_equal(w, np.repeat(single[None], NUM_WS, axis=0))


def test_a_single_w_in_an_npz_is_broadcast_too(tmp_path: Path) -> None:
    single = _w(1)
    path = tmp_path / "projected_w.npz"
    np.savez(path, w=single)
    assert np.array_equal(load_w(path, num_ws=NUM_WS, w_dim=W_DIM), np.repeat(single, NUM_WS, axis=0))


@pytest.mark.parametrize("shape", [(W_DIM + 1,), (1, W_DIM + 1), (1, NUM_WS + 1, W_DIM), (2, NUM_WS, W_DIM)])
def test_errors_report_the_real_shape_of_the_file(tmp_path: Path, shape: tuple[int, ...]) -> None:
    path = tmp_path / "other.npy"
    np.save(path, np.zeros(shape, np.float32))
    with pytest.raises(LatentError) as info:
        load_w(path, num_ws=NUM_WS, w_dim=W_DIM)
    assert str(list(shape)) in str(info.value)


def test_tensorflow_dlatents_npz_is_read_when_w_is_absent(tmp_path: Path) -> None:
    w = _w()
    path = tmp_path / "dlatents.npz"
    np.savez(path, dlatents=w[None])
    assert np.array_equal(load_w(path, num_ws=NUM_WS, w_dim=W_DIM), w)


def test_w_wins_over_dlatents_and_a_file_with_neither_names_both(tmp_path: Path) -> None:
    w = _w()
    both = tmp_path / "both.npz"
    np.savez(both, w=w[None], dlatents=np.zeros((1, NUM_WS, W_DIM), np.float32))
    assert np.array_equal(load_w(both, num_ws=NUM_WS, w_dim=W_DIM), w)
    neither = tmp_path / "neither.npz"
    np.savez(neither, latents=w[None])
    with pytest.raises(LatentError, match="'w' or 'dlatents'.*found: latents"):
        load_w(neither)
