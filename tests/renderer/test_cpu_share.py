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

from renderer import cpu_share
from renderer.engine import Engine
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

        self.online = 2  # CPUs listed in /proc/stat

    def stat(self) -> str:
        return f"cpu0 {self.busy_ticks} 0 0 0 0 0 0 0\n" + "cpu1 0 0 0 0 0 0 0 0\n" * (self.online - 1)

    def advance(self, seconds: float, busy_cores: float, own_cores: float) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        self.now += seconds
        self.busy_ticks += round(busy_cores * seconds * ticks)
        self.own += own_cores * seconds


def fake_monitor(src: FakeSources) -> cpu_share.OtherLoadMonitor:
    return cpu_share.OtherLoadMonitor(
        {0, 1}, physical=2, sample_s=0.25, window_s=1.0, clock=lambda: src.now, own_cpu_s=lambda: src.own, stat_text=src.stat
    )


def test_others_busy_is_all_busy_time_less_this_processs_own_over_the_window() -> None:
    src = FakeSources()
    mon = fake_monitor(src)
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


def test_an_estimate_goes_stale_when_sampling_stops() -> None:
    src = FakeSources()
    mon = fake_monitor(src)
    for _ in range(5):
        mon.sample()
        src.advance(0.25, busy_cores=2.0, own_cores=0.0)
    assert mon.others_busy() == pytest.approx(2.0, abs=0.05)
    src.now += cpu_share.STALE_S + 0.1  # no sample since: the machine may be idle by now
    assert mon.others_busy() is None


def test_a_change_in_the_cpus_found_restarts_the_window() -> None:
    src = FakeSources()
    mon = fake_monitor(src)
    mon.sample()
    src.advance(0.25, busy_cores=0.5, own_cores=0.0)
    mon.sample()
    src.online = 1  # a CPU went offline: busy sums over different CPUs are not comparable
    mon.sample()
    assert mon.others_busy() is None
    src.advance(0.25, busy_cores=0.5, own_cores=0.0)
    mon.sample()
    assert mon.others_busy() == pytest.approx(0.5, abs=0.05)


@pytest.mark.skipif(not cpu_share.PROC_STAT.is_file(), reason="needs Linux /proc/stat")
def test_the_first_estimate_waits_one_interval_instead_of_guessing() -> None:
    mon = cpu_share.OtherLoadMonitor(set(os.sched_getaffinity(0)), sample_s=0.05)
    mon.sample()
    assert mon.others_busy() is None
    assert mon.others_busy(wait=True) is not None


def test_containers_that_renumber_proc_stat_watch_every_cpu_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_share, "_affinity", lambda: {40, 41})  # host numbers; /proc/stat says cpu0..cpu2
    assert cpu_share._watched_cpus(STAT) is None
    monkeypatch.setattr(cpu_share, "_affinity", lambda: {0, 2})
    assert cpu_share._watched_cpus(STAT) == {0, 2}
    assert cpu_share._watched_cpus("intr 1\n") is False


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_a_cgroup_cpu_quota_caps_the_cores(tmp_path, monkeypatch: pytest.MonkeyPatch, files: dict, expected: float | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(cpu_share, "CGROUP_ROOT", tmp_path)
    assert cpu_share.cgroup_cpu_quota() == expected
    if expected is not None:
        assert cpu_share.usable_cores() <= max(1, int(np.ceil(expected)))


class FixedLoad:
    def __init__(self, others: float | None) -> None:
        self.cpu_count = 2
        self.physical = 2
        self.others = others

    def others_busy(self, wait: bool = False) -> float | None:
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
    monkeypatch.setenv(cpu_share.DISABLE_ENV, "0")  # (the suite's conftest sets it too)
    assert not cpu_share.available()
    monkeypatch.delenv(cpu_share.DISABLE_ENV)
    assert cpu_share.available() == (cpu_share._watched_cpus(cpu_share.PROC_STAT.read_text()) is not False
                                     if cpu_share.PROC_STAT.is_file() else False)


def test_every_cpu_render_asks_for_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr("renderer.engine.engine.share_cpu", lambda: calls.append(1))
    engine = Engine(tiny_network(), device="cpu")
    engine.render_ws(engine.map_seed(0), use_cache=False)
    assert calls, "a CPU render ran without sizing its thread team"
    calls.clear()
    engine.render_ws(engine.map_seed(1) + np.float32(0.1))  # the cached, step-by-step path too
    assert calls


@pytest.mark.skipif(not cpu_share.PROC_STAT.is_file(), reason="needs Linux /proc/stat")
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


@pytest.mark.parametrize(
    ("argv", "command"),
    [([], None), (["render", "--seed", "1"], "render"), (["--threads", "2", "train", "cast-tiny"], "train"), (["--screenshot"], None)],
)
def test_main_finds_the_command(argv: list[str], command: str | None) -> None:
    import main

    assert main._command(argv) == command


@pytest.mark.parametrize("argv", [["render"], ["--threads", "1", "train", "cast-sprite"], []])
def test_main_keeps_openmp_spinning_where_load_is_measured_except_for_training(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(cpu_share.DISABLE_ENV, raising=False)
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", cpu_share.DISABLE_ENV)}
    code = f"import main, os; main._choose_openmp_wait({argv!r}); print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout.strip()
    spinning = cpu_share.available() and "train" not in argv
    assert out == ("None" if spinning else "PASSIVE")
