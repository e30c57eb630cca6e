"""Directions panel: discover (SeFa / PCA on a row band), label a few seeds, slide, name, save, load.

Why jobs: discovery maps thousands of seeds and every strip is a batch of forward passes, so all of it runs
in the RenderWorker (`submit_job`); the widgets only post jobs, show the uint8 thumbnails that come back,
and turn slider moves into undoable recipe edits (`editor.directions.set_direction_alpha`). A slider drag
is one undo step. Each direction shows a strip of thumbnails at −3 … +3 σ along it (the current recipe with
that direction moved there), rendered as one batch after each recipe change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.directions import (
    ALPHA_MAX,
    ALPHA_MIN,
    DirectionLibrary,
    direction_alpha,
    direction_key,
    find_direction,
    remove_direction,
    rename_direction,
    rows_touched,
    set_direction_alpha,
    user_directions_folder,
)
from editor.document import NetworkInfo, describe_rows
from editor.ui.qt_images import thumbnail_pixmap
from editor.ui.render_worker import new_job_id
from renderer.errors import CastmakerError
from renderer.latents import Recipe, SeedSource
from renderer.latents.directions import Direction, direction_slug

log = logging.getLogger(__name__)

STRIP_ALPHAS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
STRIP_THUMB = 40
LABEL_THUMB = 56
LABEL_COUNT = 12
SLIDER_SCALE = 100  # slider steps per σ


# ----------------------------------------------------------------------------- worker jobs (run on the worker thread)


def discover_job(method: str, rows: list[int], top: int, samples: int = 5000):
    """Job: the top SeFa / PCA directions of `rows` on the worker's network."""

    def run(ctx):
        from renderer.latents.directions import pca, sefa

        net = ctx.engine.network
        return sefa(net, rows, top) if method == "sefa" else pca(net, rows, top, samples)

    return run


def labelled_job(rows: list[int], positive: list[int], negative: list[int], name: str):
    """Job: the label-a-few direction from seeds marked "has it" / "lacks it"."""

    def run(ctx):
        from renderer.latents.directions import labelled

        return labelled(ctx.engine.network, rows, positive, negative, name)

    return run


def strips_job(recipe: Recipe, directions: list[Direction], alphas=STRIP_ALPHAS):
    """Job: per direction, thumbnails of `recipe` with it moved to each α (one batched render per direction;
    between directions the worker serves any pending preview frame, so sliders stay live)."""

    def run(ctx):
        engine = ctx.engine
        out = []
        for d in directions:
            if ctx.should_stop():
                return out
            ws = [engine.evaluate(set_direction_alpha(recipe, d.as_edit(), a)) for a in alphas]
            out.append(engine.render_thumbnails(ws))
        return out

    return run


def seed_thumbnails_job(seeds: list[int], psi: float):
    """Job: thumbnails of seeds (one batch)."""

    def run(ctx):
        class_idx = 0 if ctx.engine.network.c_dim > 0 else None  # conditional networks draw class 0
        return ctx.engine.render_thumbnails([SeedSource(s, psi=psi, class_idx=class_idx) for s in seeds])

    return run


# ----------------------------------------------------------------------------- widgets


@dataclass
class DirectionRow:
    """The widgets of one listed direction."""

    direction: Direction
    box: QFrame
    title: QLabel
    slider: QSlider
    value: QLabel
    strip: list[QLabel]
    rename: QToolButton
    save: QToolButton
    delete: QToolButton


