"""Projection panel: an image becomes a w source, optimised in the render worker with live progress.

Why a job in the worker: every optimisation step is a forward + backward pass, which must never run on
the UI thread. The job reports (progress, preview image) every few steps and polls should_stop for Cancel;
between steps the worker still serves preview frames, so the editor stays live.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from editor.document import NetworkInfo, describe_rows
from editor.ui.qt_images import thumbnail_pixmap
from editor.ui.render_worker import new_job_id
from editor.ui.sparkline import Sparkline
from renderer.latents import WSource

log = logging.getLogger(__name__)

PREVIEW = 112


def projection_job(target_path: str, config_kwargs: dict):
    """The function the worker runs: load the target, project, render previews of the estimate."""

    def run(ctx):
        from renderer.projector import ProjectionConfig, load_target, project

        engine = ctx.engine
        target = load_target(target_path, engine.network)
        ctx.report(("target", target))
        config = ProjectionConfig(**config_kwargs)

        def progress(p) -> None:
            image = engine.render_ws(p.w, use_cache=False).image if p.w is not None else None
            ctx.report(("progress", p, image))

        return project(engine, target, config, progress=progress, should_stop=ctx.should_stop)

    return run


class ProjectionPanel(QWidget):
    """Start / watch / cancel one projection; the result is offered as a source on any row."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.info: NetworkInfo | None = None
        self.job_id: str | None = None
        self.target_path: str | None = None
        self.target_rows: list[int] = []
        self.losses: list[float] = []
        self.result_source: WSource | None = None

        self.steps = QSpinBox()
        self.steps.setRange(10, 5000)
        self.steps.setValue(300)
        self.space = QComboBox()
        self.space.addItems(["w", "wplus"])
        self.space.setToolTip("w: one row for all layers (robust); wplus: every row free (closer fit)")
        try:
            from renderer.projector import DEFAULT_SPACE

            self.space.setCurrentText(DEFAULT_SPACE)  # one measured default for the CLI, the editor and the pipeline
        except ImportError:  # projector not installed: the panel still opens and says so on start
            pass
        self.loss = QComboBox()
        try:
            from renderer.projector import LOSS_CHOICES

            self.loss.addItems(list(LOSS_CHOICES))
        except ImportError:  # projector not installed: the panel still opens and says so on start
            self.loss.addItem("auto")
        self.stabilize = QCheckBox("Stabilise row 0")
        self.stabilize.setToolTip("StyleGAN3: keep row 0 (the input transform) at the average w")
        self.start_button = QPushButton("Project an image…")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = QLabel("Drop an image on the window (or on a row) to project it.")
        self.status.setWordWrap(True)
        self.status.setObjectName("dimLabel")
        self.target_view = QLabel("target")
        self.estimate_view = QLabel("estimate")
        for v in (self.target_view, self.estimate_view):
            v.setFixedSize(PREVIEW, PREVIEW)
        self.plot = Sparkline("loss")
        self.use_button = QPushButton("Use on selected rows")
        self.preset_button = QPushButton("Save as preset…")
        self.use_button.setEnabled(False)
        self.preset_button.setEnabled(False)

        form = QFormLayout()
        form.addRow("Steps", self.steps)
        form.addRow("Space", self.space)
        form.addRow("Loss", self.loss)
        form.addRow(self.stabilize)
        images = QHBoxLayout()
        images.addWidget(self.target_view)
        images.addWidget(self.estimate_view)
        images.addStretch(1)
        run_row = QHBoxLayout()
        run_row.addWidget(self.start_button, 1)
        run_row.addWidget(self.cancel_button)
        result_row = QHBoxLayout()
        result_row.addWidget(self.use_button)
        result_row.addWidget(self.preset_button)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(run_row)
        lay.addWidget(self.progress)
        lay.addLayout(images)
        lay.addWidget(self.plot)
        lay.addLayout(result_row)
        lay.addWidget(self.status)
        lay.addStretch(1)
        # the target / estimate boxes and the loss curve appear with the first projection, not as empty frames
        self.results_shown = False
        for w in (self.target_view, self.estimate_view, self.plot):
            w.hide()

        self.start_button.clicked.connect(self._choose_image)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self._use_on_selection)
        self.preset_button.clicked.connect(self._save_preset)
        w = window.worker
        w.jobProgress.connect(self._on_progress)
        w.jobFinished.connect(self._on_finished)
        w.jobFailed.connect(self._on_failed)

    def network_changed(self, info: NetworkInfo) -> None:
        self.info = info
        self.stabilize.setEnabled(info.kind.startswith("stylegan3"))
        self.stabilize.setChecked(info.kind.startswith("stylegan3"))

    @property
    def running(self) -> bool:
        return self.job_id is not None

    # ---------------------------------------------------------------- start / cancel
    def _choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Project an image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp)"
        )
        if path:
            self.start_projection(path, rows=self.window.grid.selected_rows())

    def start_projection(self, path: str, rows: list[int] | None = None) -> str | None:
        """Queue a projection of `path`; with `rows`, the result goes onto those rows when done."""
        if self.info is None:
            self.window.show_error("load a network before projecting an image")
            return None
        if self.running:
            self.window.show_error("a projection is already running: cancel it first")
            return None
        self.window.show_panel(self)
        if not self.results_shown:
            self.results_shown = True
            for w in (self.target_view, self.estimate_view, self.plot):
                w.show()
        self.job_id = new_job_id("projection")
        self.target_path = path
        self.target_rows = list(rows or [])
        self.losses = []
        self.result_source = None
        self.plot.set_values([])
        self.progress.setValue(0)
        self.progress.setMaximum(self.steps.value())
        self.use_button.setEnabled(False)
        self.preset_button.setEnabled(False)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(f"Projecting {Path(path).name}…")
        config = dict(
            steps=self.steps.value(),
            space=self.space.currentText(),
            stabilize=self.stabilize.isChecked() and self.stabilize.isEnabled(),
            loss=self.loss.currentText(),
            class_idx=self._class_idx(),
        )
        self.window.worker.submit_job(self.job_id, projection_job(path, config))
        return self.job_id

    def _class_idx(self) -> int | None:
        """Conditional networks: project with the base seed's class (class 0 when the base is a w)."""
        if self.info is None or self.info.c_dim == 0:
            return None
        base = self.window.recipe.base if self.window.recipe is not None else None
        return getattr(base, "class_idx", None) or 0

    def cancel(self) -> None:
        if self.job_id is not None:
            self.status.setText("Cancelling…")
            self.window.worker.cancel_job(self.job_id)

    def _done(self) -> None:
        self.job_id = None
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    # ---------------------------------------------------------------- worker signals
    def _on_progress(self, job_id: str, payload) -> None:
        if job_id != self.job_id:
            return
        if payload[0] == "target":
            self.target_view.setPixmap(thumbnail_pixmap(payload[1], PREVIEW))
            return
        _, p, image = payload
        self.progress.setValue(p.step)
        self.losses.append(float(p.loss))
        self.plot.set_values(self.losses)
        self.status.setText(
            f"step {p.step}/{p.steps} · loss {p.loss:.4g} · PSNR {p.psnr:.1f} dB · {p.elapsed_s:.0f} s"
        )
        if image is not None:
            self.estimate_view.setPixmap(thumbnail_pixmap(image, PREVIEW))

    def _on_finished(self, job_id: str, result) -> None:
        if job_id != self.job_id:
            return
        self._done()
        name = Path(self.target_path or "image").name
        self.result_source = WSource(result.w, label=name, kind="projected")
        self.progress.setValue(self.progress.maximum())
        if result.image is not None:
            self.estimate_view.setPixmap(thumbnail_pixmap(result.image, PREVIEW))
        self.status.setText(
            f"Done: {name} · {result.loss_name} loss · best PSNR {result.best_psnr:.1f} dB at step {result.best_step}"
            + (" (stopped early)" if result.stopped_early else "")
        )
        self.use_button.setEnabled(True)
        self.preset_button.setEnabled(True)
        self.window.add_source(self.result_source, self.target_rows)

    def _on_failed(self, job_id: str, message: str) -> None:
        if job_id != self.job_id:
            return
        self._done()
        if message == "cancelled":
            self.status.setText("Projection cancelled.")
        else:
            self.status.setText(f"Projection failed: {message}")
            self.window.show_error(f"Projection failed: {message}")

    # ---------------------------------------------------------------- using the result
    def _use_on_selection(self) -> None:
        rows = self.window.grid.selected_rows()
        if self.result_source is None:
            return
        if not rows:
            self.window.show_error("select the rows that should take the projection first")
            return
        self.window.add_source(self.result_source, rows)

    def _save_preset(self) -> None:
        if self.result_source is None or self.info is None:
            return
        rows = self.window.grid.selected_rows() or list(range(self.info.num_ws))
        name, ok = QInputDialog.getText(
            self,
            "Save projection as preset",
            f"Name ({describe_rows(rows)}):",
            text=Path(self.result_source.label).stem,
        )
        if ok and name.strip():
            self.save_as_preset(name.strip(), rows)

    def save_as_preset(self, name: str, rows: list[int]):
        from editor.presets import Preset, PresetError

        panel = self.window.preset_panel
        if self.result_source is None or self.info is None or panel.user is None:
            return None
        image = self.window.thumbs.get(self.result_source)
        try:
            preset = Preset(
                name=name,
                fingerprint=self.info.fingerprint,
                network_name=self.info.name,
                rows=rows,
                w=self.result_source.w,
                description=f"projected from {self.result_source.label}",
            )
            saved = panel.user.save(preset, thumbnail=image)
        except (PresetError, OSError) as exc:
            self.window.show_error(f"could not save preset: {exc}")
            return None
        panel.reload()
        return saved
