"""Training batches drawn ahead in worker processes, identical to the ones drawn in the loop.

Why: drawing a cast character costs about 12 ms of one CPU core (numpy + Pillow). On a CPU that is a
few per cent of a training step, but a GPU steps through a batch of 16 in a few milliseconds, so a
training run there would spend nearly all its time drawing. Worker processes draw the next batches
while the device trains on the current one.

Determinism: the main process still draws every random number (`batches.sample_batch`), in the same
order as `batches.training_batch`; workers only draw pictures, which takes no randomness. The
RandomState handed in is moved to "just after the last batch handed out" each time a batch is
handed out, so a checkpoint saved between steps resumes exactly, however many batches are in flight.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from renderer.cpu_share import usable_cores
from renderer.training.batches import Batch, sample_batch, training_batch
from renderer.training.configs import CastNetworkConfig, TrainingError

MAX_AUTO_WORKERS = 16


def auto_draw_workers(device_type: str, cores: int | None = None) -> int:
    """Worker processes when nobody chose: none for CPU training (it needs the cores itself, and drawing
    is a small share of a CPU step), otherwise every usable core but one, at most MAX_AUTO_WORKERS."""
    if device_type == "cpu":
        return 0
    if cores is None:
        cores = usable_cores()
    return max(0, min(MAX_AUTO_WORKERS, cores - 1))


def _ignore_interrupts() -> None:
    """Pool workers leave Ctrl+C to the training process, which saves its checkpoint and ends them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _draw_all(draw: Callable, characters: list) -> list[np.ndarray]:
    return [draw(c) for c in characters]


@dataclass
class _Pending:
    ws: np.ndarray
    characters: list
    images: list[Future]  # each a list of uint8 arrays, in order
    rng_state_after: tuple


class BatchStream:
    """`next()` gives the same Batch sequence as calling training_batch(rng, ...) repeatedly.

    workers=0 draws in the calling process, one batch at a time; workers>0 keeps `depth` batches in flight
    in a pool of that many processes (started with "spawn": they import only the cast drawing, never torch;
    they ignore Ctrl+C). A worker that dies (killed, out of memory) raises TrainingError from next().
    Use as a context manager, or call close(), so the workers end. The stream owns `rng` while it is open:
    other code may read its state (a checkpoint does) but must not draw from it.
    """

    def __init__(
        self,
        rng: np.random.RandomState,
        config: CastNetworkConfig,
        size: int,
        draw: Callable,
        workers: int = 0,
        depth: int = 3,
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be 0 or more, got {workers}")
        self.rng = rng
        self.config = config
        self.size = int(size)
        self.draw = draw
        self.workers = int(workers)
        self.depth = max(1, int(depth))
        self._ahead = np.random.RandomState()
        self._ahead.set_state(rng.get_state())
        self._pending: deque[_Pending] = deque()
        self._pool = (
            ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_interrupts)
            if self.workers
            else None
        )

    def next(self) -> Batch:
        if self._pool is None:
            return training_batch(self.rng, self.config, self.size, self.draw)
        try:
            while len(self._pending) < self.depth:
                ws, chars = sample_batch(self._ahead, self.config, self.size)
                step = -(-len(chars) // self.workers)
                futures = [self._pool.submit(_draw_all, self.draw, chars[i : i + step]) for i in range(0, len(chars), step)]
                self._pending.append(_Pending(ws, chars, futures, self._ahead.get_state()))
            item = self._pending.popleft()
            images = [image for future in item.images for image in future.result()]
        except BrokenProcessPool as exc:
            self.close()
            raise TrainingError(
                f"a process drawing training batches ended unexpectedly ({exc}); the run can continue with "
                "--resume, with fewer --draw-workers (memory) or --draw-workers 0"
            ) from None
        self.rng.set_state(item.rng_state_after)
        return Batch(item.ws, np.stack(images), item.characters)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()

    def __enter__(self) -> BatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
