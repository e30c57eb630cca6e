"""Variations panel: an N×M children grid of the current recipe, and crossbreeds with a session or preset.

Why jobs: making children maps seeds (the spread of W) or finds SeFa directions, then renders N·M
thumbnails as batches; all of that runs in the RenderWorker. The pure logic is editor/variations.py; a
child is a plain recipe, so clicking one is an ordinary undoable edit.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.document import NetworkInfo
from editor.ui.qt_images import thumbnail_pixmap
from editor.ui.render_worker import new_job_id
from editor.variations import (
    BANDS,
    VariationSettings,
    band_sefa_directions,
    crossbreed_grid,
    make_children,
    w_covariance,
)
from renderer.errors import CastmakerError
from renderer.latents import Recipe

log = logging.getLogger(__name__)

CHILD_THUMB = 72
DIRECTIONS_PER_BAND = 3
COV_SEEDS = 2000
RENDER_CHUNK = 8  # thumbnails per batched forward pass


def children_job(recipe: Recipe, settings: VariationSettings):
    """Job: the children of `recipe` and their thumbnails (one batched render). Returns (recipes, images)."""

    def run(ctx):
        net = ctx.engine.network
        if settings.kind == "jitter":
            children = make_children(recipe, settings, w_cov=w_covariance(net, COV_SEEDS))
        else:
            found = band_sefa_directions(net, DIRECTIONS_PER_BAND)
            dirs = {b: d for b, d in found.items() if settings.strengths[BANDS.index(b)] > 0}
            children = make_children(recipe, settings, band_directions=dirs)
        ws = [ctx.engine.evaluate(c) for c in children]
        images = []
        for i in range(0, len(ws), RENDER_CHUNK):  # batches; pending preview frames are served in between
            if ctx.should_stop():
                break
            images += ctx.engine.render_thumbnails(ws[i : i + RENDER_CHUNK])
        return children, images

    return run


def crossbreed_job(a: Recipe, b: Recipe, label: str):
    """Job: every band-by-band combination of `a` and `b` with thumbnails. Returns [(label, recipe, image)]."""

    def run(ctx):
        combos = crossbreed_grid(a, b, ctx.engine.resolve, label)
        images = ctx.engine.render_thumbnails([ctx.engine.evaluate(r) for _, r in combos])
        return [(name, r, img) for (name, r), img in zip(combos, images, strict=True)]

    return run


class VariationsPanel(QWidget):
    """Make variations (children grid) and crossbreeds; click a thumbnail to adopt it."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info: NetworkInfo | None = None
        self.pending: dict[str, str] = {}
        self.children: list[Recipe] = []
        self.child_buttons: list[QToolButton] = []
        self.crosses: list[tuple[str, Recipe]] = []
        self.cross_buttons: list[QToolButton] = []
        self.clicked_at: float | None = None
        self.last_grid_ms: float | None = None

        self.grid_rows = QSpinBox()
        self.grid_rows.setRange(1, 8)
        self.grid_rows.setValue(4)
        self.grid_cols = QSpinBox()
        self.grid_cols.setRange(1, 8)
        self.grid_cols.setValue(4)
        self.kind = QComboBox()
        self.kind.addItem("jitter in W", "jitter")
        self.kind.addItem("along top SeFa directions", "directions")
        self.strengths: dict[str, QDoubleSpinBox] = {}
        for band, default in zip(BANDS, (0.0, 1.0, 1.0), strict=True):
            sp = QDoubleSpinBox()
            sp.setRange(0.0, 5.0)
            sp.setSingleStep(0.25)
            sp.setValue(default)
            sp.setSuffix(" σ")
            sp.setToolTip(f"how far children move on the {band} rows (0 = keep them)")
            self.strengths[band] = sp
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.make_button = QPushButton("Make variations")
        self.reroll = QPushButton("New seed")

        size_row = QHBoxLayout()
        size_row.addWidget(self.grid_rows)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.grid_cols)
        size_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Grid", size_row)
        form.addRow("Kind", self.kind)
        for band in BANDS:
            form.addRow(band.capitalize(), self.strengths[band])
        form.addRow("Seed", self.seed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.make_button, 1)
        buttons.addWidget(self.reroll)
        self.children_grid = QGridLayout()
        self.children_grid.setSpacing(3)

        cross_group = QGroupBox("Crossbreed (columns: coarse · middle · fine from A = current or B)")
        cg = QVBoxLayout(cross_group)
        cross_buttons = QHBoxLayout()
        self.cross_session = QPushButton("with session…")
        self.cross_preset = QPushButton("with preset…")
        cross_buttons.addWidget(self.cross_session)
        cross_buttons.addWidget(self.cross_preset)
        cg.addLayout(cross_buttons)
        self.cross_grid = QGridLayout()
        self.cross_grid.setSpacing(3)
        cg.addLayout(self.cross_grid)

        self.status = QLabel("Click a child to adopt it (Ctrl+Z undoes).")
        self.status.setWordWrap(True)
        self.status.setObjectName("dimLabel")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addLayout(self.children_grid)
        layout.addWidget(cross_group)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.make_button.clicked.connect(self.make_variations)
        self.reroll.clicked.connect(self._new_seed)
        self.cross_session.clicked.connect(self.choose_session)
        self.cross_preset.clicked.connect(self.choose_preset)
        window.worker.jobFinished.connect(self._on_finished)
        window.worker.jobFailed.connect(self._on_failed)

    def network_changed(self, info: NetworkInfo) -> None:
        self.info = info
        self._clear(self.children_grid, self.child_buttons)
        self._clear(self.cross_grid, self.cross_buttons)
        self.children, self.crosses = [], []

    def settings(self) -> VariationSettings:
        return VariationSettings(
            rows=self.grid_rows.value(),
            cols=self.grid_cols.value(),
            strengths=tuple(self.strengths[b].value() for b in BANDS),  # type: ignore[arg-type]
            kind=self.kind.currentData(),
            seed=self.seed.value(),
        )

    def _submit(self, kind: str, job) -> None:
        job_id = new_job_id(f"variations-{kind}")
        self.pending[job_id] = kind
        self.window.worker.submit_job(job_id, job)

    def _new_seed(self) -> None:
        self.seed.setValue(self.seed.value() + 1)
        self.make_variations()

    def make_variations(self) -> None:
        """Post the children job for the current recipe (the grid fills when it comes back)."""
        if self.window.recipe is None:
            return
        try:
            settings = self.settings()
        except CastmakerError as exc:
            self.window.show_error(str(exc))
            return
        self.clicked_at = time.perf_counter()
        self.status.setText(f"Making {settings.rows}×{settings.cols} variations…")
        self._submit("children", children_job(self.window.recipe, settings))

    def crossbreed_with(self, other: Recipe, label: str) -> None:
        """Post the crossbreed job: current recipe (A) × `other` (B), band by band."""
        a = self.window.recipe
        if a is None:
            return
        if other.num_ws != a.num_ws:
            self.window.show_error(
                f"{label} has {other.num_ws} w rows and this network {a.num_ws}: crossbreed needs the same network"
            )
            return
        self.status.setText(f"Crossbreeding with {label}…")
        self._submit("cross", crossbreed_job(a, other, label))

    def choose_session(self) -> None:
        from editor.session import SESSION_SUFFIX, SessionError, load_session

        path, _ = QFileDialog.getOpenFileName(self, "Crossbreed with session", "", f"Sessions (*{SESSION_SUFFIX})")
        if not path:
            return
        try:
            data = load_session(path)
        except SessionError as exc:
            self.window.show_error(str(exc))
            return
        if self.info is not None and data.fingerprint != self.info.fingerprint:
            self.window.show_error("that session was saved with another network: crossbreed needs the same network")
            return
        self.crossbreed_with(data.recipe, f"session {path.rsplit('/', 1)[-1]}")

    def choose_preset(self) -> None:
        from editor.presets import bundled_library, preset_source, user_library

        if self.info is None:
            return
        presets = []
        for lib in (user_library(self.info.fingerprint), bundled_library(self.info.preset_key or self.info.fingerprint)):
            if lib is not None:
                presets += [p for p in lib.list()[0] if p.fingerprint == self.info.fingerprint]
        if not presets:
            self.window.show_error("no presets for this network yet: save one in the Presets panel first")
            return
        name, ok = QInputDialog.getItem(self, "Crossbreed with preset", "Preset:", [p.name for p in presets], 0, False)
        if not ok:
            return
        preset = next(p for p in presets if p.name == name)
        other = Recipe.plain(preset_source(preset), self.info.num_ws)
        self.crossbreed_with(Recipe(base=other.base, rows=other.rows, directions=preset.directions), f"preset {name}")

    def _on_finished(self, job_id: str, result) -> None:
        kind = self.pending.pop(job_id, None)
        if kind == "children":
            self.children, images = result
            cols = self.grid_cols.value()
            self._fill(self.children_grid, self.child_buttons, images, cols, self.adopt_child,
                       [f"child {i + 1}" for i in range(len(images))])
            if self.clicked_at is not None:
                self.last_grid_ms = (time.perf_counter() - self.clicked_at) * 1000
                self.status.setText(
                    f"{len(images)} children in {self.last_grid_ms:.0f} ms (click → full grid). Click one to adopt it."
                )
        elif kind == "cross":
            self.crosses = [(name, r) for name, r, _ in result]
            self._fill(self.cross_grid, self.cross_buttons, [img for _, _, img in result], 4, self.adopt_cross,
                       [name for name, _, _ in result], captions=True)
            self.status.setText("Crossbreeds: coarse · middle · fine from A (current) or B. Click one to adopt it.")

    def _on_failed(self, job_id: str, message: str) -> None:
        kind = self.pending.pop(job_id, None)
        if kind is not None and message != "cancelled":
            self.status.setText(f"{kind} failed: {message}")
            self.window.show_error(message)

    def _clear(self, grid: QGridLayout, buttons: list[QToolButton]) -> None:
        for b in buttons:
            grid.removeWidget(b)
            b.deleteLater()
        buttons.clear()

    def _fill(self, grid, buttons, images, cols, on_click, tips, captions: bool = False) -> None:
        self._clear(grid, buttons)
        for i, image in enumerate(images):
            b = QToolButton()
            b.setIcon(thumbnail_pixmap(image, CHILD_THUMB))
            b.setIconSize(thumbnail_pixmap(image, CHILD_THUMB).size())
            b.setToolTip(tips[i])
            if captions:
                b.setText(tips[i])
                b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            b.clicked.connect(lambda _=False, ii=i: on_click(ii))
            grid.addWidget(b, i // cols, i % cols)
            buttons.append(b)

    def adopt_child(self, index: int) -> None:
        """Make child `index` the recipe (one undoable edit)."""
        if 0 <= index < len(self.children):
            self.window.apply_edit(self.children[index], f"adopt variation {index + 1}")

    def adopt_cross(self, index: int) -> None:
        if 0 <= index < len(self.crosses):
            name, recipe = self.crosses[index]
            self.window.apply_edit(recipe, f"adopt crossbreed {name}")
