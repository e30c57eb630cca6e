"""Per-stage wall-clock times, summed over every character a run makes (printed at the end of `generate`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("render", "cleanup", "projection", "expressions", "write", "export")


class StageTimes:
    """Seconds spent per stage; `with times.stage("render"): ...` adds to it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
            self.counts[name] = self.counts.get(name, 0) + 1

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def summary(self) -> str:
        """'render 0.41 s | cleanup 0.02 s | ... | total 12.3 s' in pipeline order."""
        order = [s for s in STAGES if s in self.seconds] + sorted(set(self.seconds) - set(STAGES))
        parts = [f"{name} {self.seconds[name]:.2f} s" for name in order]
        return " | ".join(parts + [f"total {self.total:.2f} s"])
