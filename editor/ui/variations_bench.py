"""`bench --directions`: click-to-full-grid time of the children grid in the real editor, and the direction
quality table on the bundled cast networks (renderer/training/direction_quality.py).

The grid time is measured through the UI path: the Variations panel's button is clicked in an offscreen
editor window, and the clock stops when the last thumbnail is on the buttons (the panel's `last_grid_ms`,
taken on the UI thread). The first click of a kind pays one-off work (mapping 2 000 seeds for the spread
of W, or SeFa for the bands); later clicks reuse it, so both are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

GRID = 4
CLICKS = 4


def time_children_grid(network: str, device: str, clicks: int = CLICKS) -> dict[str, list[float]]:
    """{kind: [ms per click]} for a GRID×GRID children grid in an offscreen editor on `network`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from editor.ui.app import create_window, ensure_application, ready_for_screenshot, shutdown
    from renderer.errors import CastmakerError

    def wait(done, timeout_s: float) -> None:
        t_end = time.perf_counter() + timeout_s
        while not done():
            if time.perf_counter() > t_end:
                raise CastmakerError(f"the editor did not finish within {timeout_s:.0f} s")
            QApplication.processEvents()
            time.sleep(0.002)

    ensure_application()
    out: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="castmaker-variations-bench-") as tmp:
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.Format.IniFormat)
        win = create_window(network, device, settings=settings)
        try:
            wait(lambda: ready_for_screenshot(win), 300)
            panel = win.variations_panel
            panel.grid_rows.setValue(GRID)
            panel.grid_cols.setValue(GRID)
            for i in range(panel.kind.count()):
                panel.kind.setCurrentIndex(i)
                times = []
                for click in range(clicks):
                    wait(lambda: not win.worker.is_busy(), 300)
                    panel.seed.setValue(100 + click)
                    panel.last_grid_ms = None
                    panel.make_button.click()
                    wait(lambda: panel.last_grid_ms is not None, 300)
                    times.append(panel.last_grid_ms)
                out[panel.kind.currentData()] = times
        finally:
            shutdown(win)
            win.close()
            win.deleteLater()
    return out


def run_directions_bench(args: argparse.Namespace) -> int:
    """CLI entry: prints the grid timings on --network (default cast-portrait), then the quality tables."""
    import torch

    from renderer import load_network
    from renderer.training.direction_quality import run_direction_quality

    network = getattr(args, "network", None) or "cast-portrait"
    device = getattr(args, "device", None) or "auto"
    print(
        f"children grid {GRID}x{GRID} on {network} ({device}, {torch.get_num_threads()} torch thread(s)), "
        "click -> full grid in the editor:",
        flush=True,
    )
    for kind, times in time_children_grid(network, device).items():
        rest = times[1:] or times
        print(
            f"  {kind:<10} first click {times[0]:8.0f} ms, then median {statistics.median(rest):8.0f} ms "
            f"(clicks: {', '.join(f'{t:.0f}' for t in times)})",
            flush=True,
        )
    count = min(int(getattr(args, "count", 200) or 200), 200)
    for name in ("cast-portrait", "cast-sprite"):
        net = load_network(name)
        print(f"{name}: measuring the direction quality table (a few minutes on a 2-core CPU)...", flush=True)
        for line in run_direction_quality(net, device="cpu", count=count):
            print(line, flush=True)
    return 0
