"""Preset panel in the window: save selected rows, apply (undoable), refuse another network's preset."""

from __future__ import annotations

import json

import numpy as np

from editor.presets import Preset, PresetLibrary, user_library
from renderer.latents import RowEdit


def settle(qtbot, win):
    qtbot.waitUntil(
        lambda: win._shown_request == win._latest_request and not win.worker.is_busy(), timeout=60000
    )


def test_save_apply_rename_delete(qtbot, window, tmp_path, reference):
    win, panel = window, window.preset_panel
    # make a mix: rows 3-5 from the second seed
    win.grid.set_selection([3, 4, 5])
    assert panel.save_button.isEnabled() and "rows 3–5" in panel.save_button.text()
    win.grid.rows[3].source.activated.emit(2)
    settle(qtbot, win)
    mix_ws = win.last_result.ws.copy()
    saved = panel.save_rows("Happy", [3, 4, 5])
    assert saved is not None
    folder = tmp_path / "data" / "presets" / win.info.fingerprint[:16]
    assert (folder / "happy.json").is_file() and (folder / "happy.png").is_file()
    meta = json.loads((folder / "happy.json").read_text())
    assert meta["rows"] == [3, 4, 5] and meta["network"]["fingerprint"] == win.info.fingerprint
    np.testing.assert_array_equal(np.load(folder / "happy.npy")[0], mix_ws)
    assert [p.name for p, _ in panel.presets] == ["Happy"]
    assert not panel.list.item(0).icon().isNull()

    # back to a plain base, then apply the preset: rows 3-5 take the saved w, as one undo step
    win.grid.sourceChosen.emit([3, 4, 5], None)
    win.base_controls.seed.setValue(7)
    settle(qtbot, win)
    before = win.recipe
    panel.list.setCurrentRow(0)
    panel.apply_button.click()
    edit = win.recipe.rows[4]
    assert edit.mode == "replace" and edit.source.kind == "preset" and edit.source.label == "Happy"
    assert win.recipe.rows[2] == RowEdit()
    settle(qtbot, win)
    np.testing.assert_array_equal(win.last_result.ws[3:], mix_ws[3:])
    np.testing.assert_array_equal(win.preview.shown_image(), reference.render(win.recipe).image)
    assert win.undo_stack.undoText() == "apply preset Happy to rows 3–5"
    win.undo_stack.undo()
    assert win.recipe == before

    assert panel.rename("Happy", "Joy")
    assert [p.name for p, _ in panel.presets] == ["Joy"] and not (folder / "happy.json").exists()
    assert panel.delete("Joy")
    assert panel.presets == [] and not any(folder.iterdir())


def test_preset_of_other_network_is_refused(qtbot, window):
    win, panel = window, window.preset_panel
    settle(qtbot, win)
    lib = user_library(win.info.fingerprint)
    foreign = Preset(
        name="elf",
        fingerprint="ff" * 32,
        network_name="demo-sprite",
        rows=[1],
        w=np.zeros((6, 16), np.float32),
    )
    lib.save(foreign)
    panel.reload()
    recipe = win.recipe
    assert not panel.apply(panel.presets[0][0])
    assert win.recipe is recipe
    assert "made for network demo-sprite" in win.last_error
    assert "only fit the network they were made with" in win.last_error


def test_corrupt_preset_is_listed_as_problem(qtbot, window):
    win, panel = window, window.preset_panel
    lib = user_library(win.info.fingerprint)
    lib.save(
        Preset(
            name="ok",
            fingerprint=win.info.fingerprint,
            network_name="tiny",
            rows=[0],
            w=np.zeros((6, 16), np.float32),
        )
    )
    (lib.folder / "broken.json").write_text("{oops")
    panel.reload()
    assert [p.name for p, _ in panel.presets] == ["ok"]
    assert panel.problem_label.isVisibleTo(panel) and "broken.json" in panel.problem_label.text()


def test_import_w_and_bundled_library(qtbot, window, tmp_path, monkeypatch):
    win, panel = window, window.preset_panel
    w = np.random.default_rng(1).standard_normal((1, 6, 16)).astype(np.float32)
    np.savez(tmp_path / "proj.npz", w=w)
    imported = panel.import_file(str(tmp_path / "proj.npz"), "projected face", [0, 1])
    assert imported is not None and imported.rows == [0, 1]
    np.testing.assert_array_equal(imported.w, w[0])
    np.save(tmp_path / "bad.npy", np.zeros((1, 5, 16), np.float32))
    assert panel.import_file(str(tmp_path / "bad.npy"), "bad", [0]) is None
    assert "made for another network" in win.last_error

    # bundled presets are listed read-only beside the user's
    bundled = tmp_path / "bundled" / win.info.fingerprint[:16]
    PresetLibrary(bundled).save(
        Preset(
            name="smile",
            fingerprint=win.info.fingerprint,
            network_name="tiny",
            rows=[2],
            w=np.ones((6, 16), np.float32),
        )
    )
    import editor.presets as presets_mod

    monkeypatch.setattr(presets_mod, "BUNDLED_ROOT", tmp_path / "bundled")
    panel.network_changed(win.info)
    names = {p.name: ro for p, ro in panel.presets}
    assert names == {"smile": True, "projected face": False}
    panel.select_by_name("smile")
    assert not panel.delete_button.isEnabled() and panel.apply_button.isEnabled()
