"""`python main.py` entry behaviour: --session opens a saved session on its own network; no display, clear error."""

from __future__ import annotations

import pytest

from editor.cli import _merge_shared_options, build_parser
from renderer.errors import CastmakerError
from renderer.latents import Recipe, RowEdit, SeedSource


def _args(*argv: str):
    args = build_parser().parse_args(list(argv))
    _merge_shared_options(args)
    return args


def test_session_flag_opens_the_session_on_its_network(tmp_path, monkeypatch, qapp):
    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "data"))
    from editor.session import save_session
    from editor.ui import app
    from renderer.demo import build_demo

    sprite = build_demo("demo-sprite")
    recipe = Recipe.plain(SeedSource(5, psi=0.5), sprite.num_ws).with_rows(
        [8, 9], RowEdit(SeedSource(11, psi=0.7), "blend", 0.4)
    )
    session = tmp_path / "mix.castmaker-session"
    save_session(session, recipe, "demo-sprite", sprite.fingerprint)

    seen = {}
    real_screenshot = app.take_screenshot

    def spy(window, path, **kwargs):
        out = real_screenshot(window, path, **kwargs)
        seen["network"], seen["recipe"] = window.info.name, window.recipe
        return out

    monkeypatch.setattr(app, "take_screenshot", spy)
    # no --network: the session's own network (demo-sprite) is loaded, not the default demo-face
    assert app.run_editor(_args("--session", str(session), "--screenshot", str(tmp_path / "shot.png"))) == 0
    assert seen["network"] == "demo-sprite"
    assert seen["recipe"] == recipe
    assert (tmp_path / "shot.png").stat().st_size > 0


def test_bad_session_file_is_refused_before_any_window(tmp_path, monkeypatch):
    from editor.ui import app

    bad = tmp_path / "broken.castmaker-session"
    bad.write_bytes(b"not a session")
    with pytest.raises(CastmakerError):
        app.run_editor(_args("--session", str(bad), "--screenshot", str(tmp_path / "x.png")))
    assert not (tmp_path / "x.png").exists()


def test_misspelled_network_is_one_error_not_three(tmp_path, monkeypatch, qapp, caplog):
    """The failure reaches the user once, as the CLI's error line; the worker and the window's banner log it at
    INFO (shown with -v), not as WARNING lines that repeat it on the terminal."""
    import logging

    from editor.ui import app

    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "data"))
    caplog.set_level(logging.INFO)
    with pytest.raises(CastmakerError, match="could not open cast-portrai: network file not found"):
        app.run_editor(_args("--network", "cast-portrai", "--screenshot", str(tmp_path / "x.png")))
    assert not (tmp_path / "x.png").exists()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("cast-portrai" in r.getMessage() for r in caplog.records)  # still there for -v


def test_no_display_gives_one_clear_error(monkeypatch):
    from editor.ui import app

    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(app.sys, "platform", "linux")
    with pytest.raises(CastmakerError, match="no display"):
        app.run_editor(_args())


def test_missing_x11_library_gives_one_clear_error(monkeypatch):
    """Qt aborts the process when an xcb library is missing; the editor must say which one first."""
    import ctypes

    from editor.ui import app

    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    for var in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)

    def no_icccm(path, *a, **k):
        raise OSError("libxcb-icccm.so.4: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(ctypes, "CDLL", no_icccm)
    monkeypatch.setattr(app, "_ldd_not_found", lambda files: [])  # no ldd: loading the plugin names the first
    with pytest.raises(CastmakerError, match=r"libxcb-icccm\.so\.4: install it .*apt install libxcb-icccm4\)"):
        app.run_editor(_args())
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # a Wayland session does not use the xcb plugin
    assert app.missing_x11_libraries() == []
    monkeypatch.setattr(ctypes, "CDLL", lambda path, *a, **k: None)
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert app.missing_x11_libraries() == []
    assert app._debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"


def test_every_missing_x11_library_is_named_in_one_install_line(monkeypatch):
    import subprocess

    from editor.ui import app

    monkeypatch.setattr(app.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    for var in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    ldd = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibxcb-icccm.so.4 => not found\n"
        "\tlibxcb-keysyms.so.1 => not found\n"
        "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)\n"
    )
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=ldd, stderr=""))
    with pytest.raises(CastmakerError) as err:
        app.run_editor(_args())
    text = str(err.value)
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1: install them" in text
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1)" in text and "\n" not in text


def test_a_load_failure_that_came_before_the_screenshot_wait_still_ends_it(tmp_path, monkeypatch, qapp, qtbot):
    """CI once waited the full 600 s: the worker's failure arrived before take_screenshot began listening. The
    window keeps the failure as state, so a wait that starts late still ends at once with the load error."""
    from editor.ui import app

    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "data"))
    win = app.create_window("no-such-network")
    try:
        qtbot.waitUntil(lambda: win.last_error is not None, timeout=30_000)  # the banner shows it: delivered
        with pytest.raises(CastmakerError, match="could not open no-such-network: network file not found"):
            app.take_screenshot(win, tmp_path / "x.png", timeout_s=20)
    finally:
        app.shutdown(win)
        win.close()
    assert not (tmp_path / "x.png").exists()