class DirectionsPanel(QWidget):
    """Lists directions with a −3…+3 σ slider and a thumbnail strip each; discovers, labels, saves, loads."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info: NetworkInfo | None = None
        self.library: DirectionLibrary | None = None
        self.directions: list[Direction] = []  # the user's list
        self.shown: list[Direction] = []  # the rows: the list plus the recipe's other entries
        self._known: dict[tuple, Direction] = {}  # every direction listed on this network, by direction_key
        self.rows_widgets: list[DirectionRow] = []
        self.pending: dict[str, str] = {}  # job id -> kind
        self.strip_images: list[list] = []
        self.label_seeds: list[int] = []
        self.label_state: dict[int, int] = {}  # seed -> +1 has it / -1 lacks it
        self.label_buttons: list[QToolButton] = []
        self.label_offset = 0
        self._gesture = 0
        self._strip_timer = QTimer(self, singleShot=True, interval=150)
        self._strip_timer.timeout.connect(self.request_strips)

        # --- discover
        self.method = QComboBox()
        self.method.addItem("SeFa (weights)", "sefa")
        self.method.addItem("PCA (mapped w)", "pca")
        self.band = QComboBox()
        for b in ("coarse", "middle", "fine", "all", "selected rows"):
            self.band.addItem(b)
        self.band.setCurrentText("middle")
        self.top = QSpinBox()
        self.top.setRange(1, 16)
        self.top.setValue(4)
        self.discover_button = QPushButton("Discover")
        self.load_button = QPushButton("Load…")
        discover = QGridLayout()
        discover.addWidget(QLabel("Method"), 0, 0)
        discover.addWidget(self.method, 0, 1)
        discover.addWidget(QLabel("Rows"), 0, 2)
        discover.addWidget(self.band, 0, 3)
        discover.addWidget(QLabel("Top"), 1, 0)
        discover.addWidget(self.top, 1, 1)
        discover.addWidget(self.discover_button, 1, 2)
        discover.addWidget(self.load_button, 1, 3)

        # --- the list
        self.list_box = QVBoxLayout()
        self.list_box.setSpacing(4)
        self.empty_label = QLabel("No directions yet: discover some, label a few seeds, or load saved ones.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setObjectName("dimLabel")
        self.list_box.addWidget(self.empty_label)

        # --- label a few
        label_group = QGroupBox("Label a few (click: has it → lacks it → unlabelled)")
        lg = QVBoxLayout(label_group)
        self.label_grid = QGridLayout()
        self.label_grid.setSpacing(3)
        for i in range(LABEL_COUNT):
            b = QToolButton()
            b.setFixedSize(LABEL_THUMB + 8, LABEL_THUMB + 8)
            b.setIconSize(b.size() * 0.85)
            b.clicked.connect(lambda _=False, ii=i: self.cycle_label(ii))
            self.label_buttons.append(b)
            self.label_grid.addWidget(b, i // 6, i % 6)
        lg.addLayout(self.label_grid)
        label_row = QHBoxLayout()
        self.more_seeds = QPushButton("Other seeds")
        self.label_name = QLineEdit()
        self.label_name.setPlaceholderText("name, e.g. smile")
        self.make_labelled = QPushButton("Make direction")
        self.label_count = QLabel("")
        self.label_count.setObjectName("dimLabel")
        label_row.addWidget(self.more_seeds)
        label_row.addWidget(self.label_name, 1)
        label_row.addWidget(self.make_labelled)
        lg.addLayout(label_row)
        lg.addWidget(self.label_count)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setObjectName("dimLabel")

        layout = QVBoxLayout(self)
        layout.addLayout(discover)
        layout.addLayout(self.list_box)
        layout.addWidget(label_group)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.discover_button.clicked.connect(self.discover)
        self.load_button.clicked.connect(self.choose_file_to_load)
        self.more_seeds.clicked.connect(lambda: self.show_label_seeds(self.label_offset + LABEL_COUNT))
        self.make_labelled.clicked.connect(lambda: self.make_labelled_direction(self.label_name.text()))
        w = window.worker
        w.jobFinished.connect(self._on_finished)
        w.jobFailed.connect(self._on_failed)
        window.recipeChanged.connect(self._on_recipe)
        self._update_label_count()

    # ------------------------------------------------------------------ network
    def network_changed(self, info: NetworkInfo) -> None:
        """A new network: saved directions of this network are listed, label seeds re-rendered."""
        self.info = info
        self.library = DirectionLibrary(user_directions_folder(info.fingerprint), info.fingerprint, info.name)
        self._known = {}
        found, problems = self.library.list()
        self.set_directions(found)
        self.status.setText("; ".join(problems) if problems else f"{len(found)} saved directions for {info.name}.")
        self.label_state.clear()
        self.label_seeds = []
        if self.isVisible():
            self.show_label_seeds(0)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Label seeds are rendered when the panel is first seen (no work for a hidden dock)."""
        super().showEvent(event)
        if self.info is not None and not self.label_seeds:
            self.show_label_seeds(0)

    def band_rows(self) -> list[int]:
        """The rows the 'Rows' choice means for the loaded network."""
        if self.info is None:
            return []
        band = self.band.currentText()
        if band == "all":
            return list(range(self.info.num_ws))
        if band == "selected rows":
            return self.window.grid.selected_rows()
        return self.info.rows_in_band(band)

    # ------------------------------------------------------------------ jobs
    def _submit(self, kind: str, job) -> str:
        job_id = new_job_id(f"directions-{kind}")
        self.pending[job_id] = kind
        self.window.worker.submit_job(job_id, job)
        return job_id

    def discover(self) -> None:
        rows = self.band_rows()
        if not rows:
            self.status.setText("Select some rows first (or choose a band).")
            return
        method = self.method.currentData()
        self.status.setText(f"Discovering {method} directions on {describe_rows(rows)}…")
        self._submit("discover", discover_job(method, rows, self.top.value()))

    def make_labelled_direction(self, name: str) -> None:
        pos = [s for s, v in self.label_state.items() if v > 0]
        neg = [s for s, v in self.label_state.items() if v < 0]
        rows = self.band_rows()
        if len(pos) < 2 or len(neg) < 2:
            self.status.setText(f"Label at least 2 seeds each way (now {len(pos)} with, {len(neg)} without).")
            return
        if not rows:
            self.status.setText("Select some rows first (or choose a band).")
            return
        name = name.strip() or "labelled"
        self.status.setText(f"Making {name!r} from {len(pos)} + {len(neg)} labelled seeds…")
        self._submit("labelled", labelled_job(rows, pos, neg, name))

    def show_label_seeds(self, offset: int) -> None:
        """Show LABEL_COUNT seeds from the base seed on (the seeds being looked at), for labelling."""
        recipe = self.window.recipe
        if self.info is None or recipe is None:
            return
        base = recipe.base.seed if isinstance(recipe.base, SeedSource) else 0
        psi = recipe.base.psi if isinstance(recipe.base, SeedSource) else 0.7
        looked_at = [s.seed for s in self.window.catalog.sources if isinstance(s, SeedSource)]
        seeds: list[int] = []
        for s in [base, *looked_at, *range(base + 1, base + 1 + offset + 4 * LABEL_COUNT)]:
            if s not in seeds:
                seeds.append(s)
        self.label_offset = offset
        self.label_seeds = seeds[offset : offset + LABEL_COUNT]
        for b, s in zip(self.label_buttons, self.label_seeds, strict=False):
            b.setIcon(QIcon())
            b.setToolTip(f"seed {s}")
        self._restyle_labels()
        self._submit("seeds", seed_thumbnails_job(self.label_seeds, psi))

    def cycle_label(self, index: int) -> None:
        if index >= len(self.label_seeds):
            return
        seed = self.label_seeds[index]
        state = self.label_state.get(seed, 0)
        new = {0: 1, 1: -1, -1: 0}[state]
        if new:
            self.label_state[seed] = new
        else:
            self.label_state.pop(seed, None)
        self._restyle_labels()

    def _restyle_labels(self) -> None:
        for b, s in zip(self.label_buttons, self.label_seeds, strict=False):
            state = self.label_state.get(s, 0)
            colour = {1: "#3c9a4a", -1: "#c0413b", 0: "transparent"}[state]
            b.setStyleSheet(f"QToolButton {{ border: 3px solid {colour}; }}")
            b.setText({1: "+", -1: "−", 0: ""}[state])
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            b.setToolTip(f"seed {s}: " + {1: "has it", -1: "lacks it", 0: "not labelled"}[state])
        self._update_label_count()

    def _update_label_count(self) -> None:
        pos = sum(1 for v in self.label_state.values() if v > 0)
        neg = sum(1 for v in self.label_state.values() if v < 0)
        self.label_count.setText(f"{pos} with, {neg} without (2+ each; a dozen or more works best)")
        self.make_labelled.setEnabled(pos >= 2 and neg >= 2)

    def request_strips(self) -> None:
        """Render every listed direction's strip for the current recipe (one batched job)."""
        recipe = self.window.recipe
        if recipe is None or not self.shown:
            return
        for job_id, kind in list(self.pending.items()):
            if kind == "strips":  # an older strip is stale: drop it if it has not started
                self.window.worker.cancel_job(job_id)
        self._submit("strips", strips_job(recipe, list(self.shown)))

    def _on_finished(self, job_id: str, result) -> None:
        kind = self.pending.pop(job_id, None)
        if kind is None:
            return
        if kind == "discover":
            self.add_directions(result)
            self.status.setText(f"Found {len(result)} directions on {describe_rows(result[0].rows)}.")
        elif kind == "labelled":
            self.add_directions([result])
            self.status.setText(f"Made {result.name!r} (σ {result.sigma:.3f}) on {describe_rows(result.rows)}.")
        elif kind == "strips":
            if len(result) == len(self.rows_widgets):
                self.strip_images = result
                for row, images in zip(self.rows_widgets, result, strict=True):
                    for label, image in zip(row.strip, images, strict=True):
                        label.setPixmap(thumbnail_pixmap(image, STRIP_THUMB))
        elif kind == "seeds":
            for b, image in zip(self.label_buttons, result, strict=False):
                b.setIcon(thumbnail_pixmap(image, LABEL_THUMB))

    def _on_failed(self, job_id: str, message: str) -> None:
        kind = self.pending.pop(job_id, None)
        if kind is None or message == "cancelled":
            return
        self.status.setText(f"{kind} failed: {message}")
        self.window.show_error(message)

    # ------------------------------------------------------------------ the list
    # The recipe is the truth: a row's slider shows the recipe's entry with the same `direction_key` (rows, σ,
    # vector; never the name), and every recipe entry has a row, so an undo that brings back a renamed or
    # deleted direction's move brings back a slider standing where the recipe moves. `self.directions` is the
    # user's list (discovered, labelled, loaded, saved); `self.shown` adds the recipe's other entries to it.

    def add_directions(self, new: list[Direction]) -> None:
        """Add directions to the list (a same-named one, or the same direction under another name, is replaced)."""
        names, keys = {d.name for d in new}, {direction_key(d) for d in new}
        self.set_directions([d for d in self.directions if d.name not in names and direction_key(d) not in keys] + list(new))

    def set_directions(self, directions: list[Direction]) -> None:
        """Replace the user's list; the rows are rebuilt for it plus the recipe's other entries."""
        self.directions = list(directions)
        for d in self.directions:
            self._known[direction_key(d)] = d
        self._rebuild(self._visible(self.window.recipe))
        self.sync(self.window.recipe)
        self._strip_timer.start()

    def _listed(self, d: Direction) -> bool:
        key = direction_key(d)
        return any(direction_key(x) == key for x in self.directions)

    def _visible(self, recipe: Recipe | None) -> list[Direction]:
        """The listed directions, then each recipe entry no listed direction matches (as a Direction)."""
        out = list(self.directions)
        keys = {direction_key(d) for d in out}
        for entry in recipe.directions if recipe is not None else ():
            key = direction_key(entry)
            if key in keys:
                continue
            keys.add(key)
            known = self._known.get(key)
            if known is not None:
                out.append(replace(known, name=entry.name))
            elif self.info is not None:
                out.append(Direction.from_edit(entry, self.info.fingerprint, self.info.name))
        return out

    def _rebuild(self, shown: list[Direction]) -> None:
        for row in self.rows_widgets:
            self.list_box.removeWidget(row.box)
            row.box.hide()  # until deleted (next event loop turn) it must not paint over the new rows
            row.box.deleteLater()
        self.rows_widgets = []
        self.shown = list(shown)
        self.strip_images = []
        for d in self.shown:
            self.rows_widgets.append(self._build_row(d))
            self.list_box.addWidget(self.rows_widgets[-1].box)
        self.empty_label.setVisible(not self.shown)

    def _build_row(self, d: Direction) -> DirectionRow:
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        v = QVBoxLayout(box)
        v.setContentsMargins(4, 3, 4, 3)
        v.setSpacing(2)
        head = QHBoxLayout()
        title = QLabel()
        head.addWidget(title, 1)
        buttons = []
        for text, tip in (("✎", "Rename"), ("Save", "Save to this network's directions"), ("✕", "Delete")):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            head.addWidget(b)
            buttons.append(b)
        v.addLayout(head)
        slide = QHBoxLayout()
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(int(ALPHA_MIN * SLIDER_SCALE), int(ALPHA_MAX * SLIDER_SCALE))
        slider.setSingleStep(10)
        slider.setPageStep(50)
        slider.setToolTip("α in σ: −3 … +3 (0 = unchanged)")
        value = QLabel("+0.00σ")
        value.setMinimumWidth(48)
        slide.addWidget(slider, 1)
        slide.addWidget(value)
        v.addLayout(slide)
        strip_row = QHBoxLayout()
        strip_row.setSpacing(2)
        strip = []
        for a in STRIP_ALPHAS:
            lab = QLabel("…")
            lab.setFixedSize(STRIP_THUMB, STRIP_THUMB)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setToolTip(f"{a:+g}σ")
            strip_row.addWidget(lab)
            strip.append(lab)
        strip_row.addStretch(1)
        v.addLayout(strip_row)
        row = DirectionRow(d, box, title, slider, value, strip, *buttons)
        slider.sliderPressed.connect(self._new_gesture)
        slider.valueChanged.connect(lambda val, dd=d: self._slider_moved(dd, val))
        row.rename.clicked.connect(lambda _=False, dd=d: self.ask_rename(dd))
        row.save.clicked.connect(lambda _=False, dd=d: self.save(dd))
        row.delete.clicked.connect(lambda _=False, dd=d: self.delete(dd))
        box.enterEvent = lambda _e, dd=d: self._mark_rows(dd)  # type: ignore[method-assign]
        box.leaveEvent = lambda _e: self._mark_rows(None)  # type: ignore[method-assign]
        self._retitle(row)
        return row

    def _retitle(self, row: DirectionRow, recipe_name: str | None = None) -> None:
        d = row.direction
        also = f" (in the recipe as {recipe_name})" if recipe_name and recipe_name != d.name else ""
        row.title.setText(f"<b>{d.name}</b>{also} · {d.method} · {describe_rows(d.rows)}")
        row.title.setToolTip(f"σ {d.sigma:.4f}, strength {d.strength:.4g}, network {d.network_name}")

    def row_of(self, d: Direction) -> DirectionRow:
        """The row showing `d` (matched by `direction_key`, so a renamed copy finds it too); KeyError if none."""
        key = direction_key(d)
        for row in self.rows_widgets:
            if direction_key(row.direction) == key:
                return row
        raise KeyError(d.name)

    # ------------------------------------------------------------------ edits
    def _new_gesture(self) -> None:
        self._gesture += 1

    def _slider_moved(self, d: Direction, value: int) -> None:
        row = self.row_of(d)
        d = row.direction
        alpha = value / SLIDER_SCALE
        row.value.setText(f"{alpha:+.2f}σ")
        if not row.slider.isSliderDown():
            self._gesture += 1  # keyboard / wheel steps are separate undo steps
        if not self._listed(d):  # a row the recipe brought back (undo of a delete): touching it keeps it listed
            self.directions.append(d)
            self._known[direction_key(d)] = d
        self.set_alpha(d, alpha, merge_key=("direction", direction_key(d), self._gesture))

    def set_alpha(self, d: Direction, alpha: float, merge_key=None) -> None:
        """The undoable recipe edit of one slider."""
        self.window._edit(
            lambda r: set_direction_alpha(r, d.as_edit(), alpha), f"{d.name} {alpha:+.2f}σ", merge_key
        )

    def ask_rename(self, d: Direction) -> None:
        name, ok = QInputDialog.getText(self, "Rename direction", "New name:", text=d.name)
        if ok:
            self.rename(d, name)

    def rename(self, d: Direction, name: str) -> None:
        """Rename a listed direction (and its saved files, if it was saved); the recipe's entry for it is renamed
        by one undoable edit. Undoing that edit gives the entry its old name back; its slider stays on this row."""
        name = name.strip()
        if not name or name == d.name:
            return
        try:
            if self.library is not None and (self.library.folder / f"{_slug_or_empty(d.name)}.json").is_file():
                renamed = self.library.rename(d, name)
            else:
                direction_slug(name)
                renamed = replace(d, name=name)
        except CastmakerError as exc:
            self.window.show_error(str(exc))
            return
        key = direction_key(d)
        self._known[key] = renamed
        listed = [renamed if direction_key(x) == key else x for x in self.directions]
        if not self._listed(d):
            listed.append(renamed)
        self.directions = listed
        recipe = self.window.recipe
        if recipe is not None and find_direction(recipe, d) >= 0:
            self.window._edit(lambda r: rename_direction(r, renamed, name), f"rename direction {d.name} → {name}")
        self.set_directions(self.directions)
        self.status.setText(f"Renamed {d.name!r} to {name!r}.")

    def save(self, d: Direction, overwrite: bool = True) -> None:
        if self.library is None:
            return
        try:
            path = self.library.save(d, overwrite=overwrite)
        except CastmakerError as exc:
            self.window.show_error(str(exc))
            return
        self.status.setText(f"Saved {d.name!r} to {path}.")

    def delete(self, d: Direction) -> None:
        """Remove from the list (and its saved files, if any); the recipe's use of it goes too, as one undoable
        edit: undoing it brings the direction's row back with its slider where the recipe moves it."""
        if self.library is not None and (self.library.folder / f"{_slug_or_empty(d.name)}.json").is_file():
            try:
                self.library.delete(d.name)
            except CastmakerError as exc:
                self.window.show_error(str(exc))
                return
        key = direction_key(d)
        self.directions = [x for x in self.directions if direction_key(x) != key]
        if self.window.recipe is not None and find_direction(self.window.recipe, d) >= 0:
            self.window._edit(lambda r: remove_direction(r, d.as_edit()), f"delete direction {d.name}")
        self.set_directions(self.directions)
        self.status.setText(f"Deleted {d.name!r}.")

    def choose_file_to_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load direction", "", "Castmaker directions (*.json)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> Direction | None:
        """Add a direction file to the list; refused with a clear message if made for another network."""
        if self.library is None:
            return None
        try:
            d = self.library.load(path)
        except CastmakerError as exc:
            self.status.setText(str(exc))
            self.window.show_error(str(exc))
            return None
        self.add_directions([d])
        self.status.setText(f"Loaded {d.name!r}.")
        return d

    # ------------------------------------------------------------------ showing the recipe
    def _on_recipe(self, recipe: Recipe) -> None:
        self.sync(recipe)
        self._strip_timer.start()

    def sync(self, recipe: Recipe | None) -> None:
        """Rows and sliders show the recipe (no edits): every entry has a row, each slider its entry's α;
        the grid marks touched rows."""
        visible = self._visible(recipe)
        if {direction_key(d) for d in visible} != {direction_key(d) for d in self.shown}:
            self._rebuild(visible)
        for row in self.rows_widgets:
            i = find_direction(recipe, row.direction) if recipe is not None else -1
            entry = recipe.directions[i] if recipe is not None and i >= 0 else None
            alpha = direction_alpha(recipe, row.direction) if recipe is not None else 0.0
            row.slider.blockSignals(True)
            row.slider.setValue(int(round(alpha * SLIDER_SCALE)))
            row.slider.blockSignals(False)
            row.value.setText(f"{alpha:+.2f}σ")
            self._retitle(row, entry.name if entry is not None else None)
        self._mark_rows(None)

    def _mark_rows(self, hovered: Direction | None) -> None:
        recipe = self.window.recipe
        marks = rows_touched(recipe) if recipe is not None else {}
        if hovered is not None:
            for r in hovered.rows:
                marks.setdefault(r, [])
                if hovered.name not in marks[r]:
                    marks[r].append(hovered.name)
        grid = self.window.grid
        if hasattr(grid, "set_direction_marks"):
            grid.set_direction_marks(marks)


def _slug_or_empty(name: str) -> str:
    try:
        return direction_slug(name)
    except CastmakerError:
        return ""
