"""How many CPU threads Castmaker's torch work uses, and one place that sets it.

Why: torch starts one OpenMP worker per core. What made Castmaker a bad neighbour was the waiting
policy (workers spinning while they wait: 10-50x slower under load, issue 13); main.py makes them wait
passively, so a worker gives its core back the moment it waits. The count, decided by measurement on
the 2-core test machine (issue 13 report; re-run with `python main.py --threads N bench --contended K`
and `python main.py --threads N bench --ui`, N = 1 and 2):
- the editor and headless commands use every usable core. With passive waiting, one thread fewer did
  not give the editor's UI thread measurably more room (1.1-1.5 ms per slider step either way) but
  delivered fewer preview frames, idle and with a busy process per core, and on an idle machine it
  costs up to 1/cores of the speed (half on 2 cores), against the target of at most 5 % slower idle;
- the imgui viewer (a software OpenGL context renders in the same process) and training (hours in the
  background, often two runs side by side) keep their earlier rule: every core but one.

Precedence, highest first: `--threads N` on the command line, the OMP_NUM_THREADS environment variable
(the user's own setting for every OpenMP program), the editor's "CPU threads" setting, the default.
torch's thread count is per thread once a thread has run a parallel op (OpenMP keeps it per thread):
set_threads acts on the calling thread and on threads that have not run one yet, so a long-lived
worker thread (the editor's RenderWorker) must set it itself (editor/ui/threads_menu.py does).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from renderer.errors import CastmakerError


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS / Windows: no affinity mask
        return max(1, os.cpu_count() or 1)


def physical_cores() -> int:
    """Physical cores among the usable CPUs (hyperthread siblings count once), at least 1.

    Why: torch's own default is one thread per physical core (a second thread on a hyperthread sibling
    slows convolutions down); this keeps that while honouring the affinity mask. Linux reads the CPU
    topology from /sys; elsewhere, or if it cannot be read, the usable core count.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
        root = Path("/sys/devices/system/cpu")
        cores = {
            ((root / f"cpu{c}/topology/physical_package_id").read_text().strip(), (root / f"cpu{c}/topology/core_id").read_text().strip())
            for c in cpus
        }
        return max(1, len(cores))
    except (AttributeError, OSError, ValueError):
        return usable_cores()


def default_threads(cores: int | None = None, leave_a_core: bool = False) -> int:
    """Threads used when nobody chose: every usable physical core, or every core but one with
    leave_a_core (the viewer, training; 1 on a 1- or 2-core machine)."""
    cores = physical_cores() if cores is None else int(cores)
    return max(1, cores - 1) if leave_a_core else max(1, cores)


def env_threads() -> int | None:
    """OMP_NUM_THREADS when it holds a positive integer (the user's setting), else None."""
    text = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def check_threads(value: int | None, what: str = "--threads") -> int | None:
    """Return value unchanged if None or >= 1; otherwise raise CastmakerError saying what to give."""
    if value is not None and int(value) < 1:
        raise CastmakerError(f"{what} must be 1 or more (the number of CPU threads for torch), got {value}")
    return None if value is None else int(value)


def resolve_threads(requested: int | None = None, setting: int | None = None, leave_a_core: bool = False) -> int:
    """The thread count to use: requested (--threads) > OMP_NUM_THREADS > setting (editor) > default
    (default_threads(leave_a_core=leave_a_core)).

    requested / setting: None or 0 mean "not chosen". Raises CastmakerError for a negative value.
    """
    check_threads(requested)
    if requested:
        return int(requested)
    from_env = env_threads()
    if from_env is not None:
        return from_env
    if setting:
        return int(check_threads(setting, "the CPU threads setting") or 0)
    return default_threads(leave_a_core=leave_a_core)


def set_threads(count: int) -> int:
    """Set torch's intra-op thread count for this thread (and threads not yet started); returns the previous count."""
    count = int(check_threads(count) or 1)
    before = torch.get_num_threads()
    if count != before:
        torch.set_num_threads(count)
    return before


@contextlib.contextmanager
def cpu_threads(requested: int | None = None, setting: int | None = None, leave_a_core: bool = False) -> Iterator[int]:
    """Use resolve_threads(...) threads inside the block, and the previous count after."""
    before = set_threads(resolve_threads(requested, setting, leave_a_core))
    try:
        yield torch.get_num_threads()
    finally:
        set_threads(before)
