"""Issue 13, section 1: Castmaker sizes its CPU thread team to the cores other programs leave free.

The arithmetic is tested with injected samples; one test watches a real busy process through the real
/proc/stat (Linux only). No wall-clock limits: what is measured is which count gets chosen.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from renderer.engine import Engine, cpu_share
from renderer.engine import threads as threads_mod
from renderer.engine.bench import BUSY_LOOP
from tests.helpers.tiny import tiny_network

REPO = Path(__file__).resolve().parents[2]

STAT = """cpu  700 0 300 900 10 0 0 0 0 0
cpu0 100 0 50 400 5 0 0 0 0 0
cpu1 200 10 40 300 5 3 2 1 0 0
cpu2 400 0 210 200 0 0 0 0 0 0
intr 1 2 3
"""


def test_busy_ticks_count_user_nice_system_irq_softirq_and_steal_of_the_chosen_cpus() -> None:
    assert cpu_share.parse_busy_ticks(STAT, {0, 1}) == (150 + 256, 2)
    assert cpu_share.parse_busy_ticks(STAT, None) == (150 + 256 + 610, 3)
    assert cpu_share.parse_busy_ticks(STAT, {7}) is None
    assert cpu_share.parse_busy_ticks("intr 1 2\n", None) is None


@pytest.mark.parametrize(
    ("requested", "others", "cpus", "physical", "expected"),
    [
        (2, 0.0, 2, 2, 2),  # idle machine: every requested thread
        (2, 0.25, 2, 2, 2),  # a light program: still a core's worth free
        (2, 0.67, 2, 2, 1),  # a busy program squeezed by our own two threads
        (2, 1.0, 2, 2, 1),  # one busy process per core ...
        (2, 2.0, 2, 2, 1),  # ... and more: never below one thread
        (2, None, 2, 2, 2),  # not measured yet: as requested
        (1, 0.0, 2, 2, 1),  # never above the requested count
        (8, 3.0, 8, 8, 5),
        (4, 4.0, 8, 4, 2),  # hyperthreads: half the logical CPUs busy leaves half the physical cores
    ],
)
def test_fair_thread_count(requested: int, others: float | None, cpus: int, physical: int, expected: int) -> None:
    assert cpu_share.fair_thread_count(requested, others, cpus, physical) == expected


class FakeSources:
    """A clock, this process's CPU seconds and /proc/stat text that a test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0
        self.own = 5.0
        self.busy_ticks = 10_000

    def stat(self) -> str:
        return f"cpu0 {self.busy_ticks} 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0\n"

    def advance(self, seconds: float, busy_cores: float, own_cores: float) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        self.now += seconds
        self.busy_ticks += round(busy_cores * seconds * ticks)
        self.own += own_cores * seconds


def test_others_busy_is_all_busy_time_less_this_processs_own_over_the_window() -> None:
    src = FakeSources()
    mon = cpu_share.OtherLoadMonitor({0, 1}, sample_s=0.25, window_s=1.0, clock=lambda: src.now, own_cpu_s=lambda: src.own, stat_text=src.stat)
    mon.sample()
    assert mon.others_busy() is None  # one sample is no rate yet
    for _ in range(4):
        src.advance(0.25, busy_cores=1.8, own_cores=1.0)  # we use a core, others 0.8 of one
        mon.sample()
    assert mon.others_busy() == pytest.approx(0.8, abs=0.02)
    for _ in range(4):  # the window slides: only the last second counts
        src.advance(0.25, busy_cores=1.0, own_cores=1.0)
        mon.sample()
    assert mon.others_busy() == pytest.approx(0.0, abs=0.02)


class FixedLoad:
    def __init__(self, others: float | None) -> None:
        self.cpus = {0, 1}
        self.others = others

    def others_busy(self) -> float | None:
        return self.others


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    ceiling = threads_mod._ceiling
    yield
    torch.set_num_threads(before)
    threads_mod._ceiling = ceiling


def test_share_cpu_lowers_the_count_while_others_are_busy_and_restores_it(
    monkeypatch: pytest.MonkeyPatch, restore_threads: None
) -> None:
    load = FixedLoad(1.5)
    monkeypatch.setattr(cpu_share, "monitor", lambda: load)
    monkeypatch.setattr(threads_mod, "physical_cores", lambda: 2)
    threads_mod.set_threads(2)
    assert threads_mod.share_cpu() == 1 and torch.get_num_threads() == 1
    load.others = 0.0
    assert threads_mod.share_cpu() == 2 and torch.get_num_threads() == 2
    threads_mod.set_threads(1)  # the user's (or --threads) count is the ceiling
    assert threads_mod.share_cpu() == 1


def test_share_cpu_respects_a_count_set_directly_and_code_that_never_chose(
    monkeypatch: pytest.MonkeyPatch, restore_threads: None
) -> None:
    monkeypatch.setattr(cpu_share, "monitor", lambda: FixedLoad(1.5))
    threads_mod._ceiling = None  # nobody called set_threads: a library user's own count stands
    torch.set_num_threads(2)
    assert threads_mod.share_cpu() == 2 and torch.get_num_threads() == 2
    threads_mod.set_threads(2)
    torch.set_num_threads(2)
    threads_mod.share_cpu()
    torch.set_num_threads(2)  # e.g. a test fixture that pins the count after Castmaker chose one
    assert threads_mod.share_cpu() == 2 and torch.get_num_threads() == 2


def test_share_cpu_leaves_the_count_alone_where_load_cannot_be_measured(
    monkeypatch: pytest.MonkeyPatch, restore_threads: None
) -> None:
    monkeypatch.setattr(cpu_share, "monitor", lambda: None)
    threads_mod.set_threads(2)
    assert threads_mod.share_cpu() == 2 and torch.get_num_threads() == 2


def test_the_switch_turns_measuring_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cpu_share.DISABLE_ENV, "0")
    assert not cpu_share.available()


def test_every_cpu_render_asks_for_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr("renderer.engine.engine.share_cpu", lambda: calls.append(1))
    engine = Engine(tiny_network(), device="cpu")
    engine.render_ws(engine.map_seed(0), use_cache=False)
    assert calls, "a CPU render ran without sizing its thread team"
    calls.clear()
    engine.render_ws(engine.map_seed(1) + np.float32(0.1))  # the cached, step-by-step path too
    assert calls


@pytest.mark.skipif(not cpu_share.available(), reason="needs Linux /proc/stat")
def test_a_real_busy_process_is_seen_while_we_work_too() -> None:
    mon = cpu_share.OtherLoadMonitor(set(os.sched_getaffinity(0)), sample_s=0.1, window_s=0.6)
    proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        mon.sample()
        end = time.monotonic() + 0.8
        while time.monotonic() < end:  # our own busy work: excluded by the own-CPU-time term
            sum(range(20_000))
            mon.sample()
            time.sleep(0.05)
        others = mon.others_busy()
    finally:
        proc.kill()
        proc.wait()
    # The busy process wants a whole core; on any machine it gets at least half of one while we mostly
    # sleep, and other programs can only add to what is seen.
    assert others is not None and others >= 0.5


def test_main_keeps_openmp_spinning_where_load_is_measured() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run(
        [sys.executable, "-c", "import main, os; print(os.environ.get('OMP_WAIT_POLICY'))"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert out == ("None" if Path("/proc/stat").is_file() else "PASSIVE")
