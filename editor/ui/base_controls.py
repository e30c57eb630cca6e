"""Base controls: seed spin box, random button, truncation psi slider and cutoff."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from editor.document import PSI_DEFAULT, PSI_MAX, PSI_MIN
from renderer.latents import SeedSource, Source

SPIN_SEED_MAX = 2**31 - 1  # QSpinBox holds a signed 32-bit int; higher seeds come in through sessions


class BaseControls(QGroupBox):
    """Emits intents; `sync` shows a recipe's base without emitting anything."""

    seedChanged = Signal(int)
    psiChanged = Signal(float, int)  # psi, gesture id (one drag = one undo step)
    cutoffChanged = Signal(object)  # int | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Base", parent)
        self._gesture = 0
        self.seed = QSpinBox()
        self.seed.setRange(0, SPIN_SEED_MAX)
        self.seed.setToolTip("Base seed (← / → step it)")
        self.seed.setKeyboardTracking(False)
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("Pick a random base seed (R)")
        self.psi = QSlider(Qt.Orientation.Horizontal)
        self.psi.setRange(int(PSI_MIN * 100), int(PSI_MAX * 100))
        self.psi.setValue(int(PSI_DEFAULT * 100))
        self.psi.setToolTip("Truncation ψ: 0 = average face, 1 = untruncated")
        self.psi_label = QLabel(f"{PSI_DEFAULT:.2f}")
        self.psi_label.setMinimumWidth(36)
        self.cutoff = QSpinBox()
        self.cutoff.setRange(0, 18)
        self.cutoff.setSpecialValueText("none")
        self.cutoff.setToolTip("Truncation cutoff: truncate only rows below this (none = all rows)")

        lay = QGridLayout(self)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed)
        seed_row.addWidget(self.random_button)
        seed_row.addStretch(1)
        lay.addWidget(QLabel("Seed"), 0, 0)
        lay.addLayout(seed_row, 0, 1, 1, 2)
        lay.addWidget(QLabel("ψ"), 1, 0)
        lay.addWidget(self.psi, 1, 1)
        lay.addWidget(self.psi_label, 1, 2)
        lay.addWidget(QLabel("Cutoff"), 2, 0)
        lay.addWidget(self.cutoff, 2, 1)
        lay.setColumnStretch(1, 1)
        self.seed.setMaximumWidth(160)
        self.cutoff.setMaximumWidth(160)

        self.seed.valueChanged.connect(self.seedChanged)
        self.random_button.clicked.connect(self.randomize)
        self.psi.sliderPressed.connect(self._new_gesture)
        self.psi.valueChanged.connect(self._psi_moved)
        self.cutoff.valueChanged.connect(lambda v: self.cutoffChanged.emit(None if v == 0 else int(v)))

    def set_num_ws(self, num_ws: int) -> None:
        self.cutoff.blockSignals(True)
        self.cutoff.setRange(0, num_ws)
        self.cutoff.blockSignals(False)

    def randomize(self) -> None:
        self.seed.setValue(random.randint(0, 99999))

    def step_seed(self, delta: int) -> None:
        self.seed.setValue(max(0, min(SPIN_SEED_MAX, self.seed.value() + delta)))

    def _new_gesture(self) -> None:
        self._gesture += 1

    def _psi_moved(self, value: int) -> None:
        self.psi_label.setText(f"{value / 100:.2f}")
        if not self.psi.isSliderDown():
            self._gesture += 1
        self.psiChanged.emit(value / 100.0, self._gesture)

    def sync(self, base: Source) -> None:
        seeded = isinstance(base, SeedSource)
        for w in (self.seed, self.psi, self.cutoff):
            w.blockSignals(True)
        if seeded:
            self.seed.setValue(min(base.seed, SPIN_SEED_MAX))
            self.psi.setValue(int(round(base.psi * 100)))
            self.psi_label.setText(f"{base.psi:.2f}")
            self.cutoff.setValue(0 if base.cutoff is None else base.cutoff)
        for w in (self.seed, self.psi, self.cutoff):
            w.blockSignals(False)
        self.psi.setEnabled(seeded)
        self.cutoff.setEnabled(seeded)
        self.setTitle("Base" if seeded else "Base (an explicit w: pick a seed to return to seeds)")
