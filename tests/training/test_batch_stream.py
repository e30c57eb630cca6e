"""Batches drawn ahead in worker processes are the batches the loop would draw itself, and resume exactly."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch

from renderer.training import batches as B
from renderer.training import trainer as T
from renderer.training.batch_stream import MAX_AUTO_WORKERS, BatchStream, auto_draw_workers
from renderer.training.configs import CAST_TINY, TrainingError
from tests.helpers import crash_draw


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """Training steps on one torch thread, so two runs compute the same sums."""


@pytest.mark.parametrize("workers", [0, 2])
def test_the_stream_gives_training_batchs_sequence_and_keeps_the_rng_in_step(workers: int) -> None:
    draw = B.drawing_function(CAST_TINY)
    reference = np.random.RandomState(7)
    rng = np.random.RandomState(7)
    with BatchStream(rng, CAST_TINY, 5, draw, workers=workers, depth=3) as stream:
        for _ in range(4):
            got = stream.next()
            want = B.training_batch(reference, CAST_TINY, 5, draw)
            np.testing.assert_array_equal(got.ws, want.ws)
            np.testing.assert_array_equal(got.images, want.images)
            # however many batches are in flight, the rng stands just after the last one handed out
            # (what a checkpoint saves; the stream owns the rng, so the test only reads it)
            got_state, want_state = rng.get_state(), reference.get_state()
            np.testing.assert_array_equal(got_state[1], want_state[1])
            assert got_state[2:] == want_state[2:]


def test_auto_workers_leave_cpu_training_alone_and_a_core_free_elsewhere() -> None:
    assert auto_draw_workers("cpu", cores=16) == 0
    assert auto_draw_workers("cuda", cores=8) == 7
    assert auto_draw_workers("cuda", cores=1) == 0
    assert auto_draw_workers("mps", cores=64) == MAX_AUTO_WORKERS


def test_negative_workers_are_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        BatchStream(np.random.RandomState(0), CAST_TINY, 2, B.drawing_function(CAST_TINY), workers=-1)


def test_a_run_with_draw_workers_trains_the_same_weights_and_resumes_exactly(tmp_path) -> None:
    def options(folder: str, workers: int) -> T.TrainOptions:
        return T.TrainOptions(
            network="cast-tiny", outdir=str(tmp_path / folder), eval_every_s=1e9, grid_every_s=1e9, heldout=4,
            kimg=0.032, lr_decay=0.25, draw_workers=workers,
        )

    plain = T.run_training(options("plain", 0), max_steps=4)
    half = T.run_training(options("pool", 2), max_steps=2)  # stops with batches still in flight
    pooled = T.run_training(options("pool", 2), resume=half, max_steps=2)
    _, s1, _ = T.load_checkpoint(plain, torch.device("cpu"))
    _, s2, _ = T.load_checkpoint(pooled, torch.device("cpu"))
    assert s1.step == s2.step == 4
    for (name, p1), p2 in zip(s1.G.state_dict().items(), s2.G.state_dict().values(), strict=True):
        assert torch.equal(p1, p2), name


def test_a_worker_that_dies_gives_a_clear_error_not_a_hang() -> None:
    with BatchStream(np.random.RandomState(0), CAST_TINY, 2, crash_draw.die, workers=1) as stream:
        with pytest.raises(TrainingError, match="ended unexpectedly.*--resume"):
            stream.next()


def test_workers_leave_ctrl_c_to_the_training_process() -> None:
    with BatchStream(np.random.RandomState(0), CAST_TINY, 2, crash_draw.grey, workers=1, depth=1) as stream:
        stream.next()  # the worker is up
        for pid in list(stream._pool._processes):  # what a terminal's Ctrl+C does to the process group
            os.kill(pid, signal.SIGINT)
        for _ in range(3):
            assert stream.next().images.shape == (2, 4, 4, 3)


def test_a_run_whose_drawing_process_dies_keeps_its_checkpoint(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    class DyingStream(BatchStream):
        def __init__(self, rng, config, size, draw, workers=0, depth=3) -> None:
            super().__init__(rng, config, size, crash_draw.die, workers, depth)

    monkeypatch.setattr(T, "BatchStream", DyingStream)
    options = T.TrainOptions(network="cast-tiny", outdir=str(tmp_path), eval_every_s=1e9, grid_every_s=1e9, heldout=4, draw_workers=1)
    with pytest.raises(TrainingError, match="ended unexpectedly"):
        T.run_training(options, max_steps=2)
    assert (tmp_path / T.CHECKPOINT_NAME).is_file()
