"""The portrait drawing of a cast `Character`: an anime bust (head and shoulders) for a message window.

How it is drawn: every part is painted as an integer *label* (which part a pixel belongs to, `PARTS`) on a
canvas `SUPERSAMPLE` times the output size, back to front, with outlines as their own labels. The label map
depends on the shape factors only (head turn, hair style, head shape, body build, expression, eye shape);
the palette that turns labels into colours depends on the colour factors only. So a colour factor can never
move an outline and a shape factor can never change a colour. The coloured canvas is box-filtered down to
the output size, which anti-aliases every edge.

Geometry: the head is a cranium ellipse (radius `R` tall, `rx` wide) centred at (`cx`, `cy`) plus a jaw
drawn per view. Points on the head and hair are given in head units (x in `rx`, y in `R`, y down) and, for
features that turn with the head, as an azimuth phi (degrees, 0 = face centre, negative = character's right,
which is the viewer's left) projected on a cylinder: x = r sin(phi + yaw). The head turns to the viewer's right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from renderer.cast.description import Character

PORTRAIT_SIZE = 128
SUPERSAMPLE = 4  # drawn at this multiple of the output size, then box-filtered down

# ---- parts (label values of the canvas, in palette order)
PARTS = (
    "background",
    "hair", "hair_shadow", "hair_line",
    "skin", "skin_shadow", "skin_line",
    "outfit", "outfit_shadow", "outfit_line",
    "eye_white", "iris", "iris_shadow", "pupil", "highlight", "eye_line",
    "brow", "mouth", "tongue", "teeth",
)  # fmt: skip
LABEL = {name: i for i, name in enumerate(PARTS)}
SKIN_PARTS = (LABEL["skin"], LABEL["skin_shadow"])
EYE_PARTS = (LABEL["eye_white"], LABEL["iris"], LABEL["iris_shadow"], LABEL["pupil"])

# ---- fixed colours (the same for every character)
WHITE = (252, 251, 250)
EYE_LINE_RGB = (40, 26, 36)
MOUTH_RGB = (150, 52, 64)
TONGUE_RGB = (236, 128, 134)
SHADOW = 0.76  # shadow tone = fill * SHADOW (sRGB)
LINE = 0.32  # outline = fill * LINE, mixed with LINE_INK
LINE_INK = (30, 20, 34)

# ---- layout, as fractions of the portrait size
HEAD_R = 0.28  # cranium radius (vertical)
HEAD_CX, HEAD_CY = 0.5, 0.42
HEAD_WIDTH = (0.9, 1.06)  # rx / R for head_shape 0 ... 1
NECK_HALF = (0.2, 0.32)  # neck half-width / R for body_build 0 ... 1
SHOULDER_HALF = (0.3, 0.43)  # shoulder half-width / size for body_build 0 ... 1
NECKLINE_Y = 0.87
# ---- stroke widths, as fractions of the portrait size (x128 = output pixels at the training size)
LINE_W = 1.75 / 128
LASH_W = 2.6 / 128
THIN_W = 1.1 / 128
BROW_W = 2.2 / 128

YAWS = (0.0, 30.0, 90.0)  # head_turn -> degrees turned to the viewer's right
HEAD_SHIFT = (0.0, 0.01, 0.035)  # head_turn -> head moved right (the neck stays), fraction of the size

# ---- face features, head units (y down from the cranium centre)
EYE_PHI, EYE_Y = 28.0, 0.44
EYE_HALF_W, EYE_HALF_H = 0.215, 0.25  # in R
BROW_Y = 0.1
FACE_TOP = -0.22  # no brow or eye reaches above this (the top of `face_box`)
NOSE_Y = 0.66
MOUTH_Y, MOUTH_HALF_W = 0.86, 0.16
EAR_PHI, EAR_Y, EAR_HALF_W, EAR_HALF_H = 95.0, 0.42, 0.14, 0.2
HAIR_R = 1.13  # hair cap radius, head units
FORESHORTEN = 0.7  # eyes narrow as cos(angle) ** FORESHORTEN when they turn away (flatter than a sphere)

Pt = tuple[float, float]


# ============================================================================ geometry helpers


def _curve(points: Sequence[tuple[float, ...]], closed: bool = True, n: int = 6) -> np.ndarray:
    """A smooth Hermite curve through points (x, y) or (x, y, sharp); sharp points become corners."""
    pts = np.array([p[:2] for p in points], dtype=np.float64)
    sharp = np.array([len(p) > 2 and bool(p[2]) for p in points])
    count = len(pts)
    if count < 3:
        return pts
    if closed:
        prev, nxt = np.roll(pts, 1, 0), np.roll(pts, -1, 0)
    else:
        prev = np.vstack([pts[:1], pts[:-1]])
        nxt = np.vstack([pts[1:], pts[-1:]])
    tangents = 0.5 * (nxt - prev)
    tangents[sharp] = 0.0
    segs = count if closed else count - 1
    t = np.linspace(0.0, 1.0, n, endpoint=False)[None, :, None]
    h00, h10, h01, h11 = 2 * t**3 - 3 * t**2 + 1, t**3 - 2 * t**2 + t, -2 * t**3 + 3 * t**2, t**3 - t**2
    i = np.arange(segs)
    j = (i + 1) % count
    out = (
        h00 * pts[i][:, None]
        + h10 * tangents[i][:, None]
        + h01 * pts[j][:, None]
        + h11 * tangents[j][:, None]
    ).reshape(-1, 2)
    return out if closed else np.vstack([out, pts[-1:]])


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 28) -> np.ndarray:
    """Polygon of an axis-aligned ellipse."""
    a = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _ribbon(path: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Polygon of a stroke along `path` with a half-width per point (a tapered lock, brow or lash)."""
    d = np.gradient(path, axis=0)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1)
    w = np.asarray(widths, dtype=np.float64)[:, None]
    return np.vstack([path + normal * w, (path - normal * w)[::-1]])


