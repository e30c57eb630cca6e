"""RenderWorker: the one thread that owns the Engine and runs every forward pass and optimisation step.

Why: the UI thread must never block on the network. The UI posts work; the worker keeps
  * one pending network load (loading replaces the engine only on success),
  * one pending render request (a newer recipe supersedes an older one: latest wins, the old is dropped),
  * a queue of long jobs (projection, export renders) that may be cancelled; while a job runs, its
    progress callbacks serve any pending render so sliders stay live,
  * a low-priority, de-duplicated queue of thumbnails, rendered in small batches between renders.
Results and errors come back as Qt signals (queued to the UI thread).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThread, Signal

from editor.document import NetworkInfo, row_factors_of, row_sizes_from_steps
from renderer.latents import Recipe, Source

log = logging.getLogger(__name__)

THUMB_CHUNK = 4


@dataclass
class WorkerStats:
    """Counters for the status bar and the UI bench."""

    posted: int = 0  # render requests received
    rendered: int = 0  # frames delivered
    dropped: int = 0  # requests superseded before they were rendered
    failed: int = 0
    thumbnails: int = 0


@dataclass
class JobContext:
    """What a job function gets: the engine, a progress reporter and a cancellation check."""

    engine: Any
    report: Callable[[Any], None]
    should_stop: Callable[[], bool]


def network_info(network: Any, device_name: str) -> NetworkInfo:
    """Plain description of a loaded Network for the UI (read in the worker, where the module lives)."""
    steps = getattr(network.G.synthesis, "steps", [])
    return NetworkInfo(
        name=network.name,
        source=network.source,
        fingerprint=network.fingerprint,
        kind=network.kind,
        num_ws=network.num_ws,
        w_dim=network.w_dim,
        img_resolution=network.img_resolution,
        img_channels=network.img_channels,
        c_dim=network.c_dim,
        is_demo=bool(network.is_demo),
        preset_key=network.preset_key,
        device_name=device_name,
        row_sizes=row_sizes_from_steps(steps, network.num_ws),
        row_factors=row_factors_of(network.extra, network.num_ws),
    )


def _default_loader(source: str) -> Any:
    from renderer import load_network

    return load_network(source)


def _default_engine(network: Any, device: str) -> Any:
    from renderer.engine import Engine

    return Engine(network, device)


_job_numbers = itertools.count(1)


def new_job_id(prefix: str) -> str:
    """A job id no other job of this process has ('export-12'): a panel's cancel and results never hit another's."""
    return f"{prefix}-{next(_job_numbers)}"


class RenderWorker(QThread):
    """Owns the Engine; see the module docstring for the scheduling rules."""

    networkLoaded = Signal(object)  # NetworkInfo
    networkFailed = Signal(str, str)  # source, message
    frameReady = Signal(int, object)  # request id, RenderResult
    renderFailed = Signal(int, str)  # request id, message
    thumbnailsReady = Signal(object)  # list[(Source, uint8 image)]
    thumbnailsFailed = Signal(object, str)  # list[Source], message
    jobProgress = Signal(str, object)  # job id, payload
    jobFinished = Signal(str, object)  # job id, result
    jobFailed = Signal(str, str)  # job id, message (cancelled jobs report "cancelled")
    idle = Signal()  # nothing left to do

    def __init__(
        self,
        device: str = "auto",
        loader: Callable[[str], Any] | None = None,
        engine_factory: Callable[[Any, str], Any] | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.device = device
        self._loader = loader or _default_loader
        self._engine_factory = engine_factory or _default_engine
        self._cond = threading.Condition()
        self._stop = False
        self._load: str | None = None
        self._render: tuple[int, Recipe] | None = None
        self._thumbs: OrderedDict[Source, None] = OrderedDict()
        self._jobs: deque[tuple[str, Callable[[JobContext], Any]]] = deque()
        self._cancelled: set[str] = set()
        self._running_job: str | None = None
        self._busy = False
        self.engine: Any = None  # touched only on the worker thread
        self.stats = WorkerStats()
        self._next_id = 0

    # ------------------------------------------------------------------ posting (any thread)
    def load_network(self, source: str) -> None:
        """Load `source` and make it the engine's network (the old one stays if loading fails)."""
        with self._cond:
            self._load = source
            self._cond.notify()

    def post_render(self, recipe: Recipe) -> int:
        """Ask for a frame of `recipe`; returns its request id. A pending older request is dropped."""
        with self._cond:
            self._next_id += 1
            if self._render is not None:
                self.stats.dropped += 1
            self._render = (self._next_id, recipe)
            self.stats.posted += 1
            self._cond.notify()
            return self._next_id

    def request_thumbnails(self, sources: list[Source]) -> None:
        """Queue thumbnails (what each source renders alone); duplicates are merged."""
        with self._cond:
            for s in sources:
                self._thumbs[s] = None
            self._cond.notify()

    def clear_thumbnails(self) -> None:
        with self._cond:
            self._thumbs.clear()

    def submit_job(self, job_id: str, fn: Callable[[JobContext], Any]) -> None:
        """Run `fn(JobContext)` on the worker; its return value comes back through jobFinished."""
        with self._cond:
            self._cancelled.discard(job_id)
            self._jobs.append((job_id, fn))
            self._cond.notify()

    def cancel_job(self, job_id: str) -> None:
        with self._cond:
            self._cancelled.add(job_id)
            queued = [j for j in self._jobs if j[0] == job_id]
            for j in queued:
                self._jobs.remove(j)
        for _ in queued:
            self.jobFailed.emit(job_id, "cancelled")

    def is_busy(self) -> bool:
        """True while anything is queued or running (screenshot mode waits for False)."""
        with self._cond:
            return self._busy or self._has_work()

    def stop(self, wait_ms: int = 30000) -> None:
        """Finish the current task, drop the rest, and end the thread."""
        with self._cond:
            self._stop = True
            self._cancelled.update(j[0] for j in self._jobs)
            if self._running_job:
                self._cancelled.add(self._running_job)
            self._cond.notify()
        self.wait(wait_ms)

    # ------------------------------------------------------------------ the thread
    def _has_work(self) -> bool:
        return self._load is not None or self._render is not None or bool(self._jobs) or bool(self._thumbs)

    def run(self) -> None:  # noqa: D401 - QThread entry point
        while True:
            with self._cond:
                while not self._stop and not self._has_work():
                    self._cond.wait()
                if self._stop:
                    return
                self._busy = True
                task = self._take_task_locked()
            try:
                task()
            except Exception:  # a bug in a task must never kill the thread
                log.exception("render worker task failed")
            with self._cond:
                self._busy = False
                now_idle = not self._has_work()
            if now_idle:
                self.idle.emit()

    def _take_task_locked(self) -> Callable[[], None]:
        if self._load is not None:
            source, self._load = self._load, None
            return lambda: self._do_load(source)
        if self._render is not None:
            req, self._render = self._render, None
            return lambda: self._do_render(*req)
        if self._jobs:
            job = self._jobs.popleft()
            return lambda: self._do_job(*job)
        chunk = []
        while self._thumbs and len(chunk) < THUMB_CHUNK:
            chunk.append(self._thumbs.popitem(last=False)[0])
        return lambda: self._do_thumbnails(chunk)

    def _do_load(self, source: str) -> None:
        t0 = time.perf_counter()
        try:
            network = self._loader(source)
            engine = self._engine_factory(network, self.device)
            info = network_info(network, getattr(engine, "device_name", self.device))
        except Exception as exc:  # keep the previous engine
            log.info("loading %s failed: %s", source, exc)  # networkFailed carries it to the one place it is shown
            if not _is_expected(exc):
                log.debug("%s", traceback.format_exc())
            self.networkFailed.emit(source, _message(exc))
            return
        self.engine = engine
        with self._cond:
            self._thumbs.clear()  # thumbnails of the old network are meaningless now
        log.info("loaded %s in %.0f ms on %s", source, (time.perf_counter() - t0) * 1000, info.device_name)
        self.networkLoaded.emit(info)

    def _do_render(self, request_id: int, recipe: Recipe) -> None:
        if self.engine is None:
            self.renderFailed.emit(request_id, "no network is loaded yet: open a network first")
            return
        try:
            result = self.engine.render(recipe)
        except Exception as exc:
            self.stats.failed += 1
            if not _is_expected(exc):
                log.exception("render failed")
            self.renderFailed.emit(request_id, _message(exc))
            return
        self.stats.rendered += 1
        self.frameReady.emit(request_id, result)

    def _do_thumbnails(self, sources: list[Source]) -> None:
        if self.engine is None or not sources:
            return
        try:
            pairs = list(zip(sources, self.engine.render_thumbnails(sources), strict=True))
        except Exception as exc:
            if len(sources) == 1:
                if not _is_expected(exc):
                    log.exception("thumbnail failed")
                self.thumbnailsFailed.emit(sources, _message(exc))
                return
            # one bad source must not cost the others their thumbnails: retry them one by one
            pairs = []
            for s in sources:
                try:
                    pairs.append((s, self.engine.render_thumbnails([s])[0]))
                except Exception as one_exc:
                    if not _is_expected(one_exc):
                        log.exception("thumbnail failed")
                    self.thumbnailsFailed.emit([s], _message(one_exc))
        if pairs:
            self.stats.thumbnails += len(pairs)
            self.thumbnailsReady.emit(pairs)

    def _serve_pending_render(self) -> None:
        """Called from inside long jobs: deliver the newest requested frame between job steps."""
        with self._cond:
            req, self._render = self._render, None
        if req is not None:
            self._do_render(*req)

    def _do_job(self, job_id: str, fn: Callable[[JobContext], Any]) -> None:
        if self.engine is None:
            self.jobFailed.emit(job_id, "no network is loaded yet: open a network first")
            return
        with self._cond:
            if job_id in self._cancelled:
                return
            self._running_job = job_id

        def report(payload: Any) -> None:
            self.jobProgress.emit(job_id, payload)
            self._serve_pending_render()

        def should_stop() -> bool:
            self._serve_pending_render()
            with self._cond:
                return job_id in self._cancelled or self._stop

        try:
            result = fn(JobContext(engine=self.engine, report=report, should_stop=should_stop))
        except Exception as exc:
            if not _is_expected(exc):
                log.exception("job %s failed", job_id)
            self.jobFailed.emit(job_id, _message(exc))
        else:
            with self._cond:
                cancelled = job_id in self._cancelled
            if cancelled:
                self.jobFailed.emit(job_id, "cancelled")
            else:
                self.jobFinished.emit(job_id, result)
        finally:
            with self._cond:
                self._running_job = None
                self._cancelled.discard(job_id)


def _is_expected(exc: BaseException) -> bool:
    from renderer.errors import CastmakerError

    return isinstance(exc, CastmakerError)


def _message(exc: BaseException) -> str:
    """One line for the UI: our own errors speak for themselves; others get their type name."""
    if _is_expected(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
