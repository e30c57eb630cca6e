"""Band-mixed training batches: w+ rows from several characters, and the cast's drawing of that mixture.

Each sample takes up to three random characters (every class equally likely). Some characters are blended
with another one, or pulled toward the cast's mean w (the truncation trick); then every row group takes its
rows from one of them. The target is the drawing of the character whose factors are read off the rows that
own them (`description.decode`), so blends, ψ < 1 and rows from different characters all have a defined
picture the network learns. A little Gaussian noise on w makes the network tolerant of the small errors of
the fitted mapping network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from renderer.cast.description import (
    FACTOR_DIMS,
    FACTOR_SLICES,
    LAYOUT,
    W_DIM,
    W_GAIN,
    Character,
    decode,
    encode,
    random_character,
    seed_factors,
)
from renderer.training.configs import CastNetworkConfig

MIX_SOURCES = 3  # characters per sample
P_SINGLE = 0.4  # share of samples whose rows all come from one character
P_BLEND = 0.2  # chance that a character is blended with another one (weight U(0, 1))
P_TRUNCATE = 0.25  # chance that a character is pulled toward the mean (ψ ~ U(PSI_MIN, 1))
PSI_MIN = 0.3
W_NOISE = 0.05  # σ of the Gaussian noise added to every w entry


def drawing_function(config: CastNetworkConfig) -> Callable[[Character], np.ndarray]:
    """Character → uint8 [res, res, 3] for the config's drawing."""
    res = int(config.init_kwargs["img_resolution"])
    if config.drawing == "portrait":
        from renderer.cast.portrait import draw_portrait

        return functools.partial(draw_portrait, size=res)
    if config.drawing == "walk-sheet":
        from renderer.cast.walk_sheet import SHEET_CANVAS, draw_walk_sheet

        if res != SHEET_CANVAS:
            raise ValueError(f"walk sheets are drawn on a {SHEET_CANVAS}-px canvas, the network draws {res} px")
        return draw_walk_sheet
    raise ValueError(f"unknown drawing {config.drawing!r}")


@functools.lru_cache(maxsize=1)
def mean_factors(samples: int = 4096) -> np.ndarray:
    """float64 [FACTOR_DIMS]: the mean encoded character over seeds 0..samples-1 (the cast's w_avg / W_GAIN)."""
    total = np.zeros(FACTOR_DIMS)
    for seed in range(samples):
        total += seed_factors(np.random.RandomState(seed).randn(W_DIM))
    return total / samples


@dataclass
class Batch:
    ws: np.ndarray  # float32 [N, num_ws, W_DIM]
    images: np.ndarray  # uint8 [N, H, W, 3]
    characters: list[Character]


def compose(config: CastNetworkConfig, group_factors: list[np.ndarray]) -> tuple[np.ndarray, Character]:
    """ws [num_ws, W_DIM] and the drawn character for one factor vector per row group (no noise)."""
    ws = np.zeros((config.num_ws, W_DIM), dtype=np.float32)
    for row, gi in enumerate(config.group_of_row()):
        ws[row, :FACTOR_DIMS] = W_GAIN * group_factors[gi]
    f = np.array(group_factors[0], dtype=np.float64)
    for name, _, _ in LAYOUT:
        gi = config.group_of_factor(name)
        if gi is not None:
            f[FACTOR_SLICES[name]] = group_factors[gi][FACTOR_SLICES[name]]
    return ws, decode(f)


def sample_factors(rng: np.random.RandomState, config: CastNetworkConfig) -> list[np.ndarray]:
    """One factor vector per row group, band-mixed / blended / truncated at random."""
    sources = [encode(random_character(rng)).astype(np.float64) for _ in range(MIX_SOURCES)]
    mean = mean_factors()
    for k in range(MIX_SOURCES):
        if rng.uniform() < P_BLEND:
            other = encode(random_character(rng)).astype(np.float64)
            sources[k] = sources[k] + rng.uniform() * (other - sources[k])
        if rng.uniform() < P_TRUNCATE:
            psi = rng.uniform(PSI_MIN, 1.0)
            sources[k] = mean + psi * (sources[k] - mean)
    if rng.uniform() < P_SINGLE:
        return [sources[0]] * len(config.groups)
    return [sources[int(rng.randint(MIX_SOURCES))] for _ in config.groups]


def sample_batch(rng: np.random.RandomState, config: CastNetworkConfig, size: int) -> tuple[np.ndarray, list[Character]]:
    """The w+ (float32 [size, num_ws, W_DIM], noise added) and characters of a band-mixed batch, not yet drawn.

    All of a batch's randomness is drawn here; drawing the characters takes none, so the drawings can be
    made anywhere (e.g. in worker processes, `batch_stream`) and the batch stays the same.
    """
    ws, chars = [], []
    for _ in range(size):
        w, c = compose(config, sample_factors(rng, config))
        ws.append(w + rng.normal(0.0, W_NOISE, size=w.shape).astype(np.float32))
        chars.append(c)
    return np.stack(ws), chars


def training_batch(rng: np.random.RandomState, config: CastNetworkConfig, size: int, draw: Callable) -> Batch:
    """A band-mixed batch (see the module docstring), drawn here; deterministic given the RandomState."""
    ws, chars = sample_batch(rng, config, size)
    return Batch(ws, np.stack([draw(c) for c in chars]), chars)


def heldout_batch(config: CastNetworkConfig, size: int, mixed: bool, seed: int = 900_001) -> Batch:
    """Fixed evaluation characters (never a training RandomState): plain, or bands from three characters.

    mixed=True takes the coarse, middle and fine row groups from three different characters (the issue's
    "rows 0-3 / 4-7 / 8+" test, by the editor's bands).
    """
    from renderer.nets.contract import band_of_row

    rng = np.random.RandomState(seed + (1 if mixed else 0))
    draw = drawing_function(config)
    ws, images, chars = [], [], []
    for _ in range(size):
        trio = [encode(random_character(rng)).astype(np.float64) for _ in range(3)]
        if mixed:
            band_index = {"coarse": 0, "middle": 1, "fine": 2}
            factors = [trio[band_index[band_of_row(g.rows[0], config.num_ws)]] for g in config.groups]
        else:
            factors = [trio[0]] * len(config.groups)
        w, c = compose(config, factors)
        ws.append(w)
        images.append(draw(c))
        chars.append(c)
    return Batch(np.stack(ws), np.stack(images), chars)
