"""How many CPU cores other programs are using right now, and how many threads that leaves Castmaker.

Why (issue 13): OpenMP worker threads that spin while they wait are the fastest choice on an idle
machine, and 10-50x slower when other programs keep the cores busy, because the spinning threads fight
them (and each other) for cores. Waiting passively fixes the contended case but costs up to 1.9x on
an idle 2-core machine (each parallel op then pays a wake-up). So Castmaker keeps OpenMP's default
waiting and instead sizes its thread team to the cores other processes leave free: all requested
threads while the machine is idle, fewer (down to one, which never spins) while it is busy.

How: a daemon thread samples the kernel's per-CPU busy time (/proc/stat, the CPUs this process may run
on) and this process's own CPU time (`os.times`, every thread) every `SAMPLE_S`; over the last
`WINDOW_S`, other programs' busy cores = (busy CPU time of those CPUs - own CPU time) / wall time.
Linux only: elsewhere `available()` is False and main.py makes OpenMP wait passively instead.
No torch here: `renderer.engine.threads.share_cpu` applies the answer.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

PROC_STAT = Path("/proc/stat")
SAMPLE_S = 0.2  # seconds between samples
WINDOW_S = 1.0  # estimates average over about this long
# A thread is worth starting when at least this much of a core is free for it: with fewer free, it
# would mostly wait for a core (and spin while it waits). Also the hysteresis that keeps the count
# steady: our own threads squeeze other programs, which then look a little less busy than they are.
MIN_FREE_FOR_A_THREAD = 0.7


def parse_busy_ticks(stat_text: str, cpus: set[int] | None) -> tuple[int, int] | None:
    """(busy ticks, number of CPUs counted) of the given CPUs from /proc/stat text; None if none found.

    Busy = user + nice + system + irq + softirq + steal (the proc(5) fields 1, 2, 3, 6, 7, 8 of a
    `cpuN` line); idle and iowait are free time. cpus=None counts every `cpuN` line. Ticks are USER_HZ.
    """
    busy = 0
    count = 0
    for line in stat_text.splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        name, *fields = line.split()
        try:
            index = int(name[3:])
            values = [int(v) for v in fields[:8]]
        except ValueError:
            continue
        if cpus is not None and index not in cpus:
            continue
        values += [0] * (8 - len(values))
        user, nice, system, _idle, _iowait, irq, softirq, steal = values
        busy += user + nice + system + irq + softirq + steal
        count += 1
    return (busy, count) if count else None


def fair_thread_count(requested: int, others_busy: float | None, cpus: int, physical: int) -> int:
    """Threads to use: the requested count, lowered to the cores other programs leave free (at least 1).

    others_busy: cores other processes kept busy (0..cpus) or None when unknown (then `requested`).
    cpus: logical CPUs this process may use; physical: its physical cores (hyperthread siblings once).
    A free core counts when at least MIN_FREE_FOR_A_THREAD of it is free.
    """
    requested = max(1, int(requested))
    if others_busy is None or cpus < 1:
        return requested
    free_share = max(0.0, 1.0 - max(0.0, others_busy) / cpus)
    free_cores = max(1, physical) * free_share
    return max(1, min(requested, int(free_cores + 1.0 - MIN_FREE_FOR_A_THREAD)))


class OtherLoadMonitor:
    """Samples other programs' CPU use in a daemon thread; `others_busy()` reads the latest estimate."""

    def __init__(
        self,
        cpus: set[int] | None = None,
        sample_s: float = SAMPLE_S,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        own_cpu_s: Callable[[], float] | None = None,
        stat_text: Callable[[], str] | None = None,
    ) -> None:
        """cpus: the CPUs to watch (None: all). clock / own_cpu_s / stat_text replace the real sources in tests."""
        self.cpus = cpus
        self.sample_s = float(sample_s)
        self._clock = clock
        self._own_cpu_s = own_cpu_s or _own_cpu_seconds
        self._stat_text = stat_text or PROC_STAT.read_text
        self._samples: deque[tuple[float, float, float]] = deque(maxlen=max(2, round(window_s / sample_s) + 1))
        self._lock = threading.Lock()
        self._ticks = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        """Take one sample now (wall time, busy CPU seconds of our CPUs, own CPU seconds)."""
        parsed = parse_busy_ticks(self._stat_text(), self.cpus)
        if parsed is None:
            return
        own = self._own_cpu_s()
        with self._lock:
            self._samples.append((self._clock(), parsed[0] / self._ticks, own))

    def others_busy(self) -> float | None:
        """Cores other processes used over the sampled window, or None before two samples exist."""
        with self._lock:
            if len(self._samples) < 2:
                return None
            (t0, busy0, own0), (t1, busy1, own1) = self._samples[0], self._samples[-1]
        if t1 - t0 <= 0:
            return None
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / (t1 - t0))

    def start(self) -> None:
        if self._thread is None:
            self.sample()
            self._thread = threading.Thread(target=self._loop, name="castmaker-cpu-share", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.sample_s):
            try:
                self.sample()
            except OSError:
                return


DISABLE_ENV = "CASTMAKER_CPU_SHARE"  # "0" / "off": always use the full thread count (benchmarks, comparisons)


def _own_cpu_seconds() -> float:
    """User + system CPU seconds of this process, all its threads (not its children)."""
    times = os.times()
    return times.user + times.system


def available() -> bool:
    """True where other programs' CPU use can be measured (Linux /proc/stat) and DISABLE_ENV does not turn it off."""
    if os.environ.get(DISABLE_ENV, "").strip().lower() in ("0", "off", "false", "no"):
        return False
    try:
        return parse_busy_ticks(PROC_STAT.read_text(), None) is not None
    except OSError:
        return False


_monitor: OtherLoadMonitor | None = None
_monitor_lock = threading.Lock()


def monitor() -> OtherLoadMonitor | None:
    """The process's running monitor (started on first use), or None where not available()."""
    global _monitor
    with _monitor_lock:
        if _monitor is None and available():
            try:
                cpus = set(os.sched_getaffinity(0))
            except (AttributeError, OSError):
                cpus = None
            _monitor = OtherLoadMonitor(cpus)
            _monitor.start()
        return _monitor
