"""`python main.py bench --ui`: frames per second the editor's RenderWorker delivers during a slider drag.

Why measure through the worker: what a user feels is not the raw render time but how many frames reach
the screen while edits keep arriving (latest-wins coalescing, prefix cache, signal delivery). The bench
drags a blend slider of the real editor window (offscreen) on the middle band's rows, one step every
POST_INTERVAL_MS, for a few seconds, and prints delivered frames/s, posted edits/s, dropped (coalesced) edits and latency.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

DEFAULT_SECONDS = 5.0
POST_INTERVAL_MS = 16  # ~60 Hz, the rate a dragged QSlider reports at
LOAD_TIMEOUT_S = 600.0


@dataclass
class UiBenchResult:
    network: str
    device: str
    rows: str
    seconds: float
    posted: int
    delivered: int
    dropped: int
    failed: int
    delivered_fps: float
    posted_per_s: float
    latency_ms_mean: float
    latency_ms_p95: float
    render_ms_mean: float
    cache_hit_fraction: float
    ui_ms_per_edit: float  # UI-thread time of one slider step (edit + undo push + grid sync + post)
    ui_ms_per_edit_max: float


def run_bench(
    network: str, device: str = "auto", seconds: float = DEFAULT_SECONDS, loader=None
) -> UiBenchResult:
    """Open the editor window offscreen and drag a row's blend slider; return what reached the preview.

    The drag goes through the real UI path (slider -> undoable recipe edit -> grid sync -> worker post),
    so `ui_ms_per_edit` is the time the UI thread spends per slider step.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from editor.ui.app import create_window, ensure_application, shutdown
    from renderer.errors import CastmakerError

    ensure_application()
    with tempfile.TemporaryDirectory(prefix="castmaker-ui-bench-") as tmp:
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.Format.IniFormat)
        win = create_window(network, device, settings=settings, loader=loader)
        try:
            return _drive(win, seconds, QEventLoop, QTimer, CastmakerError)
        finally:
            shutdown(win)
            win.close()
            win.deleteLater()


def _wait(loop_cls, timer_cls, done, timeout_s: float) -> bool:
    """Run the event loop until `done()` (checked every 5 ms) or the timeout; True if done."""
    loop = loop_cls()
    t_end = time.perf_counter() + timeout_s
    timer = timer_cls(interval=5)
    timer.timeout.connect(lambda: loop.quit() if done() or time.perf_counter() > t_end else None)
    timer.start()
    loop.exec()
    timer.stop()
    return done()


