"""Issue 13 §6, §7, §8, §12 in the editor: the RPG Maker export dock (fit to cells, errors on top, never a stale
preview, discoverable, head-crop faces, side-view battler, new-actor defaults) and the editor polish (tooltips,
no empty projection boxes, shortened source names, one error display, asking before losing unsaved changes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from editor.ui.export_panel import build_export_images
from editor.ui.render_worker import JobContext
from renderer.engine import RenderResult
from renderer.latents import Recipe, SeedSource, WSource


def settle(qtbot, win):
    qtbot.waitUntil(lambda: win._shown_request == win._latest_request and not win.worker.is_busy(), timeout=60000)


def fake_mz_project(root: Path, system: dict | None = None) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "game.rmmzproject").write_text("RPGMZ 1.0.0")
    actor_1 = {"id": 1, "battlerName": "Actor1_1", "characterIndex": 0, "characterName": "Actor1", "classId": 4,
               "equips": [1, 2, 3], "faceIndex": 0, "faceName": "Actor1", "traits": [], "initialLevel": 3,
               "maxLevel": 50, "name": "Reid", "nickname": "", "note": "", "profile": ""}
    (root / "data" / "Actors.json").write_text(json.dumps([None, actor_1]))
    if system is not None:
        (root / "data" / "System.json").write_text(json.dumps(system))
    return root


def save_presets(win, names):
    from editor.presets import Preset, user_library

    lib = user_library(win.info.fingerprint)
    for i, name in enumerate(names):
        lib.save(Preset(name=name, fingerprint=win.info.fingerprint, network_name="tiny", rows=[2, 3],
                        w=np.full((6, 16), 1.0 + i, np.float32)))
    win.preset_panel.reload()


def run_job(job, canvas, num_ws=6):
    class CanvasEngine:
        def render(self, recipe):
            return RenderResult(image=canvas, ws=np.zeros((num_ws, 16), np.float32), ms=0.0)

    return job(JobContext(engine=CanvasEngine(), report=lambda _p: None, should_stop=lambda: False))


def face_cells(faceset):
    return [faceset[(i // 4) * 144 : (i // 4 + 1) * 144, (i % 4) * 144 : (i % 4 + 1) * 144] for i in range(8)]


# ------------------------------------------------------------------------------------------------ §6 export dock
def test_frames_larger_than_the_cells_are_fitted_by_whole_number_nearest_neighbour():
    """demo-face's 128x128 image as a still frame used to fail with '128×128 frames do not fit 48×48 cells'."""
    rng = np.random.default_rng(0)
    canvas = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    sheet, _ = run_job(build_export_images(Recipe.plain(SeedSource(0), 6), [], "fp"), canvas)
    assert sheet.shape == (192, 144, 4)
    cell = sheet[:48, :48]
    np.testing.assert_array_equal(cell[48 - 43 :, 2 : 2 + 43, :3], canvas[::3, ::3])  # 1 pixel in 3, bottom-centred
    sheet, _ = run_job(build_export_images(Recipe.plain(SeedSource(0), 6), [], "fp", cell=64), canvas)
    assert sheet.shape == (256, 192, 4)  # the panel's cell size


def test_a_sprite_face_is_the_head_crop_never_the_whole_sheet():
    from editor.pipeline.config import config_for_sprite_network
    from editor.rpgmaker import face_set
    from editor.sprites import clean_frames, head_of

    canvas = np.full((128, 96, 3), 240, np.uint8)
    for d in range(4):
        for p in range(3):
            canvas[d * 32 + 4 : d * 32 + 28, p * 32 + 8 : p * 32 + 24] = (40 * d + 30, 60 * p + 20, 90)
    _, faceset = run_job(
        build_export_images(Recipe.plain(SeedSource(0), 6), [], "fp", walk_sheet=True, network_name="demo-sprite"),
        canvas,
    )
    cfg = config_for_sprite_network("demo-sprite")
    head = head_of(clean_frames(canvas, cfg.grid, cfg.cleanup), cfg.head.direction, cfg.head.pattern, cfg.head.box)
    np.testing.assert_array_equal(faceset, face_set([head], resample="nearest"))
    whole = face_set([canvas], resample="nearest")
    assert not np.array_equal(face_cells(faceset)[0], face_cells(whole)[0])