def _sharp_turns(pts: np.ndarray, closed: bool) -> np.ndarray:
    """Indices of polyline vertices that turn by more than ~15 degrees (plus both ends of an open line)."""
    d = np.diff(pts, axis=0)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    if closed:  # pts[-1] == pts[0]
        cos = np.einsum("ij,ij->i", d, np.roll(d, 1, axis=0))
        return np.flatnonzero(cos < 0.966)
    cos = np.einsum("ij,ij->i", d[1:], d[:-1])
    return np.concatenate([[0], 1 + np.flatnonzero(cos < 0.966), [len(pts) - 1]])


@dataclass(frozen=True)
class _Geometry:
    """Where the head and body sit, in supersampled canvas pixels (shape factors only)."""

    canvas: int  # canvas side
    cx: float
    cy: float
    R: float  # cranium radius (vertical)
    rx: float  # cranium radius (horizontal; the head-shape width)
    yaw: float  # degrees
    head_shape: float
    body_build: float
    view: int  # head_turn

    @staticmethod
    def of(c: Character, size: int) -> _Geometry:
        s = size * SUPERSAMPLE
        hs = float(np.clip(c.head_shape, 0.0, 1.0))
        r = HEAD_R * s
        return _Geometry(
            canvas=s,
            cx=(HEAD_CX + HEAD_SHIFT[int(c.head_turn)]) * s,
            cy=HEAD_CY * s,
            R=r,
            rx=r * (HEAD_WIDTH[0] + hs * (HEAD_WIDTH[1] - HEAD_WIDTH[0])),
            yaw=YAWS[int(c.head_turn)],
            head_shape=hs,
            body_build=float(np.clip(c.body_build, 0.0, 1.0)),
            view=int(c.head_turn),
        )

    def px(self, x: float, y: float) -> Pt:
        """Head units -> canvas pixels."""
        return self.cx + x * self.rx, self.cy + y * self.R

    def pts(self, points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """An array of head-unit points -> canvas pixels."""
        a = np.asarray(points, dtype=np.float64)
        return np.stack([self.cx + a[:, 0] * self.rx, self.cy + a[:, 1] * self.R], axis=1)

    def turn(self, phi: float) -> tuple[float, float]:
        """(sin, cos) of a head azimuth after the turn: x position on a unit cylinder and foreshortening."""
        a = math.radians(phi + self.yaw)
        return math.sin(a), math.cos(a)

    def width(self, frac: float) -> float:
        """A stroke width given as a fraction of the portrait size -> canvas pixels."""
        return frac * self.canvas


# ============================================================================ the label canvas


def _stroke(
    draw: ImageDraw.ImageDraw, path: np.ndarray, label: int, width: float, closed: bool = False
) -> None:
    """A wide polyline; discs round off its sharp turns (and its ends when open). Smooth turns need none."""
    pts = np.asarray(path, dtype=np.float64)
    if closed:
        pts = np.vstack([pts, pts[:1]])
    draw.line(pts.ravel().tolist(), fill=label, width=max(1, round(width)))
    r = width / 2
    for x, y in pts[_sharp_turns(pts, closed)]:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=label)


class _Canvas:
    """A supersampled label image with painting helpers (fills, outlined parts, clipped fills)."""

    def __init__(self, size: int) -> None:
        self.side = size * SUPERSAMPLE
        self.img = Image.new("P", (self.side, self.side), LABEL["background"])
        self.draw = ImageDraw.Draw(self.img)

    def fill(self, poly: np.ndarray, label: int) -> None:
        self.draw.polygon(np.asarray(poly).ravel().tolist(), fill=label)

    def stroke(self, path: np.ndarray, label: int, width: float, closed: bool = False) -> None:
        """A polyline of the given width with rounded turns and ends."""
        _stroke(self.draw, path, label, width, closed)

    def part(self, polys: Sequence[np.ndarray], fill: int, line: int, width: float) -> None:
        """Filled shapes outlined as one union: outlines (twice as wide) first, then all fills on top."""
        for poly in polys:
            self.stroke(poly, line, 2 * width, closed=True)
        for poly in polys:
            self.fill(poly, fill)

    def clipped(
        self,
        label: int,
        within: Sequence[int],
        polys: Sequence[np.ndarray] = (),
        lines: Sequence[tuple[np.ndarray, float]] = (),
    ) -> None:
        """Paint polygons and strokes with `label`, but only over pixels that already hold a `within` label."""
        allp = [p for p in polys] + [p for p, _ in lines]
        if not allp:
            return
        pad = max([w for _, w in lines], default=0.0) + 2
        stack = np.vstack(allp)
        x0 = int(max(0, math.floor(stack[:, 0].min() - pad)))
        y0 = int(max(0, math.floor(stack[:, 1].min() - pad)))
        x1 = int(min(self.side, math.ceil(stack[:, 0].max() + pad)))
        y1 = int(min(self.side, math.ceil(stack[:, 1].max() + pad)))
        if x1 <= x0 or y1 <= y0:
            return
        mask = Image.new("L", (x1 - x0, y1 - y0), 0)
        md = ImageDraw.Draw(mask)
        off = np.array([x0, y0], dtype=np.float64)
        for poly in polys:
            md.polygon((poly - off).ravel().tolist(), fill=255)
        for path, w in lines:
            _stroke(md, path - off, 255, w)
        region = np.asarray(self.img.crop((x0, y0, x1, y1)))
        lut = np.zeros(256, dtype=bool)
        lut[list(within)] = True
        keep = lut[region] & (np.asarray(mask) > 0)
        self.img.paste(label, (x0, y0, x1, y1), Image.fromarray((keep * 255).astype(np.uint8)))


# ============================================================================ head