def _drive(win, seconds: float, loop_cls, timer_cls, error_cls) -> UiBenchResult:
    from editor import document as doc

    if not _wait(loop_cls, timer_cls, lambda: win.info is not None or win.load_failure is not None, LOAD_TIMEOUT_S):
        raise error_cls(f"bench --ui: the network did not load within {LOAD_TIMEOUT_S:.0f} s")
    if win.info is None:
        raise error_cls(f"bench --ui: {win.load_failure}")
    info = win.info
    rows = info.rows_in_band("middle") or list(range(info.num_ws))
    win.grid.set_selection(rows)
    first = win.grid.rows[rows[0]]
    first.source.activated.emit(1)  # the first catalog seed on the selected rows
    first.mode.activated.emit(2)  # blend

    def settled() -> bool:
        return win._shown_request == win._latest_request and not win.worker.is_busy()

    slider = first.weight
    for v in (0, 50, 100):  # warm-up: seeds mapped, first frames rendered, caches primed (not counted)
        slider.setValue(v)
        _wait(loop_cls, timer_cls, settled, LOAD_TIMEOUT_S)

    posted_at: dict[int, float] = {}
    latencies: list[float] = []
    render_ms: list[float] = []
    hits: list[bool] = []
    ui_ms: list[float] = []
    state: dict[str, float] = {}

    def on_frame(request_id: int) -> None:
        t = time.perf_counter()
        if request_id in posted_at and win.last_result is not None:
            state["t_last_frame"] = t
            latencies.append((t - posted_at[request_id]) * 1000)
            render_ms.append(float(win.last_result.ms))
            hits.append(bool(win.last_result.cache_hit))

    win.frameShown.connect(on_frame)
    stats = win.worker.stats
    stats0 = (stats.posted, stats.rendered, stats.dropped, stats.failed)
    t_start = time.perf_counter()
    slider.setSliderDown(True)

    def post_next() -> None:
        elapsed = time.perf_counter() - t_start
        if elapsed >= seconds:
            poster.stop()
            state["t_stop"] = time.perf_counter()
            return
        value = int(round(50 - 50 * math.cos(2 * math.pi * elapsed / 2.0)))  # back and forth every 2 s
        if value == slider.value():
            value = value + 1 if value < 100 else value - 1
        t0 = time.perf_counter()
        slider.setValue(value)
        t1 = time.perf_counter()
        ui_ms.append((t1 - t0) * 1000)
        posted_at[win._latest_request] = t1

    poster = timer_cls(interval=POST_INTERVAL_MS)
    poster.timeout.connect(post_next)
    poster.start()
    _wait(loop_cls, timer_cls, lambda: "t_stop" in state, seconds + LOAD_TIMEOUT_S)
    slider.setSliderDown(False)
    _wait(loop_cls, timer_cls, settled, LOAD_TIMEOUT_S)
    elapsed = state["t_stop"] - t_start
    # frames are counted until the last one arrives (the drag's final frame lands after the drag ends)
    frame_span = max(elapsed, state.get("t_last_frame", t_start) - t_start)
    posted = stats.posted - stats0[0]
    delivered = stats.rendered - stats0[1]
    lat_sorted = sorted(latencies)
    return UiBenchResult(
        network=info.name,
        device=info.device_name,
        rows=doc.describe_rows(rows),
        seconds=round(elapsed, 3),
        posted=posted,
        delivered=delivered,
        dropped=stats.dropped - stats0[2],
        failed=stats.failed - stats0[3],
        delivered_fps=round(delivered / frame_span, 2),
        posted_per_s=round(posted / elapsed, 2),
        latency_ms_mean=round(statistics.fmean(latencies), 2) if latencies else float("nan"),
        latency_ms_p95=round(lat_sorted[int(0.95 * (len(lat_sorted) - 1))], 2)
        if lat_sorted
        else float("nan"),
        render_ms_mean=round(statistics.fmean(render_ms), 2) if render_ms else float("nan"),
        cache_hit_fraction=round(sum(hits) / len(hits), 3) if hits else 0.0,
        ui_ms_per_edit=round(statistics.fmean(ui_ms), 3) if ui_ms else float("nan"),
        ui_ms_per_edit_max=round(max(ui_ms), 3) if ui_ms else float("nan"),
    )


def run_ui_bench(args: argparse.Namespace) -> int:
    """CLI entry (`bench --ui [--network N] [--device D] [--json]`): prints the numbers, returns 0."""
    network = getattr(args, "network", None) or "cast-portrait"
    device = getattr(args, "device", None) or "auto"
    seconds = float(getattr(args, "seconds", None) or DEFAULT_SECONDS)
    result = run_bench(network, device, seconds)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({"ui": asdict(result)}) + "\n")
    else:
        r = result
        lines = [
            f"UI bench: {r.network} on {r.device}, dragging the blend slider of {r.rows} for {r.seconds:.1f} s",
            f"  delivered frames/s : {r.delivered_fps:8.2f}   ({r.delivered} frames)",
            f"  posted edits/s     : {r.posted_per_s:8.2f}   ({r.posted} edits)",
            f"  dropped (coalesced): {r.dropped:8d}",
            f"  latency mean / p95 : {r.latency_ms_mean:8.1f} / {r.latency_ms_p95:.1f} ms (post -> frame on UI thread)",
            f"  render time mean   : {r.render_ms_mean:8.1f} ms   (prefix cache served {r.cache_hit_fraction:.0%})",
            f"  UI thread per edit : {r.ui_ms_per_edit:8.2f} ms mean, {r.ui_ms_per_edit_max:.2f} ms max",
        ]
        if r.failed:
            lines.append(f"  failed renders     : {r.failed}")
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
