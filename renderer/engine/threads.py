"""How many CPU threads Castmaker's torch work uses, and one place that sets it.

Why: torch starts one OpenMP worker per core, and OpenMP workers spin while they wait. On an idle
machine that is the fastest choice; when other programs keep the cores busy, spinning workers fight them
for cores and everything runs 10-50x slower (issue 13). Waiting passively fixes that but costs 1.6-1.9x
on an idle 2-core machine. So (Linux) Castmaker keeps the spinning wait and shrinks its team instead:
`share_cpu()`, called before each unit of CPU work, uses the count chosen here, lowered to the cores
other programs leave free (`cpu_share`). Where that cannot be measured, main.py makes workers wait
passively. Counts, decided by measurement on the 2-core test machine (issue 13 notes; re-run with
`python main.py --threads N bench --contended K` and `--ui`):
- the editor and headless commands use every usable core (on an idle machine one thread fewer costs
  up to 1/cores of the speed, against the target of at most 5 % slower idle);
- the imgui viewer (a software OpenGL context renders in the same process) and training (hours in the
  background, often two runs side by side) keep their earlier rule: every core but one. Training does
  not share_cpu (a resumed run must compute the same steps, so its count stays fixed); main.py makes
  its threads wait passively instead.

Precedence, highest first: `--threads N` on the command line, the OMP_NUM_THREADS environment variable
(the user's own setting for every OpenMP program), the editor's "CPU threads" setting, the default;
the result is a ceiling that share_cpu only ever lowers.
torch's thread count is per thread once a thread has run a parallel op (OpenMP keeps it per thread):
set_threads acts on the calling thread and on threads that have not run one yet, so a long-lived
worker thread (the editor's RenderWorker) must set it itself (editor/ui/threads_menu.py does).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

import torch

from renderer import cpu_share
from renderer.cpu_share import physical_cores, usable_cores  # noqa: F401 - usable_cores is part of this module's API
from renderer.errors import CastmakerError


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


_ceiling: int | None = None  # the count set_threads was last given: share_cpu never goes above it
_local = threading.local()  # .applied: the count set_threads / share_cpu last set in this thread


def set_threads(count: int) -> int:
    """Set torch's intra-op thread count for this thread (and threads not yet started); returns the previous count.

    The count is also the ceiling share_cpu() works under.
    """
    global _ceiling
    count = int(check_threads(count) or 1)
    _ceiling = count
    before = torch.get_num_threads()
    if count != before:
        torch.set_num_threads(count)
    _local.applied = count
    return before


def share_cpu() -> int:
    """Lower (or restore) this thread's torch thread count to the cores other programs leave free.

    Called before each unit of CPU work (a render, a projection step): the count is the one set_threads
    chose, lowered while other processes keep cores busy (`cpu_share.fair_thread_count`, measured by
    `cpu_share.monitor`; Linux only, elsewhere the count is left alone). Code that never called
    set_threads, or that set torch's count itself since, is left alone too. Returns the count in use.
    """
    current = torch.get_num_threads()
    applied = getattr(_local, "applied", None)
    if _ceiling is None or (applied is not None and current != applied):
        return current
    mon = cpu_share.monitor() if _ceiling > 1 else None
    count = _ceiling
    if mon is not None:
        count = cpu_share.fair_thread_count(_ceiling, mon.others_busy(wait=True), mon.cpu_count, mon.physical)
    if count != current:
        torch.set_num_threads(count)
    _local.applied = count
    return count


@contextlib.contextmanager
def cpu_threads(requested: int | None = None, setting: int | None = None, leave_a_core: bool = False) -> Iterator[int]:
    """Use resolve_threads(...) threads inside the block, and the previous count after."""
    global _ceiling
    ceiling = _ceiling
    before = set_threads(resolve_threads(requested, setting, leave_a_core))
    try:
        yield torch.get_num_threads()
    finally:
        set_threads(before)
        _ceiling = ceiling
