"""The editor window on a tiny real network: grid, rendering, coalescing, undo, errors, sessions."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from editor.ui.render_worker import RenderWorker
from renderer.latents import Recipe, RowEdit, SeedSource, WSource


def activate(qtbot, win):
    """Shortcuts only fire in the active window."""
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)


def wait_settled(qtbot, win, timeout=60000):
    """Until the newest posted recipe is on screen and the worker has nothing left."""
    qtbot.waitUntil(
        lambda: win._shown_request == win._latest_request and not win.worker.is_busy(), timeout=timeout
    )


def test_window_builds_grid_and_thumbnails(qtbot, window, reference):
    win = window
    assert win.info.num_ws == 6 and len(win.grid.rows) == 6
    captions = [r.caption.text() for r in win.grid.rows]
    assert "coarse" in captions[0] and "fine" in captions[5]
    assert "16 px" in captions[5] and "4 / 8 px" in captions[1]  # row 1 feeds b4.torgb (4) and b8.conv0 (8)
    qtbot.waitUntil(win.thumbnails_complete, timeout=60000)
    wait_settled(qtbot, win)
    expected = reference.render(win.recipe).image
    np.testing.assert_array_equal(win.preview.shown_image(), expected)
    # a seed's thumbnail is what that seed renders alone
    seed_src = win.catalog.sources[0]
    np.testing.assert_array_equal(win.thumbs[seed_src], reference.render(Recipe.plain(seed_src, 6)).image)
    assert win.grid.rows[0].thumb.pixmap() is not None and not win.grid.rows[0].thumb.pixmap().isNull()
    assert "ms" in win.render_label.text() and win.device_label.text()


def test_row_slider_gives_renderer_output(qtbot, window, reference):
    win = window
    src = win.catalog.sources[1]
    row = win.grid.rows[3]
    row.source.setCurrentIndex(2)  # item 0 is "base", item 2 the second catalog source
    row.source.activated.emit(2)
    assert win.recipe.rows[3] == RowEdit(src, "replace", 1.0)
    row.mode.setCurrentIndex(2)
    row.mode.activated.emit(2)
    assert win.recipe.rows[3].mode == "blend"
    row.weight.setValue(40)
    assert win.recipe.rows[3].weight == 0.4
    wait_settled(qtbot, win)
    np.testing.assert_array_equal(win.preview.shown_image(), reference.render(win.recipe).image)
    assert not np.array_equal(
        win.preview.shown_image(), reference.render(Recipe.plain(win.recipe.base, 6)).image
    )


def test_multi_row_selection_sets_rows_together(qtbot, window):
    win = window
    win.rows_field.setText("3-5")
    win.rows_field.returnPressed.emit()
    assert win.grid.selected_rows() == [3, 4, 5]
    src = win.add_seed_source(12)
    idx = 1 + win.catalog.index(src)
    win.grid.rows[4].source.activated.emit(idx)
    assert [e.source for e in win.recipe.rows[3:]] == [src] * 3
    assert all(e.mode == "replace" for e in win.recipe.rows[3:])
    assert win.recipe.rows[2] == RowEdit()
    assert win.undo_stack.undoText() == "rows 3–5 from seed 12 (ψ 0.70)"


def test_burst_of_slider_moves_is_coalesced(qtbot, window, reference):
    win = window
    win.grid.set_selection([0, 1, 2, 3, 4, 5])
    win.grid.rows[0].source.activated.emit(1)
    wait_settled(qtbot, win)
    before = win.worker.stats.rendered
    slider = win.grid.rows[2].weight
    slider.setSliderDown(True)
    moves = 40
    for v in range(moves):
        slider.setValue(v * 2 + 1)  # posted from the UI thread without waiting
    slider.setSliderDown(False)
    wait_settled(qtbot, win)
    renders = win.worker.stats.rendered - before
    assert 1 <= renders < moves, renders
    assert win.worker.stats.dropped > 0
    assert win.recipe.rows[0].weight == (moves - 1) * 2 / 100 + 0.01
    np.testing.assert_array_equal(win.preview.shown_image(), reference.render(win.recipe).image)
    # the whole drag is one undo step
    assert win.undo_stack.undoText().endswith(f"blend {win.recipe.rows[0].weight:.2f}")
    win.undo_stack.undo()
    assert all(e.mode == "replace" for e in win.recipe.rows)


def test_undo_restores_previous_image(qtbot, window):
    win = window
    wait_settled(qtbot, win)
    first = win.preview.shown_image().copy()
    first_recipe = win.recipe
    activate(qtbot, win)
    win.base_controls.seed.setValue(5)
    wait_settled(qtbot, win)
    assert not np.array_equal(win.preview.shown_image(), first)
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_settled(qtbot, win)
    assert win.recipe == first_recipe and win.base_controls.seed.value() == 0
    np.testing.assert_array_equal(win.preview.shown_image(), first)
    win.act_redo.trigger()
    wait_settled(qtbot, win)
    assert win.recipe.base.seed == 5


def test_failing_render_shows_error_and_ui_keeps_working(qtbot, window, reference):
    win = window
    wait_settled(qtbot, win)
    bad = WSource(np.zeros((6, 3), np.float32), label="wrong.npy")  # w_dim 3, the network needs 16
    win.apply_edit(win.recipe.with_rows([1], RowEdit(bad, "replace")), "bad edit")
    qtbot.waitUntil(lambda: win.last_error is not None, timeout=30000)
    assert "wrong.npy" in win.last_error and win.error_banner.isVisibleTo(win)
    assert win.worker.isRunning()
    win.undo_stack.undo()
    wait_settled(qtbot, win)
    assert win.last_error is None
    win.base_controls.seed.setValue(3)
    wait_settled(qtbot, win)
    np.testing.assert_array_equal(win.preview.shown_image(), reference.render(win.recipe).image)


def test_psi_and_cutoff_and_keys(qtbot, window):
    win = window
    win.base_controls.psi.setValue(-50)
    assert win.recipe.base.psi == -0.5
    win.base_controls.cutoff.setValue(3)
    assert win.recipe.base.cutoff == 3
    activate(qtbot, win)
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.recipe.base.seed == 1
    qtbot.keyClick(win, Qt.Key.Key_Left)
    assert win.recipe.base.seed == 0
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert win.preview.showing_before
    qtbot.waitUntil(lambda: win.preview.shown_image() is not None, timeout=30000)
    wait_settled(qtbot, win)
    np.testing.assert_array_equal(win.preview.shown_image(), win.thumbs[win.recipe.base])


def test_session_round_trip_through_window(qtbot, window, tmp_path):
    win = window
    w = np.random.default_rng(0).standard_normal((6, 16)).astype(np.float32)
    np.save(tmp_path / "look.npy", w[None])
    added = win.add_w_file_source(str(tmp_path / "look.npy"), rows=[2, 3])
    assert added is not None and win.recipe.rows[2].source == added
    win.base_controls.seed.setValue(9)
    saved_recipe = win.recipe
    path = win.save_session(str(tmp_path / "mix"))
    assert path.name == "mix.castmaker-session"
    win.base_controls.seed.setValue(1)
    win.grid.sourceChosen.emit([2, 3], None)
    assert win.recipe != saved_recipe
    assert win.open_session(str(path))
    assert win.recipe == saved_recipe
    wait_settled(qtbot, win)
    win.undo_stack.undo()  # opening a session is undoable
    assert win.recipe != saved_recipe


def test_bad_network_keeps_previous_one(qtbot, window):
    win = window
    old = win.info
    recipe = win.recipe
    win.open_network("/nowhere/broken.pkl")
    qtbot.waitUntil(lambda: win.last_error is not None, timeout=30000)
    assert "broken.pkl" in win.last_error and "not a StyleGAN network" in win.last_error
    assert win.info is old and win.recipe is recipe
    win.base_controls.seed.setValue(4)
    wait_settled(qtbot, win)
    assert win.last_error is None


def test_open_other_network_and_recent_list(qtbot, window):
    win = window
    win.open_network("tiny2")
    qtbot.waitUntil(lambda: win.info.name == "tiny2", timeout=60000)
    wait_settled(qtbot, win)
    items = [a.text() for a in win.recent_menu.actions()]
    assert items[:2] == ["tiny2", "tiny"]
    assert "tiny2" in win.windowTitle()


def test_worker_coalesces_without_a_window(qtbot):
    """The worker alone: many posts while it is busy -> only the newest is rendered after the current one."""
    gate = threading.Event()

    class SlowEngine:
        device_name = "fake"

        def __init__(self):
            self.rendered = []

        def render(self, recipe):
            gate.wait(10)
            self.rendered.append(recipe.base.seed)
            from renderer.engine import RenderResult

            return RenderResult(image=np.zeros((2, 2, 3), np.uint8), ws=np.zeros((6, 16), np.float32), ms=1.0)

    worker = RenderWorker(device="cpu")
    engine = SlowEngine()
    worker.engine = engine
    worker.start()
    try:
        frames = []
        worker.frameReady.connect(lambda rid, res: frames.append(rid))
        ids = [worker.post_render(Recipe.plain(SeedSource(s), 6)) for s in range(20)]
        gate.set()
        qtbot.waitUntil(lambda: not worker.is_busy() and frames and frames[-1] == ids[-1], timeout=10000)
        assert engine.rendered[-1] == 19
        assert len(engine.rendered) <= 2
        assert worker.stats.posted == 20 and worker.stats.dropped >= 18
    finally:
        worker.stop()


def _drop(win, paths, pos):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(pos),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    win.dropEvent(event)


def test_dropping_a_w_file_on_a_row_uses_it_there(qtbot, window, tmp_path):
    win = window
    win.show()
    qtbot.waitExposed(win)
    w = np.random.default_rng(3).standard_normal((1, 6, 16)).astype(np.float32)
    np.save(tmp_path / "drop.npy", w)
    target = win.grid.rows[2].caption
    pos = target.mapTo(win, target.rect().center())
    _drop(win, [tmp_path / "drop.npy"], pos)
    edit = win.recipe.rows[2]
    assert edit.mode == "replace" and edit.source.label == "drop.npy"
    assert win.recipe.rows[1] == RowEdit() and win.recipe.rows[3] == RowEdit()
    # a file of unknown kind is refused with a message, nothing changes
    (tmp_path / "notes.txt").write_text("hi")
    recipe = win.recipe
    _drop(win, [tmp_path / "notes.txt"], pos)
    assert win.recipe is recipe and "notes.txt" in win.last_error


def test_session_of_another_network_loads_that_network(qtbot, window, tmp_path):
    from editor.session import save_session

    win = window
    recipe = Recipe.plain(SeedSource(21, psi=0.5), 6).with_rows([1], RowEdit(SeedSource(4), "blend", 0.3))
    path = save_session(tmp_path / "other", recipe, "tiny2", "01" * 32)
    assert win.open_session(str(path))
    qtbot.waitUntil(lambda: win.info.name == "tiny2", timeout=60000)
    assert win.recipe == recipe and win.last_error is None
    wait_settled(qtbot, win)
    assert win.base_controls.seed.value() == 21 and win.base_controls.psi.value() == 50


def test_one_bad_thumbnail_does_not_cost_the_others(qtbot):
    from renderer.errors import LatentError

    class FakeEngine:
        device_name = "fake"

        def render_thumbnails(self, sources):
            if any(s.seed == 13 for s in sources):
                raise LatentError("seed 13 is cursed")
            return [np.full((2, 2, 3), s.seed, np.uint8) for s in sources]

    worker = RenderWorker(device="cpu")
    worker.engine = FakeEngine()
    got, failed = [], []
    worker.thumbnailsReady.connect(lambda pairs: got.extend(pairs))
    worker.thumbnailsFailed.connect(lambda srcs, msg: failed.append((srcs, msg)))
    worker.start()
    try:
        worker.request_thumbnails([SeedSource(s) for s in (11, 12, 13, 14, 12)])
        qtbot.waitUntil(lambda: not worker.is_busy() and len(got) + len(failed) >= 4, timeout=10000)
        assert sorted(s.seed for s, _ in got) == [11, 12, 14]  # duplicates merged
        assert all(img[0, 0, 0] == s.seed for s, img in got)
        assert failed == [([SeedSource(13)], "seed 13 is cursed")]
    finally:
        worker.stop()
