"""Preview: nearest-neighbour zoom keeps pixels crisp; transparent pixels show a checkerboard."""

from __future__ import annotations

import numpy as np

from editor.ui.preview import ZOOMS, PreviewPanel
from editor.ui.qt_images import from_qimage, to_qimage


def test_qimage_round_trip():
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    np.testing.assert_array_equal(from_qimage(to_qimage(img)), img)
    rgb = img[:, :, :3].copy()
    np.testing.assert_array_equal(from_qimage(to_qimage(rgb))[:, :, :3], rgb)


def test_zoom_is_nearest_and_alpha_shows_checkerboard(qtbot):
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 400)
    img = np.zeros((4, 4, 4), np.uint8)
    img[:2, :2] = [255, 0, 0, 255]  # opaque red top-left block
    img[2:, 2:] = [0, 0, 255, 255]  # opaque blue bottom-right
    panel.set_mix(img)
    panel.zoom_box.setCurrentIndex([z for _, z in ZOOMS].index(8.0))
    canvas = panel.canvas
    assert (canvas.width(), canvas.height()) == (32, 32)
    shot = from_qimage(canvas.grab().toImage())
    # nearest: every screen pixel of the red block is exactly red (no blur at the edge)
    np.testing.assert_array_equal(shot[:16, :16, :3], np.broadcast_to([255, 0, 0], (16, 16, 3)))
    np.testing.assert_array_equal(shot[16:, 16:, :3], np.broadcast_to([0, 0, 255], (16, 16, 3)))
    # the transparent top-right quarter shows the two checkerboard greys
    greys = {tuple(p) for p in shot[:16, 16:, :3].reshape(-1, 3)}
    assert greys == {(204, 204, 204), (153, 153, 153)}


def test_before_after_and_fit(qtbot):
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    mix = np.full((8, 8, 3), 10, np.uint8)
    base = np.full((8, 8, 3), 200, np.uint8)
    panel.set_mix(mix)
    panel.set_before(base)
    assert panel.shown_image() is mix
    panel.toggle_before()
    assert panel.shown_image() is base and panel.showing_before
    panel.toggle_before()
    panel.resize(300, 200)
    panel.show()
    qtbot.waitExposed(panel)
    rect = panel.canvas.image_rect()
    assert rect.width() == rect.height()  # aspect kept
    assert rect.width() % 8 == 0  # whole-pixel enlargement when fitting
