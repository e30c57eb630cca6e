"""The layer grid: one row of controls per w row (caption, thumbnail, source, mode, blend weight).

Why one widget per row instead of a table: each row mixes a picker, a thumbnail and a slider, and a
row that is part of a multi-selection applies its change to every selected row ("rows 8–15 from seed 12").
The grid only reports intents (signals); the window turns them into undoable recipe edits.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QWidget,
)

from editor.document import NetworkInfo
from renderer.latents import MODES, Recipe, SeedSource, Source, source_label

THUMB = 44
# what each band of w rows controls, in an artist's words (tooltips on the band buttons and row captions)
BAND_HELP = {
    "coarse": "Coarse rows (the first, lowest-resolution layers): pose, head shape, overall layout.",
    "middle": "Middle rows: facial features, hair style, eyes open or closed, expression.",
    "fine": "Fine rows (the last, highest-resolution layers): colours, skin and hair texture, small details.",
}
GRID_HINT = (
    "Each row is one w row, from coarse (pose, shape) through middle (features) to fine (colour, texture). "
    "Select rows, then pick a source: the mix takes those rows from it."
)
SOURCE_CHARS = 18  # picker text longer than this is shortened in the middle (the tooltip has it all)
BASE_ITEM = "base"
ADD_SEED_ITEM = "add-seed"
LOAD_W_ITEM = "load-w"


def elide_middle(text: str, limit: int = SOURCE_CHARS) -> str:
    """`text` with its middle replaced by '…' so it is at most `limit` characters ('proj: my_lo…ait.png')."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head) :]


def short_label(source: Source) -> str:
    """Picker text that fits a narrow column: 'seed 12', 'seed 12 ψ1.00', 'preset: happy', 'proj: face.png'.

    Long names are shortened in the middle (the file's extension stays visible); the full `source_label`
    is the item's tooltip.
    """
    if isinstance(source, SeedSource):
        text = f"seed {source.seed}"
        if abs(source.psi - 0.7) > 1e-9:
            text += f" ψ{source.psi:.2f}"
        return text
    prefix = {"preset": "preset: ", "projected": "proj: "}.get(getattr(source, "kind", ""), "w: ")
    return prefix + elide_middle(source.label, SOURCE_CHARS - len(prefix))


class LayerRow:
    """The widgets of one w row (kept together so tests and the grid can reach them by index)."""

    def __init__(self, index: int, caption: str, band: str) -> None:
        self.index = index
        self.items_version = -1  # the grid's items version this row's picker was built for
        self.select = QCheckBox()
        self.select.setToolTip("Select this row (changes on a selected row apply to every selected row)")
        self.caption = QLabel(caption)
        self.caption.setObjectName(f"band_{band}")
        self.caption.setToolTip(f"w row {index}: {band} band. {BAND_HELP.get(band, '')}".strip())
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setFrameShape(QFrame.Shape.StyledPanel)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.source = QComboBox()
        self.source.setMinimumWidth(170)  # room for SOURCE_CHARS characters beside the icon
        self.source.setMinimumContentsLength(SOURCE_CHARS)
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode = QComboBox()
        for m in MODES:
            self.mode.addItem(m)
        self.weight = QSlider(Qt.Orientation.Horizontal)
        self.weight.setRange(0, 100)
        self.weight.setMinimumWidth(60)
        self.weight.setToolTip("Blend weight: 0 = base, 1 = source")
        self.weight_label = QLabel("1.00")
        self.weight_label.setMinimumWidth(32)


