"""Sheet and face-set geometry as RPG Maker MV / MZ cut them: `$` vs plain size rules, frame order, placement."""

from __future__ import annotations

import numpy as np
import pytest

from editor.rpgmaker import (
    DIRECTIONS,
    ExportError,
    character_sheet,
    face_at,
    face_set,
    frame_size_for,
    is_big_character,
    plain_sheet,
    sheet_frame,
)
from editor.rpgmaker.png import decode_png, encode_png


def tagged_frames(size: int = 32, tag_base: int = 0) -> list[list[np.ndarray]]:
    """frames[d][p], each fully opaque and filled with a colour that encodes (d, p)."""
    frames = []
    for d in range(4):
        row = []
        for p in range(3):
            f = np.zeros((size, size, 4), np.uint8)
            f[..., 0] = tag_base + d * 10 + p
            f[..., 1] = d
            f[..., 2] = p
            f[..., 3] = 255
            row.append(f)
        frames.append(row)
    return frames


def test_size_rules_big_and_plain() -> None:
    assert is_big_character("$Hero") and is_big_character("!$Door") and not is_big_character("Actor1")
    assert not is_big_character("Hero$")
    assert frame_size_for("$Hero.png", 144, 192) == (48, 48)
    assert frame_size_for("Actor1.png", 576, 384) == (48, 48)
    with pytest.raises(ExportError, match="multiple of 3"):
        frame_size_for("$Hero.png", 145, 192)
    with pytest.raises(ExportError, match="multiple of 12"):
        frame_size_for("Actor1.png", 150, 192)


def test_character_sheet_geometry_order_and_bottom_centre() -> None:
    frames = tagged_frames(32)
    sheet = character_sheet(frames, cell=(48, 48))
    assert sheet.shape == (192, 144, 4)
    for d, direction in enumerate(DIRECTIONS):
        for p in range(3):
            cell = sheet_frame(sheet, "$Hero.png", 0, direction, p)
            assert cell.shape == (48, 48, 4)
            # a 32 px frame in a 48 px cell: no scaling (1.5 is fractional), 8 px each side, flush with the bottom
            np.testing.assert_array_equal(cell[16:, 8:40], frames[d][p])
            assert cell[:16].max() == 0 and cell[:, :8].max() == 0 and cell[:, 40:].max() == 0


def test_character_sheet_uses_whole_number_scale() -> None:
    frames = tagged_frames(16)
    sheet = character_sheet(frames, cell=(48, 48))
    cell = sheet_frame(sheet, "$Hero.png", 0, "left", 2)
    # 16 px frames scale by exactly 3 (nearest neighbour) to fill the 48 px cell
    np.testing.assert_array_equal(cell, np.repeat(np.repeat(frames[1][2], 3, 0), 3, 1))


def test_character_sheet_refuses_frames_larger_than_cell() -> None:
    with pytest.raises(ExportError, match="do not fit"):
        character_sheet(tagged_frames(64), cell=(48, 48))
    with pytest.raises(ExportError, match="directions"):
        character_sheet(tagged_frames(32)[:3], cell=(48, 48))


def test_plain_sheet_eight_characters_in_blocks() -> None:
    sheets = [character_sheet(tagged_frames(32, tag_base=i * 30), (48, 48)) for i in range(5)]
    sheet = plain_sheet(sheets)
    assert sheet.shape == (384, 576, 4)
    assert frame_size_for("Group.png", sheet.shape[1], sheet.shape[0]) == (48, 48)
    for i in range(5):
        for direction in DIRECTIONS:
            for p in range(3):
                np.testing.assert_array_equal(
                    sheet_frame(sheet, "Group.png", i, direction, p), sheet_frame(sheets[i], "$x.png", 0, direction, p)
                )
    for i in range(5, 8):  # blocks without a character stay transparent
        assert sheet_frame(sheet, "Group.png", i, "down", 1).max() == 0
    with pytest.raises(ExportError, match="1 to 8"):
        plain_sheet(sheets * 2)


def test_face_set_layout_and_resize() -> None:
    faces = []
    for i in range(5):
        face = np.zeros((256, 256, 3), np.uint8)
        face[..., 0] = 40 * i
        face[:128, :, 1] = 200  # top half marked, to check orientation survives the resize
        faces.append(face)
    fs = face_set(faces)
    assert fs.shape == (288, 576, 4)
    for i in range(5):
        cell = face_at(fs, i)
        assert cell.shape == (144, 144, 4)
        assert (cell[..., 3] == 255).all()
        assert abs(int(cell[10:60, 10:130, 0].mean()) - 40 * i) <= 1
        assert cell[10:60, :, 1].min() >= 198 and cell[90:140, :, 1].max() <= 2
    for i in range(5, 8):
        assert face_at(fs, i).max() == 0
    with pytest.raises(ExportError, match="1 to 8"):
        face_set([faces[0]] * 9)


def test_face_set_keeps_aspect_of_non_square_faces() -> None:
    face = np.full((100, 200, 3), 255, np.uint8)
    cell = face_at(face_set([face]), 0)
    assert (cell[:36, :, 3] == 0).all() and (cell[108:, :, 3] == 0).all()  # 144×72 centred
    assert (cell[36:108, :, 3] == 255).all()


def test_png_bytes_are_deterministic_and_lossless() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    a, b = encode_png(img), encode_png(img.copy())
    assert a == b
    assert b"tIME" not in a and b"tEXt" not in a
    np.testing.assert_array_equal(decode_png(a), img)
