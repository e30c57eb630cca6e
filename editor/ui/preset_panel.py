"""Preset panel: bundled and user presets for the loaded network; save, apply, rename, delete, import.

Why the panel holds no preset logic: editor/presets.py reads and writes the files (and refuses presets
of another network); this panel lists them, asks for names and turns "apply" into an undoable edit.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from editor.document import NetworkInfo, describe_rows, rows_class
from editor.presets import (
    Preset,
    PresetError,
    PresetLibrary,
    apply_preset,
    bundled_library,
    preset_source,
    user_library,
)
from renderer.errors import CastmakerError
from renderer.latents import Recipe, RowEdit

log = logging.getLogger(__name__)

ICON = 48


class PresetPanel(QWidget):
    """Lists presets; all actions go through the window (undo) and editor.presets (files)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info: NetworkInfo | None = None
        self.bundled: PresetLibrary | None = None
        self.user: PresetLibrary | None = None
        self.presets: list[tuple[Preset, bool]] = []  # (preset, read_only)
        self.problems: list[str] = []
        self._rows: list[int] = []

        self.list = QListWidget()
        self.list.setIconSize(QSize(ICON, ICON))
        self.list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.list.itemDoubleClicked.connect(lambda _item: self.apply_selected())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.mode = QComboBox()
        self.mode.addItems(["replace", "blend"])
        self.mode.setToolTip("How a newly saved preset applies its rows")
        self.save_button = QPushButton("Save selected rows…")
        self.save_button.setToolTip(
            "Save the selected rows of the current mix as a preset (with a thumbnail)"
        )
        self.apply_button = QPushButton("Apply")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        self.import_button = QPushButton("Import w…")
        self.import_button.setToolTip("Turn a .npy / .npz w (from a projector) into a preset")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("dimLabel")
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setObjectName("warningLabel")
        self.problem_label.hide()

        self.save_button.clicked.connect(self.save_selected_rows_dialog)
        self.apply_button.clicked.connect(self.apply_selected)
        self.rename_button.clicked.connect(self.rename_selected_dialog)
        self.delete_button.clicked.connect(self.delete_selected_dialog)
        self.import_button.clicked.connect(self.import_dialog)

        top = QHBoxLayout()
        top.addWidget(self.save_button, 1)
        top.addWidget(self.mode)
        buttons = QHBoxLayout()
        for b in (self.apply_button, self.rename_button, self.delete_button, self.import_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.problem_label)
        lay.addWidget(self.status)
        self._update_buttons()

    # ---------------------------------------------------------------- window hooks
    def network_changed(self, info: NetworkInfo) -> None:
        self.info = info
        key = info.preset_key or (info.name if info.is_demo else info.fingerprint)
        self.bundled = bundled_library(key)
        self.user = user_library(info.fingerprint)
        self.reload()

    def selection_changed(self, rows: list[int]) -> None:
        self._rows = list(rows)
        self._update_buttons()

    def thumbnails_changed(self) -> None:
        """Presets without a stored thumbnail show their rendered one once it arrives."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            preset, _ = self.presets[i]
            if item.icon().isNull():
                pix = self.window._thumb_pixmap(preset_source(preset))
                if pix is not None:
                    item.setIcon(QIcon(pix))

    # ---------------------------------------------------------------- listing
    def reload(self) -> None:
        """Re-read both libraries; unreadable files are listed as problems, never raised."""
        self.presets, self.problems = [], []
        for lib in (self.bundled, self.user):
            if lib is None:
                continue
            try:
                found, problems = lib.list()
            except Exception as exc:  # a broken folder must not take the panel down
                log.exception("listing %s failed", lib.folder)
                self.problems.append(f"{lib.folder}: {exc}")
                continue
            self.presets.extend((p, lib.read_only) for p in found)
            self.problems.extend(str(p) for p in problems)
        self.list.clear()
        for preset, read_only in self.presets:
            rows = describe_rows(preset.rows)
            where = "bundled" if read_only else "yours"
            text = f"{preset.name}\n{rows} · {preset.mode}" + (
                f" {preset.weight:.2f}" if preset.mode == "blend" else ""
            )
            item = QListWidgetItem(text + f" · {where}")
            tip = preset.description or preset.name
            if self.info is not None and preset.fingerprint != self.info.fingerprint:
                item.setForeground(Qt.GlobalColor.gray)
                tip += f"\n(made for {preset.network_name or 'another network'}: cannot be applied here)"
            item.setToolTip(tip)
            if preset.thumbnail_path is not None:
                pix = QPixmap(str(preset.thumbnail_path))
                if not pix.isNull():
                    item.setIcon(QIcon(pix.scaled(ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio)))
            self.list.addItem(item)
        if self.problems:
            self.problem_label.setText("Skipped unreadable presets:\n" + "\n".join(self.problems))
            self.problem_label.show()
        else:
            self.problem_label.hide()
        lib_text = []
        if self.bundled is not None:
            lib_text.append(f"bundled: {self.bundled.folder.name}")
        if self.user is not None:
            lib_text.append(f"yours: {self.user.folder}")
        self.status.setText(" · ".join(lib_text))
        self.thumbnails_changed()
        self._update_buttons()
        export_panel = getattr(self.window, "export_panel", None)
        if export_panel is not None:
            export_panel.refresh_expressions()
        # thumbnails of presets without a stored PNG are rendered by the worker
        if self.info is not None:
            fp = self.info.fingerprint
            fitting = [
                preset_source(p) for p, _ in self.presets if p.thumbnail_path is None and p.fingerprint == fp
            ]
            if fitting:
                self.window.worker.request_thumbnails(fitting)

    def current(self) -> tuple[Preset, bool] | None:
        row = self.list.currentRow()
        if 0 <= row < len(self.presets):
            return self.presets[row]
        return None

    def select_by_name(self, name: str) -> bool:
        for i, (p, _) in enumerate(self.presets):
            if p.name == name:
                self.list.setCurrentRow(i)
                return True
        return False

    def _update_buttons(self) -> None:
        cur = self.current()
        have_net = self.info is not None
        self.save_button.setEnabled(have_net and bool(self._rows))
        self.save_button.setText(
            f"Save {describe_rows(self._rows)}…" if self._rows else "Save selected rows… (select rows first)"
        )
        self.apply_button.setEnabled(cur is not None)
        self.rename_button.setEnabled(cur is not None and not cur[1])
        self.delete_button.setEnabled(cur is not None and not cur[1])
        self.import_button.setEnabled(have_net)

    # ---------------------------------------------------------------- actions (no dialogs: tests call these)
    def save_rows(
        self, name: str, rows: list[int], mode: str | None = None, overwrite: bool = False
    ) -> Preset | None:
        """Save `rows` of the current mix: the preset's w is the evaluated w+ of the current frame."""
        win = self.window
        if self.info is None or self.user is None or win.recipe is None:
            return None
        result = win.last_result
        if result is None or not win.frame_is_current():
            win.show_error("wait for the preview to render before saving a preset")
            return None
        mode = mode or self.mode.currentText()
        try:
            preset = Preset(
                name=name,
                fingerprint=self.info.fingerprint,
                network_name=self.info.name,
                rows=list(rows),
                w=result.ws,
                mode=mode,
                weight=1.0,
                description=f"{describe_rows(rows)} of the mix on {self.info.name}",
                class_idx=rows_class(win.recipe, rows) if self.info.c_dim > 0 else None,
            )
            saved = self.user.save(preset, thumbnail=result.image, overwrite=overwrite)
        except (PresetError, OSError) as exc:
            win.show_error(f"could not save preset: {exc}")
            return None
        self.reload()
        self.select_by_name(saved.name)
        win.statusBar().showMessage(f"Saved preset {saved.name!r} to {saved.path}", 8000)
        return saved

    def apply(self, preset: Preset) -> bool:
        """Apply onto the current recipe as one undoable edit; another network's preset is refused."""
        win = self.window
        if self.info is None or win.recipe is None:
            return False
        try:
            new: Recipe = apply_preset(win.recipe, preset, self.info.fingerprint, self.info.name)
        except PresetError as exc:
            win.show_error(str(exc))
            if win.interactive:
                QMessageBox.warning(self, "Preset does not fit", str(exc))
            return False
        edit: RowEdit = new.rows[preset.rows[0]]
        win.catalog.add(edit.source)
        win.apply_edit(new, f"apply preset {preset.name} to {describe_rows(preset.rows)}")
        return True

    def apply_selected(self) -> None:
        cur = self.current()
        if cur is not None:
            self.apply(cur[0])

    def rename(self, old: str, new: str) -> bool:
        try:
            assert self.user is not None
            self.user.rename(old, new)
        except (PresetError, OSError, AssertionError) as exc:
            self.window.show_error(f"could not rename preset: {exc}")
            return False
        self.reload()
        self.select_by_name(new)
        return True

    def delete(self, name: str) -> bool:
        try:
            assert self.user is not None
            self.user.delete(name)
        except (PresetError, OSError, AssertionError) as exc:
            self.window.show_error(f"could not delete preset: {exc}")
            return False
        self.reload()
        return True

    def import_file(self, path: str, name: str, rows: list[int]) -> Preset | None:
        if self.info is None or self.user is None:
            return None
        try:
            preset = self.user.import_w(
                path,
                name,
                rows,
                self.info.fingerprint,
                self.info.name,
                num_ws=self.info.num_ws,
                w_dim=self.info.w_dim,
            )
        except (CastmakerError, OSError) as exc:
            self.window.show_error(str(exc))
            return None
        self.reload()
        self.select_by_name(preset.name)
        return preset

    # ---------------------------------------------------------------- dialogs
    def save_selected_rows_dialog(self) -> None:
        if not self._rows:
            return
        name, ok = QInputDialog.getText(self, "Save preset", f"Name for {describe_rows(self._rows)}:")
        if not ok or not name.strip():
            return
        overwrite = False
        if self.user is not None and self.user.exists(name):
            answer = QMessageBox.question(
                self, "Replace preset?", f"A preset named {name!r} exists. Replace it?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            overwrite = True
        self.save_rows(name.strip(), self._rows, overwrite=overwrite)

    def rename_selected_dialog(self) -> None:
        cur = self.current()
        if cur is None or cur[1]:
            return
        name, ok = QInputDialog.getText(self, "Rename preset", "New name:", text=cur[0].name)
        if ok and name.strip() and name.strip() != cur[0].name:
            self.rename(cur[0].name, name.strip())

    def delete_selected_dialog(self) -> None:
        cur = self.current()
        if cur is None or cur[1]:
            return
        answer = QMessageBox.question(
            self, "Delete preset?", f"Delete preset {cur[0].name!r}? This cannot be undone."
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(cur[0].name)

    def import_dialog(self) -> None:
        if self.info is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import w as preset", "", "w files (*.npy *.npz)")
        if not path:
            return
        name, ok = QInputDialog.getText(self, "Import preset", "Name:", text=Path(path).stem)
        if not ok or not name.strip():
            return
        default = describe_rows(self._rows).split(" ", 1)[-1] if self._rows else f"0-{self.info.num_ws - 1}"
        text, ok = QInputDialog.getText(
            self, "Import preset", "Rows to apply (e.g. 0-3,7):", text=default.replace("–", "-")
        )
        if not ok:
            return
        from renderer.latents import parse_rows

        try:
            rows = parse_rows(text.replace(" ", ""), self.info.num_ws)
        except CastmakerError as exc:
            self.window.show_error(str(exc))
            return
        self.import_file(path, name.strip(), rows)
