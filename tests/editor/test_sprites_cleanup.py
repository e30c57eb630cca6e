"""Sprite cleanup: border background → transparent, character kept, palette, specks, binary alpha, grid, head crop."""

from __future__ import annotations

import numpy as np
import pytest

from editor.sprites import (
    CleanupSettings,
    HeadBox,
    SheetGrid,
    SpriteError,
    binarize_alpha,
    clean_frames,
    count_colors,
    crop_head,
    cut_frames,
    portrait_target,
    quantize_frames,
    remove_background,
    remove_isolated,
)

BG = np.array([236, 240, 232], np.uint8)


def synthetic_canvas(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 128² light, slightly noisy canvas with a 3×4 grid of 32² 'characters' (4th column empty).

    Each character: a dark body with a near-background-coloured eye inside it (must stay opaque), its
    colour encoding (row, column). Also returns the true character mask.
    """
    rng = np.random.default_rng(seed)
    canvas = (BG + rng.integers(-6, 7, (128, 128, 3))).clip(0, 255).astype(np.uint8)
    mask = np.zeros((128, 128), bool)
    for r in range(4):
        for c in range(3):
            y, x = r * 32, c * 32
            body = np.zeros((32, 32), bool)
            body[6:30, 9:23] = True
            canvas[y : y + 32, x : x + 32][body] = (40 + 40 * r, 30 + 50 * c, 90)
            canvas[y + 10 : y + 12, x + 12 : x + 14] = (240, 240, 236)  # eye: background-coloured, enclosed
            mask[y : y + 32, x : x + 32] |= body
    return canvas, mask


def test_background_becomes_transparent_and_character_is_kept() -> None:
    canvas, mask = synthetic_canvas()
    out = remove_background(canvas, tolerance=30)
    assert out.shape == (128, 128, 4)
    np.testing.assert_array_equal(out[..., 3] == 255, mask)  # exactly the character stays, eyes included
    np.testing.assert_array_equal(out[..., :3], canvas)  # colours untouched


def test_tolerance_zero_removes_only_exact_background() -> None:
    img = np.zeros((8, 8, 3), np.uint8) + 200
    img[0, 0] = (199, 200, 200)
    out = remove_background(img, tolerance=0, color=[200, 200, 200])
    assert out[0, 0, 3] == 255 and out[4, 4, 3] == 0


def test_background_not_touching_border_is_kept() -> None:
    img = np.full((10, 10, 3), 250, np.uint8)
    img[2:8, 2:8] = 10
    img[4:6, 4:6] = 250  # enclosed background-coloured hole
    out = remove_background(img, tolerance=10)
    assert (out[4:6, 4:6, 3] == 255).all() and out[0, 0, 3] == 0


def test_bad_inputs_raise_sprite_error() -> None:
    with pytest.raises(SpriteError, match="uint8"):
        remove_background(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(SpriteError, match="background colour"):
        remove_background(np.zeros((8, 8, 3), np.uint8), color="white")
    with pytest.raises(SpriteError, match="palette size"):
        quantize_frames([np.zeros((4, 4, 4), np.uint8)], 1)


def test_palette_quantisation_limits_colours_across_frames() -> None:
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (16, 16, 4), dtype=np.uint8) for _ in range(3)]
    for f in frames:
        f[..., 3] = np.where(rng.random((16, 16)) < 0.7, 255, 0)
    assert count_colors(frames) > 100
    out = quantize_frames(frames, 8)
    assert 2 <= count_colors(out) <= 8
    for a, b in zip(frames, out, strict=True):
        np.testing.assert_array_equal(a[..., 3], b[..., 3])
        # every visible pixel moved to a nearby palette colour, not an arbitrary one
        vis = a[..., 3] > 0
        assert np.abs(a[..., :3][vis].astype(int) - b[..., :3][vis]).mean() < 60


def test_isolated_pixels_removed_and_solid_shapes_kept() -> None:
    img = np.zeros((12, 12, 4), np.uint8)
    img[2:6, 2:6] = 255
    img[9, 9] = 255  # a lone speck
    img[0, 11] = 255
    out = remove_isolated(img, min_neighbours=1)
    assert out[9, 9, 3] == 0 and out[0, 11, 3] == 0
    np.testing.assert_array_equal(out[2:6, 2:6], img[2:6, 2:6])


def test_binary_alpha() -> None:
    img = np.zeros((1, 4, 4), np.uint8)
    img[0, :, :3] = 99
    img[0, :, 3] = [0, 127, 128, 255]
    out = binarize_alpha(img, 128)
    assert out[0, :, 3].tolist() == [0, 0, 255, 255]
    assert out[0, :2, :3].max() == 0 and (out[0, 2:, :3] == 99).all()


def test_cut_frames_follows_configured_row_directions() -> None:
    canvas = np.zeros((128, 128, 3), np.uint8)
    for r in range(4):
        for c in range(4):
            canvas[r * 32 : (r + 1) * 32, c * 32 : (c + 1) * 32] = (r, c, 7)
    grid = SheetGrid(row_directions=("down", "up", "left", "right"))
    frames = cut_frames(canvas, grid)
    # RPG Maker order down, left, right, up ← canvas rows 0, 2, 3, 1
    assert [int(frames[d][0][0, 0, 0]) for d in range(4)] == [0, 2, 3, 1]
    assert [int(frames[0][p][0, 0, 1]) for p in range(3)] == [0, 1, 2]
    with pytest.raises(SpriteError, match="needs a 160×128 canvas"):
        cut_frames(canvas, SheetGrid(origin_x=32, pattern_columns=(0, 1, 3)))
    with pytest.raises(SpriteError, match="exactly once"):
        SheetGrid(row_directions=("down", "down", "left", "right"))


def test_clean_frames_end_to_end_on_synthetic_canvas() -> None:
    canvas, mask = synthetic_canvas(3)
    canvas[40, 60] = (10, 10, 10)  # a speck in the background of frame (row 1, col 1)
    frames = clean_frames(canvas, SheetGrid(), CleanupSettings(background_tolerance=30, palette_colors=12))
    assert len(frames) == 4 and all(len(r) == 3 for r in frames)
    for d in range(4):
        for p in range(3):
            f = frames[d][p]
            assert f.shape == (32, 32, 4)
            assert set(np.unique(f[..., 3]).tolist()) <= {0, 255}
            np.testing.assert_array_equal(f[..., 3] == 255, mask[d * 32 : (d + 1) * 32, p * 32 : (p + 1) * 32])
    assert count_colors([f for r in frames for f in r]) <= 12


def test_head_crop_and_portrait_target() -> None:
    frame = np.zeros((32, 32, 4), np.uint8)
    frame[0:20, 4:28] = (200, 50, 50, 255)
    frame[10, 10, 3] = 0  # a clear pixel shows the pad colour
    head = crop_head(frame, HeadBox(4, 0, 24, 20))
    assert head.shape == (20, 24, 4)
    target = portrait_target(head, 96, "nearest", pad_color=(255, 255, 255))
    assert target.shape == (96, 96, 3) and target.dtype == np.uint8
    # 24×20 fits 96 wide at scale 4 → 96×80, centred: 8 rows of pad above and below
    assert (target[:8] == 255).all() and (target[88:] == 255).all()
    expected = np.where(head[..., 3:4] == 255, head[..., :3], 255).astype(np.uint8)
    np.testing.assert_array_equal(target[8:88], np.repeat(np.repeat(expected, 4, 0), 4, 1))
    assert (target[8 + 10 * 4 : 8 + 11 * 4, 6 * 4 : 7 * 4] == 255).all()  # the clear pixel, 4×4 in pad colour
    area = portrait_target(head, 96, "area")
    assert area.shape == (96, 96, 3) and abs(int(area[40:50, 40:50, 1].mean()) - 50) <= 1
    with pytest.raises(SpriteError, match="outside"):
        crop_head(frame, HeadBox(10, 0, 24, 20))
    with pytest.raises(SpriteError, match="upscale method"):
        portrait_target(head, 96, "bicubic")
