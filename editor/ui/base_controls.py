"""Base controls: seed spin box, random button, class (conditional networks), truncation psi slider and cutoff."""

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

PSI_HELP = (
    "Truncation ψ: how far the base may stray from the network's average w.\n"
    "0 = the average character (safe, bland) · 0.5–0.8 = typical, clean · 1 = as sampled (most varied, more flaws)"
)
CUTOFF_HELP = (
    "Truncation cutoff: apply ψ only to rows below this one (the coarse rows: pose and shape stay typical\n"
    "while later rows keep their variety). none = apply ψ to every row"
)
SPIN_SEED_MAX = 2**31 - 1  # QSpinBox holds a signed 32-bit int; higher seeds come in through sessions


def _tip_label(text: str, tip: str) -> QLabel:
    label = QLabel(text)
    label.setToolTip(tip)
    return label


class BaseControls(QGroupBox):
    """Emits intents; `sync` shows a recipe's base without emitting anything."""

    seedChanged = Signal(int)
    psiChanged = Signal(float, int)  # psi, gesture id (one drag = one undo step)
    cutoffChanged = Signal(object)  # int | None
    classChanged = Signal(int)  # class label of the base seed (conditional networks only)

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
        self.psi.setToolTip(PSI_HELP)
        self.psi_label = QLabel(f"{PSI_DEFAULT:.2f}")
        self.psi_label.setMinimumWidth(36)
        self.cutoff = QSpinBox()
        self.cutoff.setRange(0, 18)
        self.cutoff.setSpecialValueText("none")
        self.cutoff.setToolTip(CUTOFF_HELP)
        self.class_label = QLabel("Class")
        self.class_spin = QSpinBox()
        self.class_spin.setRange(0, 0)
        self.class_spin.setKeyboardTracking(False)
        self.class_spin.setToolTip(
            "Class of the base seed on a class-conditional network. Seeds added as row sources take the "
            "class shown here when added, and keep it."
        )
        self.class_spin.setMaximumWidth(160)

        lay = QGridLayout(self)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed)
        seed_row.addWidget(self.random_button)
        seed_row.addStretch(1)
        lay.addWidget(QLabel("Seed"), 0, 0)
        lay.addLayout(seed_row, 0, 1, 1, 2)
        lay.addWidget(_tip_label("ψ", PSI_HELP), 1, 0)
        lay.addWidget(self.psi, 1, 1)
        lay.addWidget(self.psi_label, 1, 2)
        lay.addWidget(_tip_label("Cutoff", CUTOFF_HELP), 2, 0)
        lay.addWidget(self.cutoff, 2, 1)
        lay.addWidget(self.class_label, 3, 0)
        lay.addWidget(self.class_spin, 3, 1)
        self.set_classes(0)
        lay.setColumnStretch(1, 1)
        self.seed.setMaximumWidth(160)
        self.cutoff.setMaximumWidth(160)

        self.seed.valueChanged.connect(self.seedChanged)
        self.random_button.clicked.connect(self.randomize)
        self.psi.sliderPressed.connect(self._new_gesture)
        self.psi.valueChanged.connect(self._psi_moved)
        self.cutoff.valueChanged.connect(lambda v: self.cutoffChanged.emit(None if v == 0 else int(v)))
        self.class_spin.valueChanged.connect(lambda v: self.classChanged.emit(int(v)))

    def set_num_ws(self, num_ws: int) -> None:
        self.cutoff.blockSignals(True)
        self.cutoff.setRange(0, num_ws)
        self.cutoff.blockSignals(False)

    def set_classes(self, c_dim: int) -> None:
        """Show the class picker (0..c_dim-1) on a conditional network; hide it when c_dim is 0."""
        self.class_spin.blockSignals(True)
        self.class_spin.setRange(0, max(0, c_dim - 1))
        self.class_spin.blockSignals(False)
        self.class_label.setText(f"Class (of {c_dim})" if c_dim > 0 else "Class")
        self.class_label.setVisible(c_dim > 0)
        self.class_spin.setVisible(c_dim > 0)

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
        for w in (self.seed, self.psi, self.cutoff, self.class_spin):
            w.blockSignals(True)
        if seeded:
            self.seed.setValue(min(base.seed, SPIN_SEED_MAX))
            self.psi.setValue(int(round(base.psi * 100)))
            self.psi_label.setText(f"{base.psi:.2f}")
            self.cutoff.setValue(0 if base.cutoff is None else base.cutoff)
            self.class_spin.setValue(0 if base.class_idx is None else base.class_idx)
        for w in (self.seed, self.psi, self.cutoff, self.class_spin):
            w.blockSignals(False)
        self.psi.setEnabled(seeded)
        self.cutoff.setEnabled(seeded)
        self.class_spin.setEnabled(seeded)
        self.setTitle("Base" if seeded else "Base (an explicit w: pick a seed to return to seeds)")
