"""A character of the procedural cast: the factors both drawings read, and their encoding as a w vector.

Why one description: the portrait and the walk sheet are drawn from the same `Character`, so the same
person is recognisable in both, and both trained networks share one latent space (seed 7 is the same
character in the portrait and the sprite network).

Factors, by the editor's row band that controls them:
- coarse: head turn, hair style (discrete); head shape, body build (continuous, 0-1)
- middle: expression, eye shape, outfit style (discrete)
- fine:   colours in OKLab (Ottosson 2020): hair L,a,b; skin tone 0-1; eye a,b; outfit L,a,b; background a,b

Encoding (`encode`): one-hot vectors for discrete factors, scaled values for continuous ones, packed into
the first `FACTOR_DIMS` entries of a w of `W_DIM` floats (the rest stay 0). Any point of the convex hull
of encoded characters decodes (`decode`) to a character: a discrete factor takes the class with the largest
weight, a continuous factor its value. So blends, the truncation trick and mean-of-factor presets are all
characters the networks are trained to draw. No torch here: numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

HEAD_TURNS = ("front", "three-quarter", "side")
HAIR_STYLES = ("short", "long", "ponytail", "spiky", "twin-tails", "bob")
EXPRESSIONS = ("neutral", "happy", "worried", "angry", "surprised")
EYE_SHAPES = ("round", "sharp", "sleepy")
OUTFIT_STYLES = ("tunic", "robe", "dress", "armour")

# Seed-time class weights: distinct, so seeds show common classes more often and the mean w decodes to one
# "typical" class per factor (the first).
PRIORS: dict[str, tuple[float, ...]] = {
    "head_turn": (0.5, 0.3, 0.2),
    "hair_style": (0.24, 0.21, 0.17, 0.15, 0.13, 0.10),
    "expression": (0.36, 0.2, 0.16, 0.15, 0.13),
    "eye_shape": (0.45, 0.32, 0.23),
    "outfit_style": (0.34, 0.27, 0.22, 0.17),
}
CLASSES: dict[str, tuple[str, ...]] = {
    "head_turn": HEAD_TURNS,
    "hair_style": HAIR_STYLES,
    "expression": EXPRESSIONS,
    "eye_shape": EYE_SHAPES,
    "outfit_style": OUTFIT_STYLES,
}

# OKLab ranges of the colour factors.
CHROMA_MAX = 0.16  # a, b in [-CHROMA_MAX, CHROMA_MAX] map to [-1, 1] in the encoding
HAIR_L = (0.3, 0.88)
OUTFIT_L = (0.35, 0.8)
EYE_L = 0.52
PORTRAIT_BACKGROUND_L = 0.86
SPRITE_BACKGROUND_L = 0.93
SKIN_LIGHT = (0.93, 0.018, 0.035)  # OKLab of skin tone 0 (pale) ...
SKIN_DARK = (0.55, 0.045, 0.07)  # ... and of skin tone 1 (dark)

W_DIM = 64
W_GAIN = 2.0  # encoded factors are multiplied by this in w (one-hots become 0 / 2)


@dataclass(frozen=True)
class Character:
    """One member of the procedural cast. Discrete factors are class indices, continuous ones floats."""

    head_turn: int = 0
    hair_style: int = 0
    head_shape: float = 0.5  # 0 narrow and pointed chin ... 1 wide and round
    body_build: float = 0.5  # 0 slight ... 1 broad
    expression: int = 0
    eye_shape: int = 0
    outfit_style: int = 0
    hair: tuple[float, float, float] = (0.5, 0.05, 0.05)  # OKLab L, a, b
    skin: float = 0.2  # 0 pale ... 1 dark
    eyes: tuple[float, float] = (0.0, -0.1)  # OKLab a, b (L fixed)
    outfit: tuple[float, float, float] = (0.5, -0.05, -0.08)  # OKLab L, a, b
    background: tuple[float, float] = (0.0, 0.0)  # OKLab a, b (L fixed per drawing)

    def __post_init__(self) -> None:
        for name, classes in CLASSES.items():
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and 0 <= int(value) < len(classes)):
                raise ValueError(f"{name} must be a class index 0-{len(classes) - 1}, got {value!r}")

    # ---- colours as sRGB uint8 triples, for the drawings
    def hair_rgb(self) -> tuple[int, int, int]:
        return oklab_to_srgb8(*self.hair)

    def skin_rgb(self) -> tuple[int, int, int]:
        t = float(np.clip(self.skin, 0.0, 1.0))
        return oklab_to_srgb8(*(lo + t * (hi - lo) for lo, hi in zip(SKIN_LIGHT, SKIN_DARK, strict=True)))

    def eye_rgb(self) -> tuple[int, int, int]:
        return oklab_to_srgb8(EYE_L, *self.eyes)

    def outfit_rgb(self) -> tuple[int, int, int]:
        return oklab_to_srgb8(*self.outfit)

    def portrait_background_rgb(self) -> tuple[int, int, int]:
        return oklab_to_srgb8(PORTRAIT_BACKGROUND_L, 0.5 * self.background[0], 0.5 * self.background[1])

    def sprite_background_rgb(self) -> tuple[int, int, int]:
        return oklab_to_srgb8(SPRITE_BACKGROUND_L, 0.25 * self.background[0], 0.25 * self.background[1])

    def describe(self) -> str:
        """'front, ponytail, happy, round eyes, dress' (for captions and logs)."""
        return ", ".join(
            [
                HEAD_TURNS[self.head_turn],
                HAIR_STYLES[self.hair_style],
                EXPRESSIONS[self.expression],
                f"{EYE_SHAPES[self.eye_shape]} eyes",
                OUTFIT_STYLES[self.outfit_style],
            ]
        )


# ----------------------------------------------------------------------------- colour

_M1 = np.array(
    [[1.0, 0.3963377774, 0.2158037573], [1.0, -0.1055613458, -0.0638541728], [1.0, -0.0894841775, -1.2914855480]]
)
_M2 = np.array(
    [
        [4.0767416621, -3.3077115913, 0.2309699292],
        [-1.2684380046, 2.6097574011, -0.3413193965],
        [-0.0041960863, -0.7034186147, 1.7076147010],
    ]
)


def oklab_to_srgb8(L: float, a: float, b: float) -> tuple[int, int, int]:
    """OKLab (Ottosson 2020, L 0-1) → sRGB uint8 triple, out-of-gamut values clipped."""
    lms = (_M1 @ np.array([L, a, b], dtype=np.float64)) ** 3
    lin = np.clip(_M2 @ lms, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    r, g, bl = (int(round(float(v) * 255)) for v in np.clip(srgb, 0.0, 1.0))
    return r, g, bl


# ----------------------------------------------------------------------------- the encoding

# (factor, number of w entries, band) in w order.
LAYOUT: tuple[tuple[str, int, str], ...] = (
    ("head_turn", 3, "coarse"),
    ("hair_style", 6, "coarse"),
    ("head_shape", 1, "coarse"),
    ("body_build", 1, "coarse"),
    ("expression", 5, "middle"),
    ("eye_shape", 3, "middle"),
    ("outfit_style", 4, "middle"),
    ("hair", 3, "fine"),
    ("skin", 1, "fine"),
    ("eyes", 2, "fine"),
    ("outfit", 3, "fine"),
    ("background", 2, "fine"),
)
FACTOR_DIMS = sum(n for _, n, _ in LAYOUT)
FACTOR_SLICES: dict[str, slice] = {}
_offset = 0
for _name, _n, _band in LAYOUT:
    FACTOR_SLICES[_name] = slice(_offset, _offset + _n)
    _offset += _n
FACTOR_BAND: dict[str, str] = {name: band for name, _, band in LAYOUT}
CONTINUOUS_FACTORS = tuple(name for name, _, _ in LAYOUT if name not in CLASSES)


def _lab_to_unit(lab: tuple[float, float, float], l_range: tuple[float, float]) -> list[float]:
    lo, hi = l_range
    return [2.0 * (lab[0] - lo) / (hi - lo) - 1.0, lab[1] / CHROMA_MAX, lab[2] / CHROMA_MAX]


def _unit_to_lab(u: np.ndarray, l_range: tuple[float, float]) -> tuple[float, float, float]:
    lo, hi = l_range
    L = lo + (float(np.clip(u[0], -1, 1)) + 1.0) * 0.5 * (hi - lo)
    return (L, *_chroma(u[1:3]))


def _chroma(u: np.ndarray) -> tuple[float, float]:
    a, b = float(u[0]) * CHROMA_MAX, float(u[1]) * CHROMA_MAX
    radius = math.hypot(a, b)
    if radius > CHROMA_MAX:  # stay inside the disc the cast samples from
        a, b = a * CHROMA_MAX / radius, b * CHROMA_MAX / radius
    return float(a), float(b)


def encode(c: Character) -> np.ndarray:
    """float32 [FACTOR_DIMS] in about [-1, 1]: one-hot classes, continuous factors scaled to [-1, 1]."""
    out = np.zeros(FACTOR_DIMS, dtype=np.float64)
    for name, _classes in CLASSES.items():
        out[FACTOR_SLICES[name].start + int(getattr(c, name))] = 1.0
    out[FACTOR_SLICES["head_shape"]] = 2.0 * c.head_shape - 1.0
    out[FACTOR_SLICES["body_build"]] = 2.0 * c.body_build - 1.0
    out[FACTOR_SLICES["hair"]] = _lab_to_unit(c.hair, HAIR_L)
    out[FACTOR_SLICES["skin"]] = 2.0 * c.skin - 1.0
    out[FACTOR_SLICES["eyes"]] = [c.eyes[0] / CHROMA_MAX, c.eyes[1] / CHROMA_MAX]
    out[FACTOR_SLICES["outfit"]] = _lab_to_unit(c.outfit, OUTFIT_L)
    out[FACTOR_SLICES["background"]] = [c.background[0] / CHROMA_MAX, c.background[1] / CHROMA_MAX]
    return out.astype(np.float32)


def decode(f: np.ndarray) -> Character:
    """The character at a point of factor space (argmax for classes, clipped values otherwise)."""
    f = np.asarray(f, dtype=np.float64).reshape(-1)[:FACTOR_DIMS]
    unit = lambda name: float(np.clip(f[FACTOR_SLICES[name]][0], -1.0, 1.0) * 0.5 + 0.5)  # noqa: E731
    return Character(
        **{name: int(np.argmax(f[FACTOR_SLICES[name]])) for name in CLASSES},
        head_shape=unit("head_shape"),
        body_build=unit("body_build"),
        hair=_unit_to_lab(f[FACTOR_SLICES["hair"]], HAIR_L),
        skin=unit("skin"),
        eyes=_chroma(f[FACTOR_SLICES["eyes"]]),
        outfit=_unit_to_lab(f[FACTOR_SLICES["outfit"]], OUTFIT_L),
        background=_chroma(f[FACTOR_SLICES["background"]]),
    )


def character_to_w(c: Character) -> np.ndarray:
    """float32 [W_DIM]: the w the cast networks draw `c` from."""
    w = np.zeros(W_DIM, dtype=np.float32)
    w[:FACTOR_DIMS] = W_GAIN * encode(c)
    return w


def w_to_character(w: np.ndarray) -> Character:
    """The character a cast network draws from one w row [W_DIM] (any float dtype)."""
    return decode(np.asarray(w, dtype=np.float64).reshape(-1)[:FACTOR_DIMS] / W_GAIN)


# ----------------------------------------------------------------------------- sampling


def _disc_point(rng: np.random.RandomState, r_min: float) -> tuple[float, float]:
    """A uniform hue with radius in [r_min, 1] of CHROMA_MAX (OKLab a, b)."""
    angle = rng.uniform(0.0, 2.0 * math.pi)
    radius = CHROMA_MAX * rng.uniform(r_min, 1.0)
    return float(radius * math.cos(angle)), float(radius * math.sin(angle))


def random_character(rng: np.random.RandomState, balanced: bool = True) -> Character:
    """A random cast member. balanced=True draws every class equally often (training); False uses PRIORS."""
    classes = {}
    for name, names in CLASSES.items():
        p = None if balanced else np.asarray(PRIORS[name])
        classes[name] = int(rng.choice(len(names), p=p))
    return Character(
        **classes,
        head_shape=float(rng.uniform()),
        body_build=float(rng.uniform()),
        hair=(float(rng.uniform(*HAIR_L)), *_disc_point(rng, 0.15)),
        skin=float(rng.uniform()),
        eyes=_disc_point(rng, 0.45),
        outfit=(float(rng.uniform(*OUTFIT_L)), *_disc_point(rng, 0.2)),
        background=_disc_point(rng, 0.0),
    )


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Φ(x) for float64 arrays (via erf), so z components become uniform numbers in (0, 1)."""
    from math import erf

    return np.vectorize(lambda v: 0.5 * (1.0 + erf(v / math.sqrt(2.0))))(np.asarray(x, dtype=np.float64))


