"""A background thread that runs one job at a time, newest request first, so the UI never waits.

Why: the imgui frame loop must not run forward passes. The window submits what it wants to see every
time it changes; while a render runs, newer submissions replace the waiting one (latest request wins),
so dragging fast never builds a queue. The window polls for finished results once per frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from renderer.errors import CastmakerError

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Res = TypeVar("Res")


@dataclass(frozen=True)
class JobFailure(Generic[Req]):
    """A job that raised: the request it was for and a one-line message for the status bar."""

    request: Req
    message: str


class RenderThread(Generic[Req, Res]):
    """Runs `job(request)` on a daemon thread; `submit` replaces any request not yet started."""

    def __init__(self, job: Callable[[Req], Res], name: str = "castmaker-viewer-render") -> None:
        self._job = job
        self._cond = threading.Condition()
        self._pending: tuple[Req] | None = None  # 1-tuple so that None can be a request
        self._result: Res | JobFailure[Req] | None = None
        self._busy = False
        self._stopping = False
        self.completed = 0  # jobs finished (results produced), for tests and the status line
        self.superseded = 0  # requests replaced before they started
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, request: Req) -> None:
        """Ask for `request` to be rendered next; a request still waiting is dropped."""
        with self._cond:
            if self._stopping:
                raise RuntimeError("render thread is stopped")
            if self._pending is not None:
                self.superseded += 1
            self._pending = (request,)
            self._cond.notify_all()

    def poll(self) -> Res | JobFailure[Req] | None:
        """The newest finished result not yet taken (older unread ones are dropped), or None."""
        with self._cond:
            result, self._result = self._result, None
            return result

    @property
    def busy(self) -> bool:
        """True while a job runs or a request waits."""
        with self._cond:
            return self._busy or self._pending is not None

    def wait_idle(self, timeout: float) -> bool:
        """Block until no job runs and none waits (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy or self._pending is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def stop(self, timeout: float = 10.0) -> None:
        """Drop any waiting request, let the running job finish, end the thread."""
        with self._cond:
            self._stopping = True
            self._pending = None
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("render thread still busy after %.0f s; leaving it to end with the process", timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                (request,) = self._pending
                self._pending = None
                self._busy = True
            try:
                result: Res | JobFailure[Req] = self._job(request)
            except CastmakerError as exc:
                result = JobFailure(request, str(exc))
            except Exception as exc:  # a bug or a device failure: keep the window alive, say what happened
                log.exception("viewer render failed")
                result = JobFailure(request, f"{type(exc).__name__}: {exc}")
            with self._cond:
                self._result = result
                self._busy = False
                self.completed += 1
                self._cond.notify_all()
