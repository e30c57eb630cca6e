"""The cast portrait: shape, determinism, and that every factor changes its own parts and nothing else."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from renderer.cast.description import CLASSES, Character, random_character
from renderer.cast.portrait import (
    HEAD_CY,
    HEAD_R,
    LABEL,
    NOSE_Y,
    PARTS,
    PORTRAIT_SIZE,
    SUPERSAMPLE,
    draw_portrait,
    face_box,
    portrait_labels,
    portrait_palette,
)

BASE = Character(hair=(0.45, 0.06, 0.02), skin=0.15, eyes=(-0.05, -0.12), outfit=(0.5, -0.06, -0.1))
# The same shapes with every colour factor changed (chosen so that no two parts share a colour).
RECOLOURED = dict(
    hair=(0.8, -0.1, 0.05), skin=0.85, eyes=(0.12, 0.05), outfit=(0.4, 0.1, -0.05), background=(-0.1, 0.1)
)
COLOUR_PARTS = {  # colour factor -> the parts it paints
    "hair": ("hair", "hair_shadow", "hair_line", "brow"),
    "skin": ("skin", "skin_shadow", "skin_line"),
    "eyes": ("iris", "iris_shadow", "pupil"),
    "outfit": ("outfit", "outfit_shadow", "outfit_line"),
    "background": ("background",),
}
MIN_CHANGED = 12  # output pixels that must differ clearly for a change to count as visible


def _changed(a: np.ndarray, b: np.ndarray, tol: int = 24) -> np.ndarray:
    """[H, W] bool: pixels that differ by more than `tol` in some channel."""
    return (np.abs(a.astype(np.int16) - b.astype(np.int16)) > tol).any(axis=2)


def _blocks_with(labels: np.ndarray, parts: tuple[str, ...]) -> np.ndarray:
    """[H, W] bool at output size: pixels whose supersampled block shows any of `parts`."""
    hit = np.isin(labels, [LABEL[p] for p in parts])
    s = labels.shape[0] // SUPERSAMPLE
    return hit.reshape(s, SUPERSAMPLE, s, SUPERSAMPLE).any(axis=(1, 3))


@pytest.mark.parametrize("size", [64, 128])
def test_shape_and_dtype(size: int) -> None:
    img = draw_portrait(random_character(np.random.RandomState(3)), size)
    assert img.shape == (size, size, 3)
    assert img.dtype == np.uint8
    assert PORTRAIT_SIZE == 128
    assert draw_portrait(BASE).shape == (PORTRAIT_SIZE, PORTRAIT_SIZE, 3)


def test_larger_size_draws_the_same_picture() -> None:
    """Geometry is relative to the size: 256 px box-filtered to 128 is close to the 128 px drawing."""
    c = random_character(np.random.RandomState(5))
    big = draw_portrait(c, 256).astype(np.float64).reshape(128, 2, 128, 2, 3).mean(axis=(1, 3))
    assert np.abs(big - draw_portrait(c, 128)).mean() < 4.0


def test_deterministic() -> None:
    for seed in (0, 1):
        c = random_character(np.random.RandomState(seed))
        assert np.array_equal(draw_portrait(c), draw_portrait(c))


def test_picture_is_the_palette_of_the_label_map() -> None:
    """draw_portrait = box filter of palette[labels]: geometry and colour meet only there."""
    c = random_character(np.random.RandomState(11))
    labels, palette = portrait_labels(c), portrait_palette(c)
    assert labels.shape == (PORTRAIT_SIZE * SUPERSAMPLE,) * 2 and labels.max() < len(PARTS)
    rgb = palette[labels].astype(np.float64)
    boxed = rgb.reshape(PORTRAIT_SIZE, SUPERSAMPLE, PORTRAIT_SIZE, SUPERSAMPLE, 3).mean(axis=(1, 3))
    assert np.abs(boxed - draw_portrait(c)).max() <= 1.0


@pytest.mark.parametrize("factor", ["head_turn", "hair_style", "expression", "eye_shape"])
def test_every_class_gives_a_different_picture(factor: str) -> None:
    for turn in range(3):
        base = replace(BASE, head_turn=turn)
        pics = [draw_portrait(replace(base, **{factor: k})) for k in range(len(CLASSES[factor]))]
        for i, j in itertools.combinations(range(len(pics)), 2):
            assert _changed(pics[i], pics[j]).sum() >= MIN_CHANGED, (factor, turn, i, j)


def test_expression_and_eye_shape_combine() -> None:
    """All 15 expression x eye-shape pairs are different pictures, in every view."""
    for turn in range(3):
        pics = [
            draw_portrait(replace(BASE, head_turn=turn, expression=e, eye_shape=s))
            for e, s in itertools.product(range(5), range(3))
        ]
        for i, j in itertools.combinations(range(len(pics)), 2):
            assert _changed(pics[i], pics[j]).sum() >= MIN_CHANGED, (turn, i, j)


def test_continuous_shape_factors_change_the_picture() -> None:
    for factor in ("head_shape", "body_build"):
        a, b = (draw_portrait(replace(BASE, **{factor: v})) for v in (0.0, 1.0))
        assert _changed(a, b).sum() >= 4 * MIN_CHANGED, factor


def test_body_build_leaves_the_head_alone() -> None:
    """Neck and shoulder width change nothing above the nose."""
    nose_row = (HEAD_CY + NOSE_Y * HEAD_R) * PORTRAIT_SIZE
    for turn, style in ((0, 0), (1, 1), (2, 4)):
        a, b = (
            draw_portrait(replace(BASE, head_turn=turn, hair_style=style, body_build=v)) for v in (0.0, 1.0)
        )
        rows = np.flatnonzero(_changed(a, b, tol=0).any(axis=1))
        assert rows.size and rows.min() > nose_row, (turn, style, rows.min(initial=-1))


def test_outfit_style_is_ignored() -> None:
    pics = [draw_portrait(replace(BASE, outfit_style=k)) for k in range(len(CLASSES["outfit_style"]))]
    assert all(np.array_equal(pics[0], p) for p in pics[1:])


@pytest.mark.parametrize("turn", range(3))
def test_colour_factors_move_no_outline(turn: int) -> None:
    """Recolouring leaves the label map (and so every outline and edge) untouched; the picture's
    background-or-not structure (a luminance-independent edge map) is the same too."""
    a = replace(BASE, head_turn=turn, hair_style=turn + 2)
    b = replace(a, **RECOLOURED)
    assert np.array_equal(portrait_labels(a), portrait_labels(b))
    img_a, img_b = draw_portrait(a), draw_portrait(b)
    bg_a = (img_a == np.array(a.portrait_background_rgb(), dtype=np.uint8)).all(axis=2)
    bg_b = (img_b == np.array(b.portrait_background_rgb(), dtype=np.uint8)).all(axis=2)
    assert 0.1 < bg_a.mean() < 0.7
    assert np.array_equal(bg_a, bg_b)


@pytest.mark.parametrize("factor", sorted(COLOUR_PARTS))
def test_each_colour_factor_paints_only_its_parts(factor: str) -> None:
    a = replace(BASE, hair_style=2, head_turn=1)
    b = replace(a, **{factor: RECOLOURED[factor]})
    diff = _changed(draw_portrait(a), draw_portrait(b), tol=0)
    allowed = _blocks_with(portrait_labels(a), COLOUR_PARTS[factor])
    assert diff.sum() >= MIN_CHANGED
    assert not (diff & ~allowed).any(), f"{factor} changed {(diff & ~allowed).sum()} pixels outside its parts"


def test_shape_factors_change_no_colour() -> None:
    palette = portrait_palette(BASE)
    shapes = dict(
        head_turn=2, hair_style=3, head_shape=0.9, body_build=0.1, expression=3, eye_shape=2, outfit_style=1
    )
    for name, value in shapes.items():
        assert np.array_equal(portrait_palette(replace(BASE, **{name: value})), palette), name


@pytest.mark.parametrize("turn", range(3))
def test_expression_and_eye_shape_stay_in_the_face_box(turn: int) -> None:
    for style in (0, 1, 5):
        base = replace(BASE, head_turn=turn, hair_style=style)
        x0, y0, x1, y1 = face_box(base)
        assert (x1 - x0) * (y1 - y0) < 0.3 * PORTRAIT_SIZE**2  # the box is the face, not the picture
        outside = np.ones((PORTRAIT_SIZE, PORTRAIT_SIZE), dtype=bool)
        outside[y0:y1, x0:x1] = False
        ref = draw_portrait(base)
        for change in [{"expression": e} for e in range(1, 5)] + [{"eye_shape": s} for s in (1, 2)]:
            diff = _changed(ref, draw_portrait(replace(base, **change)), tol=0)
            assert diff.sum() >= MIN_CHANGED, (turn, style, change)
            assert not (diff & outside).any(), (turn, style, change)
