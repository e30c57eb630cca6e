"""The editor window: base controls + layer grid on the left, the preview on the right, docks around.

Why it is thin: the recipe edits live in editor/document.py, rendering in the RenderWorker, files in
editor/presets.py and editor/session.py. The window wires them: a gesture becomes an undoable recipe
edit, the edit is posted to the worker, the frame that comes back is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QPixmap, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from editor import document as doc
from editor.document import NetworkInfo, SourceCatalog
from editor.session import SESSION_SUFFIX, SessionError, load_session, save_session
from editor.ui.base_controls import BaseControls
from editor.ui.layer_grid import BAND_HELP, GRID_HINT, LayerGrid
from editor.ui.preview import PreviewPanel
from editor.ui.qt_images import thumbnail_pixmap
from editor.ui.render_worker import RenderWorker
from editor.ui.settings import read_list, remember_recent
from editor.ui.threads_menu import attach_threads_menu
from editor.ui.undo import RecipeCommand
from renderer.errors import CastmakerError
from renderer.latents import Recipe, SeedSource, Source, WSource, load_w, parse_rows, source_label

log = logging.getLogger(__name__)

NETWORK_SUFFIXES = (".pkl", ".safetensors")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
W_SUFFIXES = (".npy", ".npz")
DEFAULT_SEED = 0
DOCK_MIN_WIDTH = 340  # px: narrowest a side dock gets; wider panels scroll sideways inside it
DOCK_START_WIDTH = 500  # px: the docks' width in a new window, room for the widest panel (the preview gives way first)
START_SIZE = (1680, 940)  # px: a new window's size, bounded by the screen


class MainWindow(QMainWindow):
    """One recipe on one network. `worker` must be started by the caller (app.py / tests)."""

    frameShown = Signal(int)  # request id of the frame now in the preview
    recipeChanged = Signal(object)

    def __init__(self, worker: RenderWorker, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.settings = settings
        self.info: NetworkInfo | None = None
        self.recipe: Recipe | None = None
        self.catalog = SourceCatalog()
        self.thumbs: dict[Source, np.ndarray] = {}
        self._pix_cache: dict[Source, QPixmap] = {}
        self.thumb_failures: dict[Source, str] = {}
        self.last_result = None
        self.last_error: str | None = None
        self._latest_request = 0
        self._shown_request = 0
        self._loading_source: str | None = None
        self.load_failure: str | None = None  # "could not open SOURCE: why" for the newest load that failed
        self._pending_session = None
        self._thumb_refresh = QTimer(self, singleShot=True, interval=50)
        self._thumb_refresh.timeout.connect(self._refresh_thumbnails)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        # modal message boxes only for a person at the window (not in screenshot mode, benches or tests)
        self.interactive = False
        self.setWindowTitle("Castmaker")
        self.setAcceptDrops(True)
        self._build_widgets()
        self.resize(self._start_size())
        self._build_actions()
        self._build_docks()
        self._connect_worker()

    # ================================================================== construction
    def _build_widgets(self) -> None:
        self.base_controls = BaseControls()
        self.base_controls.seedChanged.connect(self._on_seed)
        self.base_controls.psiChanged.connect(self._on_psi)
        self.base_controls.cutoffChanged.connect(self._on_cutoff)
        self.base_controls.classChanged.connect(self._on_class)

        self.grid = LayerGrid()
        self.grid.sourceChosen.connect(self._on_row_source)
        self.grid.modeChosen.connect(self._on_row_mode)
        self.grid.weightChanged.connect(self._on_row_weight)
        self.grid.addSeedRequested.connect(self._on_add_seed)
        self.grid.loadWRequested.connect(self._on_load_w_for_rows)
        self.grid.selectionChanged.connect(self._on_selection)

        select_bar = QHBoxLayout()
        select_bar.addWidget(QLabel("Select"))
        self.band_buttons: dict[str, QPushButton] = {}
        for band in ("all", "coarse", "middle", "fine", "none"):
            b = QPushButton(band)
            b.setObjectName("smallButton")
            b.clicked.connect(lambda _=False, bb=band: self.select_band(bb))
            b.setToolTip(BAND_HELP.get(band, f"Select {band} rows"))
            self.band_buttons[band] = b
            select_bar.addWidget(b)
        self.rows_field = QLineEdit()
        self.rows_field.setPlaceholderText("rows, e.g. 8-15")
        self.rows_field.setMaximumWidth(120)
        self.rows_field.returnPressed.connect(self._on_rows_field)
        select_bar.addWidget(self.rows_field)
        select_bar.addStretch(1)
        self.selection_label = QLabel("")
        self.selection_label.setObjectName("dimLabel")
        select_bar.addWidget(self.selection_label)

        grid_scroll = QScrollArea()
        grid_scroll.setWidgetResizable(True)
        grid_scroll.setWidget(self.grid)
        grid_scroll.setObjectName("gridScroll")
        grid_scroll.setMinimumWidth(560)
        self.grid_scroll = grid_scroll

        self.demo_note = QLabel(
            "Untrained demo network: its pictures are abstract stand-ins, not a trained model's faces or sprites. "
            "Open your own .pkl (File → Open network…) for real results."
        )
        self.demo_note.setObjectName("demoNote")
        self.demo_note.setWordWrap(True)
        self.demo_note.hide()
        self.error_banner = QLabel("")
        self.error_banner.setObjectName("errorBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_banner.hide()

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 6, 6, 6)
        lv.addWidget(self.demo_note)
        lv.addWidget(self.base_controls)
        lv.addLayout(select_bar)
        self.grid_hint = QLabel(GRID_HINT)
        self.grid_hint.setObjectName("dimLabel")
        self.grid_hint.setWordWrap(True)
        lv.addWidget(self.grid_hint)
        lv.addWidget(grid_scroll, 1)

        self.preview = PreviewPanel()
        self.preview.beforeToggled.connect(lambda _on: self._request_thumbnails())
        self.preview.exportRequested.connect(self.export_png)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 6, 6, 6)
        rv.addWidget(self.error_banner)
        rv.addWidget(self.preview, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 420])
        self.setCentralWidget(split)

        sb = self.statusBar()
        sb.messageChanged.connect(lambda text: sb.setToolTip(text))  # a status line cut off at the edge, in full
        self.render_label = QLabel("—")
        self.cache_label = QLabel("")
        self.device_label = QLabel("")
        self.network_label = QLabel("no network")
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 0)
        self.load_progress.setMaximumWidth(140)
        self.load_progress.hide()
        for w in (self.render_label, self.cache_label, self.device_label):
            sb.addPermanentWidget(w)
        sb.addWidget(self.network_label)
        sb.addWidget(self.load_progress)

    def _build_actions(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.act_open_network = self._action(
            file_menu, "Open network…", self.choose_network, QKeySequence.StandardKey.Open
        )
        self.recent_menu = file_menu.addMenu("Recent networks")
        self._action(file_menu, "Load cast-portrait", lambda: self.open_network("cast-portrait"))
        self._action(file_menu, "Load cast-sprite", lambda: self.open_network("cast-sprite"))
        self._action(file_menu, "Load demo-face (untrained)", lambda: self.open_network("demo-face"))
        self._action(file_menu, "Load demo-sprite (untrained)", lambda: self.open_network("demo-sprite"))
        file_menu.addSeparator()
        self._action(file_menu, "Open session…", self.choose_session_to_open, "Ctrl+Shift+O")
        self._action(file_menu, "Save session…", self.choose_session_to_save, QKeySequence.StandardKey.Save)
        self._action(file_menu, "Add w file as source…", lambda: self._on_load_w_for_rows([]))
        self._action(file_menu, "Export preview PNG…", self.export_png, "Ctrl+E")
        self.act_export_rpgmaker = self._action(
            file_menu, "Export to RPG Maker…", lambda: self.show_panel(self.export_panel), "Ctrl+Shift+E"
        )
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = mb.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence("Ctrl+Z"))
        redo = self.undo_stack.createRedoAction(self, "Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        self.act_undo, self.act_redo = undo, redo
        edit_menu.addSeparator()
        self._action(edit_menu, "Select all rows", lambda: self.select_band("all"), "Ctrl+A")
        self._action(edit_menu, "Clear row selection", lambda: self.select_band("none"), "Escape")
        self._action(edit_menu, "Add seed source…", lambda: self._on_add_seed([]))

        self.view_menu = mb.addMenu("&View")
        self.act_before = self._action(self.view_menu, "Before / after", self.preview.toggle_before, "Space")
        self._action(self.view_menu, "Previous base seed", lambda: self.base_controls.step_seed(-1), "Left")
        self._action(self.view_menu, "Next base seed", lambda: self.base_controls.step_seed(1), "Right")
        self._action(self.view_menu, "Random base seed", self.base_controls.randomize, "R")
        self.view_menu.addSeparator()
        self.threads_menu = attach_threads_menu(self)  # Settings ▸ CPU threads
        self._refresh_recent_menu()

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _checked=False: slot())
        menu.addAction(act)
        self.addAction(act)
        return act

    def _build_docks(self) -> None:
        from editor.ui.directions_panel import DirectionsPanel
        from editor.ui.export_panel import ExportPanel
        from editor.ui.motion_panel import MotionPanel
        from editor.ui.preset_panel import PresetPanel
        from editor.ui.projection_panel import ProjectionPanel
        from editor.ui.variations_panel import VariationsPanel

        self.directions_panel = DirectionsPanel(self)
        self.variations_panel = VariationsPanel(self)
        self.preset_panel = PresetPanel(self)
        self.projection_panel = ProjectionPanel(self)
        self.export_panel = ExportPanel(self)
        self.motion_panel = MotionPanel(self)
        docks = []
        for title, widget, name in (
            ("Presets", self.preset_panel, "presetsDock"),
            ("Projection", self.projection_panel, "projectionDock"),
            ("RPG Maker export", self.export_panel, "exportDock"),
            ("Motion", self.motion_panel, "motionDock"),
            ("Directions", self.directions_panel, "directionsDock"),
            ("Variations", self.variations_panel, "variationsDock"),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            holder = QScrollArea()  # panels keep their natural size; a short dock scrolls
            holder.setWidgetResizable(True)
            holder.setFrameShape(QScrollArea.Shape.NoFrame)
            holder.setWidget(widget)
            # a dock may be narrower than its panel (it then scrolls sideways), so the window fits a 1440-px screen
            holder.setMinimumWidth(min(DOCK_MIN_WIDTH, widget.minimumSizeHint().width() + 12))
            dock.setWidget(holder)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            self.view_menu.addAction(dock.toggleViewAction())
            docks.append(dock)
        self.splitDockWidget(docks[0], docks[1], Qt.Orientation.Vertical)
        self.tabifyDockWidget(docks[1], docks[2])
        self.tabifyDockWidget(docks[2], docks[3])
        self.tabifyDockWidget(docks[0], docks[4])  # Directions and Variations share the Presets area
        self.tabifyDockWidget(docks[4], docks[5])
        docks[0].raise_()
        # export to RPG Maker is the product's purpose: its tab is the one in front (File → Export to RPG Maker… too)
        self.export_dock = next(d for d in docks if d.objectName() == "exportDock")
        self.export_dock.raise_()
        self.docks = docks
        self._docks_sized = False  # the first show widens the docks (unless a saved layout was restored)

    def show_panel(self, panel: QWidget) -> None:
        """Bring the dock holding `panel` to the front."""
        for dock in self.docks:
            if dock.widget().widget() is panel:
                dock.show()
                dock.raise_()

    def _connect_worker(self) -> None:
        w = self.worker
        w.networkLoaded.connect(self._on_network_loaded)
        w.networkFailed.connect(self._on_network_failed)
        w.frameReady.connect(self._on_frame)
        w.renderFailed.connect(self._on_render_failed)
        w.thumbnailsReady.connect(self._on_thumbnails)
        w.thumbnailsFailed.connect(self._on_thumbnails_failed)

    # ================================================================== network
    def choose_network(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open network", "", "StyleGAN networks (*.pkl *.safetensors);;All files (*)"
        )
        if path:
            self.open_network(path)

    def open_network(self, source: str, ask: bool = True) -> None:
        """Load `source` in the worker; the current network stays until the new one is ready.

        A new network starts a new mix: with unsaved changes (and `ask`) the user may save them first or cancel.
        """
        if ask and not self.may_replace_mix():
            return
        self._loading_source = source
        self.load_failure = None
        self.load_progress.show()
        shown = Path(source).name if Path(source).suffix else source
        self.network_label.setText(f"Loading {shown}…")
        if self.info is None:
            self.preview.set_placeholder(f"Loading {source}…")
        self.worker.load_network(source)

    def _on_network_loaded(self, info: NetworkInfo) -> None:
        self._loading_source = None
        self.load_progress.hide()
        self.info = info
        self.thumbs.clear()
        self._pix_cache.clear()
        self.thumb_failures.clear()
        self.last_result = None
        self.preview.set_mix(None)
        self.preview.set_before(None)
        self.preview.set_placeholder("Rendering…")
        self._clear_error()
        remember_recent(self.settings, "recent_networks", info.source)
        self._refresh_recent_menu()
        self.setWindowTitle(f"Castmaker — {info.name}[*]")  # [*]: a mark while there are unsaved changes
        self.network_label.setText(
            f"{info.name} · {info.kind} · {info.img_resolution}px · {info.num_ws} rows"
        )
        self.device_label.setText(info.device_name)
        self.demo_note.setVisible(info.is_demo)
        self.base_controls.set_num_ws(info.num_ws)
        self.base_controls.set_classes(info.c_dim)
        self.undo_stack.clear()
        session, self._pending_session = self._pending_session, None
        if session is not None and session.recipe.num_ws != info.num_ws:
            self.show_error(
                f"the session needs a network with {session.recipe.num_ws} w rows; {info.name} has {info.num_ws}: "
                "starting a fresh recipe instead"
            )
            session = None
        if session is not None:
            recipe = session.recipe
            if session.fingerprint != info.fingerprint:
                self.show_error(
                    f"this session was saved with another network (fingerprint {session.fingerprint[:12]}…); "
                    "its w sources may look different here"
                )
        else:
            seed = self.base_controls.seed.value() if self.recipe is not None else DEFAULT_SEED
            recipe = Recipe.plain(SeedSource(seed, psi=doc.PSI_DEFAULT), info.num_ws)
        recipe = doc.fit_classes(recipe, info.c_dim)  # conditional network: seeds draw class 0 unless set
        base_seed = recipe.base.seed if isinstance(recipe.base, SeedSource) else DEFAULT_SEED
        self.catalog = doc.default_catalog(base_seed, class_idx=doc.default_class(info.c_dim))
        self.grid.build(info, self._thumb_pixmap)
        self._set_recipe(recipe)
        QTimer.singleShot(0, self.grid, self._fit_grid_width)  # once the rows are laid out (dropped with the grid)
        self.preset_panel.network_changed(info)
        self.projection_panel.network_changed(info)
        self.export_panel.network_changed(info)
        self.motion_panel.network_changed(info)
        self.directions_panel.network_changed(info)
        self.variations_panel.network_changed(info)

    def _start_size(self) -> QSize:
        """START_SIZE, within the screen's free area (the docks then open at DOCK_START_WIDTH where room allows)."""
        screen = QGuiApplication.primaryScreen()
        size = QSize(*START_SIZE)
        return size.boundedTo(screen.availableGeometry().size()) if screen is not None else size

    def _fit_grid_width(self) -> None:
        """Make the grid's scroll area wide enough for every column (it scrolls vertically only)."""
        self.grid.layout().activate()
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        frame = 2 * self.grid_scroll.frameWidth()
        self.grid_scroll.setMinimumWidth(
            max(560, self.grid.minimumSizeHint().width() + scrollbar + frame + 2)
        )

    def _on_network_failed(self, source: str, message: str) -> None:
        self._loading_source = None
        self.load_failure = f"could not open {source}: {message}"  # state, so a caller polling later still sees it
        self.load_progress.hide()
        if self.info is None:
            self.network_label.setText("no network")
            self.preview.set_placeholder("No network loaded: File → Open network…")
        else:
            self.network_label.setText(f"{self.info.name} · {self.info.kind} · {self.info.num_ws} rows")
        self.show_error(f"Could not open {source}: {message}")  # the banner only: no dialog, no status-bar copy

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = read_list(self.settings, "recent_networks")
        for item in items:
            act = self.recent_menu.addAction(item)
            act.triggered.connect(lambda _=False, s=item: self.open_network(s))
        self.recent_menu.setEnabled(bool(items))

    # ================================================================== recipe edits
    def apply_edit(self, new: Recipe, text: str, merge_key: Hashable | None = None) -> None:
        """Push an undoable change of the whole recipe (redo applies it at once)."""
        if self.recipe is None or new == self.recipe:
            return
        self.undo_stack.push(RecipeCommand(self.recipe, new, text, self._set_recipe, merge_key))

    def _set_recipe(self, recipe: Recipe) -> None:
        """Show `recipe` everywhere and ask the worker for its frame (undo/redo land here too)."""
        self.recipe = recipe
        self.catalog.include_recipe(recipe)
        self.grid.set_sources(self.catalog.sources)
        self.grid.sync(recipe)
        self.base_controls.sync(recipe.base)
        self._latest_request = self.worker.post_render(recipe)
        self._request_thumbnails()
        self.recipeChanged.emit(recipe)

    def _edit(self, fn, text: str, merge_key: Hashable | None = None) -> None:
        if self.recipe is None:
            return
        try:
            new = fn(self.recipe)
        except CastmakerError as exc:
            self.show_error(str(exc))
            return
        self.apply_edit(new, text, merge_key)

    def _on_seed(self, seed: int) -> None:
        c_dim = self.info.c_dim if self.info is not None else 0
        self._edit(lambda r: doc.fit_classes(doc.set_base_seed(r, seed), c_dim), f"base seed {seed}")

    def _on_class(self, class_idx: int) -> None:
        self._edit(lambda r: doc.set_base_class(r, class_idx), f"base class {class_idx}")

    def _on_psi(self, psi: float, gesture: int) -> None:
        self._edit(lambda r: doc.set_base_truncation(r, psi=psi), f"ψ {psi:.2f}", ("psi", gesture))

    def _on_cutoff(self, cutoff) -> None:
        self._edit(lambda r: doc.set_base_truncation(r, cutoff=cutoff), f"cutoff {cutoff or 'none'}")

    def _on_row_source(self, rows, source) -> None:
        if source is not None:
            source = self.catalog.add(source)
        label = "base" if source is None else source_label(source)
        self._edit(lambda r: doc.set_rows_source(r, rows, source), f"{doc.describe_rows(rows)} from {label}")

    def _on_row_mode(self, rows, mode: str) -> None:
        self._edit(lambda r: doc.set_rows_mode(r, rows, mode), f"{doc.describe_rows(rows)}: {mode}")

    def _on_row_weight(self, rows, weight: float, gesture: int) -> None:
        self._edit(
            lambda r: doc.set_rows_weight(r, rows, weight),
            f"{doc.describe_rows(rows)} blend {weight:.2f}",
            ("weight", tuple(rows), gesture),
        )

    def _on_add_seed(self, rows) -> None:
        start = self.base_controls.seed.value() + 1
        seed, ok = QInputDialog.getInt(self, "Add seed source", "Seed:", start, 0, 2**31 - 1)
        if ok:
            self.add_seed_source(int(seed), rows)
        elif self.recipe is not None:
            self.grid.sync(self.recipe)  # put the picker back on the row's source

    def add_seed_source(self, seed: int, rows=()) -> SeedSource:
        """Offer seed `seed` (with the base's ψ and class) in the pickers; with `rows`, put it on those rows."""
        psi = (
            self.recipe.base.psi
            if self.recipe is not None and isinstance(self.recipe.base, SeedSource)
            else doc.PSI_DEFAULT
        )
        class_idx = (
            self.recipe.base.class_idx
            if self.recipe is not None and isinstance(self.recipe.base, SeedSource)
            else doc.default_class(self.info.c_dim if self.info is not None else 0)
        )
        src = self.catalog.add(SeedSource(seed, psi=psi, class_idx=class_idx))
        if rows:
            self._on_row_source(list(rows), src)
        else:
            self.grid.set_sources(self.catalog.sources)
            if self.recipe is not None:
                self.grid.sync(self.recipe)
            self._request_thumbnails()
        return src

    def _on_load_w_for_rows(self, rows) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load w file", "", "w files (*.npy *.npz);;All files (*)")
        if path:
            self.add_w_file_source(path, rows)
        elif self.recipe is not None:
            self.grid.sync(self.recipe)

    def add_w_file_source(self, path: str, rows=()) -> WSource | None:
        """A .npy / .npz w becomes a source ('w: name.npy'); wrong shapes are refused with a message."""
        if self.info is None:
            return None
        try:
            w = load_w(path, num_ws=self.info.num_ws, w_dim=self.info.w_dim)
        except CastmakerError as exc:
            self.show_error(str(exc))
            return None
        return self.add_source(WSource(w, label=Path(path).name, kind="w"), rows)

    def add_source(self, source: Source, rows=()) -> Source:
        """Offer any source in the pickers (projections, presets); with `rows`, put it on them."""
        src = self.catalog.add(source)
        if rows:
            self._on_row_source(list(rows), src)
        elif self.recipe is not None:
            self.grid.set_sources(self.catalog.sources)
            self.grid.sync(self.recipe)
            self._request_thumbnails()
        return src

    # ================================================================== selection
    def select_band(self, band: str) -> None:
        if self.info is None:
            return
        if band == "all":
            rows = list(range(self.info.num_ws))
        elif band == "none":
            rows = []
        else:
            rows = self.info.rows_in_band(band)
        self.grid.set_selection(rows)

    def _on_rows_field(self) -> None:
        if self.info is None:
            return
        try:
            rows = parse_rows(self.rows_field.text(), self.info.num_ws)
        except CastmakerError as exc:
            self.show_error(str(exc))
            return
        self.grid.set_selection(rows)

    def _on_selection(self, rows) -> None:
        self.selection_label.setText(f"selected: {doc.describe_rows(rows)}" if rows else "")
        self.preset_panel.selection_changed(rows)

    # ================================================================== frames and thumbnails
    def _on_frame(self, request_id: int, result) -> None:
        if request_id < self._shown_request:
            return
        self._shown_request = request_id
        self.last_result = result
        self.preview.set_mix(result.image)
        if request_id == self._latest_request:
            self._clear_error()
        self.render_label.setText(f"{result.ms:.1f} ms")
        if result.cache_hit:
            self.cache_label.setText(f"cache: resumed at step {result.start_step}")
        else:
            self.cache_label.setText("cache: full render")
        self.frameShown.emit(request_id)

    def _on_render_failed(self, request_id: int, message: str) -> None:
        if request_id == self._latest_request:
            self.show_error(f"Render failed: {message}")
            self.render_label.setText("render failed")

    def _wanted_thumbnails(self) -> list[Source]:
        if self.recipe is None:
            return []
        wanted = [self.recipe.base, *self.catalog.sources]
        return [s for s in wanted if s not in self.thumbs and s not in self.thumb_failures]

    def _request_thumbnails(self) -> None:
        wanted = self._wanted_thumbnails()
        if wanted:
            self.worker.request_thumbnails(wanted)
        if self.recipe is not None:
            self.preview.set_before(self.thumbs.get(self.recipe.base))

    def _on_thumbnails(self, pairs) -> None:
        for source, image in pairs:
            self.thumbs[source] = image
            self._pix_cache.pop(source, None)
        if len(self.thumbs) > 512:  # keep memory bounded: forget the oldest
            for key in list(self.thumbs)[: len(self.thumbs) - 512]:
                self.thumbs.pop(key)
                self._pix_cache.pop(key, None)
        self._thumb_refresh.start()

    def _on_thumbnails_failed(self, sources, message: str) -> None:
        for s in sources:
            self.thumb_failures[s] = message
        self.show_error(f"Thumbnails failed: {message}")

    def _refresh_thumbnails(self) -> None:
        if self.recipe is None:
            return
        self.grid.refresh_thumbnails(self.recipe)
        self.preview.set_before(self.thumbs.get(self.recipe.base))
        self.preset_panel.thumbnails_changed()

    def _thumb_pixmap(self, source: Source | None) -> QPixmap | None:
        if source is None:
            if self.recipe is None:
                return None
            source = self.recipe.base
        pix = self._pix_cache.get(source)
        if pix is None:
            img = self.thumbs.get(source)
            if img is None:
                return None
            pix = thumbnail_pixmap(img, 40)
            self._pix_cache[source] = pix
        return pix

    def frame_is_current(self) -> bool:
        """True when the preview shows the newest recipe (no render pending or in flight for it)."""
        return self.last_result is not None and self._shown_request == self._latest_request

    def thumbnails_complete(self) -> bool:
        """True when the base and every offered source has a thumbnail (or a recorded failure)."""
        return (
            self.recipe is not None and not self._wanted_thumbnails() and not self._thumb_refresh.isActive()
        )

    # ================================================================== errors
    def show_error(self, message: str) -> None:
        self.last_error = message
        self.error_banner.setText("⚠ " + message)  # the one place an error is shown (selectable, wraps)
        self.error_banner.show()
        log.info("%s", message)  # on the terminal with -v; a headless --screenshot run prints its own error line

    def _clear_error(self) -> None:
        self.last_error = None
        self.error_banner.hide()

    # ================================================================== files
    def export_png(self, path: str | None = None) -> Path | None:
        """Save the current mix at native resolution (atomic)."""
        image = self.preview.mix_image()
        if image is None:
            self.show_error("nothing to export yet: wait for the preview to render")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export preview", "castmaker.png", "PNG image (*.png)"
            )
            if not path:
                return None
        target = Path(path)
        if target.suffix.lower() != ".png":
            target = target.with_suffix(".png")
        from editor.ui.png_export import write_png

        try:
            write_png(target, image)
        except OSError as exc:
            self.show_error(f"could not write {target}: {exc}")
            return None
        self.statusBar().showMessage(f"Exported {target} ({image.shape[1]}×{image.shape[0]})", 8000)
        return target

    def choose_session_to_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save session", f"mix{SESSION_SUFFIX}", f"Castmaker sessions (*{SESSION_SUFFIX})"
        )
        if path:
            self.save_session(path)

    def save_session(self, path: str) -> Path | None:
        if self.recipe is None or self.info is None:
            self.show_error("nothing to save yet: load a network first")
            return None
        try:
            source = self.info.source
            if Path(source).is_file():  # a file path is stored absolute, so the session opens from anywhere
                source = str(Path(source).resolve())
            saved = save_session(path, self.recipe, source, self.info.fingerprint)
        except (OSError, CastmakerError) as exc:
            self.show_error(f"could not save the session: {exc}")
            return None
        self.undo_stack.setClean()  # what is saved is no longer "unsaved changes"
        self.statusBar().showMessage(f"Saved session {saved}", 8000)
        return saved

    def choose_session_to_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open session", "", f"Castmaker sessions (*{SESSION_SUFFIX});;All files (*)"
        )
        if path:
            self.open_session(path)

    def open_session(self, path: str) -> bool:
        """Open a session: same network -> an undoable recipe change; another network -> load it first."""
        try:
            data = load_session(path)
        except SessionError as exc:
            self.show_error(str(exc))
            return False
        if self.info is not None and data.fingerprint == self.info.fingerprint:
            if data.recipe.num_ws != self.info.num_ws:
                self.show_error(
                    f"{Path(path).name} has {data.recipe.num_ws} rows; this network has {self.info.num_ws}"
                )
                return False
            self.catalog.include_recipe(data.recipe)
            self.apply_edit(data.recipe, f"open session {Path(path).name}")
            self.undo_stack.setClean()
            return True
        if not self.may_replace_mix():
            return False
        self.queue_session(data)
        self.open_network(data.network_source, ask=False)
        return True

    def queue_session(self, data) -> None:
        """Apply `data` (a loaded SessionData) as soon as the next network finishes loading."""
        self._pending_session = data

    # ================================================================== drag and drop
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        rows = self._rows_under(event.position().toPoint())
        for path in urls:
            self.open_dropped(path, rows)
        event.acceptProposedAction()

    def _rows_under(self, pos) -> list[int]:
        """The grid row under a drop point (its whole selection if it is selected)."""
        widget = self.childAt(pos)
        for row in self.grid.rows:
            for part in (
                row.select,
                row.caption,
                row.thumb,
                row.source,
                row.mode,
                row.weight,
                row.weight_label,
            ):
                if widget is part or (widget is not None and part.isAncestorOf(widget)):
                    return self.grid._targets(row.index)
        return []

    def open_dropped(self, path: str, rows=()) -> None:
        """What a dropped file does: network -> open, image -> project, w -> source, session -> open."""
        suffix = Path(path).suffix.lower()
        if suffix in NETWORK_SUFFIXES:
            self.open_network(path)
        elif path.endswith(SESSION_SUFFIX):
            self.open_session(path)
        elif suffix in W_SUFFIXES:
            self.add_w_file_source(path, rows)
        elif suffix in IMAGE_SUFFIXES:
            self.projection_panel.start_projection(path, rows=list(rows))
        else:
            self.show_error(
                f"don't know what to do with {Path(path).name}: drop a network (.pkl/.safetensors), "
                "an image to project, a w file (.npy/.npz) or a session"
            )

    # ================================================================== life cycle
    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)  # the title's [*] mark

    def has_unsaved_changes(self) -> bool:
        """True when the recipe differs from the last saved or opened session (or the fresh start)."""
        return self.recipe is not None and not self.undo_stack.isClean()

    def ask_unsaved(self) -> str:
        """Ask what to do with unsaved changes: "save", "discard" or "cancel" (tests replace this)."""
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            "The mix has changes that are not saved in a session. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            answer, "cancel"
        )

    def may_replace_mix(self) -> bool:
        """True when the current mix may go (quit, another network): nothing unsaved, or the user saved or
        discarded it; False when they cancelled or closed the save dialog without saving."""
        if not (self.interactive and self.has_unsaved_changes()):  # a person at the window (not screenshots, tests)
            return True
        choice = self.ask_unsaved()
        if choice == "save":
            self.choose_session_to_save()
        return not (choice == "cancel" or (choice == "save" and self.has_unsaved_changes()))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self.may_replace_mix():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        super().closeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._docks_sized:  # dock sizes only take once the window has its real size
            self._docks_sized = True
            self.resizeDocks([self.docks[0]], [DOCK_START_WIDTH], Qt.Orientation.Horizontal)

    def restore_layout(self) -> None:
        geo = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geo is not None:
            self.restoreGeometry(geo)
        if state is not None:
            self.restoreState(state)
            self._docks_sized = True  # the user's own dock sizes win
