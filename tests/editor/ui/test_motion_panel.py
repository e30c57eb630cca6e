"""Motion panel on the tiny network: keys, undo, scrub / play in the preview, export in the worker, Cancel."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageSequence

from editor.motion import render_frame
from editor.session import save_session


def settle(qtbot, win):
    qtbot.waitUntil(
        lambda: win._shown_request == win._latest_request and not win.worker.is_busy(), timeout=60000
    )


def two_keys(qtbot, win):
    panel = win.motion_panel
    settle(qtbot, win)
    panel.add_current()
    win.base_controls.seed.setValue(7)
    settle(qtbot, win)
    panel.add_current()
    return panel


def test_keys_undo_and_export_gif(qtbot, window, tmp_path, reference):
    win = window
    first = win.recipe
    panel = two_keys(qtbot, win)
    assert [k.recipe for k in panel.clip.keys] == [first, win.recipe]
    qtbot.waitUntil(lambda: all(k.recipe in panel.thumbs for k in panel.clip.keys), timeout=60000)
    assert not panel.strip.item(0).icon().isNull()
    panel.loop.setChecked(True)
    panel.fps.setValue(10)
    assert panel.clip.options.loop and panel.clip.options.fps == 10
    assert panel.num_frames() == 20 and panel.slider.maximum() == 19
    job = panel.export_to(str(tmp_path / "clip.gif"))
    assert job is not None and not panel.export_button.isEnabled()
    qtbot.waitUntil(lambda: panel.export_job is None, timeout=120000)
    assert panel.last_export == tmp_path / "clip.gif", panel.status.text()
    im = Image.open(tmp_path / "clip.gif")
    assert im.n_frames == 20 and im.info["loop"] == 0 and im.info["duration"] == 100
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    assert frames[0].shape == reference.render(first).image.shape
    # undo removes the option changes, then the keys, one gesture at a time
    for _ in range(2):
        win.undo_stack.undo()
    assert not panel.clip.options.loop and panel.clip.options.fps == 24
    win.undo_stack.undo()
    assert len(panel.clip.keys) == 1
    win.undo_stack.redo()
    assert len(panel.clip.keys) == 2


def test_cancel_leaves_no_file(qtbot, window, tmp_path):
    panel = two_keys(qtbot, window)
    panel.strip.setCurrentRow(0)
    panel.seconds.setValue(60.0)  # first key's segment: 1440 frames, long enough to cancel midway
    assert panel.num_frames() == 1441
    out = tmp_path / "out"
    out.mkdir()
    progress = []
    window.worker.jobProgress.connect(lambda job, payload: progress.append(payload))
    panel.export_to(str(out / "long.webp"))
    qtbot.waitUntil(lambda: len(progress) > 1, timeout=60000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.export_job is None, timeout=60000)
    assert panel.status.text() == "Export cancelled: no file was written."
    assert list(out.iterdir()) == []


def test_scrub_and_play_show_frames_then_restore(qtbot, window, reference):
    win = window
    panel = two_keys(qtbot, win)
    recipe_frame = win.preview.mix_image().copy()
    panel.scrub(2)
    panel.scrub(5)  # latest wins: the older request is dropped or its late result ignored
    qtbot.waitUntil(lambda: panel.shown_frame == 5, timeout=60000)
    qtbot.wait(200)
    assert panel.shown_frame == 5 and panel.slider.value() == 5
    np.testing.assert_array_equal(win.preview.mix_image(), render_frame(reference, panel.clip, 5))
    panel.play()
    qtbot.waitUntil(lambda: panel.frames is not None and panel.timer.isActive(), timeout=60000)
    assert len(panel.frames) == panel.num_frames() == 25
    qtbot.waitUntil(lambda: panel.slider.value() > 3, timeout=60000)
    panel.play_button.click()  # Stop
    assert not panel.timer.isActive() and panel.shown_frame is None
    np.testing.assert_array_equal(win.preview.mix_image(), recipe_frame)


def test_session_from_another_network_is_refused(qtbot, window, tmp_path):
    win = window
    settle(qtbot, win)
    path = save_session(tmp_path / "elsewhere", win.recipe, "tiny2", "ff" * 32)
    assert not win.motion_panel.add_session(str(path))
    assert "another network" in win.last_error and win.motion_panel.clip.keys == ()
    good = save_session(tmp_path / "here", win.recipe, "tiny", win.info.fingerprint)
    assert win.motion_panel.add_session(str(good)) and len(win.motion_panel.clip.keys) == 1
