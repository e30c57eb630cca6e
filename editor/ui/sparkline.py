"""A tiny QPainter line plot for a loss curve (no plotting library needed for one line)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget


class Sparkline(QWidget):
    """Draws `values` scaled to the widget, newest on the right, with the last value as text."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.values: list[float] = []
        self.setMinimumHeight(56)

    def set_values(self, values: list[float]) -> None:
        self.values = [v for v in values if math.isfinite(v)]
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 32, 38))
        p.setPen(QColor(150, 150, 150))
        label = self.title if not self.values else f"{self.title}  {self.values[-1]:.4g}"
        p.drawText(
            self.rect().adjusted(6, 2, -6, -2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, label
        )
        if len(self.values) >= 2:
            lo, hi = min(self.values), max(self.values)
            span = hi - lo or 1.0
            w, h = self.width() - 12, self.height() - 22
            n = len(self.values) - 1
            pts = [QPointF(6 + w * i / n, 18 + h * (1 - (v - lo) / span)) for i, v in enumerate(self.values)]
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(QColor(110, 190, 255), 1.5))
            p.drawPolyline(pts)
        p.end()
