"""Directions and Variations panels on the tiny network: discover, slide (undoable), strips, label a few,
save / load / refuse, grid marks, children grid adopt + undo, crossbreed with itself."""

from __future__ import annotations

import numpy as np

from editor.directions import DirectionLibrary, user_directions_folder


def settle(qtbot, win, panel=None):
    qtbot.waitUntil(
        lambda: win._shown_request == win._latest_request
        and not win.worker.is_busy()
        and (panel is None or not panel.pending),
        timeout=60000,
    )


def test_discover_slide_undo_strip_and_marks(qtbot, window, reference):
    win, panel = window, window.directions_panel
    settle(qtbot, win, panel)
    plain = win.recipe
    panel.band.setCurrentText("coarse")
    panel.top.setValue(2)
    panel.discover_button.click()
    qtbot.waitUntil(lambda: len(panel.directions) == 2, timeout=60000)
    d = panel.directions[0]
    assert d.method == "sefa" and d.rows == win.info.rows_in_band("coarse")
    # the strips come back as batched thumbnails: 7 per direction, the middle one is the recipe itself
    qtbot.waitUntil(lambda: len(panel.strip_images) == 2, timeout=60000)
    assert all(len(s) == 7 for s in panel.strip_images)
    np.testing.assert_array_equal(panel.strip_images[0][3], reference.render_thumbnails([reference.evaluate(plain)])[0])
    assert not np.array_equal(panel.strip_images[0][0], panel.strip_images[0][6])
    assert panel.rows_widgets[0].strip[0].pixmap() is not None

    panel.rows_widgets[0].slider.setValue(150)  # α = +1.5σ
    assert len(win.recipe.directions) == 1 and win.recipe.directions[0].alpha == 1.5
    settle(qtbot, win, panel)
    np.testing.assert_array_equal(win.preview.shown_image(), reference.render(win.recipe).image)
    assert set(win.grid.direction_marks()) == set(d.rows) and d.name in win.grid.direction_marks()[d.rows[0]]
    win.undo_stack.undo()
    assert win.recipe == plain and win.grid.direction_marks() == {}
    assert panel.rows_widgets[0].slider.value() == 0
    win.undo_stack.redo()
    assert win.recipe.directions[0].alpha == 1.5
    # back to 0 is the identity: the recipe is the plain one again
    panel.rows_widgets[0].slider.setValue(0)
    assert win.recipe == plain


def test_save_load_rename_delete_and_refusal_on_another_network(qtbot, window, tmp_path):
    from renderer.latents.directions import Direction

    win, panel = window, window.directions_panel
    settle(qtbot, win, panel)
    panel.top.setValue(1)
    panel.discover_button.click()
    qtbot.waitUntil(lambda: len(panel.directions) == 1, timeout=60000)
    d = panel.directions[0]
    panel.rows_widgets[0].slider.setValue(-100)
    panel.rename(d, "Squash")
    d = panel.directions[0]
    assert d.name == "Squash" and [e.name for e in win.recipe.directions] == ["Squash"]
    assert panel.rows_widgets[0].slider.value() == -100  # the renamed slider still shows the recipe's move
    panel.rows_widgets[0].save.click()
    folder = user_directions_folder(win.info.fingerprint)
    assert sorted(p.name for p in folder.iterdir()) == ["squash.json", "squash.npy"]
    panel.rename(d, "Stretch")  # a saved direction's files follow its name
    assert sorted(p.name for p in folder.iterdir()) == ["stretch.json", "stretch.npy"]
    # a direction found on another network is refused with a clear message, and nothing is added
    other = DirectionLibrary(tmp_path / "other", "ff" * 32, "tiny2")
    path = other.save(Direction("alien", [0], np.eye(16, dtype=np.float32)[0], 1.0, "sefa", 1.0, "ff" * 32, "tiny2"))
    assert panel.load_file(str(path)) is None
    assert "only fit the network they were found on" in win.last_error and len(panel.directions) == 1
    # delete removes the files; loading the saved one back from disk works
    saved = folder / "stretch.json"
    kept = tmp_path / "kept"
    kept.mkdir()
    for p in folder.iterdir():
        (kept / p.name).write_bytes(p.read_bytes())
    panel.rows_widgets[0].delete.click()
    assert panel.directions == [] and not saved.exists()
    back = panel.load_file(str(kept / "stretch.json"))
    assert back is not None and back.name == "Stretch" and len(panel.directions) == 1


