"""Issue 13, section 1: a global --threads N, the default thread count, and `bench --contended K`.

No wall-clock limits are asserted: the contended bench's numbers are for people to read, these tests
check that it runs, reports every figure with its ratio, and always ends its busy processes.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch

from editor.cli import build_parser, cmd_bench, cmd_info
from editor.cli import run as cli
from renderer.engine import Engine
from renderer.engine import bench as engine_bench
from renderer.engine import threads as threads_mod
from renderer.errors import CastmakerError
from tests.helpers.tiny import tiny_network


@pytest.fixture
def no_env_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_every_command_takes_threads_before_or_after_the_subcommand() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in sub.choices.items():
        assert any("--threads" in a.option_strings for a in subparser._actions), name
    assert parser.parse_args(["--threads", "3", "info", "demo-face"]).global_threads == 3
    assert parser.parse_args(["info", "demo-face", "--threads", "2"]).threads == 2


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_bad_thread_counts_get_one_clear_line(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["render", "--threads", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--threads" in err and "1 or more" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv,expected", [(["--threads", "1", "info", "x"], 1), (["info", "x", "--threads", "3"], 3)])
def test_threads_option_sets_torchs_count_for_the_command_and_restores_it(
    argv: list[str], expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    monkeypatch.setattr(cmd_info, "run", lambda args: seen.append(torch.get_num_threads()) or 0)
    before = torch.get_num_threads()
    assert cli(argv) == 0
    assert seen == [expected]
    assert torch.get_num_threads() == before


def test_default_is_every_core_headless_and_one_fewer_beside_a_window(
    no_env_threads: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from editor.cli import cmd_view

    seen: list[int] = []
    monkeypatch.setattr(cmd_info, "run", lambda args: seen.append(torch.get_num_threads()) or 0)
    monkeypatch.setattr(cmd_view, "run", lambda args: seen.append(torch.get_num_threads()) or 0)
    monkeypatch.setattr(threads_mod, "physical_cores", lambda: 4)
    assert cli(["info", "x"]) == 0
    assert cli(["view"]) == 0
    assert seen == [4, 3]


def test_precedence_option_then_environment_then_setting_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads_mod, "physical_cores", lambda: 8)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads_mod.resolve_threads() == 8
    assert threads_mod.resolve_threads(leave_a_core=True) == 7
    assert threads_mod.resolve_threads(None, 2, leave_a_core=True) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert threads_mod.resolve_threads(None, 2) == 5
    assert threads_mod.resolve_threads(3, 2) == 3
    assert [threads_mod.default_threads(c, leave_a_core=True) for c in (1, 2, 3, 16)] == [1, 1, 2, 15]
    assert [threads_mod.default_threads(c) for c in (1, 2, 16)] == [1, 2, 16]
    with pytest.raises(CastmakerError, match="1 or more"):
        threads_mod.resolve_threads(-1)


def test_physical_cores_counts_hyperthread_siblings_once() -> None:
    assert 1 <= threads_mod.physical_cores() <= threads_mod.usable_cores()


def test_train_keeps_its_threads_option_through_the_global_one() -> None:
    args = build_parser().parse_args(["train", "cast-sprite", "--minutes", "1", "--threads", "2"])
    assert args.threads == 2


# ------------------------------------------------------------------------------------ contended


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen]:
    """Record every busy process the bench starts."""
    procs: list[subprocess.Popen] = []
    real = subprocess.Popen

    def popen(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        proc = real(*args, **kwargs)
        procs.append(proc)
        return proc

    monkeypatch.setattr(engine_bench.subprocess, "Popen", popen)
    return procs


def test_contended_bench_reports_both_runs_and_ratios_and_ends_its_processes(started: list[subprocess.Popen]) -> None:
    engine = Engine(tiny_network(), device="cpu")
    result = engine_bench.run_contended_bench(engine, busy=1, repeats=1)
    assert len(started) == 1 and all(p.poll() is not None for p in started)
    assert result["busy_processes"] == 1 and result["threads"] == torch.get_num_threads()
    labels = set(engine_bench.contended_figures(result["idle"]))
    assert set(result["ratios"]) == labels == set(result["cpu_ratios"]) and "full synthesis (no cache)" in labels
    assert result["cpu_ratios"]["full synthesis (no cache)"] > 0
    for label, ratio in result["ratios"].items():
        idle = engine_bench.contended_figures(result["idle"])[label]
        busy = engine_bench.contended_figures(result["contended"])[label]
        assert np.isclose(ratio, busy / idle, rtol=1e-2, atol=1e-3), label
    text = cmd_bench.format_contended(result)
    assert "== idle" in text and "== contended: 1 busy-looping process(es)" in text and "contended / idle" in text
    assert text.count("full synthesis (no cache)") >= 3  # idle table, contended table, ratio table
    assert "CPU-time ratio" in text


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_busy_processes_end_on_error_and_ctrl_c(failure: BaseException, started: list[subprocess.Popen]) -> None:
    with pytest.raises(type(failure)):
        with engine_bench.busy_processes(2) as procs:
            assert all(p.poll() is None for p in procs)  # really running
            raise failure
    assert len(started) == 2 and all(p.poll() is not None for p in started)


def test_busy_processes_end_when_the_bench_itself_fails(started: list[subprocess.Popen], monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(tiny_network(), device="cpu")
    calls: list[int] = []
    real = engine_bench.run_engine_bench

    def second_run_fails(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_bench, "run_engine_bench", second_run_fails)
    with pytest.raises(KeyboardInterrupt):
        engine_bench.run_contended_bench(engine, busy=1, repeats=1)
    assert len(started) == 1 and started[0].poll() is not None


def test_contended_needs_a_positive_count_and_the_engine_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "--network", "demo-sprite", "--contended", "0"]) == 2
    assert "--contended 0" in capsys.readouterr().err
    assert cli(["bench", "--network", "demo-sprite", "--contended", "1", "--ui"]) == 2
    assert "without --cast / --ui" in capsys.readouterr().err
