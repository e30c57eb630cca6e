"""Settings ▸ CPU threads: how many CPU threads the renderer uses, saved in the editor's settings.

Why: Automatic (every core, with passive waiting) measured best on a shared 2-core machine (see
renderer/engine/threads.py); a user who wants the machine kept freer for a game editor or a long
compile picks fewer here. The choice is a preference, not an edit of the recipe, so it is not on the
undo stack. It applies at once: on the UI thread and, through a job, on the render worker (torch keeps
an OpenMP thread count per thread once that thread has run a parallel op), and at every start;
`--threads N` and OMP_NUM_THREADS still win.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMainWindow, QMenu

from editor.ui.settings import read_threads, write_threads
from renderer.engine.threads import default_threads, resolve_threads, set_threads, usable_cores


class ThreadsMenu(QMenu):
    """Exclusive choices "Automatic (N)", 1 … cores; `changed(int)` gives the thread count now in use."""

    changed = Signal(int)

    def __init__(self, settings, parent=None) -> None:
        super().__init__("CPU threads", parent)
        self.settings = settings
        self.setToolTip("CPU threads for rendering; fewer leaves more of the machine to other programs")
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        self.choices: dict[int, QAction] = {}
        cores = usable_cores()
        current = read_threads(settings) or 0
        counts = sorted({0, *range(1, cores + 1), current})
        for count in counts:
            text = f"Automatic ({default_threads()}: every core)" if count == 0 else f"{count}"
            act = QAction(text, self, checkable=True)
            act.setChecked(count == current)
            act.triggered.connect(lambda _checked=False, n=count: self.choose(n))
            self._group.addAction(act)
            self.addAction(act)
            self.choices[count] = act

    def choose(self, count: int) -> int:
        """Save `count` (0: automatic), apply it, tick it; returns the thread count now in use."""
        write_threads(self.settings, count or None)
        self.choices[count].setChecked(True)
        effective = resolve_threads(None, count or None)
        set_threads(effective)
        self.changed.emit(effective)
        return effective


def apply_saved_threads(requested: int | None = None, settings=None) -> int:
    """At start: use --threads (requested), else OMP_NUM_THREADS, else the saved setting, else the default.

    Returns the thread count now in use. settings: the editor's settings (default: make_settings()).
    """
    from editor.ui.settings import make_settings

    count = resolve_threads(requested, read_threads(settings if settings is not None else make_settings()))
    set_threads(count)
    return count


def attach_threads_menu(window: QMainWindow) -> ThreadsMenu:
    """Add Settings ▸ CPU threads to the window's menu bar; a change shows in the status bar."""
    menu = ThreadsMenu(window.settings, window)
    window.menuBar().addMenu("&Settings").addMenu(menu)

    def show(count: int) -> None:
        label = getattr(window, "device_label", None)
        if label is not None and label.text().startswith("CPU"):
            label.setText(f"CPU ({count} thread{'' if count == 1 else 's'})")
        window.statusBar().showMessage(f"CPU threads: {count}", 5000)

    def apply_on_worker(count: int) -> None:
        # torch keeps an OpenMP thread count per thread: the one set above on the UI thread does not reach
        # the render worker, which already ran forward passes, so the worker sets it for itself.
        worker = getattr(window, "worker", None)
        if worker is not None:
            worker.submit_job(f"cpu-threads-{count}", lambda _ctx, n=count: set_threads(n))

    menu.changed.connect(apply_on_worker)
    menu.changed.connect(show)
    return menu