def _head_contour(g: _Geometry) -> np.ndarray:
    """The face silhouette (cranium + jaw, and the nose and lips in profile), canvas pixels."""
    t = g.head_shape
    lerp = lambda a, b: a + t * (b - a)  # noqa: E731

    def arc(a0: float, a1: float, step: float = 20.0) -> list[tuple[float, float]]:
        n = max(2, int(round(abs(a1 - a0) / step)) + 1)
        return [(math.cos(math.radians(a)), -math.sin(math.radians(a))) for a in np.linspace(a0, a1, n)]

    if g.view == 0:
        right = [(lerp(0.9, 0.97), lerp(0.64, 0.62)), (lerp(0.6, 0.84), lerp(0.92, 0.88)),
                 (lerp(0.22, 0.45), lerp(1.08, 1.01)), (0.0, lerp(1.15, 1.06))]  # fmt: skip
        left = [(-x, y) for x, y in right[-2::-1]]
        pts = arc(200, -20) + right + left
    elif g.view == 1:
        pts = arc(228, -8) + [
            (0.99, 0.38), (lerp(0.86, 0.93), 0.7), (lerp(0.66, 0.76), lerp(1.0, 0.98)),
            (lerp(0.5, 0.56), lerp(1.14, 1.06)), (lerp(0.12, 0.1), lerp(1.02, 1.03)), (-0.5, 0.8),
        ]  # fmt: skip
    else:
        pts = arc(242, 14) + [
            (1.0, 0.1), (1.04, 0.4), (1.16, 0.62, True), (1.0, 0.71, True), (1.02, 0.79), (0.97, 0.86, True),
            (0.99, 0.91), (0.93, 0.98, True), (lerp(0.97, 0.93), lerp(1.06, 1.04)),
            (lerp(0.84, 0.76), lerp(1.15, 1.1)), (lerp(0.3, 0.2), lerp(1.0, 1.04)), (-0.2, 0.78),
        ]  # fmt: skip
    return _curve([(*g.px(p[0], p[1]), *p[2:]) for p in pts])


def _ear(g: _Geometry) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Ear shapes and their inner-ear lines (both ears in front view, the near ear otherwise)."""
    shapes, inner = [], []
    for side in (-1, 1):
        s, cos = g.turn(side * EAR_PHI)
        if g.view == 0:
            x, hw = side * 0.99, EAR_HALF_W
        elif cos > 0.0:
            x, hw = s * 0.98, EAR_HALF_W * (0.9 + 0.3 * cos)
        else:
            continue
        cx, cy = g.px(x, EAR_Y)
        w, h = hw * g.R, EAR_HALF_H * g.R
        shapes.append(_ellipse(cx, cy, w, h))
        if g.view != 0:
            inner.append(np.array([(cx + 0.35 * w, cy - 0.45 * h), (cx - 0.2 * w, cy - 0.2 * h),
                                   (cx - 0.1 * w, cy + 0.3 * h), (cx + 0.3 * w, cy + 0.45 * h)]))  # fmt: skip
    return shapes, inner


def _draw_head(cv: _Canvas, g: _Geometry, contour: np.ndarray) -> None:
    """Ears and the face silhouette (skin, outlined)."""
    ears, inner = _ear(g)
    lw = g.width(LINE_W)
    if g.view == 0:
        cv.part(ears, LABEL["skin"], LABEL["skin_line"], lw)
    cv.part([contour], LABEL["skin"], LABEL["skin_line"], lw)
    if g.view != 0:
        cv.part(ears, LABEL["skin"], LABEL["skin_line"], lw)
    for line in inner:
        cv.stroke(_curve(line, closed=False), LABEL["skin_line"], g.width(THIN_W))


def _draw_nose(cv: _Canvas, g: _Geometry) -> None:
    """A small nose stroke (front, three-quarter); in profile the nose is the contour's point."""
    if g.view == 2:
        return
    x, _ = g.turn(0.0)
    if g.view == 0:
        path = [(x + 0.01, NOSE_Y - 0.05), (x + 0.035, NOSE_Y + 0.02)]
    else:
        path = [(x - 0.02, NOSE_Y - 0.1), (x + 0.1, NOSE_Y + 0.02), (x + 0.02, NOSE_Y + 0.04)]
    cv.clipped(LABEL["skin_line"], SKIN_PARTS, lines=[(g.pts(path), g.width(THIN_W))])


# ============================================================================ body


def _draw_body(cv: _Canvas, g: _Geometry) -> None:
    """Neck (with the shadow under the chin) and shoulders with a V collar; the same for every outfit."""
    s, b = g.canvas, g.body_build
    lw = g.width(LINE_W)
    nw = g.R * (NECK_HALF[0] + b * (NECK_HALF[1] - NECK_HALF[0]))
    sw = s * (SHOULDER_HALF[0] + b * (SHOULDER_HALF[1] - SHOULDER_HALF[0]))
    cx = HEAD_CX * s
    top = g.cy + 0.5 * g.R
    neck = np.array([(cx - nw, top), (cx + nw, top), (cx + nw * 1.05, NECKLINE_Y * s + 0.02 * s),
                     (cx - nw * 1.05, NECKLINE_Y * s + 0.02 * s)])  # fmt: skip
    cv.part([neck], LABEL["skin"], LABEL["skin_line"], lw)
    y0 = NECKLINE_Y * s
    collar = nw * 1.05 + 0.018 * s
    torso = _curve([
        (cx - collar, y0 - 0.01 * s, True), (cx, y0 + 0.085 * s, True), (cx + collar, y0 - 0.01 * s, True),
        (cx + 0.5 * (collar + sw), y0 + 0.028 * s), (cx + sw - 0.02 * s, y0 + 0.06 * s),
        (cx + sw + 0.01 * s, y0 + 0.13 * s), (cx + sw + 0.03 * s, 1.1 * s, True),
        (cx - sw - 0.03 * s, 1.1 * s, True), (cx - sw - 0.01 * s, y0 + 0.13 * s),
        (cx - sw + 0.02 * s, y0 + 0.06 * s), (cx - 0.5 * (collar + sw), y0 + 0.028 * s),
    ])  # fmt: skip
    cv.part([torso], LABEL["outfit"], LABEL["outfit_line"], lw)
    band = np.array([(cx - collar - 0.03 * s, y0 - 0.02 * s), (cx, y0 + 0.085 * s),
                     (cx + collar + 0.03 * s, y0 - 0.02 * s), (cx + collar + 0.03 * s, y0 + 0.015 * s),
                     (cx, y0 + 0.13 * s), (cx - collar - 0.03 * s, y0 + 0.015 * s)])  # fmt: skip
    cv.clipped(LABEL["outfit_shadow"], (LABEL["outfit"],), polys=[band])


