"""The judges behind `bench --directions`' quality table: decoding what a cast network draws from a w+."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from renderer.cast.description import Character, encode
from renderer.training.batches import compose
from renderer.training.configs import CAST_PORTRAIT
from renderer.training.direction_quality import _nearest_render, drawn_character, factor_changes


def test_drawn_character_reads_each_group_from_its_own_rows():
    a = Character(hair_style=1, expression=0, eye_shape=2, skin=0.1)
    b = Character(hair_style=4, expression=1, eye_shape=0, skin=0.9)
    groups = [g.name for g in CAST_PORTRAIT.groups]
    factors = [encode(b if name == "expression" else a).astype(np.float64) for name in groups]
    ws, want = compose(CAST_PORTRAIT, factors)
    got = drawn_character(CAST_PORTRAIT, ws)
    assert got == want
    assert got.expression == 1 and got.hair_style == 1 and got.eye_shape == 2


def test_factor_changes_counts_classes_and_measures_continuous_factors():
    before = [Character(), Character(hair_style=2)]
    after = [replace(before[0], hair_style=3), replace(before[1], skin=before[1].skin + 0.25)]
    ch = factor_changes(CAST_PORTRAIT, before, after)
    assert ch["hair_style"] == 0.5 and ch["expression"] == 0.0
    assert abs(ch["skin"] - 0.25) < 1e-6  # Δ encoding 2 · 0.25 = 0.5 on one of the two characters
    assert ch["hair"] == 0.0


def test_nearest_render_picks_the_closest_reference():
    refs = np.stack([np.full((3, 4, 4, 3), v, np.uint8) for v in (0, 100, 200)])
    renders = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (190, 10, 120)])
    assert _nearest_render(renders, refs).tolist() == [2, 0, 1]
