"""Projection and RPG Maker export panels, PNG export, screenshot mode and the UI bench on the tiny network."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from editor.ui.app import ready_for_screenshot, take_screenshot


def settle(qtbot, win):
    qtbot.waitUntil(
        lambda: win._shown_request == win._latest_request and not win.worker.is_busy(), timeout=60000
    )


def test_projection_becomes_a_source_on_dropped_rows(qtbot, window, tmp_path, reference):
    win, panel = window, window.projection_panel
    settle(qtbot, win)
    target = reference.render(win.recipe.with_base(win.catalog.sources[2])).image
    Image.fromarray(target).save(tmp_path / "face.png")
    panel.steps.setValue(10)
    panel.loss.setCurrentText("pixel")
    win.open_dropped(str(tmp_path / "face.png"), rows=[4, 5])
    assert panel.running and not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=120000)
    assert panel.result_source is not None, panel.status.text()
    assert panel.result_source.kind == "projected" and panel.result_source.label == "face.png"
    assert panel.losses and panel.progress.value() == 10
    assert win.recipe.rows[4].source == panel.result_source and win.recipe.rows[5].mode == "replace"
    assert "PSNR" in panel.status.text()
    settle(qtbot, win)
    np.testing.assert_array_equal(win.preview.shown_image(), reference.render(win.recipe).image)
    saved = panel.save_as_preset("projected", [4, 5])
    assert saved is not None and saved.rows == [4, 5]


def test_projection_cancel_keeps_ui_alive(qtbot, window, tmp_path):
    win, panel = window, window.projection_panel
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    panel.steps.setValue(5000)
    panel.start_projection(str(tmp_path / "grey.png"))
    qtbot.waitUntil(lambda: len(panel.losses) > 0, timeout=120000)
    # the editor keeps rendering while the projection runs
    win.base_controls.seed.setValue(3)
    qtbot.waitUntil(lambda: win._shown_request == win._latest_request, timeout=60000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=60000)
    assert panel.status.text() == "Projection cancelled." and panel.result_source is None


def test_projection_of_unreadable_image_reports(qtbot, window, tmp_path):
    win, panel = window, window.projection_panel
    (tmp_path / "not.png").write_bytes(b"nope")
    panel.start_projection(str(tmp_path / "not.png"))
    qtbot.waitUntil(lambda: not panel.running, timeout=60000)
    assert panel.status.text().startswith("Projection failed") and "not.png" in win.last_error


def _fake_mz_project(root):
    (root / "data").mkdir(parents=True)
    (root / "game.rmmzproject").write_text("RPGMZ 1.0.0")
    (root / "data" / "Actors.json").write_text(json.dumps([None]))
    (root / "img" / "characters").mkdir(parents=True)
    (root / "img" / "faces").mkdir(parents=True)
    return root


def test_export_panel_writes_what_it_previews(qtbot, window, tmp_path):
    from editor.presets import Preset, user_library

    win, panel = window, window.export_panel
    settle(qtbot, win)
    user_library(win.info.fingerprint).save(
        Preset(
            name="grin",
            fingerprint=win.info.fingerprint,
            network_name="tiny",
            rows=[2, 3],
            w=np.ones((6, 16), np.float32),
        )
    )
    win.preset_panel.reload()
    assert panel.expressions.count() == 1
    from PySide6.QtCore import Qt

    panel.expressions.item(0).setCheckState(Qt.CheckState.Checked)
    panel.folder.setText(str(tmp_path / "nothing"))
    assert not panel._validate_folder() and "does not exist" in panel.folder_status.text()
    game = _fake_mz_project(tmp_path / "game")
    panel.folder.setText(str(game))
    assert panel._validate_folder() and "MZ" in panel.folder_status.text()
    assert win.settings.value("export/game_dir") == str(game.resolve())
    assert panel.walk_sheet.isChecked()  # StyleGAN2 networks default to walk-sheet cutting
    panel.walk_sheet.setChecked(False)  # the 16-px tiny network is no walk sheet: one still frame
    panel.name.setText("Aria")
    panel.build_preview()
    qtbot.waitUntil(lambda: panel.sheet is not None, timeout=60000)
    assert panel.export_button.isEnabled()
    report = panel.export()
    assert report is not None, panel.result.text()
    written = [Path(p) for p in report.written]
    sheet_file = next(p for p in written if p.suffix == ".png" and p.parent.name == "characters")
    face_file = next(p for p in written if p.suffix == ".png" and p.parent.name == "faces")
    np.testing.assert_array_equal(np.asarray(Image.open(sheet_file).convert("RGBA")), panel.sheet)
    np.testing.assert_array_equal(np.asarray(Image.open(face_file).convert("RGBA")), panel.faceset)
    # face 0 is the mix, face 1 the mix with the expression preset: they differ
    assert not np.array_equal(panel.faceset[:144, :144], panel.faceset[:144, 144:288])
    assert "Aria" in panel.result.text()
    # a new edit invalidates the preview (Export then rebuilds it first: test_export_and_polish.py)
    win.base_controls.seed.setValue(8)
    assert panel.sheet is None and not panel.preview_is_current()


def test_export_png_native_resolution(qtbot, window, tmp_path):
    win = window
    settle(qtbot, win)
    out = win.export_png(str(tmp_path / "frame"))
    assert out.name == "frame.png"
    np.testing.assert_array_equal(np.asarray(Image.open(out)), win.preview.mix_image())


def test_screenshot_waits_for_everything(qtbot, window, tmp_path):
    win = window
    win.show()
    out = take_screenshot(win, tmp_path / "shot.png", timeout_s=60)
    assert ready_for_screenshot(win)
    img = Image.open(out)
    assert img.size == (win.width(), win.height())
    arr = np.asarray(img)
    assert arr.std() > 10  # not a blank window


def test_ui_bench_counts(qtbot, isolated, loader):
    from editor.ui.ui_bench import run_bench

    r = run_bench("tiny", "cpu", seconds=1.0, loader=loader)
    assert r.posted > 10 and r.delivered >= 1
    assert r.posted == r.delivered + r.dropped + r.failed
    assert r.failed == 0 and r.latency_ms_mean > 0 and r.delivered_fps > 0


def test_walk_sheet_job_cuts_the_canvas_on_the_pipeline_grid():
    """A 96x128 canvas of 4 direction rows x 3 patterns (32 px frames) becomes a 144x192 `$` sheet."""
    from editor.rpgmaker import sheet_frame
    from editor.ui.export_panel import build_export_images
    from editor.ui.render_worker import JobContext
    from renderer.engine import RenderResult
    from renderer.latents import Recipe, SeedSource

    canvas = np.full((128, 96, 3), 240, np.uint8)  # light background
    colours = {0: (200, 30, 30), 1: (30, 200, 30), 2: (30, 30, 200), 3: (200, 200, 30)}
    for d, colour in colours.items():
        for p in range(3):
            canvas[d * 32 + 8 : d * 32 + 24, p * 32 + 10 + p : p * 32 + 22 + p] = colour

    class CanvasEngine:
        def render(self, recipe):
            return RenderResult(image=canvas, ws=np.zeros((6, 16), np.float32), ms=0.0)

    job = build_export_images(Recipe.plain(SeedSource(0), 6), [], "fp", walk_sheet=True, network_name="demo-sprite")
    sheet, faceset = job(JobContext(engine=CanvasEngine(), report=lambda _p: None, should_stop=lambda: False))
    assert sheet.shape == (192, 144, 4) and faceset.shape == (288, 576, 4)
    for d, direction in enumerate(["down", "left", "right", "up"]):
        frame = sheet_frame(sheet, "$hero.png", 0, direction, 1)
        opaque = frame[frame[:, :, 3] > 0][:, :3]
        assert len(opaque) > 0 and np.abs(opaque.astype(int) - colours[d]).max() < 40
        assert frame[0, 0, 3] == 0  # the background became transparent


def test_walk_sheet_job_cuts_a_cast_sprite_canvas_on_the_cast_grid():
    """cast-sprite's canvas (24-px frames at (28, 16)) becomes a `$` sheet whose cells are the frames scaled 2x."""
    from editor.rpgmaker import sheet_frame
    from editor.ui.export_panel import build_export_images
    from editor.ui.render_worker import JobContext
    from renderer.cast.description import Character
    from renderer.cast.walk_sheet import draw_frame, draw_walk_sheet
    from renderer.engine import RenderResult
    from renderer.latents import Recipe, SeedSource

    hero = Character(hair_style=2, outfit_style=1)
    canvas = draw_walk_sheet(hero)

    class CanvasEngine:
        def render(self, recipe):
            return RenderResult(image=canvas, ws=np.zeros((12, 64), np.float32), ms=0.0)

    job = build_export_images(Recipe.plain(SeedSource(0), 12), [], "fp", walk_sheet=True, network_name="cast-sprite")
    sheet, _ = job(JobContext(engine=CanvasEngine(), report=lambda _p: None, should_stop=lambda: False))
    assert sheet.shape == (192, 144, 4)
    for direction in ("down", "left", "right", "up"):
        for pattern in range(3):
            cell = sheet_frame(sheet, "$hero.png", 0, direction, pattern)
            frame = draw_frame(hero, direction, pattern)
            opaque = cell[..., 3] > 0
            big = frame.repeat(2, axis=0).repeat(2, axis=1)
            assert opaque.mean() > 0.15  # the figure fills much of the 48-px cell
            assert np.abs(cell[opaque][:, :3].astype(int) - big[opaque].astype(int)).max() <= 16  # palette rounding