def test_export_rebuilds_a_preview_made_for_other_settings(qtbot, window, tmp_path):
    """Build preview, tick an expression, press Export: the face set written has 2 faces, not the stale 1."""
    win, panel = window, window.export_panel
    settle(qtbot, win)
    save_presets(win, ["grin"])
    game = fake_mz_project(tmp_path / "game")
    panel.folder.setText(str(game))
    assert panel._validate_folder()
    panel.walk_sheet.setChecked(False)
    panel.name.setText("Aria")
    panel.build_preview()
    qtbot.waitUntil(lambda: panel.sheet is not None, timeout=60000)
    assert panel.preview_is_current()
    panel.expressions.item(0).setCheckState(Qt.CheckState.Checked)
    assert not panel.preview_is_current() and panel.export_button.isEnabled()
    assert panel.export() is None  # nothing written from the stale preview: it is rebuilt first
    qtbot.waitUntil(lambda: panel.last_report is not None, timeout=60000)
    face_file = next(p for p in panel.last_report.written if p.parent.name == "faces")
    faces = face_cells(np.asarray(Image.open(face_file).convert("RGBA")))
    assert [bool(f[..., 3].any()) for f in faces] == [True, True] + [False] * 6
    assert not np.array_equal(faces[0], faces[1])
    np.testing.assert_array_equal(np.asarray(Image.open(face_file).convert("RGBA")), panel.faceset)
    # the cell size is a panel setting too: changing it drops the preview
    panel.cell.setValue(32)
    assert panel.sheet is None and not panel.preview_is_current()


def test_export_errors_show_at_the_top_of_the_panel(qtbot, window, tmp_path):
    win, panel = window, window.export_panel
    win.show()
    qtbot.waitExposed(win)
    settle(qtbot, win)
    panel.folder.setText(str(tmp_path / "missing"))
    assert panel.export() is None
    assert panel.result.text().startswith("⚠") and "does not exist" in panel.result.text()
    top = panel.result.mapTo(panel, panel.result.rect().topLeft()).y()
    for below in (panel.folder, panel.expressions, panel.sheet_view, panel.face_view):
        assert top < below.mapTo(panel, below.rect().topLeft()).y()
    assert panel.export_button.mapTo(panel, panel.export_button.rect().topLeft()).y() < top


def test_the_export_dock_is_in_front_and_in_the_file_menu(qtbot, window):
    win = window
    win.show()
    qtbot.waitExposed(win)

    def on_screen(panel) -> bool:  # a tabified dock behind another tab keeps isVisible() but shows nothing
        return not panel.visibleRegion().isEmpty()

    qtbot.waitUntil(lambda: on_screen(win.export_panel), timeout=5000)  # in front, not behind Projection
    win.show_panel(win.projection_panel)
    qtbot.waitUntil(lambda: not on_screen(win.export_panel), timeout=5000)
    assert win.act_export_rpgmaker.text() == "Export to RPG Maker…"
    win.act_export_rpgmaker.trigger()
    qtbot.waitUntil(lambda: on_screen(win.export_panel), timeout=5000)