# Which z components drive which factor (the seed → character rule the mapping network is fitted to).
_Z_CLASS: dict[str, int] = {}  # first of len(classes) consecutive components
_next = 0
for _name in CLASSES:
    _Z_CLASS[_name] = _next
    _next += len(CLASSES[_name])
_Z_UNIT = {name: _next + i for i, name in enumerate(("head_shape", "body_build", "skin", "hair_l", "outfit_l"))}
_next += len(_Z_UNIT)
_Z_PAIRS = {name: (_next + 2 * i, _next + 2 * i + 1) for i, name in enumerate(("hair", "eyes", "outfit", "background"))}
_Z_CHROMA = {"hair": 0.6, "eyes": 0.75, "outfit": 0.6, "background": 0.5}  # σ of a, b in units of CHROMA_MAX
Z_COMPONENTS_USED = _next + 2 * len(_Z_PAIRS)
CLASS_SHARPNESS = 8.0  # β of the class softmax in seed_factors (1/β: width of a class boundary in ẑ)


def seed_factors(z: np.ndarray) -> np.ndarray:
    """float64 [FACTOR_DIMS]: the factors of latent z [z_dim >= Z_COMPONENTS_USED], the mapping's target.

    z is normalised to unit second moment first (as the mapping does). A class factor with K classes reads K
    components: its encoding is softmax(β (ẑ_k + log PRIORS_k)), one-hot except near a tie of the two
    largest, where it is a blend of those two classes (decode takes the larger; the networks are trained
    on such blends). Rarer classes get a lower offset, so seeds show them less often. Continuous factors are
    Φ(ẑ_k); OKLab chroma (a, b) is linear in a pair of components, clipped to the chroma disc. All smooth, so
    a small MLP fits it.
    """
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    if z.size < Z_COMPONENTS_USED:
        raise ValueError(f"z needs at least {Z_COMPONENTS_USED} components, got {z.size}")
    zn = z / math.sqrt(float(np.mean(np.square(z))) + 1e-8)
    f = np.zeros(FACTOR_DIMS)
    for name, k in _Z_CLASS.items():
        logits = CLASS_SHARPNESS * (zn[k : k + len(CLASSES[name])] + np.log(PRIORS[name]))
        e = np.exp(logits - logits.max())
        f[FACTOR_SLICES[name]] = e / e.sum()
    u = normal_cdf(np.array([zn[i] for i in _Z_UNIT.values()]))
    unit = dict(zip(_Z_UNIT, u, strict=True))
    for name in ("head_shape", "body_build", "skin"):
        f[FACTOR_SLICES[name]] = 2.0 * unit[name] - 1.0
    for name, l_key in (("hair", "hair_l"), ("outfit", "outfit_l")):
        f[FACTOR_SLICES[name]] = [2.0 * unit[l_key] - 1.0, *_unit_chroma(zn, name)]
    for name in ("eyes", "background"):
        f[FACTOR_SLICES[name]] = _unit_chroma(zn, name)
    return f


def _unit_chroma(zn: np.ndarray, name: str) -> list[float]:
    i, j = _Z_PAIRS[name]
    a, b = _chroma(_Z_CHROMA[name] * np.array([zn[i], zn[j]]))
    return [a / CHROMA_MAX, b / CHROMA_MAX]


def character_from_z(z: np.ndarray) -> Character:
    """The character of latent z (see seed_factors); deterministic: "seed 7" is one character everywhere."""
    return decode(seed_factors(z))


def with_factor(c: Character, **changes: object) -> Character:
    """`c` with some factors replaced (a checked dataclasses.replace)."""
    names = {f.name for f in fields(Character)}
    unknown = set(changes) - names
    if unknown:
        raise ValueError(f"unknown factor(s) {sorted(unknown)}: choose from {sorted(names)}")
    return replace(c, **changes)
