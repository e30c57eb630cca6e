"""Motion panel: a strip of recipe keyframes, timing options, play / scrub in the preview, export with Cancel.

Why it is thin: the clip is a plain value (editor/motion.Clip) changed by pure edits; each gesture on it is
one command on the window's undo stack, like recipe edits. Every render runs in the RenderWorker as a job:
key thumbnails, the frame under the scrub slider (a newer scrub cancels the older queued one: latest
wins), the whole clip for playback (batched) and export (batched, progress, Cancel; the file is written
in the job too, atomically, so Cancel leaves nothing behind). Played and scrubbed frames are shown with
PreviewPanel.set_mix; Stop puts the recipe's own frame back.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.document import NetworkInfo
from editor.motion import DEFAULT_SEGMENT_SECONDS, Clip, Keyframe, render_clip, render_frame, session_keys
from editor.ui.qt_images import thumbnail_pixmap
from editor.ui.render_worker import new_job_id
from editor.ui.undo import ValueCommand
from renderer.errors import CastmakerError
from renderer.latents.motion import EASINGS, INTERPOLATIONS, MotionOptions

log = logging.getLogger(__name__)

THUMB = 56
CLIP_MERGE_ID = 0x0CA6
EXPORT_FORMATS = (  # combo label, format, file-dialog filter
    ("GIF", "gif", "GIF animation (*.gif)"),
    ("Animated WebP", "webp", "Animated WebP (*.webp)"),
    ("APNG", "apng", "Animated PNG (*.png)"),
    ("MP4 (H.264)", "mp4", "MP4 video (*.mp4)"),
    ("PNG sequence (folder)", "frames", "Folder (*)"),
    ("Sprite strip (PNG)", "strip", "PNG image (*.png)"),
)


class ClipCommand(ValueCommand):
    """A clip edit (keys, timing, options): one undo step, a drag of one control merged."""

    merge_id = CLIP_MERGE_ID


def _export_job(clip: Clip, path: str, fmt: str, scale: int, batch: int):
    def run(ctx):
        from editor.motion_files import write_clip

        frames = render_clip(ctx.engine, clip, batch_size=batch,
                             progress=lambda d, t: ctx.report(("render", d, t)), should_stop=ctx.should_stop)  # fmt: skip
        ctx.report(("write", len(frames), len(frames)))
        out = write_clip(path, frames, clip.options.fps, clip.options.loop, fmt, scale=scale, overwrite=True,
                         should_stop=ctx.should_stop)  # fmt: skip
        return out, len(frames)

    return run


class MotionPanel(QWidget):
    """Keyframes, timing, play / scrub and export of a clip of recipes on the loaded network."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info: NetworkInfo | None = None
        self.clip = Clip()
        self.thumbs: dict[object, np.ndarray] = {}  # recipe -> uint8 image
        self.frames: list[np.ndarray] | None = None  # rendered frames of `frames_clip`
        self.frames_clip: Clip | None = None
        self.export_job: str | None = None
        self.play_job: str | None = None
        self.scrub_job: str | None = None
        self.thumb_job: str | None = None
        self.last_export: Path | None = None
        self.shown_frame: int | None = None
        self._syncing = False
        self._gesture = itertools.count(1)

        self.strip = QListWidget()
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setFlow(QListWidget.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setFixedHeight(THUMB + 44)
        self.strip.setMovement(QListWidget.Movement.Static)
        self.strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.strip.setToolTip("Keyframes in order (◀ ▶ reorder); each lasts 'Segment' seconds to the next")
        self.strip.currentRowChanged.connect(self._on_current_key)

        self.add_button = QPushButton("Add current")
        self.add_button.setToolTip("Add the editor's current recipe as a keyframe")
        self.add_button.clicked.connect(self.add_current)
        self.preset_button = QToolButton()
        self.preset_button.setText("Add preset ▾")
        self.preset_button.setToolTip("Add the current recipe with a preset applied as a keyframe")
        self.preset_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.preset_menu = QMenu(self.preset_button)
        self.preset_menu.aboutToShow.connect(self._fill_preset_menu)
        self.preset_button.setMenu(self.preset_menu)
        self.session_button = QPushButton("Add session…")
        self.session_button.clicked.connect(self._choose_session)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.left_button = QPushButton("◀")
        self.left_button.setToolTip("Move the selected keyframe earlier")
        self.left_button.clicked.connect(lambda: self.move_selected(-1))
        self.right_button = QPushButton("▶")
        self.right_button.setToolTip("Move the selected keyframe later")
        self.right_button.clicked.connect(lambda: self.move_selected(1))
        for b in (self.left_button, self.right_button):
            b.setObjectName("smallButton")
            b.setMaximumWidth(32)

        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(0.05, 60.0)
        self.seconds.setSingleStep(0.25)
        self.seconds.setDecimals(2)
        self.seconds.setSuffix(" s")
        self.seconds.setToolTip("Duration of the segment from the selected keyframe to the next")
        self.seconds.valueChanged.connect(self._on_seconds)
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(24)
        self.loop = QCheckBox("Loop")
        self.loop.setToolTip("Return to the first keyframe; exported files loop")
        self.ease = QComboBox()
        self.ease.addItems(list(EASINGS))
        self.interp = QComboBox()
        self.interp.addItems(list(INTERPOLATIONS))
        self.interp.setToolTip("Each w row moves linearly in W, or along a great circle around w_avg")
        self.delays = []
        delay_row = QHBoxLayout()
        for band in ("coarse", "middle", "fine"):
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 0.9)
            spin.setSingleStep(0.1)
            spin.setDecimals(2)
            spin.setToolTip(f"{band} rows start moving after this fraction of each segment")
            delay_row.addWidget(QLabel(band[0].upper()))
            delay_row.addWidget(spin)
            self.delays.append(spin)
        for w in (self.fps, self.ease, self.interp, self.loop, *self.delays):
            signal = w.toggled if isinstance(w, QCheckBox) else (
                w.currentIndexChanged if isinstance(w, QComboBox) else w.valueChanged)  # fmt: skip
            signal.connect(lambda *_: self._on_options())

        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider)
        self.frame_label = QLabel("")
        self.frame_label.setObjectName("dimLabel")
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._advance)

        self.format = QComboBox()
        for label, _, _ in EXPORT_FORMATS:
            self.format.addItem(label)
        self.scale = QSpinBox()
        self.scale.setRange(1, 16)
        self.scale.setPrefix("×")
        self.scale.setToolTip("Enlarge frames by a whole number (nearest neighbour: pixel art stays crisp)")
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self._choose_export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Add two or more keyframes (the current recipe, presets, sessions).")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        keys_bar = QHBoxLayout()
        for w in (self.add_button, self.preset_button, self.session_button, self.remove_button,
                  self.left_button, self.right_button):  # fmt: skip
            keys_bar.addWidget(w)
        keys_bar.addStretch(1)
        form = QFormLayout()
        form.addRow("Segment", self.seconds)
        timing = QHBoxLayout()
        timing.addWidget(self.fps)
        timing.addWidget(QLabel("fps"))
        timing.addWidget(self.loop)
        timing.addStretch(1)
        form.addRow("Timing", timing)
        shape = QHBoxLayout()
        shape.addWidget(self.ease)
        shape.addWidget(self.interp)
        form.addRow("Ease / path", shape)
        form.addRow("Band delays", delay_row)
        play_bar = QHBoxLayout()
        play_bar.addWidget(self.play_button)
        play_bar.addWidget(self.slider, 1)
        play_bar.addWidget(self.frame_label)
        export_bar = QHBoxLayout()
        export_bar.addWidget(self.format, 1)
        export_bar.addWidget(self.scale)
        export_bar.addWidget(self.export_button)
        export_bar.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.strip)
        lay.addLayout(keys_bar)
        lay.addLayout(form)
        lay.addLayout(play_bar)
        lay.addLayout(export_bar)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addStretch(1)

        w = window.worker
        w.jobProgress.connect(self._on_progress)
        w.jobFinished.connect(self._on_finished)
        w.jobFailed.connect(self._on_failed)
        self._refresh()

    # ---------------------------------------------------------------- network and clip
    def network_changed(self, info: NetworkInfo) -> None:
        """A new network: keys of the old one do not fit it, so the clip starts empty."""
        self.stop()
        self.info = info
        self.thumbs.clear()
        self._set_clip(Clip(options=self.clip.options))

    def edit_clip(self, new: Clip, text: str, merge_key: Hashable | None = None) -> None:
        """Push an undoable change of the clip."""
        if new == self.clip:
            return
        self.window.undo_stack.push(ClipCommand(self.clip, new, text, self._set_clip, merge_key))

    def _set_clip(self, clip: Clip) -> None:
        self.clip = clip
        if self.frames_clip != clip:
            self.frames = None
            if self.timer.isActive() or self.play_job:
                self.stop()
        self._refresh()
        self._request_thumbnails()
        if self.export_job is None:
            self.status.setText(self.describe())

    def describe(self) -> str:
        """'3 keyframes: 72 frames, 3.00 s at 24 fps, looping' (or what is missing)."""
        if len(self.clip.keys) < 2:
            return "Add two or more keyframes (the current recipe, presets, sessions)."
        n, o = self.num_frames(), self.clip.options
        return f"{len(self.clip.keys)} keyframes: {n} frames, {n / o.fps:.2f} s at {o.fps:g} fps" + (
            ", looping" if o.loop else ""
        )

    def _options(self) -> MotionOptions:
        return MotionOptions(
            fps=float(self.fps.value()),
            loop=self.loop.isChecked(),
            ease=self.ease.currentText(),
            interpolation=self.interp.currentText(),
            band_delays=tuple(s.value() for s in self.delays),  # type: ignore[arg-type]
        )

    def _on_options(self) -> None:
        if self._syncing:
            return
        self.edit_clip(Clip(self.clip.keys, self._options()), "motion options", ("options", next(self._gesture)))

    def _refresh(self) -> None:
        """Show the clip: strip items, options, slider range, button states."""
        self._syncing = True
        try:
            current = self.strip.currentRow()
            self.strip.clear()
            for i, key in enumerate(self.clip.keys):
                item = QListWidgetItem(f"{i + 1}. {key.label}")
                item.setToolTip(f"{key.label}: {key.seconds:.2f} s to the next keyframe")
                img = self.thumbs.get(key.recipe)
                if img is not None:
                    item.setIcon(QIcon(thumbnail_pixmap(img, THUMB)))
                item.setSizeHint(QSize(THUMB + 24, THUMB + 36))
                self.strip.addItem(item)
            if self.clip.keys:
                self.strip.setCurrentRow(min(max(current, 0), len(self.clip.keys) - 1))
            o = self.clip.options
            self.fps.setValue(int(round(o.fps)))
            self.loop.setChecked(o.loop)
            self.ease.setCurrentText(o.ease)
            self.interp.setCurrentText(o.interpolation)
            for spin, d in zip(self.delays, o.band_delays, strict=True):
                spin.setValue(d)
            row = self.strip.currentRow()
            has_key = 0 <= row < len(self.clip.keys)
            self.seconds.setEnabled(has_key)  # no keyframe selected: the duration a new one gets, greyed
            self.seconds.setValue(self.clip.keys[row].seconds if has_key else DEFAULT_SEGMENT_SECONDS)
            n = self.num_frames()
            self.slider.setRange(0, max(n - 1, 0))
            self.frame_label.setText(f"{n} frames · {n / o.fps:.2f} s" if n else "")
        finally:
            self._syncing = False
        busy = self.export_job is not None
        has_net = self.info is not None and self.window.recipe is not None
        ready = len(self.clip.keys) >= 2
        self.add_button.setEnabled(has_net)
        self.preset_button.setEnabled(has_net)
        self.session_button.setEnabled(has_net)
        self.remove_button.setEnabled(bool(self.clip.keys))
        self.play_button.setEnabled(ready)
        self.slider.setEnabled(ready)
        self.export_button.setEnabled(ready and not busy)
        self.cancel_button.setEnabled(busy or self.play_job is not None)

    def num_frames(self) -> int:
        if len(self.clip.keys) < 2:
            return 0
        try:
            return self.clip.num_frames()
        except CastmakerError:
            return 0

    # ---------------------------------------------------------------- keyframe gestures
    def add_key(self, key: Keyframe) -> None:
        """Append `key` after the selected keyframe (at the end when none is selected)."""
        row = self.strip.currentRow()
        index = row + 1 if 0 <= row < len(self.clip.keys) else None
        self.edit_clip(self.clip.with_key(key, index), f"add keyframe {key.label}")
        self.strip.setCurrentRow(len(self.clip.keys) - 1 if index is None else index)

    def add_current(self) -> None:
        if self.window.recipe is None:
            return
        self.add_key(Keyframe(self.window.recipe, label=f"key {len(self.clip.keys) + 1}"))

    def add_preset(self, preset) -> None:
        """Key = the current recipe with `preset` applied (refused with a message if it does not fit)."""
        from editor.presets import apply_preset

        if self.window.recipe is None or self.info is None:
            return
        try:
            recipe = apply_preset(self.window.recipe, preset, self.info.fingerprint, self.info.name)
        except CastmakerError as exc:
            self._error(str(exc))
            return
        self.add_key(Keyframe(recipe, label=preset.name))

    def add_session(self, path: str) -> bool:
        """Key = a saved session's recipe; sessions saved with another network are refused."""
        if self.info is None:
            return False
        try:
            (key,) = session_keys([path], self.info.fingerprint, self.info.name)
        except CastmakerError as exc:
            self._error(str(exc))
            return False
        if key.recipe.num_ws != self.info.num_ws:
            self._error(f"{Path(path).name} has {key.recipe.num_ws} rows; this network has {self.info.num_ws}")
            return False
        self.add_key(key)
        return True

    def remove_selected(self) -> None:
        row = self.strip.currentRow()
        if 0 <= row < len(self.clip.keys):
            self.edit_clip(self.clip.without_key(row), f"remove keyframe {self.clip.keys[row].label}")

    def move_selected(self, step: int) -> None:
        row = self.strip.currentRow()
        to = row + step
        if 0 <= row < len(self.clip.keys) and 0 <= to < len(self.clip.keys):
            self.edit_clip(self.clip.moved(row, to), "reorder keyframes")
            self.strip.setCurrentRow(to)

    def _on_current_key(self, row: int) -> None:
        if self._syncing or not 0 <= row < len(self.clip.keys):
            return
        self._syncing = True
        self.seconds.setValue(self.clip.keys[row].seconds)
        self._syncing = False

    def _on_seconds(self, value: float) -> None:
        row = self.strip.currentRow()
        if self._syncing or not 0 <= row < len(self.clip.keys):
            return
        self.edit_clip(self.clip.with_seconds(row, value), f"keyframe {row + 1}: {value:.2f} s", ("seconds", row))

    def _fill_preset_menu(self) -> None:
        self.preset_menu.clear()
        presets = [p for p, _ in self.window.preset_panel.presets
                   if self.info is not None and p.fingerprint == self.info.fingerprint]  # fmt: skip
        if not presets:
            self.preset_menu.addAction("(no presets for this network)").setEnabled(False)
        for p in presets:
            self.preset_menu.addAction(p.name).triggered.connect(lambda _=False, pp=p: self.add_preset(pp))

    def _choose_session(self) -> None:
        from editor.session import SESSION_SUFFIX

        path, _ = QFileDialog.getOpenFileName(
            self, "Keyframe from session", "", f"Castmaker sessions (*{SESSION_SUFFIX});;All files (*)"
        )
        if path:
            self.add_session(path)

    # ---------------------------------------------------------------- thumbnails
    def _request_thumbnails(self) -> None:
        missing = []
        for k in self.clip.keys:
            if k.recipe not in self.thumbs and k.recipe not in missing:
                missing.append(k.recipe)
        if not missing or self.info is None:
            return
        self.thumb_job = new_job_id("motion-thumbs")
        self.window.worker.submit_job(self.thumb_job, lambda ctx: [(r, ctx.engine.render(r).image) for r in missing])

    # ---------------------------------------------------------------- play and scrub
    def play(self) -> None:
        self.play_button.setChecked(True)

    def stop(self) -> None:
        """Stop playback and show the recipe's own frame again."""
        self.timer.stop()
        if self.play_job is not None:
            self.window.worker.cancel_job(self.play_job)
            self.play_job = None
        if self.play_button.isChecked():
            self._syncing = True
            self.play_button.setChecked(False)
            self._syncing = False
        self.play_button.setText("Play")
        result = self.window.last_result
        if self.shown_frame is not None and result is not None:
            self.window.preview.set_mix(result.image)
        self.shown_frame = None
        self._refresh()
        if self.export_job is None:
            self.status.setText(self.describe())

    def _on_play_toggled(self, on: bool) -> None:
        if self._syncing:
            return
        if not on:
            self.stop()
            return
        if len(self.clip.keys) < 2:
            self.stop()
            return
        self.play_button.setText("Stop")
        if self.frames is not None and self.frames_clip == self.clip:
            self._start_timer()
            return
        self.play_job = new_job_id("motion-play")
        clip = self.clip
        self.status.setText("Rendering the clip for playback…")
        self.window.worker.submit_job(
            self.play_job,
            lambda ctx: (clip, render_clip(ctx.engine, clip, progress=lambda d, t: ctx.report((d, t)),
                                           should_stop=ctx.should_stop)),  # fmt: skip
        )
        self._refresh()

    def _start_timer(self) -> None:
        self.timer.start(max(1, int(round(1000 / self.clip.options.fps))))
        self.status.setText(f"Playing {len(self.frames or [])} frames at {self.clip.options.fps:g} fps.")

    def _advance(self) -> None:
        if not self.frames:
            self.stop()
            return
        nxt = self.slider.value() + 1
        if nxt >= len(self.frames):
            if not self.clip.options.loop:
                self.show_frame(len(self.frames) - 1)
                self.timer.stop()
                self.play_button.setText("Play")
                self._syncing = True
                self.play_button.setChecked(False)
                self._syncing = False
                return
            nxt = 0
        self.slider.setValue(nxt)

    def _on_slider(self, index: int) -> None:
        if self._syncing:
            return
        self.scrub(index)

    def scrub(self, index: int) -> None:
        """Show frame `index`: from the rendered clip if there is one, else render it in the worker (latest wins)."""
        if len(self.clip.keys) < 2:
            return
        if self.frames is not None and self.frames_clip == self.clip and 0 <= index < len(self.frames):
            self.show_frame(index)
            return
        if self.scrub_job is not None:
            self.window.worker.cancel_job(self.scrub_job)
        self.scrub_job = new_job_id("motion-scrub")
        clip = self.clip
        self.window.worker.submit_job(self.scrub_job, lambda ctx: (index, render_frame(ctx.engine, clip, index)))

    def show_frame(self, index: int, image: np.ndarray | None = None) -> None:
        img = image if image is not None else (self.frames or [None])[index]
        if img is None:
            return
        self.shown_frame = index
        self.window.preview.set_mix(img)
        if self.slider.value() != index:
            self._syncing = True
            self.slider.setValue(index)
            self._syncing = False
        n = self.num_frames()
        self.frame_label.setText(f"frame {index + 1}/{n} · {index / self.clip.options.fps:.2f} s")

    # ---------------------------------------------------------------- export
    def export_format(self) -> str:
        return EXPORT_FORMATS[self.format.currentIndex()][1]

    def _choose_export(self) -> None:
        from editor.motion_files import FORMAT_SUFFIX

        label, fmt, flt = EXPORT_FORMATS[self.format.currentIndex()]
        if fmt == "frames":
            path = QFileDialog.getSaveFileName(self, "Export PNG sequence into a new folder", "clip_frames", flt)[0]
        else:
            path = QFileDialog.getSaveFileName(self, f"Export {label}", "clip" + FORMAT_SUFFIX[fmt], flt)[0]
        if path:
            self.export_to(path, fmt)

    def export_to(self, path: str, fmt: str | None = None) -> str | None:
        """Render the clip (batched) and write it in the worker; returns the job id (None if refused)."""
        from editor.motion import check_keys
        from editor.motion_files import check_mp4_encoder, format_for_path

        if self.export_job is not None:
            return None
        try:
            check_keys(self.clip)
            kind = format_for_path(path, fmt)
            if kind == "mp4":
                check_mp4_encoder()
            if kind == "frames" and Path(path).exists():  # the save dialog confirms files, not folders
                raise CastmakerError(f"{path} already exists: give a new folder name for the PNG sequence")
        except CastmakerError as exc:
            self._error(str(exc))
            return None
        self.export_job = new_job_id("motion-export")
        self.progress.setRange(0, max(self.num_frames(), 1))
        self.progress.setValue(0)
        self.status.setText(f"Rendering {self.num_frames()} frames…")
        self.window.worker.submit_job(self.export_job, _export_job(self.clip, path, kind, self.scale.value(), 8))
        self._refresh()
        return self.export_job

    def cancel(self) -> None:
        """Cancel the running export (nothing is written) or the playback render."""
        if self.export_job is not None:
            self.window.worker.cancel_job(self.export_job)
            self.status.setText("Cancelling…")
        if self.play_job is not None:
            self.stop()

    # ---------------------------------------------------------------- worker results
    def _on_progress(self, job_id: str, payload) -> None:
        if job_id == self.export_job:
            stage, done, total = payload
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.status.setText(f"Rendered {done}/{total} frames" if stage == "render" else "Writing the file…")
        elif job_id == self.play_job:
            done, total = payload
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    def _on_finished(self, job_id: str, result) -> None:
        if job_id == self.thumb_job or job_id.startswith("motion-thumbs-"):
            for recipe, img in result:
                self.thumbs[recipe] = img
            self._refresh()
        elif job_id == self.scrub_job:
            self.scrub_job = None
            index, img = result
            self.show_frame(index, img)
        elif job_id == self.play_job:
            self.play_job = None
            clip, frames = result
            self.frames, self.frames_clip = frames, clip
            if clip == self.clip and self.play_button.isChecked():
                self.show_frame(0)
                self._start_timer()
            self._refresh()
        elif job_id == self.export_job:
            self.export_job = None
            out, n = result
            self.last_export = Path(out)
            self.status.setText(f"Exported {n} frames to {out}")
            self._refresh()

    def _on_failed(self, job_id: str, message: str) -> None:
        if job_id == self.export_job:
            self.export_job = None
            cancelled = message.startswith("cancelled")
            self.progress.setValue(0)
            self.status.setText("Export cancelled: no file was written." if cancelled else f"⚠ Export failed: {message}")
            if not cancelled:
                self.window.show_error(f"Motion export failed: {message}")
            self._refresh()
        elif job_id == self.play_job:
            self.play_job = None
            if not message.startswith("cancelled"):
                self._error(f"Playback render failed: {message}")
            self.stop()
        elif job_id == self.scrub_job:
            self.scrub_job = None
            if not message.startswith("cancelled"):
                self._error(f"Frame render failed: {message}")

    def _error(self, message: str) -> None:
        self.status.setText(f"⚠ {message}")
        self.window.show_error(message)