def _draw_neck_shadow(cv: _Canvas, g: _Geometry, contour: np.ndarray) -> None:
    """The chin's flat shadow on the neck (drawn before the head covers the rest)."""
    cv.clipped(LABEL["skin_shadow"], (LABEL["skin"],), polys=[contour + np.array([0.03 * g.R, 0.16 * g.R])])


# ============================================================================ hair


@dataclass(frozen=True)
class _HairStyle:
    """A hair style: its hairline (front hair's lower edge by azimuth), volume and extra parts."""

    fringe: tuple[tuple[float, float, bool], ...]  # (phi, y, sharp) of the bangs, phi ascending
    side: tuple[tuple[float, float, bool], ...]  # (phi, y, sharp) from the temple to the back, phi > 0
    flare: float = 0.0  # hair widens by this (head units) per R below the cranium centre
    back: str = "short"  # back hair mass: short, long, bob, spiky
    spikes: bool = False  # spiky cap silhouette
    tails: tuple[float, ...] = ()  # azimuths of tails (ponytail 180, twin tails +-110)
    locks: bool = False  # long locks falling over the shoulders


def _fringe(
    notches: Sequence[float],
    tips: Sequence[tuple[float, float]],
    notch_y: Sequence[float],
    bulge: float = 0.12,
) -> tuple[tuple[float, float, bool], ...]:
    """Bang strands between notches: each from a notch to a pointed tip (lean, y) to the next notch.

    `bulge` > 0 bends the strand edges inwards, so the tips are sharp."""
    out: list[tuple[float, float, bool]] = []
    for k in range(len(notches) - 1):
        a, b = notches[k], notches[k + 1]
        ya, yb = notch_y[k], notch_y[k + 1]
        lean, ty = tips[k]
        tp = a + lean * (b - a)
        out.append((a, ya, True))
        out.append((a + (0.5 + bulge) * (tp - a), ya + (0.5 - bulge) * (ty - ya), False))
        out.append((tp, ty, True))
        out.append((b - (0.5 + bulge) * (b - tp), yb + (0.5 - bulge) * (ty - yb), False))
    out.append((notches[-1], notch_y[-1], True))
    return tuple(out)


_EAR_GAP = ((86.0, 0.2, True), (103.0, 0.2, True))
HAIR: tuple[_HairStyle, ...] = (
    # short
    _HairStyle(
        fringe=_fringe(
            [-66, -44, -20, 4, 26, 48, 66],
            [(0.5, 0.02), (0.55, -0.1), (0.6, -0.14), (0.45, -0.12), (0.45, -0.08), (0.5, 0.04)],
            [-0.1, -0.42, -0.5, -0.55, -0.5, -0.42, -0.1],
        ),
        side=(
            (72.0, 0.5, True),
            (82.0, 0.42, True),
            *_EAR_GAP,
            (112.0, 0.6, False),
            (140.0, 0.78, False),
            (180.0, 0.82, False),
        ),
    ),
    # long
    _HairStyle(
        fringe=_fringe(
            [-64, -42, -18, 0, 18, 42, 64],
            [(0.45, 0.05), (0.4, -0.06), (0.35, -0.12), (0.65, -0.12), (0.6, -0.06), (0.55, 0.05)],
            [0.0, -0.4, -0.5, -0.72, -0.5, -0.4, 0.0],
        ),
        side=((68.0, 0.25, True), (80.0, 0.3, True), *_EAR_GAP, (112.0, 0.7, False), (180.0, 0.75, False)),
        back="long",
        locks=True,
    ),
    # ponytail (swept bangs)
    _HairStyle(
        fringe=_fringe(
            [-66, -46, -24, -2, 22, 46, 66],
            [(0.8, 0.0), (0.8, -0.08), (0.85, -0.12), (0.85, -0.1), (0.8, -0.04), (0.7, 0.06)],
            [-0.1, -0.45, -0.52, -0.55, -0.5, -0.4, -0.1],
            bulge=0.05,
        ),
        side=((72.0, 0.62, True), (82.0, 0.5, True), *_EAR_GAP, (112.0, 0.5, False), (180.0, 0.6, False)),
        tails=(180.0,),
    ),
    # spiky
    _HairStyle(
        fringe=_fringe(
            [-68, -46, -24, -2, 20, 44, 68],
            [(0.3, 0.1), (0.25, -0.02), (0.35, -0.08), (0.65, -0.08), (0.7, -0.02), (0.75, 0.1)],
            [-0.2, -0.55, -0.62, -0.66, -0.62, -0.55, -0.2],
            bulge=0.2,
        ),
        side=(
            (74.0, 0.62, True),
            (80.0, 0.3, True),
            (84.0, 0.5, True),
            *_EAR_GAP[1:],
            (112.0, 0.55, True),
            (125.0, 0.5, True),
            (140.0, 0.85, True),
            (180.0, 0.8, False),
        ),
        back="spiky",
        spikes=True,
    ),
    # twin tails
    _HairStyle(
        fringe=_fringe(
            [-64, -40, -14, 14, 40, 64],
            [(0.5, 0.0), (0.5, -0.1), (0.5, -0.14), (0.5, -0.1), (0.5, 0.0)],
            [-0.1, -0.45, -0.5, -0.5, -0.45, -0.1],
        ),
        side=((72.0, 0.72, True), (82.0, 0.6, True), *_EAR_GAP, (112.0, 0.55, False), (180.0, 0.6, False)),
        tails=(-112.0, 112.0),
    ),
    # bob (blunt fringe, sides to the jaw)
    _HairStyle(
        fringe=(
            (-52.0, -0.08, True),
            (-30.0, -0.12, True),
            (-26.0, -0.2, True),
            (-22.0, -0.12, True),
            (22.0, -0.12, True),
            (26.0, -0.2, True),
            (30.0, -0.12, True),
            (52.0, -0.08, True),
        ),
        side=(
            (55.0, -0.06, True),
            (63.0, 0.3, False),
            (67.0, 1.02, True),
            (83.0, 1.06, True),
            *_EAR_GAP,
            (110.0, 1.06, True),
            (180.0, 1.06, False),
        ),
        flare=0.14,
        back="bob",
    ),
)