class LayerGrid(QWidget):
    """Rows of controls for a recipe; emits intents with the rows they apply to."""

    sourceChosen = Signal(object, object)  # rows, Source | None (None = base)
    modeChosen = Signal(object, str)  # rows, mode
    weightChanged = Signal(object, float, int)  # rows, weight, gesture id (same id = same drag)
    addSeedRequested = Signal(object)  # rows
    loadWRequested = Signal(object)  # rows
    selectionChanged = Signal(object)  # sorted rows

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[LayerRow] = []
        self._sources: list[Source] = []
        self._items_version = 0  # bumped when the pickers' items (sources, icons) must be rebuilt
        self._gesture = 0
        self._thumb_for: Callable[[Source | None], QPixmap | None] = lambda s: None
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setHorizontalSpacing(8)
        self._layout.setVerticalSpacing(4)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    # ---------------------------------------------------------------- building
    def build(self, info: NetworkInfo, thumb_for: Callable[[Source | None], QPixmap | None]) -> None:
        """One row per w row of `info`'s network (replaces any previous rows)."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows = []
        self._thumb_for = thumb_for
        for col, title in enumerate(["", "Row · band · size", "", "Source", "Mode", "Blend", ""]):
            head = QLabel(title)
            head.setObjectName("gridHeader")
            self._layout.addWidget(head, 0, col)
        for r in range(info.num_ws):
            row = LayerRow(r, info.row_caption(r), info.row_band(r))
            widgets = [row.select, row.caption, row.thumb, row.source, row.mode, row.weight, row.weight_label]
            for col, w in enumerate(widgets):
                self._layout.addWidget(w, r + 1, col)
            row.select.toggled.connect(lambda _on: self.selectionChanged.emit(self.selected_rows()))
            row.source.activated.connect(lambda i, rr=r: self._source_activated(rr, i))
            row.mode.activated.connect(lambda i, rr=r: self.modeChosen.emit(self._targets(rr), MODES[i]))
            row.weight.sliderPressed.connect(self._new_gesture)
            row.weight.valueChanged.connect(lambda v, rr=r: self._weight_moved(rr, v))
            self.rows.append(row)
        self._layout.setColumnStretch(3, 2)
        self._layout.setColumnStretch(5, 1)

    # ---------------------------------------------------------------- selection
    def selected_rows(self) -> list[int]:
        return [r.index for r in self.rows if r.select.isChecked()]

    def set_selection(self, rows: list[int]) -> None:
        wanted = set(rows)
        for r in self.rows:
            r.select.blockSignals(True)
            r.select.setChecked(r.index in wanted)
            r.select.blockSignals(False)
        self.selectionChanged.emit(self.selected_rows())

    def _targets(self, row: int) -> list[int]:
        """A change on a selected row applies to the whole selection; otherwise to that row alone."""
        selected = self.selected_rows()
        return selected if row in selected else [row]

    # ---------------------------------------------------------------- intents
    def _new_gesture(self) -> None:
        self._gesture += 1

    def _source_activated(self, row: int, index: int) -> None:
        data = self.rows[row].source.itemData(index)
        targets = self._targets(row)
        if data == BASE_ITEM:
            self.sourceChosen.emit(targets, None)
        elif data == ADD_SEED_ITEM:
            self.addSeedRequested.emit(targets)
        elif data == LOAD_W_ITEM:
            self.loadWRequested.emit(targets)
        elif isinstance(data, int) and 0 <= data < len(self._sources):
            self.sourceChosen.emit(targets, self._sources[data])

    def _weight_moved(self, row: int, value: int) -> None:
        self.rows[row].weight_label.setText(f"{value / 100:.2f}")
        if not self.rows[row].weight.isSliderDown():
            self._gesture += 1  # keyboard / wheel / click steps are separate undo steps
        self.weightChanged.emit(self._targets(row), value / 100.0, self._gesture)

    # ---------------------------------------------------------------- showing a recipe
    def set_sources(self, sources: list[Source]) -> None:
        """The catalog on offer in every row's picker."""
        if len(sources) != len(self._sources) or any(
            a is not b for a, b in zip(sources, self._sources, strict=True)
        ):
            self._sources = list(sources)
            self._items_version += 1

    def sync(self, recipe: Recipe) -> None:
        """Show `recipe` (signals blocked: syncing never produces edits)."""
        for row in self.rows:
            edit = recipe.rows[row.index]
            combo = row.source
            combo.blockSignals(True)
            if row.items_version != self._items_version:
                combo.clear()
                combo.addItem(self._icon(None), "base", BASE_ITEM)
                for i, s in enumerate(self._sources):
                    combo.addItem(self._icon(s), short_label(s), i)
                    combo.setItemData(i + 1, source_label(s), Qt.ItemDataRole.ToolTipRole)
                combo.addItem("＋ seed…", ADD_SEED_ITEM)
                combo.addItem("＋ w file…", LOAD_W_ITEM)
                row.items_version = self._items_version
            current = 0
            if edit.source is not None:
                for i, s in enumerate(self._sources):
                    if s == edit.source:
                        current = i + 1
                        break
            combo.setCurrentIndex(current)
            combo.setToolTip(source_label(edit.source) if edit.source is not None else "the base")
            combo.blockSignals(False)
            row.mode.blockSignals(True)
            row.mode.setCurrentIndex(MODES.index(edit.mode))
            row.mode.blockSignals(False)
            row.weight.blockSignals(True)
            row.weight.setValue(int(round(edit.weight * 100)))
            row.weight.blockSignals(False)
            row.weight.setEnabled(edit.mode == "blend")
            row.weight_label.setText(f"{edit.weight:.2f}")
            row.weight_label.setEnabled(edit.mode == "blend")
            row.mode.setEnabled(edit.source is not None)
            shown = edit.source if edit.mode != "keep" else None
            pix = self._thumb_for(shown)
            if pix is None:
                row.thumb.setPixmap(QPixmap())
                row.thumb.setText("…")
            else:
                row.thumb.setText("")
                row.thumb.setPixmap(pix)
            row.thumb.setToolTip(source_label(shown) if shown is not None else "the base")

    def set_direction_marks(self, marks: dict[int, list[str]]) -> None:
        """Mark the rows directions move: '↕ smile' after the caption (row -> names; other rows unmarked)."""
        for row in self.rows:
            base = row.caption.property("plainCaption") or row.caption.text()
            tip = row.caption.property("plainTip") or row.caption.toolTip()
            row.caption.setProperty("plainCaption", base)
            row.caption.setProperty("plainTip", tip)
            names = marks.get(row.index, [])
            row.caption.setText(base + (f"  ↕ {', '.join(names)}" if names else ""))
            row.caption.setToolTip(tip + (f"\nMoved by direction {', '.join(names)}." if names else ""))

    def direction_marks(self) -> dict[int, str]:
        """Row -> the mark text now shown (tests, screenshots)."""
        out = {}
        for row in self.rows:
            text = row.caption.text()
            if "↕" in text:
                out[row.index] = text.split("↕", 1)[1].strip()
        return out

    def refresh_thumbnails(self, recipe: Recipe) -> None:
        """Re-draw thumbnails and picker icons after new ones arrived (no edits)."""
        self._items_version += 1
        self.sync(recipe)

    def _icon(self, source: Source | None) -> QIcon:
        pix = self._thumb_for(source)
        return QIcon(pix) if pix is not None else QIcon()
