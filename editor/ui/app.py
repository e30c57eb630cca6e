"""Start the editor: `python main.py [--network X] [--screenshot PNG] [--device D]`.

Screenshot mode opens the window, waits until the network is loaded, the preview is rendered and every
thumbnail has arrived, saves `QWidget.grab()` of the whole window as PNG and exits 0 (2 on failure).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_NETWORK = "cast-portrait"
SCREENSHOT_TIMEOUT_S = 600.0
STYLE_SHEET = Path(__file__).resolve().parents[2] / "resources" / "style.qss"


def dark_palette():
    """Fusion palette matching resources/style.qss (spin box arrows and focus frames use it)."""
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2d33",
        QPalette.ColorRole.WindowText: "#e4e4e8",
        QPalette.ColorRole.Base: "#1f2126",
        QPalette.ColorRole.AlternateBase: "#2b2d33",
        QPalette.ColorRole.Text: "#e4e4e8",
        QPalette.ColorRole.Button: "#3a3d45",
        QPalette.ColorRole.ButtonText: "#e4e4e8",
        QPalette.ColorRole.Highlight: "#3d5a80",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#1f2126",
        QPalette.ColorRole.ToolTipText: "#e4e4e8",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    return pal


_QUIET_QT_MESSAGES = ("propagateSizeHints",)  # harmless notes of the offscreen platform


def route_qt_messages() -> None:
    """Send Qt's own warnings to logging (so library code never prints), quieting known harmless ones."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")

    def handler(kind, _context, message: str) -> None:
        if any(q in message for q in _QUIET_QT_MESSAGES):
            qt_log.debug("%s", message)
        elif kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            qt_log.error("%s", message)
        elif kind == QtMsgType.QtWarningMsg:
            qt_log.warning("%s", message)
        else:
            qt_log.debug("%s", message)

    qInstallMessageHandler(handler)


def has_display() -> bool:
    """True when Qt can show a window: a chosen platform plugin, a non-Linux desktop, or an X11/Wayland display."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def missing_x11_libraries() -> list[str]:
    """Every system library Qt's X11 plugin cannot load, when the window would open on X11 (else []).

    Why: a missing xcb library (libxcb-cursor, -icccm, -keysyms, ... are not on every system) makes Qt
    abort the process with a core dump instead of an error, and the loader names only the first one it
    misses. `ldd` lists them all at once; without it, loading the plugin names the first. Checked for a plain
    X11 session only.
    """
    if not sys.platform.startswith("linux") or os.environ.get("WAYLAND_DISPLAY"):
        return []
    if os.environ.get("QT_QPA_PLATFORM", "xcb") != "xcb" or not os.environ.get("DISPLAY"):
        return []
    import ctypes

    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    qpa = qt / "lib" / "libQt6XcbQpa.so.6"
    if not qpa.is_file():  # a system Qt build: nothing to check here
        return []
    missing = _ldd_not_found([qpa, qt / "plugins" / "platforms" / "libqxcb.so"])
    if missing:
        return missing
    try:
        ctypes.CDLL(str(qpa))
    except OSError as exc:
        found = re.match(r"\s*([\w.+-]+\.so[.\d]*)", str(exc))
        return [found.group(1) if found else str(exc)]
    return []


def _ldd_not_found(files: list[Path]) -> list[str]:
    """Sonames `ldd` reports as 'not found' for `files` (sorted, unique); [] when ldd is not available."""
    import subprocess

    names: set[str] = set()
    for f in files:
        if not f.is_file():
            continue
        try:
            out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, timeout=20, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return []
        names.update(m.group(1) for m in re.finditer(r"^\s*(\S+)\s*=>\s*not found", out, re.MULTILINE))
    return sorted(names)


def _debian_package(soname: str) -> str:
    """libxcb-icccm.so.4 -> libxcb-icccm4, libxkbcommon-x11.so.0 -> libxkbcommon-x11-0 (Debian naming)."""
    found = re.fullmatch(r"(lib[\w.+-]+?)\.so\.(\d+).*", soname)
    if not found:
        return soname
    name, major = found.groups()
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def ensure_application():
    """The QApplication (created once; offscreen when there is no display and no platform was chosen)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if (
            sys.platform.startswith("linux")
            and not os.environ.get("DISPLAY")
            and not os.environ.get("WAYLAND_DISPLAY")
        ):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        route_qt_messages()
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Castmaker")
        app.setOrganizationName("Castmaker")
        app.setStyle("Fusion")  # same look on every platform; the style sheet only recolours it
        app.setPalette(dark_palette())
        if STYLE_SHEET.is_file():
            app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8"))
    return app


