"""The large preview: aspect-correct, nearest-neighbour zoom, checkerboard behind alpha, before/after."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from editor.ui.qt_images import checkerboard, to_qimage

ZOOMS = [("Fit", 0.0), ("50%", 0.5), ("100%", 1.0), ("200%", 2.0), ("400%", 4.0), ("800%", 8.0)]


class PreviewCanvas(QWidget):
    """Paints one image; `zoom` 0 means fit the widget (integer scale when it is enlarged)."""

    zoomStep = Signal(int)  # +1 / -1 from Ctrl + mouse wheel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._caption = ""
        self.zoom = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(128, 128)

    def set_image(self, image: QImage | None, caption: str = "") -> None:
        self._image = image
        self._caption = caption
        self._update_size()
        self.update()

    def set_zoom(self, zoom: float) -> None:
        self.zoom = zoom
        self._update_size()
        self.update()

    def _update_size(self) -> None:
        if self.zoom > 0 and self._image is not None:
            self.setFixedSize(
                QSize(int(self._image.width() * self.zoom), int(self._image.height() * self.zoom))
            )
        else:
            self.setMinimumSize(128, 128)
            self.setMaximumSize(16777215, 16777215)

    def image_rect(self) -> QRect:
        """Where the image is drawn, in widget coordinates."""
        if self._image is None:
            return QRect()
        iw, ih = self._image.width(), self._image.height()
        if self.zoom > 0:
            scale = self.zoom
        else:
            scale = min(self.width() / iw, self.height() / ih)
            if scale >= 1:
                scale = float(int(scale))  # whole-pixel enlargement keeps pixel art even
        w, h = max(1, int(iw * scale)), max(1, int(ih * scale))
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoomStep.emit(1 if event.angleDelta().y() > 0 else -1)
            event.accept()
        else:
            super().wheelEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(38, 40, 46))
        if self._image is None:
            p.setPen(QColor(170, 170, 170))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._caption or "No image yet")
            p.end()
            return
        rect = self.image_rect()
        if self._image.hasAlphaChannel():
            checkerboard(p, rect)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(rect, self._image)
        if self._caption:
            p.setPen(QColor(255, 255, 255))
            box = QRect(8, 8, self.width() - 16, 22)
            p.fillRect(
                QRect(4, 4, p.fontMetrics().horizontalAdvance(self._caption) + 12, 26), QColor(0, 0, 0, 160)
            )
            p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._caption)
        p.end()


class PreviewPanel(QWidget):
    """Preview canvas in a scroll area with zoom, before/after toggle and PNG export."""

    beforeToggled = Signal(bool)
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mix: np.ndarray | None = None
        self._before: np.ndarray | None = None
        self._placeholder = "Loading network…"
        self.canvas = PreviewCanvas()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setObjectName("previewScroll")

        self.zoom_box = QComboBox()
        for label, _ in ZOOMS:
            self.zoom_box.addItem(label)
        self.zoom_box.setToolTip("Preview zoom (nearest neighbour: pixels stay crisp); Ctrl + wheel steps it")
        self.canvas.zoomStep.connect(self._zoom_step)
        self.zoom_box.currentIndexChanged.connect(self._zoom_changed)
        self.before_button = QPushButton("Before / after")
        self.before_button.setCheckable(True)
        self.before_button.setToolTip("Show the base alone (Space)")
        self.before_button.toggled.connect(self._before_toggled)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip("Save the preview at native resolution")
        self.export_button.clicked.connect(self.exportRequested)
        self.size_label = QLabel("")
        self.size_label.setObjectName("dimLabel")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Zoom"))
        bar.addWidget(self.zoom_box)
        bar.addWidget(self.before_button)
        bar.addStretch(1)
        bar.addWidget(self.size_label)
        bar.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.scroll, 1)
        self._refresh()

    # ---------------------------------------------------------------- state
    @property
    def showing_before(self) -> bool:
        return self.before_button.isChecked()

    def set_mix(self, image: np.ndarray | None) -> None:
        self._mix = image
        self._refresh()

    def set_before(self, image: np.ndarray | None) -> None:
        self._before = image
        if self.showing_before:
            self._refresh()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self._refresh()

    def toggle_before(self) -> None:
        self.before_button.toggle()

    def shown_image(self) -> np.ndarray | None:
        """The pixels the canvas shows now (the mix, or the base alone in 'before' mode)."""
        return self._before if self.showing_before else self._mix

    def mix_image(self) -> np.ndarray | None:
        return self._mix

    def _before_toggled(self, on: bool) -> None:
        self._refresh()
        self.beforeToggled.emit(on)

    def _zoom_step(self, step: int) -> None:
        self.zoom_box.setCurrentIndex(max(0, min(len(ZOOMS) - 1, self.zoom_box.currentIndex() + step)))

    def _zoom_changed(self, index: int) -> None:
        zoom = ZOOMS[index][1]
        self.scroll.setWidgetResizable(zoom == 0)
        self.canvas.set_zoom(zoom)

    def _refresh(self) -> None:
        img = self.shown_image()
        if img is None:
            caption = (
                "Before: rendering the base…"
                if self.showing_before and self._mix is not None
                else self._placeholder
            )
            self.canvas.set_image(None, caption)
            self.size_label.setText("")
        else:
            self.canvas.set_image(to_qimage(img), "Before: base alone" if self.showing_before else "")
            self.size_label.setText(f"{img.shape[1]}×{img.shape[0]}")
        self.export_button.setEnabled(self._mix is not None)