def _hairline(style: _HairStyle) -> np.ndarray:
    """(phi, y, sharp) of the front hair's lower edge all around the head, phi ascending in [-180, 180]."""
    right = list(style.side)
    left = [(-p, y, s) for p, y, s in reversed(right)]
    return np.array(left + list(style.fringe) + right, dtype=np.float64)


def _hair_radius(style: _HairStyle, y: np.ndarray | float) -> np.ndarray:
    """Hair cylinder radius (head units) at height y: the hair sphere above the cranium centre, flared below."""
    y = np.asarray(y, dtype=np.float64)
    above = np.sqrt(np.maximum(HAIR_R**2 - np.minimum(y, 0.0) ** 2, 0.0))
    return np.where(y < 0.0, above, HAIR_R + style.flare * np.clip(y, 0.0, 1.2))


def _front_hair(g: _Geometry, style: _HairStyle) -> np.ndarray:
    """The front hair polygon: cap, bangs and sidelocks, cut where the hairline meets the silhouette."""
    line = _hairline(style)
    lo, hi = -90.0 - g.yaw, 90.0 - g.yaw
    phi, ys, sharp = line[:, 0], line[:, 1], line[:, 2]
    # the hairline periodic in phi: extend by one turn each way, then cut at the silhouette
    phi3 = np.concatenate([phi - 360, phi, phi + 360])
    ys3, sh3 = np.tile(ys, 3), np.tile(sharp, 3)
    inside = (phi3 > lo) & (phi3 < hi)
    y_lo, y_hi = float(np.interp(lo, phi3, ys3)), float(np.interp(hi, phi3, ys3))
    edge = (
        [(lo, y_lo, True)]
        + [(p, y, bool(s)) for p, y, s in zip(phi3[inside], ys3[inside], sh3[inside], strict=True)]
        + [(hi, y_hi, True)]
    )
    # the hairline in head units, smoothed in (phi, y) then projected
    edge_curve = _curve(edge, closed=False, n=5)
    ex = _hair_radius(style, edge_curve[:, 1]) * np.sin(np.radians(edge_curve[:, 0] + g.yaw))
    hairline = g.pts(np.stack([ex, edge_curve[:, 1]], axis=1))
    # the outer silhouette: right side up from y_hi, over the top, left side down to y_lo
    outer = _hair_outline(style, y_hi, y_lo)
    return np.vstack([g.pts(outer), hairline])


def _hair_outline(style: _HairStyle, y_right: float, y_left: float) -> np.ndarray:
    """The cap's outer silhouette from the right side at y_right, over the top, to the left at y_left."""
    pts: list[tuple[float, float]] = []
    ys = np.linspace(y_right, 0.0, 6) if y_right > 0 else np.array([])
    pts += [(float(_hair_radius(style, y)), float(y)) for y in ys]
    a0 = math.degrees(math.asin(min(1.0, max(-y_right, 0.0) / HAIR_R)))
    a1 = 180.0 - math.degrees(math.asin(min(1.0, max(-y_left, 0.0) / HAIR_R)))
    if style.spikes:
        pts += _spiky_arc(a0, a1)
    else:
        angles = np.linspace(a0, a1, 25)
        pts += [(HAIR_R * math.cos(math.radians(a)), -HAIR_R * math.sin(math.radians(a))) for a in angles]
    ys = np.linspace(0.0, y_left, 6) if y_left > 0 else np.array([])
    pts += [(-float(_hair_radius(style, y)), float(y)) for y in ys]
    return np.array(pts)


SPIKES = ((10.0, 1.36), (38.0, 1.5), (66.0, 1.56), (94.0, 1.56), (122.0, 1.52), (150.0, 1.48), (176.0, 1.36))


def _spiky_arc(a0: float, a1: float) -> list[tuple[float, float]]:
    """The spiky cap's silhouette from angle a0 to a1 (degrees, 0 = right): sharp tips leaning back-left."""
    pts: list[tuple[float, float]] = []
    valley = HAIR_R - 0.02
    last = a0
    for angle, radius in SPIKES:
        if not a0 < angle < a1:
            continue
        for a, r in ((0.5 * (last + angle) if last > a0 else a0, valley), (angle + 9.0, radius)):
            pts.append((r * math.cos(math.radians(a)), -r * math.sin(math.radians(a))))
        last = angle
    pts.append((valley * math.cos(math.radians(a1)), -valley * math.sin(math.radians(a1))))
    return pts


def _back_hair(g: _Geometry, style: _HairStyle) -> list[np.ndarray]:
    """The hair mass behind the head (and the body, for long hair), shifted back as the head turns."""
    back = -0.12 * math.sin(math.radians(g.yaw))
    r = HAIR_R - 0.01  # the top stays hidden behind the front hair; the lower parts shift back
    top = [(r * math.cos(math.radians(a)), -r * math.sin(math.radians(a))) for a in range(0, 181, 15)]
    if style.back == "long":
        pts = [(back + 1.38, 2.3), (back + 1.25, 1.0), *top, (back - 1.25, 1.0), (back - 1.38, 2.3)]
    elif style.back == "bob":
        pts = [
            (back + 0.9, 0.98),
            (back + 1.2, 1.06),
            (back + 1.25, 0.6),
            *top,
            (back - 1.25, 0.6),
            (back - 1.2, 1.06),
            (back - 0.9, 0.98),
        ]
    elif style.back == "spiky":
        side = [
            (1.0, 1.0, True),
            (1.12, 0.62),
            (1.52, 0.72, True),
            (1.18, 0.28),
            (1.56, 0.2, True),
            (1.1, 0.02),
        ]
        front = math.cos(math.radians(g.yaw))  # no spikes stick out in front of a turned face
        right = [(1.1 + front * (x - 1.1) if x > 1.3 else x, y, *f) for x, y, *f in side]
        pts = [(back + 0.6, 0.95)] + [(back + x, y, *f) for x, y, *f in right] + top[1:-1]
        pts += [(back - x, y, *f) for x, y, *f in reversed(side)] + [(back - 0.6, 0.95)]
    else:  # short
        pts = [(back + 0.8, 0.85), (back + 1.08, 0.6), *top, (back - 1.08, 0.6), (back - 0.8, 0.85)]
    return [_curve([(*g.px(p[0], p[1]), *p[2:]) for p in pts])]