def create_window(network: str | None, device: str = "auto", settings=None, loader=None, engine_factory=None):
    """Window + started worker, with `network` queued for loading (tests pass a loader / settings)."""
    from editor.ui.main_window import MainWindow
    from editor.ui.render_worker import RenderWorker
    from editor.ui.settings import make_settings

    worker = RenderWorker(device=device, loader=loader, engine_factory=engine_factory)
    window = MainWindow(worker, settings if settings is not None else make_settings())
    worker.start()
    window.open_network(network or DEFAULT_NETWORK)
    return window


def shutdown(window) -> None:
    """Stop the worker thread before the window goes (no thread outlives its engine)."""
    window.worker.stop()


def ready_for_screenshot(window) -> bool:
    """Network loaded, newest frame shown, every thumbnail in, worker idle."""
    return (
        window.info is not None
        and window.preview.mix_image() is not None
        and window._shown_request == window._latest_request
        and window.thumbnails_complete()
        and not window.worker.is_busy()
    )


def take_screenshot(window, path: str | os.PathLike, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> Path:
    """Wait (processing events) until the window is ready, then save a PNG of the whole window."""
    from PySide6.QtWidgets import QApplication

    from renderer.errors import CastmakerError

    t_end = time.monotonic() + timeout_s
    render_failed: list[str] = []

    def on_render_failed(request_id: int, message: str) -> None:
        if request_id == window._latest_request:  # the frame the screenshot waits for will never come
            render_failed.append(message)

    window.worker.renderFailed.connect(on_render_failed)
    while time.monotonic() < t_end:
        QApplication.processEvents()
        if window.load_failure is not None and window.info is None:  # state, not a signal: it may have come already
            raise CastmakerError(window.load_failure)
        if render_failed:
            raise CastmakerError(f"the editor could not render its preview: {render_failed[0]}; no screenshot written")
        if ready_for_screenshot(window):
            for _ in range(5):  # let queued thumbnail refreshes and repaints run
                QApplication.processEvents()
                time.sleep(0.06)
            if ready_for_screenshot(window):
                break
        time.sleep(0.02)
    else:
        raise CastmakerError(f"the editor was not ready after {timeout_s:.0f} s: no screenshot written")
    from editor.ui.png_export import write_png
    from editor.ui.qt_images import from_qimage

    image = window.grab().toImage()
    out = write_png(path, from_qimage(image)[:, :, :3])
    log.info("screenshot saved to %s (%dx%d)", out, image.width(), image.height())
    return out


def run_editor(args: argparse.Namespace) -> int:
    """Entry point called by the CLI dispatcher when no subcommand is given."""
    from renderer.errors import CastmakerError

    screenshot = getattr(args, "screenshot", None)
    if not screenshot and not has_display():
        raise CastmakerError(
            "no display to open the editor window on (DISPLAY / WAYLAND_DISPLAY unset): run it in a desktop "
            "session, use --screenshot FILE for a headless render, or the headless subcommands (render, generate, ...)"
        )
    missing = missing_x11_libraries()
    if missing:
        packages = " ".join(dict.fromkeys(_debian_package(m) for m in missing))
        what = f"library {missing[0]}: install it" if len(missing) == 1 else f"libraries {', '.join(missing)}: install them"
        raise CastmakerError(
            f"Qt's X11 window plugin cannot load the system {what} (Debian/Ubuntu: sudo apt install {packages}), "
            "or render headless with QT_QPA_PLATFORM=offscreen and --screenshot FILE"
        )
    session = None
    session_path = getattr(args, "session", None)
    network = getattr(args, "network", None) or DEFAULT_NETWORK
    if session_path:
        from editor.session import load_session

        session = load_session(session_path)  # a bad file ends here with one clear line (exit 2)
        if getattr(args, "global_network", None) is None:
            network = session.network_source
    app = ensure_application()
    device = getattr(args, "device", "auto") or "auto"
    from editor.ui.threads_menu import apply_saved_threads

    apply_saved_threads(getattr(args, "threads", None))  # --threads > OMP_NUM_THREADS > the saved setting > default
    window = create_window(network, device)
    if session is not None:
        window.queue_session(session)
    try:
        if screenshot:
            from editor.ui.main_window import START_SIZE

            window.resize(*START_SIZE)  # a desktop-sized window whatever (offscreen) screen Qt reports
            window.show()
            out = take_screenshot(window, screenshot)
            sys.stderr.write(f"castmaker: screenshot saved to {out}\n")
            return 0
        window.restore_layout()
        window.interactive = True
        window.show()
        return int(app.exec())
    finally:
        shutdown(window)
        window.close()
