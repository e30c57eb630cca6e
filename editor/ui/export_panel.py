"""RPG Maker export panel: game folder, character name, expression presets, exact previews, Export.

Why the worker builds the images: the face set needs one render per expression preset (the current mix
with that preset applied), and renders never run on the UI thread. The layout and the files come from
editor/rpgmaker (no Qt, no torch); the preview shows the very arrays that Export writes.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.document import NetworkInfo
from editor.ui.qt_images import to_qimage

log = logging.getLogger(__name__)

_job_numbers = itertools.count(1)
PREVIEW_WIDTH = 320


def build_export_images(recipe, presets, fingerprint: str, walk_sheet: bool = False, network_name: str | None = None):
    """Worker job: the sheet and the face set (the mix, then the mix with each expression preset).

    With `walk_sheet`, the mix is a sprite network's walk canvas: it is cut into frames and cleaned with
    the grid and cleanup settings of the shipped pipeline config for `network_name` (as `generate` does: the demo
    config for demo-sprite, the default one otherwise). Otherwise the mix is one still
    frame repeated in every direction and pattern.
    """

    def run(ctx):
        from editor.presets import apply_preset
        from editor.rpgmaker import DIRECTIONS, PATTERNS, character_sheet, face_set

        engine = ctx.engine
        base = engine.render(recipe).image
        faces = [base]
        for preset in presets:
            if ctx.should_stop():
                return None
            faces.append(engine.render(apply_preset(recipe, preset, fingerprint)).image)
        if walk_sheet:
            from editor.pipeline.config import config_for_sprite_network
            from editor.sprites import clean_frames

            cfg = config_for_sprite_network(network_name)
            frames = clean_frames(_rgba(base)[:, :, :3], cfg.grid, cfg.cleanup)
            sheet = character_sheet(frames, (cfg.sheet.cell_width, cfg.sheet.cell_height), cfg.sheet.scale)
        else:
            frame = _rgba(base)
            sheet = character_sheet([[frame] * PATTERNS for _ in DIRECTIONS])
        faceset = face_set([_rgba(f) for f in faces])
        return sheet, faceset

    return run


def _rgba(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    if img.shape[2] == 3:
        img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return img


class ExportPanel(QWidget):
    """Builds previews through the worker; writes with editor.rpgmaker.export_character."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info: NetworkInfo | None = None
        self.job_id: str | None = None
        self.sheet: np.ndarray | None = None
        self.faceset: np.ndarray | None = None
        self.project = None

        self.folder = QLineEdit(str(window.settings.value("export/game_dir", "") or ""))
        self.folder.setPlaceholderText("RPG Maker MV/MZ project folder")
        self.folder.editingFinished.connect(self._validate_folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.folder_status = QLabel("")
        self.folder_status.setWordWrap(True)
        self.name = QLineEdit("Hero")
        self.overwrite = QCheckBox("Replace a character of that name")
        self.walk_sheet = QCheckBox("Walk sheet: cut into frames")
        self.walk_sheet.setToolTip(
            "On: cut the image on the pipeline config's frame grid and clean it (sprite networks).\n"
            "Off: use the whole image as one still frame in every direction."
        )
        self.overwrite.setToolTip(
            "Off: a taken name becomes Name_2. On: replace it; the old files are backed up."
        )
        self.walk_sheet.toggled.connect(lambda _on: self._invalidate())
        self.expressions = QListWidget()
        self.expressions.setMaximumHeight(110)
        self.expressions.setToolTip(
            "Expression presets: each adds one face to the face set (max 7 + the mix)"
        )
        self.preview_button = QPushButton("Build preview")
        self.export_button = QPushButton("Export")
        self.export_button.setEnabled(False)
        self.sheet_view = QLabel("sheet preview")
        self.face_view = QLabel("face set preview")
        for v in (self.sheet_view, self.face_view):
            v.setAlignment(Qt.AlignmentFlag.AlignCenter)
            v.setMinimumHeight(96)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Game folder", folder_row)
        form.addRow("", self.folder_status)
        form.addRow("Character name", self.name)
        form.addRow(self.overwrite)
        form.addRow(self.walk_sheet)
        form.addRow("Expressions", self.expressions)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.sheet_view)
        lay.addWidget(self.face_view)
        lay.addWidget(self.result)
        lay.addStretch(1)

        self.preview_button.clicked.connect(self.build_preview)
        self.export_button.clicked.connect(self.export)
        w = window.worker
        w.jobFinished.connect(self._on_finished)
        w.jobFailed.connect(self._on_failed)
        window.recipeChanged.connect(lambda _r: self._invalidate())
        if self.folder.text():
            self._validate_folder()

    def network_changed(self, info: NetworkInfo) -> None:
        self.info = info
        self.walk_sheet.setChecked(info.kind == "stylegan2")  # the sprite networks are StyleGAN2
        self.refresh_expressions()
        self._invalidate()

    def refresh_expressions(self) -> None:
        self.expressions.clear()
        for preset, _ in self.window.preset_panel.presets:
            if self.info is not None and preset.fingerprint == self.info.fingerprint:
                item = QListWidgetItem(preset.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setData(Qt.ItemDataRole.UserRole, preset.name)
                self.expressions.addItem(item)

    def checked_presets(self):
        names = {
            self.expressions.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.expressions.count())
            if self.expressions.item(i).checkState() == Qt.CheckState.Checked
        }
        return [p for p, _ in self.window.preset_panel.presets if p.name in names]

    # ---------------------------------------------------------------- folder
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "RPG Maker project folder", self.folder.text())
        if path:
            self.folder.setText(path)
            self._validate_folder()

    def _validate_folder(self) -> bool:
        from editor.rpgmaker import ExportError, detect_project

        text = self.folder.text().strip()
        self.project = None
        if not text:
            self.folder_status.setText("Choose the folder of an RPG Maker MV or MZ project.")
            return False
        try:
            self.project = detect_project(text)
        except ExportError as exc:
            self.folder_status.setText(f"⚠ {exc}")
            self._update_buttons()
            return False
        self.folder_status.setText(f"RPG Maker {self.project.kind} project: {self.project.root}")
        self.window.settings.setValue("export/game_dir", str(self.project.root))
        self._update_buttons()
        return True

    # ---------------------------------------------------------------- preview
    def _invalidate(self) -> None:
        self.sheet = self.faceset = None
        self.sheet_view.setText("sheet preview (press Build preview)")
        self.face_view.setText("face set preview")
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.export_button.setEnabled(
            self.sheet is not None and self.project is not None and self.job_id is None
        )
        self.preview_button.setEnabled(self.info is not None and self.job_id is None)

    def build_preview(self) -> str | None:
        win = self.window
        if self.info is None or win.recipe is None:
            return None
        presets = self.checked_presets()
        if len(presets) > 7:
            self.result.setText("A face set holds 8 faces: the mix plus at most 7 expressions. Uncheck some.")
            return None
        self.job_id = f"export-{next(_job_numbers)}"
        self.result.setText("Rendering the sheet and face set…")
        job = build_export_images(
            win.recipe, presets, self.info.fingerprint, self.walk_sheet.isChecked(), network_name=self.info.name
        )
        win.worker.submit_job(self.job_id, job)
        self._update_buttons()
        return self.job_id

    def _on_finished(self, job_id: str, result) -> None:
        if job_id != self.job_id:
            return
        self.job_id = None
        if result is None:
            self.result.setText("Preview cancelled.")
            self._update_buttons()
            return
        self.sheet, self.faceset = result
        for view, img in ((self.sheet_view, self.sheet), (self.face_view, self.faceset)):
            pix = QPixmap.fromImage(to_qimage(img))
            if pix.width() > PREVIEW_WIDTH:  # shrink wide face sets; never enlarge (pixels as written)
                pix = pix.scaledToWidth(PREVIEW_WIDTH, Qt.TransformationMode.SmoothTransformation)
            view.setPixmap(pix)
            view.setMinimumHeight(pix.height())
        self.result.setText(
            f"Sheet {self.sheet.shape[1]}×{self.sheet.shape[0]}, face set {self.faceset.shape[1]}×{self.faceset.shape[0]}: "
            "exactly what Export writes."
            + (
                ""
                if self.walk_sheet.isChecked()
                else " (The sheet repeats the mix as a still frame in every direction.)"
            )
        )
        self._update_buttons()

    def _on_failed(self, job_id: str, message: str) -> None:
        if job_id != self.job_id:
            return
        self.job_id = None
        self.result.setText(f"Could not build the preview: {message}")
        self._update_buttons()

    # ---------------------------------------------------------------- export
    def export(self):
        from editor.rpgmaker import ExportError, export_character

        if self.sheet is None or self.faceset is None or not self._validate_folder():
            return None
        try:
            report = export_character(
                self.project,
                self.name.text().strip(),
                self.sheet,
                self.faceset,
                overwrite=self.overwrite.isChecked(),
            )
        except (ExportError, OSError) as exc:
            self.result.setText(f"⚠ Export failed: {exc}")
            return None
        lines = [
            f"Exported {report.name} (actor {report.actor_id}{', new' if report.actor_created else ''}):"
        ]
        if report.renamed_to:
            lines.append(f"the name was taken, so it is {report.renamed_to}")
        lines += [f"  {Path(p)}" for p in report.written]
        if report.backups:
            lines.append("backups: " + ", ".join(str(b) for b in report.backups))
        self.result.setText("\n".join(lines))
        return report
