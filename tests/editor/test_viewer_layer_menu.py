"""The viewer's layer menu: short entries that fit the menu, the full details (row, size, channels) beside it."""

from __future__ import annotations

from editor.viewer.inspector import layer_menu_labels
from renderer.nets.contract import SynthesisStep


def test_layer_menu_entries_are_short_and_the_details_are_kept_in_full():
    steps = [
        SynthesisStep("input", 0, 36, 1024),
        SynthesisStep("L7_84_1024", 7, 84, 1024),
        SynthesisStep("b128.torgb", 11, 128, 3),
    ]
    short, full = layer_menu_labels(steps)
    assert short == ["0: input", "1: L7_84_1024", "2: b128.torgb"]
    assert max(len(s) for s in short) <= 16  # the old entries ran to ~40 characters and were cut off
    assert full[1] == "1: L7_84_1024 — row 7, 84 px, 1024 channels"
    assert all(f.startswith(s) for s, f in zip(short, full, strict=True))
