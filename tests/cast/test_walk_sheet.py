"""The procedural walk sheet: layout, walk cycle, views, and the separation of shape and colour factors."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.cast.description import HAIR_STYLES, OUTFIT_STYLES, Character, random_character, with_factor
from renderer.cast.walk_sheet import (
    BACKGROUND,
    DIRECTIONS,
    EYE,
    FRAME_SIZE,
    HAIR_LABELS,
    SHEET_CANVAS,
    SHEET_ORIGIN,
    draw_frame,
    draw_walk_sheet,
    frame_labels,
    sheet_labels,
)

SEEDS = range(6)


def characters() -> list[Character]:
    return [random_character(np.random.RandomState(seed)) for seed in SEEDS]


def every_frame(c: Character) -> np.ndarray:
    """[4, 3, 24, 24] label maps of all frames."""
    return np.stack([np.stack([frame_labels(c, d, p) for p in range(3)]) for d in DIRECTIONS])


def test_shape_dtype_and_determinism() -> None:
    c = random_character(np.random.RandomState(11))
    sheet = draw_walk_sheet(c)
    assert sheet.shape == (SHEET_CANVAS, SHEET_CANVAS, 3) and sheet.dtype == np.uint8
    frame = draw_frame(c, "left", 2)
    assert frame.shape == (FRAME_SIZE, FRAME_SIZE, 3) and frame.dtype == np.uint8
    again = random_character(np.random.RandomState(11))
    np.testing.assert_array_equal(draw_walk_sheet(again), sheet)


def test_frames_sit_in_their_cells() -> None:
    c = random_character(np.random.RandomState(3))
    sheet = draw_walk_sheet(c)
    ox, oy = SHEET_ORIGIN
    for row, direction in enumerate(DIRECTIONS):
        for pattern in range(3):
            y, x = oy + row * FRAME_SIZE, ox + pattern * FRAME_SIZE
            np.testing.assert_array_equal(
                sheet[y : y + FRAME_SIZE, x : x + FRAME_SIZE], draw_frame(c, direction, pattern)
            )


@pytest.mark.parametrize("seed", SEEDS)
def test_background_outside_the_sheet_is_uniform(seed: int) -> None:
    c = random_character(np.random.RandomState(seed))
    sheet = draw_walk_sheet(c)
    ox, oy = SHEET_ORIGIN
    outside = np.ones((SHEET_CANVAS, SHEET_CANVAS), dtype=bool)
    outside[oy : oy + 4 * FRAME_SIZE, ox : ox + 3 * FRAME_SIZE] = False
    assert (sheet[outside] == np.array(c.sprite_background_rgb(), dtype=np.uint8)).all()
    # and every frame keeps a background margin left and right, so neighbouring cells never touch
    for d in DIRECTIONS:
        for p in range(3):
            lab = frame_labels(c, d, p)
            assert (lab[:, 0] == BACKGROUND).all() and (lab[:, -1] == BACKGROUND).all()


def test_pixel_art_uses_only_the_palette() -> None:
    """No anti-aliasing: a sheet has few flat colours (fills, shades, outlines), at most 2 x 9 + background."""
    for c in characters():
        colours = np.unique(draw_walk_sheet(c).reshape(-1, 3), axis=0)
        assert len(colours) <= 18


@pytest.mark.parametrize("c", characters(), ids=[f"seed{s}" for s in SEEDS])
def test_walk_patterns_move(c: Character) -> None:
    frames = every_frame(c)
    for d, direction in enumerate(DIRECTIONS):
        p0, p1, p2 = frames[d]
        assert not np.array_equal(p0, p1), direction
        assert not np.array_equal(p2, p1), direction
        assert not np.array_equal(p0, p2), direction
        # the legs (bottom rows) move, not only the arms
        assert not np.array_equal(p0[19:], p1[19:]), direction
        assert not np.array_equal(p2[19:], p1[19:]), direction


def test_left_and_right_are_mirror_profiles() -> None:
    for c in characters():
        for p in range(3):
            left, right = frame_labels(c, "left", p), frame_labels(c, "right", p)
            assert not np.array_equal(left, right)
            np.testing.assert_array_equal(left[:, ::-1], right)


def test_figure_fills_its_frame() -> None:
    for c in characters():
        lab = frame_labels(c, "down", 1)
        rows = np.flatnonzero((lab != BACKGROUND).any(axis=1))
        cols = np.flatnonzero((lab != BACKGROUND).any(axis=0))
        assert rows[-1] - rows[0] + 1 >= 20
        assert rows[-1] >= FRAME_SIZE - 2  # feet (with their outline) on the bottom rows
        assert abs((cols[0] + cols[-1]) / 2 - (FRAME_SIZE - 1) / 2) <= 1.0  # centred


def test_up_view_shows_no_face() -> None:
    for c in characters():
        for p in range(3):
            assert not (frame_labels(c, "up", p) == EYE).any()
        assert (frame_labels(c, "down", 1) == EYE).sum() == 2


@pytest.mark.parametrize("factor, classes", [("hair_style", HAIR_STYLES), ("outfit_style", OUTFIT_STYLES)])
@pytest.mark.parametrize("seed", [0, 4, 9])
def test_each_style_draws_a_different_sprite(factor: str, classes: tuple[str, ...], seed: int) -> None:
    """Every style has its own outline (silhouette) from every direction, not just other colours."""
    base = random_character(np.random.RandomState(seed))
    for direction in DIRECTIONS:
        for pattern in range(3):
            looks = [
                frame_labels(with_factor(base, **{factor: k}), direction, pattern)
                for k in range(len(classes))
            ]
            assert len({(lab != BACKGROUND).tobytes() for lab in looks}) == len(classes), (direction, pattern)


def test_build_and_head_shape_change_the_width() -> None:
    base = random_character(np.random.RandomState(2))

    def width(c: Character, rows: slice) -> int:
        cols = np.flatnonzero((frame_labels(c, "down", 1)[rows] != BACKGROUND).any(axis=0))
        return int(cols[-1] - cols[0] + 1)

    body = slice(14, 18)
    widths = [width(with_factor(base, body_build=b, hair_style=0), body) for b in (0.0, 0.34, 0.67, 1.0)]
    assert widths == sorted(widths) and widths[-1] - widths[0] >= 3
    face = slice(10, 12)
    assert width(with_factor(base, head_shape=1.0, hair_style=0), face) > width(
        with_factor(base, head_shape=0.0, hair_style=0), face
    )


def test_colour_factors_move_no_pixel() -> None:
    """Colours change the palette only: the label maps, and so every outline, stay where they are."""
    a = random_character(np.random.RandomState(5))
    b = random_character(np.random.RandomState(6))
    recoloured = with_factor(
        a, hair=b.hair, skin=b.skin, eyes=b.eyes, outfit=b.outfit, background=b.background
    )
    np.testing.assert_array_equal(every_frame(recoloured), every_frame(a))
    # in RGB too: the same pixels are background, and the same pixels are outline
    sheet_a, sheet_r = draw_walk_sheet(a), draw_walk_sheet(recoloured)
    bg_a = (sheet_a == np.array(a.sprite_background_rgb(), dtype=np.uint8)).all(axis=-1)
    bg_r = (sheet_r == np.array(recoloured.sprite_background_rgb(), dtype=np.uint8)).all(axis=-1)
    np.testing.assert_array_equal(bg_a, bg_r)
    assert not np.array_equal(sheet_a, sheet_r)


def test_shape_factors_change_no_colour() -> None:
    """Each part keeps its colour when the shape factors change: only where the parts are moves."""
    a = random_character(np.random.RandomState(7))
    reshaped = with_factor(
        a,
        hair_style=(a.hair_style + 1) % 6,
        outfit_style=(a.outfit_style + 2) % 4,
        body_build=0.1,
        head_shape=0.9,
    )
    labels_a, labels_r = sheet_labels(a), sheet_labels(reshaped)
    sheet_a, sheet_r = draw_walk_sheet(a), draw_walk_sheet(reshaped)
    assert not np.array_equal(labels_a, labels_r)
    same = labels_a == labels_r
    np.testing.assert_array_equal(sheet_a[same], sheet_r[same])
    colour_of = {int(k): tuple(sheet_a[labels_a == k][0]) for k in np.unique(labels_a)}
    for k in np.unique(labels_r):
        if int(k) in colour_of:
            assert (sheet_r[labels_r == k] == colour_of[int(k)]).all()


@pytest.mark.parametrize("hair_style", range(len(HAIR_STYLES)))
def test_outfit_leaves_the_hair_alone(hair_style: int) -> None:
    base = with_factor(random_character(np.random.RandomState(8)), hair_style=hair_style)
    hair = [
        np.isin(every_frame(with_factor(base, outfit_style=k)), HAIR_LABELS)
        for k in range(len(OUTFIT_STYLES))
    ]
    for k in range(1, len(OUTFIT_STYLES)):
        np.testing.assert_array_equal(hair[k], hair[0])
    assert hair[0].any()


def test_bad_arguments() -> None:
    c = Character()
    with pytest.raises(ValueError):
        frame_labels(c, "sideways", 1)
    with pytest.raises(ValueError):
        frame_labels(c, "down", 3)
