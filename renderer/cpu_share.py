"""How many CPU cores Castmaker may use, how many other programs are using, and what that leaves.

Why (issue 13): OpenMP worker threads that spin while they wait are the fastest choice on an idle
machine, and 10-50x slower when other programs keep the cores busy, because the spinning threads fight
them (and each other) for cores. Waiting passively fixes the contended case but costs up to 1.9x on
an idle 2-core machine (each parallel op then pays a wake-up). So Castmaker keeps OpenMP's default
waiting for its renders and instead sizes its thread team to the cores other processes leave free:
all requested threads while the machine is idle, fewer (down to one, which never spins) while busy.

How: a daemon thread samples the kernel's per-CPU busy time (/proc/stat, the CPUs this process may run
on) and this process's own CPU time (`os.times`, every thread) every `SAMPLE_S`; over the last
`WINDOW_S`, other programs' busy cores = (busy CPU time of those CPUs - own CPU time) / wall time.
Linux only: elsewhere `available()` is False and main.py makes OpenMP wait passively instead.
No torch here (main.py imports this before torch): `renderer.engine.threads.share_cpu` applies it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

PROC_STAT = Path("/proc/stat")
CGROUP_ROOT = Path("/sys/fs/cgroup")
SAMPLE_S = 0.2  # seconds between samples
WINDOW_S = 1.0  # estimates average over about this long
STALE_S = 2 * WINDOW_S  # an estimate whose newest sample is older than this is no estimate
# A thread is worth starting when at least this much of a core is free for it: with less, it would
# mostly wait for a core (and spin while it waits). Our own threads squeeze other programs, which then
# look a little less busy than they are; the margin keeps a count from being raised on that alone.
MIN_FREE_FOR_A_THREAD = 0.7
DISABLE_ENV = "CASTMAKER_CPU_SHARE"  # "0" / "off": always use the full thread count (benchmarks, comparisons)


# ---------------------------------------------------------------------------------------- cores


def cgroup_cpu_quota() -> float | None:
    """Cores' worth of CPU time a cgroup quota allows this process (`docker --cpus`, a Kubernetes limit), or None.

    Reads cgroup v2 `cpu.max` ("QUOTA PERIOD" or "max PERIOD") or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
    """
    try:
        quota, period = (CGROUP_ROOT / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else max(float(quota) / float(period), 0.01)
    except (OSError, ValueError):
        pass
    try:
        quota_us = float((CGROUP_ROOT / "cpu/cpu.cfs_quota_us").read_text())
        period_us = float((CGROUP_ROOT / "cpu/cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 or period_us <= 0 else max(quota_us / period_us, 0.01)
    except (OSError, ValueError):
        return None


def _quota_cap(count: int) -> int:
    quota = cgroup_cpu_quota()
    return count if quota is None else max(1, min(count, math.ceil(quota)))


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one, capped by a cgroup CPU quota), >= 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS / Windows: no affinity mask
        count = os.cpu_count() or 1
    return _quota_cap(max(1, count))


def physical_cores() -> int:
    """Physical cores among the usable CPUs (hyperthread siblings count once, quota cap as usable_cores), >= 1.

    Why: torch's own default is one thread per physical core (a second thread on a hyperthread sibling
    slows convolutions down); this keeps that while honouring the affinity mask. Linux reads the CPU
    topology from /sys; elsewhere, or if it cannot be read, the usable core count.
    """
    try:
        root = Path("/sys/devices/system/cpu")
        cores = {
            ((root / f"cpu{c}/topology/physical_package_id").read_text().strip(), (root / f"cpu{c}/topology/core_id").read_text().strip())
            for c in sorted(os.sched_getaffinity(0))
        }
        return _quota_cap(max(1, len(cores)))
    except (AttributeError, OSError, ValueError):
        return usable_cores()


# ---------------------------------------------------------------------------------------- load


def parse_busy_ticks(stat_text: str, cpus: set[int] | None) -> tuple[int, int] | None:
    """(busy ticks, number of CPUs counted) of the given CPUs from /proc/stat text; None if none found.

    Busy = user + nice + system + irq + softirq + steal (the proc(5) fields 1, 2, 3, 6, 7, 8 of a
    `cpuN` line; guest time is already inside user); idle and iowait are free time. cpus=None counts
    every `cpuN` line. Ticks are USER_HZ (os.sysconf("SC_CLK_TCK") per second).
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
    cpus: logical CPUs watched; physical: physical cores among them (hyperthread siblings once).
    A core counts as free when at least MIN_FREE_FOR_A_THREAD of it is free.
    """
    requested = max(1, int(requested))
    if others_busy is None or cpus < 1:
        return requested
    free_share = max(0.0, 1.0 - max(0.0, others_busy) / cpus)
    free_cores = max(1, physical) * free_share
    return max(1, min(requested, int(free_cores + 1.0 - MIN_FREE_FOR_A_THREAD)))


def _own_cpu_seconds() -> float:
    """User + system CPU seconds of this process, all its threads (not its children)."""
    times = os.times()
    return times.user + times.system


class OtherLoadMonitor:
    """Samples other programs' CPU use in a daemon thread; `others_busy()` reads the latest estimate.

    cpus: the /proc/stat CPU numbers to watch (None: every CPU listed); physical: physical cores among
    them. clock / own_cpu_s / stat_text replace the real sources in tests.
    """

    def __init__(
        self,
        cpus: set[int] | None = None,
        physical: int | None = None,
        sample_s: float = SAMPLE_S,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        own_cpu_s: Callable[[], float] | None = None,
        stat_text: Callable[[], str] | None = None,
    ) -> None:
        self.cpus = cpus
        self.sample_s = float(sample_s)
        self._clock = clock
        self._own_cpu_s = own_cpu_s or _own_cpu_seconds
        self._stat_text = stat_text or PROC_STAT.read_text
        self._samples: deque[tuple[float, float, float]] = deque(maxlen=max(2, round(window_s / sample_s) + 1))
        self._counted: int | None = None
        self.cpu_count = len(cpus) if cpus else 0
        self.physical = physical if physical is not None else max(1, self.cpu_count)
        self._lock = threading.Lock()
        self._ticks = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failed = False

    def sample(self) -> None:
        """Take one sample now: wall time, busy CPU seconds of the watched CPUs, own CPU seconds.

        When the number of CPUs found changes (hot-plug), the window starts again, since busy time
        summed over different CPUs cannot be differenced.
        """
        parsed = parse_busy_ticks(self._stat_text(), self.cpus)
        if parsed is None:
            raise OSError("/proc/stat lists none of the CPUs this process runs on")
        own = self._own_cpu_s()
        with self._lock:
            if parsed[1] != self._counted:
                self._samples.clear()
                self._counted = parsed[1]
                self.cpu_count = parsed[1]
            self._samples.append((self._clock(), parsed[0] / self._ticks, own))

    def others_busy(self, wait: bool = False) -> float | None:
        """Cores other processes used over the sampled window; None before two samples or when sampling stopped.

        wait=True: if only the first sample exists, wait until one sampling interval has passed and take
        the second (the first render of a command then already sees the machine's load).
        """
        if wait:
            with self._lock:
                first = self._samples[0][0] if len(self._samples) == 1 else None
            if first is not None and not self.failed:
                time.sleep(max(0.0, self.sample_s - (self._clock() - first)))
                try:
                    self.sample()
                except OSError:
                    pass
        with self._lock:
            if len(self._samples) < 2:
                return None
            (t0, busy0, own0), (t1, busy1, own1) = self._samples[0], self._samples[-1]
        if t1 - t0 <= 0 or self._clock() - t1 > STALE_S:
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
            except Exception as exc:  # noqa: BLE001 - any failure ends sampling; estimates then go stale
                self.failed = True
                log.warning("CPU sharing stopped measuring other programs' load (%s): using the full thread count", exc)
                return


def _affinity() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _watched_cpus(stat_text: str) -> set[int] | None | bool:
    """The CPU set to watch: the affinity mask if /proc/stat lists those CPUs, else every CPU listed
    (containers that renumber /proc/stat), or False when /proc/stat lists none."""
    mask = _affinity()
    if mask is not None and parse_busy_ticks(stat_text, mask) is not None:
        return mask
    return None if parse_busy_ticks(stat_text, None) is not None else False


def available() -> bool:
    """True where other programs' CPU use can be measured (Linux /proc/stat) and DISABLE_ENV does not turn it off.

    Torch-free: main.py asks this before torch loads, to choose OpenMP's waiting policy.
    """
    return _enabled() and _watched_or_false() is not False


def _enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("0", "off", "false", "no")


def _watched_or_false() -> set[int] | None | bool:
    """`_watched_cpus` of the live /proc/stat, False when it cannot be read."""
    try:
        return _watched_cpus(PROC_STAT.read_text())
    except OSError:
        return False


_monitor: OtherLoadMonitor | None = None
_monitor_lock = threading.Lock()


def monitor() -> OtherLoadMonitor | None:
    """The process's running monitor (started on first use), or None where not available()."""
    global _monitor
    with _monitor_lock:
        if _monitor is None and _enabled():
            watched = _watched_or_false()  # read and parsed once, not again by available()
            if watched is False:
                return None
            try:
                mon = OtherLoadMonitor(watched, physical=physical_cores())
                mon.start()
            except OSError:
                return None
            _monitor = mon
        return _monitor