def _tail(g: _Geometry, phi: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """A tail (ponytail or one twin tail) hanging from azimuth phi: polygon, tie polygon, in front?"""
    s, cos = g.turn(phi)
    if abs(phi) >= 179.0:  # ponytail: high at the back; swings out to the back (viewer's left)
        ax, ay = s * (HAIR_R + 0.02), -0.62
        k = math.sin(math.radians(g.yaw))
        off = np.array([(0, 0), (-0.35, 0.2), (-0.5, 0.85), (-0.4, 1.55)])
        off[:, 0] += np.array([0, -0.62, -0.72, -0.62]) * (1 - k)
        widths = np.array([0.2, 0.3, 0.3, 0.0])
    else:  # twin tail: on the side of the head, hanging outwards
        ax, ay = s * (HAIR_R + 0.02), -0.42
        out = math.copysign(max(abs(s), 0.65), s if abs(s) > 1e-6 else -1.0)
        off = np.array([(0, 0), (0.4 * out, 0.15), (0.62 * out, 0.8), (0.5 * out, 1.5), (0.32 * out, 2.1)])
        widths = np.array([0.18, 0.32, 0.36, 0.28, 0.0])
    path = g.pts(_curve([(ax + x, ay + y) for x, y in off], closed=False, n=6))
    w = np.interp(np.linspace(0, 1, len(path)), np.linspace(0, 1, len(widths)), widths) * g.R
    tie = _ellipse(*g.px(ax, ay), 0.12 * g.R, 0.12 * g.R, n=16)
    return _ribbon(path, w), tie, cos > 0.25


def _locks(g: _Geometry) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Long hair's locks falling over the shoulders: (in front, behind the head)."""
    front, behind = [], []
    for side in (-1, 1):
        s, cos = g.turn(side * 74.0)
        ax = s * HAIR_R
        path = g.pts(
            _curve(
                [
                    (ax - 0.08 * side, 0.1),
                    (ax + 0.05 * side, 0.8),
                    (ax + 0.22 * side, 1.45),
                    (ax + 0.2 * side, 1.95),
                ],
                closed=False,
                n=8,
            )
        )
        w = np.interp(np.linspace(0, 1, len(path)), [0, 0.3, 0.7, 1], [0.14, 0.24, 0.2, 0.0]) * g.R
        if g.view != 2:  # in profile the long hair all falls behind the ear
            (front if cos > 0.1 else behind).append(_ribbon(path, w))
    return front, behind


def _draw_back_hair(cv: _Canvas, g: _Geometry, style: _HairStyle) -> None:
    """Back hair mass, hidden tails and locks; the part behind the neck in the hair's shadow tone."""
    lw = g.width(LINE_W)
    behind: list[np.ndarray] = []
    for phi in style.tails:
        tail, tie, in_front = _tail(g, phi)
        if not in_front:
            behind.append(tail)
    if style.locks:
        behind += _locks(g)[1]
    cv.part(behind + _back_hair(g, style), LABEL["hair"], LABEL["hair_line"], lw)
    inner = np.array([g.px(-0.95, 0.55), g.px(0.95, 0.55), g.px(0.95, 2.6), g.px(-0.95, 2.6)])
    cv.clipped(LABEL["hair_shadow"], (LABEL["hair"],), polys=[inner])


def _draw_front_hair(cv: _Canvas, g: _Geometry, style: _HairStyle) -> None:
    """Locks on the near side, the cap with bangs, then tails hanging on the near side and their ties."""
    lw = g.width(LINE_W)
    if style.locks:
        cv.part(_locks(g)[0], LABEL["hair"], LABEL["hair_line"], lw)
    cv.part([_front_hair(g, style)], LABEL["hair"], LABEL["hair_line"], lw)
    ties = []
    for phi in style.tails:
        tail, tie, in_front = _tail(g, phi)
        if in_front:
            cv.part([tail], LABEL["hair"], LABEL["hair_line"], lw)
        if in_front or g.view == 2:
            ties.append(tie)
    if ties:
        cv.part(ties, LABEL["hair_shadow"], LABEL["hair_line"], lw)


def _draw_forehead_shadow(cv: _Canvas, g: _Geometry, style: _HairStyle) -> None:
    """The bangs' flat shadow on the skin just below the hairline."""
    cv.clipped(
        LABEL["skin_shadow"], (LABEL["skin"],), polys=[_front_hair(g, style) + np.array([0.0, 0.1 * g.R])]
    )


# ============================================================================ face


@dataclass(frozen=True)
class _EyeShape:
    """Lids in eye units (u across from inner -1 to outer +1, v down, in half-heights)."""

    v_in: float  # inner corner height
    v_out: float  # outer corner height
    up: float  # upper lid rise at the centre
    up_p: float  # upper lid roundness exponent (small = flat)
    low: float  # lower lid drop at the centre
    low_p: float
    iris: tuple[float, float]  # iris half-size (u, v)
    height: float  # half-height scale


EYE_SHAPES_GEO = (
    _EyeShape(0.15, -0.05, 1.0, 0.5, 0.85, 0.7, (0.62, 0.86), 1.0),  # round
    _EyeShape(0.3, -0.5, 0.62, 0.45, 0.42, 0.7, (0.58, 0.8), 0.95),  # sharp
    _EyeShape(0.05, 0.28, 0.3, 0.3, 0.78, 0.7, (0.6, 0.84), 1.0),  # sleepy
)
_U = np.linspace(-1.0, 1.0, 21)


def _lids(shape: _EyeShape, expression: int) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower lid v along _U for an eye shape under an expression."""
    corner = shape.v_in * (1 - _U) / 2 + shape.v_out * (1 + _U) / 2
    bump = 1 - _U**2
    upper = corner - shape.up * bump**shape.up_p
    lower = corner + shape.low * bump**shape.low_p
    if expression == 1:  # happy: cheeks push the lower lid up into an arch
        lower = corner - 0.08 * bump**0.8
        lower = np.maximum(lower, upper + 0.25 * bump)
    elif expression == 2:  # worried: the outer lid droops
        upper = upper + 0.16 * (1 + _U) / 2 * bump**0.5
    elif expression == 3:  # angry: the lid slants down to the inner corner
        upper = np.maximum(upper, shape.v_in - 0.1 - 0.5 * (_U + 1))
    return upper, lower


def _draw_eye(cv: _Canvas, g: _Geometry, c: Character, side: int) -> None:
    """One eye (side -1: viewer's left): white, iris with lid shadow, pupil, highlight, lash and lid lines."""
    s, cos = g.turn(side * EYE_PHI)
    if cos < 0.2:
        return
    shape = EYE_SHAPES_GEO[int(c.eye_shape)]
    surprised = c.expression == 4
    hw = EYE_HALF_W * g.R * (1.06 if surprised else 1.0) * cos**FORESHORTEN
    hh = EYE_HALF_H * g.R * shape.height * (1.18 if surprised else 1.0)
    ex, ey = g.px(s * 0.98, EYE_Y)
    upper, lower = _lids(shape, int(c.expression))
    if surprised:
        upper, lower = upper - 0.1, lower + 0.08

    def to_px(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.stack([ex + side * u * hw, ey + v * hh], axis=1)

    white = np.vstack([to_px(_U, upper), to_px(_U[::-1], lower[::-1])])
    cv.clipped(LABEL["eye_white"], SKIN_PARTS, polys=[white])
    iu, iv = shape.iris
    if surprised:
        iu, iv = iu * 0.72, iv * 0.72
    icx, icy = ex, ey + 0.14 * hh
    iris = _ellipse(icx, icy, iu * hw, iv * hh * 0.95)
    cv.clipped(LABEL["iris"], (LABEL["eye_white"],), polys=[iris])
    band = np.vstack([to_px(_U, upper - 0.2), to_px(_U[::-1], (upper + 0.42)[::-1])])
    cv.clipped(LABEL["iris_shadow"], (LABEL["iris"],), polys=[band])
    pk = 0.55 if surprised else 0.5
    cv.clipped(
        LABEL["pupil"],
        (LABEL["iris"], LABEL["iris_shadow"]),
        polys=[_ellipse(icx, icy + 0.08 * hh, pk * iu * hw, pk * iv * hh)],
    )
    hr = 0.3 * EYE_HALF_W * g.R
    hx, hy = icx - 0.3 * iu * hw - 0.1 * hr, icy - 0.35 * iv * hh
    cv.clipped(LABEL["highlight"], EYE_PARTS, polys=[_ellipse(hx, hy, hr * max(cos, 0.6), hr, n=16)])
    # lash line along the upper lid, thick at the outer corner with a small wing
    lash_path = to_px(np.append(_U[1:], 1.18), np.append(upper[1:], upper[-1] - 0.12))
    lash_w = np.linspace(0.3, 0.55, len(lash_path)) * g.width(LASH_W)
    lash_w[-1] = 0.1 * g.width(LASH_W)
    cv.clipped(
        LABEL["eye_line"], SKIN_PARTS + EYE_PARTS + (LABEL["highlight"],), polys=[_ribbon(lash_path, lash_w)]
    )
    if c.eye_shape == 2:  # sleepy: the heavy lid's fold above the lash
        fold = to_px(_U[4:-2], upper[4:-2] - 0.28)
        cv.clipped(LABEL["eye_line"], SKIN_PARTS, lines=[(fold, g.width(THIN_W))])
    low = to_px(_U[7:], lower[7:])
    cv.clipped(LABEL["eye_line"], SKIN_PARTS + EYE_PARTS, lines=[(low, g.width(THIN_W))])


BROWS = {  # expression -> (inner dy, outer dy, arch), head units (y down)
    0: (0.02, 0.0, 0.03),
    1: (-0.03, -0.03, 0.06),
    2: (-0.13, 0.06, -0.02),
    3: (0.13, -0.06, 0.0),
    4: (-0.14, -0.1, 0.06),
}


def _draw_brow(cv: _Canvas, g: _Geometry, c: Character, side: int) -> None:
    """One tapered brow above the eye; its tilt and height carry most of the expression."""
    s, cos = g.turn(side * EYE_PHI)
    if cos < 0.2:
        return
    inner, outer, arch = BROWS[int(c.expression)]
    ex, _ = g.px(s * 0.98, EYE_Y)
    hw = EYE_HALF_W * g.R * cos**FORESHORTEN
    xs = ex + side * np.array([-0.75, 0.25, 1.2]) * hw
    ys = g.cy + g.R * (BROW_Y + np.array([inner, 0.5 * (inner + outer) - arch, outer]))
    path = _curve(list(zip(xs, ys, strict=True)), closed=False, n=6)
    w = np.linspace(0.5, 0.22, len(path)) * g.width(BROW_W) * 1.0
    cv.clipped(LABEL["brow"], SKIN_PARTS, polys=[_ribbon(path, w)])


def _draw_mouth(cv: _Canvas, g: _Geometry, c: Character) -> None:
    """The mouth for the expression, foreshortened with the turn and clipped to the face."""
    s, cos = g.turn(0.0)
    mx, my = g.px(s * (0.94 - 0.08 * (1.0 - cos)), MOUTH_Y)
    hw = MOUTH_HALF_W * g.rx * max(cos, 0.5)
    R = g.R
    thin, lw = g.width(THIN_W), g.width(LINE_W) * 0.8
    e = int(c.expression)
    u = np.linspace(-1.0, 1.0, 13)
    if e == 0:  # neutral: a small, slightly smiling line
        path = np.stack([mx + 0.7 * hw * u, my + 0.025 * R * (1 - u**2)], axis=1)
        cv.clipped(LABEL["skin_line"], SKIN_PARTS, lines=[(path, lw)])
    elif e == 1:  # happy: a big open smile
        top = np.stack([mx + 1.15 * hw * u, my - 0.06 * R + 0.04 * R * u**2], axis=1)
        bottom = np.stack(
            [mx + 1.15 * hw * u[::-1], my - 0.02 * R + 0.24 * R * (1 - u[::-1] ** 2) ** 0.8], axis=1
        )
        poly = np.vstack([top, bottom])
        cv.clipped(LABEL["skin_line"], SKIN_PARTS, lines=[(np.vstack([poly, poly[:2]]), 2 * lw)])
        cv.clipped(LABEL["mouth"], SKIN_PARTS + (LABEL["skin_line"],), polys=[poly])
        tongue = _ellipse(mx + 0.1 * hw, my + 0.2 * R, 0.62 * hw, 0.1 * R)
        cv.clipped(LABEL["tongue"], (LABEL["mouth"],), polys=[tongue])
    elif e == 2:  # worried: a small wavy line
        path = np.stack([mx + 0.75 * hw * u, my + 0.035 * R * np.sin(u * 2.0 * math.pi) + 0.02 * R], axis=1)
        cv.clipped(LABEL["skin_line"], SKIN_PARTS, lines=[(path, lw)])
    elif e == 3:  # angry: gritted teeth in a frown
        top = np.stack([mx + 1.0 * hw * u, my - 0.02 * R - 0.07 * R * (1 - u**2)], axis=1)
        bottom = np.stack([mx + 1.0 * hw * u[::-1], my + 0.1 * R + 0.0 * u], axis=1)
        poly = np.vstack([top, bottom])
        cv.clipped(LABEL["skin_line"], SKIN_PARTS, lines=[(np.vstack([poly, poly[:2]]), 2 * lw)])
        cv.clipped(LABEL["teeth"], SKIN_PARTS + (LABEL["skin_line"],), polys=[poly])
        mid = np.array([(mx - 0.95 * hw, my + 0.035 * R), (mx + 0.95 * hw, my + 0.035 * R)])
        cv.clipped(LABEL["skin_line"], (LABEL["teeth"],), lines=[(mid, thin)])
    else:  # surprised: a small round "o"
        poly = _ellipse(mx + 0.0 * hw, my + 0.06 * R, 0.42 * hw, 0.13 * R, n=24)
        cv.clipped(LABEL["skin_line"], SKIN_PARTS, lines=[(np.vstack([poly, poly[:2]]), 2 * lw)])
        cv.clipped(LABEL["mouth"], SKIN_PARTS + (LABEL["skin_line"],), polys=[poly])


def _draw_face(cv: _Canvas, g: _Geometry, c: Character) -> None:
    """Nose, mouth, eyes and brows (the expression and eye-shape parts, all clipped to the face)."""
    _draw_nose(cv, g)
    _draw_mouth(cv, g, c)
    for side in (-1, 1):
        _draw_eye(cv, g, c, side)
        _draw_brow(cv, g, c, side)


# ============================================================================ public


def portrait_labels(c: Character, size: int = PORTRAIT_SIZE) -> np.ndarray:
    """uint8 [size*SUPERSAMPLE]^2: which part (`PARTS` index) every supersampled pixel shows.

    Depends on the shape factors only (never on a colour)."""
    g = _Geometry.of(c, size)
    style = HAIR[int(c.hair_style)]
    cv = _Canvas(size)
    _draw_back_hair(cv, g, style)
    _draw_body(cv, g)
    contour = _head_contour(g)
    _draw_neck_shadow(cv, g, contour)
    _draw_head(cv, g, contour)
    _draw_forehead_shadow(cv, g, style)
    _draw_face(cv, g, c)
    _draw_front_hair(cv, g, style)
    return np.asarray(cv.img)


def _dark(rgb: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(int(round(v * f)) for v in rgb)  # type: ignore[return-value]


def _line(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    d = _dark(rgb, LINE)
    return tuple(int(round(0.55 * a + 0.45 * b)) for a, b in zip(d, LINE_INK, strict=True))  # type: ignore[return-value]


def portrait_palette(c: Character) -> np.ndarray:
    """uint8 [len(PARTS), 3]: the colour of every part. Depends on the colour factors only."""
    hair, skin, eye, outfit = c.hair_rgb(), c.skin_rgb(), c.eye_rgb(), c.outfit_rgb()
    colours = {
        "background": c.portrait_background_rgb(),
        "hair": hair, "hair_shadow": _dark(hair, SHADOW), "hair_line": _line(hair),
        "skin": skin, "skin_shadow": _dark(skin, 0.86), "skin_line": _line(skin),
        "outfit": outfit, "outfit_shadow": _dark(outfit, SHADOW), "outfit_line": _line(outfit),
        "eye_white": WHITE, "iris": eye, "iris_shadow": _dark(eye, 0.62),
        "pupil": _line(eye), "highlight": WHITE, "eye_line": EYE_LINE_RGB,
        "brow": _line(hair), "mouth": MOUTH_RGB, "tongue": TONGUE_RGB, "teeth": WHITE,
    }  # fmt: skip
    return np.array([colours[name] for name in PARTS], dtype=np.uint8)


def face_box(c: Character, size: int = PORTRAIT_SIZE) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) output pixels, end exclusive: the face from above the highest brow to the chin.

    Every pixel that expression or eye shape can change lies inside (their parts are clipped to the skin)."""
    g = _Geometry.of(c, size)
    contour = _head_contour(g)
    top = g.cy + FACE_TOP * g.R
    face = contour[contour[:, 1] >= top]
    x0, x1 = face[:, 0].min(), face[:, 0].max()
    y1 = face[:, 1].max()
    s = SUPERSAMPLE
    return (max(0, math.floor(x0 / s) - 1), max(0, math.floor(top / s) - 1),
            min(size, math.ceil(x1 / s) + 1), min(size, math.ceil(y1 / s) + 1))  # fmt: skip


def draw_portrait(c: Character, size: int = PORTRAIT_SIZE) -> np.ndarray:
    """uint8 [size, size, 3] RGB: the anime bust portrait of `c` (deterministic)."""
    img = Image.fromarray(portrait_labels(c, size), mode="P")
    img.putpalette(portrait_palette(c).tobytes())
    return np.asarray(img.convert("RGB").reduce(SUPERSAMPLE))