# ------------------------------------------------------------------------------------------------ §7 + §8 in the panel
def test_panel_side_view_battler_and_new_actor_start(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "userdata"))
    win, panel = window, window.export_panel
    settle(qtbot, win)
    game = fake_mz_project(tmp_path / "game", {"optSideView": True, "equipTypes": ["", "Weapon", "Shield", "Head"]})
    panel.folder.setText(str(game))
    assert panel._validate_folder()
    assert "Side-view battles" in panel.folder_status.text() and "does not make" in panel.folder_status.text()
    panel.walk_sheet.setChecked(False)
    panel.name.setText("Aria")
    panel.battler.setText("Nobody")
    panel.export()
    qtbot.waitUntil(lambda: panel.result.text().startswith("⚠"), timeout=60000)
    assert "no side-view battler Nobody.png" in panel.result.text() and panel.last_report is None
    panel.battler.setText("")
    report = panel.export()
    assert report is not None and "side-view" in panel.result.text() and "⚠" in panel.result.text()
    assert str(report.backup_dir) in panel.result.text() and game.resolve() not in report.backup_dir.parents
    (game / "img" / "sv_actors").mkdir(parents=True)
    (game / "img" / "sv_actors" / "Actor1_1.png").write_bytes(b"png")
    panel.battler.setText("Actor1_1")
    panel.copy_actor.setValue(1)
    assert panel.export() is not None
    actors = json.loads((game / "data" / "Actors.json").read_text(encoding="utf-8"))
    assert (actors[2]["battlerName"], actors[2]["classId"], actors[2]["equips"]) == ("", 1, [0, 0, 0])
    assert (actors[3]["battlerName"], actors[3]["classId"], actors[3]["equips"]) == ("Actor1_1", 4, [1, 2, 3])


# ------------------------------------------------------------------------------------------------ §12 polish
def test_bands_psi_and_cutoff_explain_themselves(window):
    from editor.ui.base_controls import CUTOFF_HELP, PSI_HELP

    win = window
    for band, words in (("coarse", "pose"), ("middle", "features"), ("fine", "colour")):
        assert words in win.band_buttons[band].toolTip()
        assert words in win.grid.rows[0 if band == "coarse" else -1].caption.toolTip() or band != "coarse"
    assert "coarse" in win.grid_hint.text() and "fine" in win.grid_hint.text() and win.grid_hint.wordWrap()
    assert win.base_controls.psi.toolTip() == PSI_HELP and "average" in PSI_HELP
    assert win.base_controls.cutoff.toolTip() == CUTOFF_HELP and "rows" in CUTOFF_HELP


def test_long_source_names_are_shortened_in_the_middle_with_the_full_name_as_tooltip(qtbot, window):
    from editor.ui.layer_grid import SOURCE_CHARS, short_label

    src = WSource(np.zeros((6, 16), np.float32), label="face.projection-of-my-heroine.png", kind="projected")
    text = short_label(src)
    assert len(text) <= SOURCE_CHARS and "…" in text and text.startswith("proj: ") and text.endswith(".png")
    assert short_label(WSource(np.zeros((6, 16), np.float32), label="a.png", kind="projected")) == "proj: a.png"
    win = window
    settle(qtbot, win)
    win.add_source(src, rows=[1])
    settle(qtbot, win)
    combo = win.grid.rows[1].source
    assert combo.currentText() == text and combo.toolTip() == "projected: face.projection-of-my-heroine.png"


def test_projection_dock_has_no_empty_boxes_before_first_use(qtbot, window, tmp_path):
    panel = window.projection_panel
    for w in (panel.target_view, panel.estimate_view, panel.plot):
        assert not w.isVisibleTo(panel)
    panel.start_projection(str(tmp_path / "missing.png"))
    qtbot.waitUntil(lambda: not panel.running, timeout=60000)
    for w in (panel.target_view, panel.estimate_view, panel.plot):
        assert w.isVisibleTo(panel)


def test_a_bad_network_shows_its_error_once(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    dialogs = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: dialogs.append(a))
    win = window
    win.interactive = True
    try:
        win.statusBar().clearMessage()
        win.open_network("broken.pkl")
        qtbot.waitUntil(lambda: win.last_error is not None, timeout=60000)
        assert "broken.pkl" in win.error_banner.text() and not win.error_banner.isHidden()
        assert dialogs == [] and win.statusBar().currentMessage() == ""
    finally:
        win.interactive = False


