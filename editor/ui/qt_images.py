"""numpy uint8 images <-> Qt images (the only place the two meet)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

_FORMATS = {
    1: QImage.Format.Format_Grayscale8,
    3: QImage.Format.Format_RGB888,
    4: QImage.Format.Format_RGBA8888,
}


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 H x W (x 1/3/4) -> a QImage that owns a copy of the pixels."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in _FORMATS:
        raise ValueError(f"expected H x W x 1/3/4, got {list(arr.shape)}")
    h, w, c = arr.shape
    # Allocate Qt-owned pixels and copy into them row by row (Qt pads rows to 4 bytes). Wrapping the
    # numpy buffer directly would tie the QImage's lifetime to a Python object.
    qimg = QImage(w, h, _FORMATS[c])
    rows = np.frombuffer(qimg.bits(), dtype=np.uint8, count=qimg.sizeInBytes()).reshape(
        h, qimg.bytesPerLine()
    )
    rows[:, : w * c] = arr.reshape(h, w * c)
    return qimg


def from_qimage(qimg: QImage) -> np.ndarray:
    """QImage -> uint8 H x W x 4 (RGBA) copy (tests compare what is on screen with renderer output)."""
    img = qimg.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = img.height(), img.width()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    return arr[:, : w * 4].reshape(h, w, 4).copy()


def checkerboard(painter: QPainter, rect, cell: int = 8) -> None:
    """Grey checkerboard behind transparent pixels."""
    light, dark = QColor(204, 204, 204), QColor(153, 153, 153)
    painter.save()
    painter.setClipRect(rect)
    painter.fillRect(rect, light)
    y = rect.top()
    row = 0
    while y <= rect.bottom():
        x = rect.left() + (cell if row % 2 else 0)
        while x <= rect.right():
            painter.fillRect(x, y, cell, cell, dark)
            x += 2 * cell
        y += cell
        row += 1
    painter.restore()


def thumbnail_pixmap(image: np.ndarray, size: int) -> QPixmap:
    """Square pixmap of `image` scaled to `size` (nearest for small sources so pixel art stays crisp)."""
    qimg = to_qimage(image)
    mode = (
        Qt.TransformationMode.FastTransformation
        if max(qimg.width(), qimg.height()) <= size * 2
        else Qt.TransformationMode.SmoothTransformation
    )
    scaled = qimg.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    x, y = (size - scaled.width()) // 2, (size - scaled.height()) // 2
    if qimg.hasAlphaChannel():
        from PySide6.QtCore import QRect

        checkerboard(p, QRect(x, y, scaled.width(), scaled.height()), cell=4)
    p.drawImage(x, y, scaled)
    p.end()
    return pix
