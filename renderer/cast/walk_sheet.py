"""The walk sheet: a 3 x 4 RPG Maker walk cycle of one `Character`, drawn as flat pixel art.

Each 24 x 24 frame is first drawn as a label map (which part each pixel belongs to: skin, hair, outfit, ...),
then a 1-px outline is added around the figure, and finally a palette made from the character's colours
turns labels into RGB. So shape factors (hair style, outfit style, build, head shape) only move labels and
colour factors only change the palette: the two groups never leak into each other.

Layout of a front frame (rows): hair from y 1-2, head y 3-12, torso y 13-18, hips y 19, feet on y 22, and
the outline one pixel further out. The left view is drawn; the right view is its mirror image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from renderer.cast.description import Character

SHEET_CANVAS = 128  # the sprite network's output size
FRAME_SIZE = 24  # each walk frame is 24 x 24 canvas pixels
SHEET_ORIGIN = (28, 16)  # x, y of the top-left frame: the 3x4 sheet occupies x 28..99, y 16..111
DIRECTIONS = ("down", "left", "right", "up")  # canvas rows, top to bottom (RPG Maker's order)
PATTERNS = 3  # canvas columns: walk pattern 0 (one foot forward), 1 (standing), 2 (other foot forward)

# ---- labels of the label map
BACKGROUND, SKIN, HAIR, HAIR_SHADE, OUTFIT, OUTFIT_SHADE, LEGS, BOOTS, EYE = range(9)
FILL_LABELS = 9
OUTLINE = 16  # OUTLINE + f: an outline pixel next to fill label f (coloured as a very dark f)
HAIR_LABELS = (HAIR, HAIR_SHADE)

# ---- frame geometry (rows y, columns x of a 24 x 24 frame; front views are symmetric about x = 11.5)
CX = 12  # a part of half-width h covers columns CX - h .. CX + h - 1
HAIR_TOP = 2
HEAD_TOP = 3
EYE_Y = 9
TORSO_TOP = 13
HAND_Y = 18
HIP_Y = 19
FEET_Y = 22
# Half-widths of the head (skin) rows HEAD_TOP .. HEAD_TOP + 9, by head-shape level.
HEAD_PROFILES = (
    (3, 4, 5, 5, 5, 5, 5, 4, 3, 2),  # narrow, pointed chin
    (3, 4, 5, 5, 5, 5, 5, 5, 4, 3),  # round
    (4, 5, 6, 6, 6, 6, 6, 6, 5, 4),  # wide
)
TWIN_TAIL_END = 16  # twin tails hang down to y 15
CHIN_Y = HEAD_TOP + len(HEAD_PROFILES[0]) - 1

# ---- colours: shades and outlines are fixed fractions of the part's colour
SHADE = 0.74
LEGS_SHADE = 0.5
BOOTS_SHADE = 0.32
EYE_SHADE = 0.55
OUTLINE_SHADE = 0.28
# Which neighbouring fill gives an outline pixel its colour (higher wins).
ARM_SWING = (0, 0, 1, 1, 2, 2)  # side view: column offset of the swinging arm, per row from the shoulder
OUTLINE_PRIORITY = {HAIR: 8, HAIR_SHADE: 7, SKIN: 6, OUTFIT: 5, OUTFIT_SHADE: 4, LEGS: 3, BOOTS: 2, EYE: 1}

SHORT, LONG, PONYTAIL, SPIKY, TWIN_TAILS, BOB = range(6)
TUNIC, ROBE, DRESS, ARMOUR = range(4)


@dataclass(frozen=True)
class Shape:
    """The shape factors of a character, rounded to what the pixel grid can show."""

    hair_style: int
    outfit_style: int
    build: int  # 0 slight .. 3 broad
    head: int  # 0 narrow .. 2 wide

    @classmethod
    def of(cls, c: Character) -> Shape:
        build = int(np.clip(round(float(c.body_build) * 3), 0, 3))
        head = int(np.clip(round(float(c.head_shape) * 2), 0, 2))
        return cls(int(c.hair_style), int(c.outfit_style), build, head)

    @property
    def head_rows(self) -> tuple[int, ...]:
        return HEAD_PROFILES[self.head]

    @property
    def head_half(self) -> int:
        return max(self.head_rows)

    @property
    def torso_half(self) -> int:  # front torso 6 or 8 px
        return 3 + self.build // 2

    @property
    def arm_width(self) -> int:  # front arms 1 or 2 px
        return 1 + self.build % 2

    @property
    def depth(self) -> int:  # side-view torso 5 .. 7 px
        return 5 + (self.build + 1) // 2


# ----------------------------------------------------------------------------- drawing helpers


def _span(lab: np.ndarray, y: int, x0: int, x1: int, label: int) -> None:
    """Columns x0 .. x1 - 1 of row y (clipped to the frame)."""
    if 0 <= y < FRAME_SIZE:
        lab[y, max(x0, 0) : min(x1, FRAME_SIZE)] = label


def _spans(lab: np.ndarray, y0: int, spans: list[tuple[int, int]], label: int) -> None:
    """One (x0, x1) span per row from y0 down."""
    for i, (x0, x1) in enumerate(spans):
        _span(lab, y0 + i, x0, x1, label)


def _sym(lab: np.ndarray, y0: int, halves: tuple[int, ...] | list[int], label: int) -> None:
    """Rows centred on the frame, one half-width per row from y0 down."""
    for i, h in enumerate(halves):
        if h > 0:
            _span(lab, y0 + i, CX - h, CX + h, label)


def _mirror_pair(lab: np.ndarray, y0: int, y1: int, x0: int, x1: int, label: int) -> None:
    """Rows y0 .. y1 - 1 of columns x0 .. x1 - 1 and of their mirror image about the frame centre."""
    for y in range(y0, y1):
        _span(lab, y, x0, x1, label)
        _span(lab, y, 2 * CX - x1, 2 * CX - x0, label)


def step_of(pattern: int) -> int:
    """-1, 0, +1 for walk patterns 0, 1, 2 (the two opposite steps around standing)."""
    if pattern not in range(PATTERNS):
        raise ValueError(f"pattern must be 0, 1 or 2, got {pattern!r}")
    return pattern - 1


# ----------------------------------------------------------------------------- front and back views


def _front_legs(lab: np.ndarray, s: Shape, step: int) -> None:
    """Hips and legs seen from the front or back; the leg on the stepping side is lifted one pixel."""
    th = s.torso_half
    for side in (-1, 1):
        lift = int(step == side)
        x0, x1 = (CX - th, CX - 1) if side < 0 else (CX + 1, CX + th)
        bottom = FEET_Y - lift
        if s.outfit_style == ROBE:  # only the feet show under the hem
            _span(lab, bottom, x0, x1, BOOTS)
        elif s.outfit_style == DRESS:  # bare legs under the skirt
            for y in range(HIP_Y + 2, bottom):
                _span(lab, y, x0 + (side < 0), x1 - (side > 0), SKIN)
            _span(lab, bottom, x0, x1, BOOTS)
        else:
            for y in range(HIP_Y + 1, bottom):
                _span(lab, y, x0, x1, LEGS)
            _span(lab, bottom, x0, x1, BOOTS)
    if s.outfit_style in (TUNIC, ARMOUR):
        _span(lab, HIP_Y, CX - th, CX + th, LEGS)


def _front_torso(lab: np.ndarray, s: Shape, back: bool) -> None:
    """The outfit's body part, front or back."""
    th = s.torso_half
    style = s.outfit_style
    if style == ROBE:
        _sym(lab, TORSO_TOP, [th] * 6 + [th + 1] * 3, OUTFIT)
        _span(lab, FEET_Y - 1, CX - th - 1, CX + th + 1, OUTFIT_SHADE)  # hem
    elif style == DRESS:
        _sym(lab, TORSO_TOP, [th] * 4 + [th + 1, th + 1, th + 2], OUTFIT)
        _span(lab, HIP_Y + 1, CX - th - 2, CX + th + 2, OUTFIT_SHADE)  # hem
    else:
        _sym(lab, TORSO_TOP, [th] * 6, OUTFIT)
    if style == ARMOUR:
        _span(lab, HAND_Y - 1, CX - th, CX + th, OUTFIT_SHADE)  # belt
        _sym(lab, HIP_Y, (th + 1, th + 1), OUTFIT)  # armoured skirt over the hips
    if not back and style in (TUNIC, DRESS):
        _span(lab, TORSO_TOP, CX - 1, CX + 1, SKIN)  # neckline
    if not back and style == ROBE:
        for y in range(TORSO_TOP + 1, FEET_Y - 1):  # the robe's front opening
            _span(lab, y, CX - 1 + (y - TORSO_TOP) // 5, CX, OUTFIT_SHADE)


def _front_arms(lab: np.ndarray, s: Shape, step: int) -> None:
    """Arms hanging beside the torso; the arm opposite the lifted leg swings forward (hand one pixel up)."""
    th, aw = s.torso_half, s.arm_width
    style = s.outfit_style
    for side in (-1, 1):
        hand = HAND_Y - int(step == -side)
        x0, x1 = (CX - th - aw, CX - th) if side < 0 else (CX + th, CX + th + aw)
        sleeve_end = TORSO_TOP + 2 if style == DRESS else hand
        for y in range(TORSO_TOP, sleeve_end):
            _span(lab, y, x0, x1, OUTFIT_SHADE)
        for y in range(sleeve_end, hand):
            _span(lab, y, x0, x1, SKIN)
        if style == ROBE:  # wide cuffs
            cuff0, cuff1 = (x0 - 1, x1) if side < 0 else (x0, x1 + 1)
            _span(lab, hand - 1, cuff0, cuff1, OUTFIT_SHADE)
        _span(lab, hand, x0, x1, SKIN)
        if style == ARMOUR:  # shoulder pads
            pad0, pad1 = (x0 - 1, CX - th + 1) if side < 0 else (CX + th - 1, x1 + 1)
            _span(lab, TORSO_TOP, pad0, pad1, OUTFIT)
            _span(lab, TORSO_TOP + 1, pad0, pad1, OUTFIT)


def _twin_tails(lab: np.ndarray, hw: int) -> None:
    """Two tails tied at the sides of the head (front and back views)."""
    _mirror_pair(lab, HAIR_TOP + 2, HAIR_TOP + 3, CX - hw - 2, CX - hw - 1, HAIR_SHADE)  # ties
    for y in range(HAIR_TOP + 3, TWIN_TAIL_END):
        width = 3 if HAIR_TOP + 4 <= y < TWIN_TAIL_END - 3 else 2
        _mirror_pair(lab, y, y + 1, CX - hw - 1 - width, CX - hw - 1, HAIR)


def _top_spikes(lab: np.ndarray) -> None:
    """Three 2-px spikes above the crown (front and back views)."""
    for x in (CX - 4, CX - 1, CX + 2):
        _span(lab, HAIR_TOP - 1, x, x + 2, HAIR)


def _front_fringe(lab: np.ndarray, style: int, hw: int) -> None:
    """The row of locks over the forehead (y 7): parted, straight (bob), jagged (spiky) or centre-parted."""
    y = HAIR_TOP + 5
    if style == BOB:
        _span(lab, y, CX - hw, CX + hw, HAIR)
    elif style == SPIKY:
        for x in range(CX - hw, CX + hw, 3):
            _span(lab, y, x, x + 2, HAIR)
    elif style == LONG:
        _span(lab, y, CX - hw, CX - 1, HAIR)
        _span(lab, y, CX + 1, CX + hw, HAIR)
    else:
        _span(lab, y, CX - hw, CX - 2, HAIR)
        _span(lab, y, CX, CX + hw, HAIR)


def _front_hair(lab: np.ndarray, s: Shape) -> None:
    """Hair seen from the front: a cap with a fringe, and the style's sides, tails or spikes."""
    hw = s.head_half
    style = s.hair_style
    _sym(lab, HAIR_TOP, (hw - 2, hw, hw + 1, hw + 1, hw + 1), HAIR)
    _front_fringe(lab, style, hw)
    side_end = {SHORT: 10, LONG: 18, PONYTAIL: 10, SPIKY: 10, TWIN_TAILS: 10, BOB: 12}[style]
    outer = hw + 1 if style in (LONG, BOB) else hw
    _mirror_pair(lab, HAIR_TOP + 5, side_end, CX - outer, CX - hw + 1, HAIR)
    if style == BOB:
        _mirror_pair(lab, side_end - 1, side_end, CX - hw + 1, CX - hw + 2, HAIR)
    elif style == LONG:
        _mirror_pair(lab, TORSO_TOP, side_end, CX - hw, CX - hw + 2, HAIR)
    elif style == PONYTAIL:  # the tail shows behind the head on one side, the knot on top
        _span(lab, HAIR_TOP - 1, CX + 1, CX + 4, HAIR)
        for y in range(HAIR_TOP + 3, CHIN_Y):
            _span(lab, y, CX + hw + 1, CX + hw + 2 + (y < CHIN_Y - 2), HAIR_SHADE)
    elif style == SPIKY:
        _top_spikes(lab)
        _mirror_pair(lab, HAIR_TOP + 3, HAIR_TOP + 4, CX - hw - 2, CX - hw, HAIR)
        _mirror_pair(lab, HAIR_TOP + 6, HAIR_TOP + 7, CX - hw - 1, CX - hw, HAIR)
    elif style == TWIN_TAILS:
        _twin_tails(lab, hw)


def _back_hair(lab: np.ndarray, s: Shape) -> None:
    """Hair seen from behind: it covers the whole head; the style decides where it ends."""
    hw = s.head_half
    style = s.hair_style
    crown = [hw - 2, hw] + [hw + 1] * 7  # y 2 .. 10
    rows = {
        LONG: crown + [hw + 1, hw] + [hw - 1] * 4 + [hw - 2],  # down the back to y 17
        BOB: crown + [hw + 1, hw + 1],  # to the chin, cut square
    }.get(style, crown + [hw])  # to y 11: the nape shows
    _sym(lab, HAIR_TOP, rows, HAIR)
    end = HAIR_TOP + len(rows)
    if style == PONYTAIL:
        _span(lab, HAIR_TOP - 1, CX - 2, CX + 2, HAIR)
        _sym(lab, end, (1,), HAIR_SHADE)  # tie
        _sym(lab, end + 1, (2, 2, 2, 2, 1, 1), HAIR)
    elif style == SPIKY:
        _top_spikes(lab)
        _mirror_pair(lab, HAIR_TOP + 3, HAIR_TOP + 4, CX - hw - 3, CX - hw - 1, HAIR)
        _mirror_pair(lab, HAIR_TOP + 6, HAIR_TOP + 7, CX - hw - 2, CX - hw - 1, HAIR)
        _sym(lab, end, (2,), HAIR)
    elif style == TWIN_TAILS:
        _twin_tails(lab, hw)


def _draw_head(lab: np.ndarray, s: Shape, hair: Callable[[np.ndarray, Shape], None]) -> None:
    """Head skin, then the hair over it; hair pixels touching the face get the hair shade (an inner line)."""
    head = np.zeros_like(lab)
    _sym(head, HEAD_TOP, s.head_rows, SKIN)
    lab[head == SKIN] = SKIN
    hair(lab, s)
    face = np.pad((head == SKIN) & (lab == SKIN), 1)
    touches_face = face[:-2, 1:-1] | face[2:, 1:-1] | face[1:-1, :-2] | face[1:-1, 2:]
    lab[touches_face & (lab == HAIR)] = HAIR_SHADE


def _draw_front(s: Shape, step: int, back: bool) -> np.ndarray:
    lab = np.zeros((FRAME_SIZE, FRAME_SIZE), dtype=np.uint8)
    _front_legs(lab, s, step)
    _front_torso(lab, s, back)
    _front_arms(lab, s, step)
    _draw_head(lab, s, _back_hair if back else _front_hair)
    if not back:
        for x in (CX - 3, CX + 2):
            lab[EYE_Y, x] = EYE
    return lab


# ----------------------------------------------------------------------------- side view (facing left)


def _side_legs(lab: np.ndarray, s: Shape, step: int) -> None:
    """Legs in profile: together when standing, apart when walking (the far leg darker)."""
    x0 = CX - 3
    if s.outfit_style in (TUNIC, ARMOUR):
        _span(lab, HIP_Y, x0, x0 + s.depth, LEGS)
    top = {ROBE: FEET_Y, DRESS: HIP_Y + 2}.get(s.outfit_style, HIP_Y + 1)
    fill = SKIN if s.outfit_style == DRESS else LEGS
    if step == 0:
        for y in range(top, FEET_Y):
            _span(lab, y, x0 + 1, x0 + 4, fill)
        _span(lab, FEET_Y, x0, x0 + 4, BOOTS)
        return
    # forward and backward legs as column offsets per row below the hips
    forward = [(0, 2), (-1, 1), (-2, 1)]
    backward = [(3, 5), (4, 6), (4, 7)]
    near, far = (forward, backward) if step < 0 else (backward, forward)
    for leg, label in ((far, BOOTS), (near, fill)):
        for i, (a, b) in enumerate(leg):
            y = HIP_Y + 1 + i
            if y >= top:
                _span(lab, y, x0 + a, x0 + b, BOOTS if y == FEET_Y else label)


def _side_torso(lab: np.ndarray, s: Shape, step: int) -> None:
    """The outfit's body part in profile (a robe's hem swings with the step)."""
    x0, x1 = CX - 3, CX - 3 + s.depth
    style = s.outfit_style
    if style == ROBE:
        _spans(lab, TORSO_TOP, [(x0, x1)] * 6 + [(x0 - 1, x1 + 1)] * 3, OUTFIT)
        _span(lab, FEET_Y - 1, x0 - 1 + min(step, 0), x1 + 1 + max(step, 0), OUTFIT_SHADE)
    elif style == DRESS:
        _spans(lab, TORSO_TOP, [(x0, x1)] * 4 + [(x0 - 1, x1 + 1)] * 2 + [(x0 - 2, x1 + 2)], OUTFIT)
        _span(lab, HIP_Y + 1, x0 - 2, x1 + 2, OUTFIT_SHADE)
    else:
        _spans(lab, TORSO_TOP, [(x0, x1)] * 6, OUTFIT)
    if style == ARMOUR:
        _span(lab, HAND_Y - 1, x0, x1, OUTFIT_SHADE)  # belt
        _spans(lab, HIP_Y, [(x0 - 1, x1 + 1)] * 2, OUTFIT)  # armoured skirt over the hips


def _side_arm(lab: np.ndarray, s: Shape, step: int) -> None:
    """The near arm, swinging against the near leg: back on pattern 0, forward on pattern 2."""
    swing = -step  # +1 back (towards the right), -1 forward
    x = CX - 1
    offsets = [swing * d for d in ARM_SWING]  # per row from the shoulder down
    hand = HAND_Y - abs(swing)  # a swinging arm looks shorter
    style = s.outfit_style
    for i, off in enumerate(offsets[: hand - TORSO_TOP]):
        y = TORSO_TOP + i
        label = SKIN if style == DRESS and y >= TORSO_TOP + 2 else OUTFIT_SHADE
        _span(lab, y, x + off, x + off + 2, label)
    off = offsets[hand - TORSO_TOP]
    if style == ROBE:
        _span(lab, hand - 1, x + off - 1, x + off + 2, OUTFIT_SHADE)
    _span(lab, hand, x + off, x + off + 2, SKIN)
    if style == ARMOUR:  # a shoulder pad wider than the torso
        _spans(lab, TORSO_TOP, [(CX - 4, CX + 4), (x - 1, x + 3)], OUTFIT)


def _side_hair(lab: np.ndarray, s: Shape) -> None:
    """Hair in profile facing left: the face shows in front, the hair covers the top and the back."""
    hw = s.head_half
    front, back = CX - hw, CX + hw  # face front column, first column behind the head
    style = s.hair_style
    _spans(
        lab, HAIR_TOP, [(front + 2, back - 1), (front + 1, back), (front, back + 1), (front, back + 1)], HAIR
    )
    _spans(lab, HAIR_TOP + 4, [(front, back + 1), (front, front + 2)], HAIR)  # fringe
    end = {SHORT: 10, LONG: 13, PONYTAIL: 10, SPIKY: 10, TWIN_TAILS: 10, BOB: 12}[style]
    for y in range(HAIR_TOP + 4, end):
        _span(lab, y, CX - (style == BOB), back + 1, HAIR)
    _span(lab, end, CX + 1, back, HAIR)
    if style == LONG:
        for y in range(end, 18):
            _span(lab, y, CX + 1 + (y >= 16), back + 1 - (y >= 16), HAIR)
    elif style == PONYTAIL:
        _span(lab, HAIR_TOP + 2, back + 1, back + 2, HAIR_SHADE)  # tie
        _spans(lab, HAIR_TOP + 2, [(back + 2, back + 4)] * 3 + [(back + 1, back + 4)] * 4, HAIR)
        _spans(lab, HAIR_TOP + 9, [(back + 1, back + 3), (back + 1, back + 2)], HAIR)
    elif style == SPIKY:
        for x in (front + 2, front + 5, front + 8):
            _span(lab, HAIR_TOP - 1, x, x + 2, HAIR)
        _span(lab, HAIR_TOP + 2, back + 1, back + 3, HAIR)
        _span(lab, HAIR_TOP + 5, back + 1, back + 3, HAIR)
        _span(lab, HAIR_TOP + 8, back + 1, back + 2, HAIR)
    elif style == TWIN_TAILS:
        _span(lab, HAIR_TOP + 4, back + 1, back + 2, HAIR_SHADE)  # tie
        _spans(
            lab, HAIR_TOP + 5, [(back, back + 3)] * 7 + [(back, back + 2)] * 2 + [(back - 1, back + 1)], HAIR
        )
    elif style == BOB:
        _span(lab, end, CX, back + 1, HAIR)


def _draw_left(s: Shape, step: int) -> np.ndarray:
    lab = np.zeros((FRAME_SIZE, FRAME_SIZE), dtype=np.uint8)
    _side_legs(lab, s, step)
    _side_torso(lab, s, step)
    _side_arm(lab, s, step)
    _draw_head(lab, s, _side_hair)
    lab[EYE_Y, CX - s.head_half + 2] = EYE
    return lab


# ----------------------------------------------------------------------------- outline, labels, colours


_PRIORITY = np.zeros(256, dtype=np.uint8)  # OUTLINE_PRIORITY as a lookup table
for _label, _rank in OUTLINE_PRIORITY.items():
    _PRIORITY[_label] = _rank


def _outline(lab: np.ndarray) -> np.ndarray:
    """Background pixels 4-adjacent to the figure become OUTLINE + the label of their strongest neighbour."""
    p = np.pad(lab, 1)
    neighbours = np.stack([p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
    best = np.take_along_axis(neighbours, _PRIORITY[neighbours].argmax(axis=0)[None], axis=0)[0]
    out = lab.copy()
    edge = (lab == BACKGROUND) & (best != BACKGROUND)
    out[edge] = OUTLINE + best[edge]
    return out


def _shape_frame_labels(s: Shape, direction: str, pattern: int) -> np.ndarray:
    step = step_of(pattern)
    if direction == "down":
        lab = _draw_front(s, step, back=False)
    elif direction == "up":
        lab = _draw_front(s, step, back=True)
    elif direction == "left":
        lab = _draw_left(s, step)
    elif direction == "right":
        lab = _draw_left(s, step)[:, ::-1]
    else:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return _outline(lab)


def frame_labels(c: Character, direction: str, pattern: int) -> np.ndarray:
    """uint8 [24, 24] label map of one frame (BACKGROUND, SKIN, ... and OUTLINE + neighbour label)."""
    return _shape_frame_labels(Shape.of(c), direction, pattern)


@lru_cache(maxsize=512)
def _sheet_labels(s: Shape) -> np.ndarray:
    sheet = np.zeros((SHEET_CANVAS, SHEET_CANVAS), dtype=np.uint8)
    ox, oy = SHEET_ORIGIN
    for row, direction in enumerate(DIRECTIONS):
        for col in range(PATTERNS):
            y, x = oy + row * FRAME_SIZE, ox + col * FRAME_SIZE
            sheet[y : y + FRAME_SIZE, x : x + FRAME_SIZE] = _shape_frame_labels(s, direction, col)
    sheet.flags.writeable = False
    return sheet


def sheet_labels(c: Character) -> np.ndarray:
    """uint8 [128, 128] label map of the whole walk sheet (read-only, cached per shape)."""
    return _sheet_labels(Shape.of(c))


def palette(c: Character) -> np.ndarray:
    """uint8 [OUTLINE + FILL_LABELS, 3]: the RGB of every label for this character's colours."""
    base = np.zeros((FILL_LABELS, 3), dtype=np.float64)
    hair, skin, outfit = (
        np.asarray(rgb, dtype=np.float64) for rgb in (c.hair_rgb(), c.skin_rgb(), c.outfit_rgb())
    )
    base[BACKGROUND] = c.sprite_background_rgb()
    base[SKIN] = skin
    base[HAIR] = hair
    base[HAIR_SHADE] = hair * SHADE
    base[OUTFIT] = outfit
    base[OUTFIT_SHADE] = outfit * SHADE
    base[LEGS] = outfit * LEGS_SHADE
    base[BOOTS] = outfit * BOOTS_SHADE
    base[EYE] = np.asarray(c.eye_rgb(), dtype=np.float64) * EYE_SHADE
    table = np.zeros((OUTLINE + FILL_LABELS, 3), dtype=np.float64)
    table[:FILL_LABELS] = base
    table[OUTLINE:] = base * OUTLINE_SHADE
    return np.clip(np.rint(table), 0, 255).astype(np.uint8)


def draw_walk_sheet(c: Character) -> np.ndarray:
    """uint8 [128, 128, 3] RGB: the 3 x 4 walk sheet of `c` on its sprite background."""
    return palette(c)[sheet_labels(c)]


def draw_frame(c: Character, direction: str, pattern: int) -> np.ndarray:
    """uint8 [24, 24, 3] RGB: one cell of the walk sheet."""
    return palette(c)[frame_labels(c, direction, pattern)]