@pytest.mark.parametrize("choice", ["cancel", "discard"])
def test_quitting_with_unsaved_changes_asks_first(qtbot, window, tmp_path, choice):
    win = window
    settle(qtbot, win)
    asked = []
    win.ask_unsaved = lambda: asked.append(1) or choice
    win.interactive = True
    try:
        win.show()
        assert not win.has_unsaved_changes()
        assert not win.isWindowModified()
        win.base_controls.seed.setValue(5)
        assert win.has_unsaved_changes() and win.isWindowModified()  # the title shows a mark
        closed = win.close()
        assert asked == [1] and closed == (choice == "discard") and win.isVisible() == (choice == "cancel")
        if choice == "cancel":
            assert win.save_session(str(tmp_path / "mix.castmaker-session")) is not None
            assert not win.has_unsaved_changes()
            win.act_undo.trigger()  # back to before the save: differs from the saved session again
            assert win.has_unsaved_changes()
            win.act_redo.trigger()
            assert win.close() and asked == [1]  # saved state: closes without asking
    finally:
        win.interactive = False


def test_a_long_status_line_is_readable_in_full_as_a_tooltip(window, tmp_path):
    win = window
    long_line = "Saved session " + str(tmp_path / ("a-rather-long-folder-name/" * 8) / "mix.castmaker-session")
    win.statusBar().showMessage(long_line, 8000)
    assert win.statusBar().toolTip() == long_line
    assert "dimLabel" == win.grid_hint.objectName() and win.export_panel.folder.placeholderText() == "MV/MZ project folder"
    assert "project folder" in win.export_panel.folder.toolTip()


def test_a_preset_resaved_under_the_same_name_makes_the_preview_stale(qtbot, window):
    """The preview remembers each ticked preset's content, not just its name: 'grin' saved again with other rows
    and w is another expression, so the preview built with the old one is no longer current."""
    from editor.presets import Preset, preset_content_key, user_library

    win, panel = window, window.export_panel
    settle(qtbot, win)
    save_presets(win, ["grin"])
    panel.walk_sheet.setChecked(False)
    panel.expressions.item(0).setCheckState(Qt.CheckState.Checked)
    panel.build_preview()
    qtbot.waitUntil(lambda: panel.sheet is not None, timeout=60000)
    assert panel.preview_is_current()
    old = win.preset_panel.presets[0][0]
    new = Preset(name="grin", fingerprint=win.info.fingerprint, network_name="tiny", rows=[4, 5],
                 w=np.full((6, 16), -2.0, np.float32))  # fmt: skip
    user_library(win.info.fingerprint).save(new, overwrite=True)
    listed, _ = user_library(win.info.fingerprint).list()
    # the preset list holds the re-saved one (as a reload does) while the tick and the preview stay
    win.preset_panel.presets = [(p, False) for p in listed]
    assert [p.name for p in panel.checked_presets()] == ["grin"]
    assert preset_content_key(panel.checked_presets()[0]) != preset_content_key(old)
    assert not panel.preview_is_current()
    win.preset_panel.presets = [(old, False)]  # the same content again: current again
    assert panel.preview_is_current()


@pytest.mark.parametrize("choice", ["cancel", "discard"])
def test_opening_another_network_with_unsaved_changes_asks_first(qtbot, window, choice):
    win = window
    settle(qtbot, win)
    asked, loads = [], []
    win.ask_unsaved = lambda: asked.append(1) or choice
    real_load = win.worker.load_network
    win.worker.load_network = lambda source: loads.append(source) or real_load(source)
    win.interactive = True
    try:
        win.open_network("tiny2")  # nothing unsaved: no question
        assert asked == [] and loads == ["tiny2"]
        qtbot.waitUntil(lambda: win.info is not None and win.info.name == "tiny2", timeout=60000)
        settle(qtbot, win)
        win.base_controls.seed.setValue(5)
        assert win.has_unsaved_changes()
        win.open_network("tiny")
        assert asked == [1]
        assert loads == (["tiny2"] if choice == "cancel" else ["tiny2", "tiny"])
        want = "tiny2" if choice == "cancel" else "tiny"
        qtbot.waitUntil(lambda: win.info.name == want and not win.worker.is_busy(), timeout=60000)
    finally:
        win.interactive = False
        win.worker.load_network = real_load
