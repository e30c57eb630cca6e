"""Settings ▸ CPU threads: the choice is applied to torch at once, saved, and read back at the next start."""

from __future__ import annotations

import pytest
import torch

from editor.ui.settings import make_settings, read_threads, write_threads


@pytest.fixture
def restore_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the environment would win over the setting
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_threads_setting_round_trips_through_the_settings_file(isolated) -> None:
    assert read_threads(isolated) is None  # automatic until chosen
    write_threads(isolated, 3)
    assert read_threads(make_settings()) == 3  # a fresh settings object: it is on disk
    write_threads(isolated, None)
    assert read_threads(make_settings()) is None
    isolated.setValue("cpu/threads", "garbage")
    assert read_threads(isolated) is None


def test_menu_choice_applies_persists_and_shows(qtbot, window, restore_threads) -> None:
    menu = window.threads_menu
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Settings" in titles and menu.title() == "CPU threads"
    assert menu.choices[0].isChecked()  # Automatic by default
    menu.choices[1].trigger()
    assert torch.get_num_threads() == 1
    assert read_threads(make_settings()) == 1
    assert menu.choices[1].isChecked() and not menu.choices[0].isChecked()
    assert "CPU threads: 1" in window.statusBar().currentMessage()
    menu.choose(0)
    assert read_threads(make_settings()) is None
    from renderer.engine.threads import default_threads

    assert torch.get_num_threads() == default_threads()


def test_saved_setting_is_used_at_the_next_start(isolated, restore_threads, monkeypatch) -> None:
    from editor.ui.threads_menu import ThreadsMenu, apply_saved_threads
    from renderer.engine import threads

    monkeypatch.setattr(threads, "physical_cores", lambda: 4)
    write_threads(isolated, 2)
    assert apply_saved_threads() == 2 and torch.get_num_threads() == 2
    assert apply_saved_threads(requested=1) == 1 and torch.get_num_threads() == 1  # --threads wins
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert apply_saved_threads() == 3  # the environment wins over the setting
    assert ThreadsMenu(make_settings()).choices[2].isChecked()


def test_menu_choice_reaches_the_render_worker_thread(qtbot, window, restore_threads) -> None:
    """torch keeps an OpenMP thread count per thread: setting it on the UI thread alone leaves the render
    worker, which has already rendered, on its old count. The worker's own count must follow the menu."""
    from renderer.engine.threads import usable_cores

    def worker_threads() -> int:
        with qtbot.waitSignal(window.worker.jobFinished, timeout=60000, check_params_cb=lambda j, _r: j == "probe") as sig:
            window.worker.submit_job("probe", lambda _ctx: (torch.ones(4) + 1, torch.get_num_threads())[1])
        return sig.args[1]

    before = worker_threads()  # the worker has run parallel ops: its count is fixed unless it sets it itself
    want = 2 if before == 1 else 1
    if want not in window.threads_menu.choices:
        pytest.skip(f"needs 2 usable cores, has {usable_cores()}")
    window.threads_menu.choose(want)
    assert worker_threads() == want
    window.threads_menu.choose(0)
    from renderer.engine.threads import default_threads

    assert worker_threads() == default_threads()