def test_label_a_few_makes_a_direction(qtbot, window):
    win, panel = window, window.directions_panel
    settle(qtbot, win, panel)
    assert panel.label_seeds == []  # a hidden dock renders nothing
    win.show()
    win.show_panel(panel)
    qtbot.waitUntil(lambda: len(panel.label_seeds) == 12 and not panel.pending, timeout=60000)
    assert panel.label_buttons[0].icon().availableSizes()
    assert not panel.make_labelled.isEnabled()
    for i in (0, 1, 2):
        panel.label_buttons[i].click()  # has it
    for i in (3, 4):
        panel.label_buttons[i].click()
        panel.label_buttons[i].click()  # lacks it
    panel.label_buttons[2].click()
    panel.label_buttons[2].click()  # has -> lacks -> unlabelled
    assert {panel.label_seeds[i]: v for i, v in enumerate([1, 1, 0, -1, -1])} == {
        **{s: v for s, v in panel.label_state.items()}, panel.label_seeds[2]: 0}
    assert panel.make_labelled.isEnabled()
    panel.band.setCurrentText("middle")
    panel.make_labelled_direction("glow")
    qtbot.waitUntil(lambda: any(d.name == "glow" for d in panel.directions), timeout=60000)
    d = next(d for d in panel.directions if d.name == "glow")
    assert d.method == "labels" and d.rows == win.info.rows_in_band("middle")
    assert abs(float(np.linalg.norm(d.vector)) - 1.0) < 1e-5


def test_children_grid_adopt_undo_and_crossbreed_with_itself(qtbot, window):
    win, panel = window, window.variations_panel
    settle(qtbot, win)
    start = win.recipe
    panel.grid_rows.setValue(2)
    panel.grid_cols.setValue(3)
    panel.seed.setValue(5)
    panel.make_button.click()
    qtbot.waitUntil(lambda: len(panel.child_buttons) == 6, timeout=60000)
    first = list(panel.children)
    assert panel.last_grid_ms is not None and len({c for c in first}) == 6
    panel.make_button.click()  # same seed, same recipe: the same children
    qtbot.waitUntil(lambda: not panel.pending, timeout=60000)
    assert panel.children == first
    panel.child_buttons[4].click()
    assert win.recipe == first[4] and win.recipe != start
    win.undo_stack.undo()
    assert win.recipe == start
    panel.crossbreed_with(win.recipe, "itself")
    qtbot.waitUntil(lambda: len(panel.cross_buttons) == 8, timeout=60000)
    assert all(r == start for _, r in panel.crosses)
    assert [b.text() for b in panel.cross_buttons][:2] == ["A A A", "A A B"]


def test_rename_and_delete_undo_keep_sliders_and_recipe_one_move(qtbot, window, reference):
    """Move, rename, undo, move again, undo, redo, delete, undo, redo: after each step every recipe entry has
    one slider standing at its α, and the recipe moves along each direction once (never a second, stacked move)."""
    win, panel = window, window.directions_panel
    settle(qtbot, win, panel)
    plain = win.recipe
    panel.top.setValue(1)
    panel.discover_button.click()
    qtbot.waitUntil(lambda: len(panel.directions) == 1, timeout=60000)
    d = panel.directions[0]
    old = d.name

    def state():
        return [(e.name, e.alpha) for e in win.recipe.directions], [r.slider.value() for r in panel.rows_widgets]

    def moved_once(alpha):  # the recipe's w is the plain one moved α·σ·d on the direction's rows, once
        diff = reference.evaluate(win.recipe) - reference.evaluate(plain)
        want = np.zeros_like(diff)
        want[d.rows] = np.float32(alpha * d.sigma) * d.vector
        np.testing.assert_allclose(diff, want, atol=1e-5)

    panel.rows_widgets[0].slider.setValue(100)
    panel.rename(d, "Squash")
    assert state() == ([("Squash", 1.0)], [100])
    win.undo_stack.undo()  # the rename: the entry has its old name again, and its slider still shows it
    assert state() == ([(old, 1.0)], [100])
    assert "in the recipe as" in panel.rows_widgets[0].title.text()
    panel.rows_widgets[0].slider.setValue(150)  # moves the same entry: no second move is stacked
    assert state() == ([("Squash", 1.5)], [150])
    moved_once(1.5)
    win.undo_stack.undo()
    assert state() == ([(old, 1.0)], [100])
    moved_once(1.0)
    win.undo_stack.redo()
    assert state() == ([("Squash", 1.5)], [150])

    panel.rows_widgets[0].delete.click()
    assert win.recipe == plain and panel.directions == [] and state() == ([], [])
    win.undo_stack.undo()  # the recipe moves along it again: its row is back, slider where the recipe is
    assert state() == ([("Squash", 1.5)], [150]) and panel.shown[0].name == "Squash"
    moved_once(1.5)
    win.undo_stack.redo()
    assert win.recipe == plain and state() == ([], [])
    win.undo_stack.undo()
    panel.rows_widgets[0].slider.setValue(-50)  # touching the restored row keeps it listed, even at 0
    panel.rows_widgets[0].slider.setValue(0)
    assert win.recipe == plain and len(panel.directions) == 1 and state() == ([], [0])
