"""RPG Maker export panel: game folder, character name, expression presets, exact previews, Export.

Why the worker builds the images: the face set needs one render per expression preset (the current mix
with that preset applied), and renders never run on the UI thread. The layout and the files come from
editor/rpgmaker (no Qt, no torch); the preview shows the very arrays that Export writes.
"""

from __future__ import annotations

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
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from editor.document import NetworkInfo
from editor.presets import preset_content_key
from editor.ui.qt_images import to_qimage
from editor.ui.render_worker import new_job_id

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 320


DEFAULT_CELL = 48  # RPG Maker MV/MZ's tile and character cell size


def build_export_images(
    recipe,
    presets,
    fingerprint: str,
    walk_sheet: bool = False,
    network_name: str | None = None,
    cell: int = DEFAULT_CELL,
):
    """Worker job: the sheet and the face set (the mix, then the mix with each expression preset).

    With `walk_sheet`, the mix is a sprite network's walk canvas: it is cut into frames and cleaned with
    the grid and cleanup settings of the shipped pipeline config for `network_name` (as `generate` does: the demo
    config for demo-sprite, the default one otherwise), and each face is the head crop of that config (the
    pipeline's `head` box on the front-facing frame), never the whole sheet. Otherwise the mix is one still
    frame repeated in every direction and pattern, and each face the whole image.
    Frames are fitted to `cell`×`cell` px cells by whole-number nearest-neighbour scaling (enlarged, or
    reduced 1 pixel in k when larger than a cell). Returns (sheet RGBA uint8 [4*cell, 3*cell, 4],
    face set RGBA uint8 [288, 576, 4]); None if cancelled.
    """

    def run(ctx):
        from editor.presets import apply_preset
        from editor.rpgmaker import DIRECTIONS, PATTERNS, character_sheet, face_set

        engine = ctx.engine
        renders = [engine.render(recipe).image]
        for preset in presets:
            if ctx.should_stop():
                return None
            renders.append(engine.render(apply_preset(recipe, preset, fingerprint)).image)
        if walk_sheet:
            from editor.pipeline.config import config_for_sprite_network
            from editor.sprites import clean_frames, head_of

            cfg = config_for_sprite_network(network_name)
            cuts = [clean_frames(_rgba(img)[:, :, :3], cfg.grid, cfg.cleanup) for img in renders]
            same_cell = (cfg.sheet.cell_width, cfg.sheet.cell_height) == (cell, cell)
            sheet = character_sheet(cuts[0], (cell, cell), cfg.sheet.scale if same_cell else "auto", shrink=True)
            heads = [head_of(frames, cfg.head.direction, cfg.head.pattern, cfg.head.box) for frames in cuts]
            resample = "nearest" if cfg.head.upscale == "nearest" else "box"
            faceset = face_set(heads, resample=resample)
        else:
            frame = _rgba(renders[0])
            sheet = character_sheet([[frame] * PATTERNS for _ in DIRECTIONS], (cell, cell), shrink=True)
            faceset = face_set([_rgba(f) for f in renders])
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
    """Builds previews through the worker; writes with editor.rpgmaker.export_character.

    Buttons and messages sit at the top (errors are never below the fold). Export always writes images
    made from the panel's current settings: a preview made for other settings (recipe, expressions, cell
    size, walk sheet) is dropped, and Export then rebuilds it first and exports when it is ready.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info: NetworkInfo | None = None
        self.job_id: str | None = None
        self.sheet: np.ndarray | None = None
        self.faceset: np.ndarray | None = None
        self.project = None
        self.last_report = None
        self._built_for: tuple | None = None  # the settings the shown preview was made from
        self._building_for: tuple | None = None  # the settings of the build that is running
        self._export_when_built = False

        self.preview_button = QPushButton("Build preview")
        self.preview_button.setToolTip("Render the sheet and face set exactly as Export will write them")
        self.export_button = QPushButton("Export to game")
        self.export_button.setObjectName("primaryButton")
        self.export_button.setToolTip(
            "Write img/characters/$Name.png, img/faces/Name.png and a new actor in data/Actors.json.\n"
            "If the preview is missing or out of date, it is rebuilt first."
        )
        self.export_button.setEnabled(False)
        self.result = QLabel("Choose a game folder, then Build preview or Export.")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.folder = QLineEdit(str(window.settings.value("export/game_dir", "") or ""))
        self.folder.setPlaceholderText("MV/MZ project folder")
        self.folder.setToolTip("The RPG Maker MV or MZ project folder (it holds Game.rpgproject or game.rmmzproject)")
        self.folder.editingFinished.connect(self._validate_folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.folder_status = QLabel("")
        self.folder_status.setWordWrap(True)
        self.name = QLineEdit("Hero")
        self.overwrite = QCheckBox("Replace a character of that name")
        self.walk_sheet = QCheckBox("Walk sheet: cut into frames")
        self.walk_sheet.setToolTip(
            "On: cut the image on the pipeline config's frame grid and clean it (sprite networks);\n"
            "the face set shows the head crop of the front-facing frame.\n"
            "Off: use the whole image as one still frame in every direction, and as the face."
        )
        self.overwrite.setToolTip(
            "Off: a taken name becomes Name_2. On: replace it; the old files are backed up "
            "outside the game folder."
        )
        self.cell = QSpinBox()
        self.cell.setRange(8, 512)
        self.cell.setValue(int(window.settings.value("export/cell", DEFAULT_CELL) or DEFAULT_CELL))
        self.cell.setSuffix(" px")
        self.cell.setToolTip(
            "Size of one sheet cell (RPG Maker MV/MZ: 48 px). Frames are fitted by whole-number nearest-"
            "neighbour scaling:\nenlarged when smaller, reduced 1 pixel in k when larger than a cell."
        )
        self.expressions = QListWidget()
        self.expressions.setMaximumHeight(110)
        self.expressions.setToolTip(
            "Expression presets: each adds one face to the face set (max 7 + the mix)"
        )
        self.battler = QLineEdit("")
        self.battler.setPlaceholderText("none")
        self.battler.setToolTip(
            "Side-view battles only: the name of an existing battler in the game's img/sv_actors\n"
            "(e.g. Actor1_1). Castmaker does not make side-view battlers yet."
        )
        self.copy_actor = QSpinBox()
        self.copy_actor.setRange(0, 9999)
        self.copy_actor.setSpecialValueText("RPG Maker's defaults")
        self.copy_actor.setToolTip(
            "Class and starting equipment of the new actor: RPG Maker's new-actor values (class 1, nothing "
            "equipped),\nor copied from the actor with this id"
        )
        self.sheet_view = QLabel("sheet preview")
        self.face_view = QLabel("face set preview")
        for v in (self.sheet_view, self.face_view):
            v.setAlignment(Qt.AlignmentFlag.AlignCenter)
            v.setMinimumHeight(96)

        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.export_button, 1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Game folder", folder_row)
        form.addRow("", self.folder_status)
        form.addRow("Character name", self.name)
        form.addRow(self.overwrite)
        form.addRow(self.walk_sheet)
        form.addRow("Sheet cell", self.cell)
        form.addRow("Expressions", self.expressions)
        form.addRow("New actor starts as", self.copy_actor)
        form.addRow("Side-view battler", self.battler)
        lay = QVBoxLayout(self)
        lay.addLayout(buttons)
        lay.addWidget(self.result)
        lay.addLayout(form)
        lay.addWidget(self.sheet_view)
        lay.addWidget(self.face_view)
        lay.addStretch(1)

        self.preview_button.clicked.connect(self.build_preview)
        self.export_button.clicked.connect(self.export)
        w = window.worker
        w.jobFinished.connect(self._on_finished)
        w.jobFailed.connect(self._on_failed)
        window.recipeChanged.connect(lambda _r: self._invalidate())
        self.walk_sheet.toggled.connect(lambda _on: self._invalidate())
        self.cell.valueChanged.connect(lambda _v: self._invalidate())
        self.expressions.itemChanged.connect(lambda _item: self._invalidate())
        if self.folder.text():
            self._validate_folder()

    def network_changed(self, info: NetworkInfo) -> None:
        self.info = info
        self.walk_sheet.setChecked(info.kind == "stylegan2")  # the sprite networks are StyleGAN2
        self.refresh_expressions()
        self._invalidate()

    def refresh_expressions(self) -> None:
        self.expressions.blockSignals(True)
        self.expressions.clear()
        for preset, _ in self.window.preset_panel.presets:
            if self.info is not None and preset.fingerprint == self.info.fingerprint:
                item = QListWidgetItem(preset.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setData(Qt.ItemDataRole.UserRole, preset.name)
                self.expressions.addItem(item)
        self.expressions.blockSignals(False)
        self._invalidate()

    def checked_presets(self):
        names = {
            self.expressions.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.expressions.count())
            if self.expressions.item(i).checkState() == Qt.CheckState.Checked
        }
        return [p for p, _ in self.window.preset_panel.presets if p.name in names]

    # ---------------------------------------------------------------- messages
    def _say(self, text: str, error: bool = False) -> None:
        """The one message line under the buttons (errors in the error colour, full text kept as a tooltip)."""
        self.result.setObjectName("errorText" if error else "")
        self.result.setStyleSheet("color: #ff8a80;" if error else "")
        self.result.setText(("⚠ " + text) if error else text)
        self.result.setToolTip(text)

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
        self.folder.setToolTip(text or "The RPG Maker MV or MZ project folder")
        if not text:
            self.folder_status.setText("Choose the folder of an RPG Maker MV or MZ project.")
            self._update_buttons()
            return False
        try:
            self.project = detect_project(text)
        except ExportError as exc:
            self.folder_status.setText(f"⚠ {exc}")
            self._update_buttons()
            return False
        status = f"RPG Maker {self.project.kind} project: {self.project.root}"
        if self.project.side_view:
            status += (
                "\n⚠ Side-view battles: Castmaker does not make side-view battlers yet. Name an existing "
                "battler below, or the new actor is invisible in battle."
            )
        self.folder_status.setText(status)
        self.window.settings.setValue("export/game_dir", str(self.project.root))
        self._update_buttons()
        return True

    # ---------------------------------------------------------------- preview
    def settings_key(self) -> tuple:
        """What the images depend on: compared with the preview's own to know whether it is current.

        The recipe is held by identity (recipes are immutable values; every edit makes a new one); each ticked
        preset by its content, so one re-saved under the same name with other rows or w makes the preview stale.
        """
        return (
            id(self.window.recipe),
            self.window.recipe,
            tuple((p.name, preset_content_key(p)) for p in self.checked_presets()),
            self.walk_sheet.isChecked(),
            self.cell.value(),
            None if self.info is None else self.info.fingerprint,
        )

    def preview_is_current(self) -> bool:
        if self.sheet is None or self._built_for is None:
            return False
        now = self.settings_key()
        return self._built_for[1] is now[1] and self._built_for[2:] == now[2:]

    def _invalidate(self) -> None:
        if self.job_id is not None:  # a build for the old settings is running: its result is dropped
            self.window.worker.cancel_job(self.job_id)
            self.job_id = None
            if self._export_when_built:
                self._export_when_built = False
                self._say("The settings changed while the preview was rendering: nothing was exported. "
                          "Press Export again.", error=True)
        self.sheet = self.faceset = None
        self._built_for = None
        self.sheet_view.setPixmap(QPixmap())
        self.face_view.setPixmap(QPixmap())
        self.sheet_view.setText("sheet preview (press Build preview)")
        self.face_view.setText("face set preview")
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self.job_id is None
        self.export_button.setEnabled(self.project is not None and self.info is not None and idle)
        self.preview_button.setEnabled(self.info is not None and idle)

    def build_preview(self) -> str | None:
        win = self.window
        if self.info is None or win.recipe is None:
            return None
        presets = self.checked_presets()
        if len(presets) > 7:
            self._export_when_built = False
            self._say("A face set holds 8 faces: the mix plus at most 7 expressions. Uncheck some.", error=True)
            return None
        self.job_id = new_job_id("export")
        self._building_for = self.settings_key()
        self.window.settings.setValue("export/cell", self.cell.value())
        self._say("Rendering the sheet and face set…")
        job = build_export_images(
            win.recipe,
            presets,
            self.info.fingerprint,
            self.walk_sheet.isChecked(),
            network_name=self.info.name,
            cell=self.cell.value(),
        )
        win.worker.submit_job(self.job_id, job)
        self._update_buttons()
        return self.job_id

    def _on_finished(self, job_id: str, result) -> None:
        if job_id != self.job_id:
            return
        self.job_id = None
        if result is None:
            self._export_when_built = False
            self._say("Preview cancelled.")
            self._update_buttons()
            return
        self.sheet, self.faceset = result
        self._built_for = self._building_for
        for view, img in ((self.sheet_view, self.sheet), (self.face_view, self.faceset)):
            pix = QPixmap.fromImage(to_qimage(img))
            if pix.width() > PREVIEW_WIDTH:  # shrink wide face sets; never enlarge (pixels as written)
                pix = pix.scaledToWidth(PREVIEW_WIDTH, Qt.TransformationMode.SmoothTransformation)
            view.setPixmap(pix)
            view.setMinimumHeight(pix.height())
        self._say(
            f"Sheet {self.sheet.shape[1]}×{self.sheet.shape[0]}, face set {self.faceset.shape[1]}×{self.faceset.shape[0]}: "
            "exactly what Export writes."
            + (
                " Faces are the head crop of the front-facing frame."
                if self.walk_sheet.isChecked()
                else " (The sheet repeats the mix as a still frame in every direction.)"
            )
        )
        self._update_buttons()
        if self._export_when_built:
            self._export_when_built = False
            self.export()

    def _on_failed(self, job_id: str, message: str) -> None:
        if job_id != self.job_id:
            return
        self.job_id = None
        self._export_when_built = False
        self._say(f"Could not build the preview: {message}", error=True)
        self._update_buttons()

    # ---------------------------------------------------------------- export
    def export(self):
        """Write the current preview into the game; returns the ExportReport, or None if nothing was written now.

        A missing or out-of-date preview is rebuilt first: the export then happens when it is ready
        (see `last_report`).
        """
        from editor.rpgmaker import ExportError, export_character

        self.last_report = None
        if not self._validate_folder():
            self._say(f"Export needs a game folder: {self.folder_status.text().lstrip('⚠ ')}", error=True)
            return None
        if not self.preview_is_current():
            self._export_when_built = True
            if self.job_id is None:
                self.build_preview()
            return None
        try:
            report = export_character(
                self.project,
                self.name.text().strip(),
                self.sheet,
                self.faceset,
                overwrite=self.overwrite.isChecked(),
                battler=self.battler.text().strip() or None,
                copy_actor=self.copy_actor.value() or None,
            )
        except (ExportError, OSError) as exc:
            self._say(f"Export failed: {exc}", error=True)
            return None
        lines = [
            f"Exported {report.name} (actor {report.actor_id}{', new' if report.actor_created else ''}):"
        ]
        if report.renamed_to:
            lines.append(f"the name was taken, so it is {report.renamed_to}")
        lines += [f"  {Path(p)}" for p in report.written]
        if report.backup_dir is not None:
            lines.append(f"backups (outside the game, so they are never deployed): {report.backup_dir}")
        lines += [f"⚠ {w}" for w in report.warnings]
        self._say("\n".join(lines))
        self.last_report = report
        return report
