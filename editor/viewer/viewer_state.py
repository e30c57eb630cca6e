"""What the live viewer shows, as a plain value, and how it becomes a Recipe. No GUI, no torch.

Why a separate module: every gesture in the window (drag, slider, checkbox) only replaces this value;
the render thread turns it into pixels. Tests check the w it produces without opening a window.

The seed grid
-------------
Latent space is browsed on a 2-D grid of seeds. The grid is a torus of GRID_SIZE x GRID_SIZE cells:
integer cell (ix, iy) shows the seed

    seed(ix, iy) = (ix mod GRID_SIZE) + (iy mod GRID_SIZE) * GRID_SIZE      (GRID_SIZE = 65536)

so row 0 holds seeds 0, 1, 2, ... ("seed 42" sits at (42, 0)), and every 32-bit seed appears exactly
once. A fractional position (x, y) shows the bilinear blend of the w of the four surrounding cells:
with fx = x - floor(x), fy = y - floor(y), the weights are (1-fx)(1-fy), fx(1-fy), (1-fx)fy, fx*fy.
Truncation (w_avg + psi * (w - w_avg) on rows < cutoff) is affine with weights summing to one, so
blending truncated w is the same as truncating the blended w.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from renderer.errors import LatentError
from renderer.latents import Recipe, RowEdit, SeedSource, Source, WSource

GRID_SIZE = 1 << 16  # cells per grid side; GRID_SIZE**2 == 2**32 seeds


@dataclass(frozen=True)
class ViewerState:
    """Everything that decides the rendered w: grid position, truncation and style mix."""

    x: float = 0.0
    y: float = 0.0
    psi: float = 0.7
    cutoff: int | None = None  # truncate rows < cutoff; None = every row
    class_idx: int | None = None  # conditional networks only
    mix_seed: int = 1
    mix_rows: tuple[bool, ...] = field(default_factory=tuple)  # True: row taken from mix_seed

    @staticmethod
    def initial(num_ws: int, seed: int = 0, psi: float = 0.7) -> ViewerState:
        """A state showing `seed` with no mixed rows, sized for a network with `num_ws` rows."""
        x, y = position_of_seed(seed)
        return ViewerState(x=float(x), y=float(y), psi=psi, mix_rows=(False,) * num_ws)

    @property
    def nearest_seed(self) -> int:
        """Seed of the grid cell nearest to the position (what the status line shows)."""
        return grid_seed(math.floor(self.x + 0.5), math.floor(self.y + 0.5))

    @property
    def on_grid_point(self) -> bool:
        return float(self.x).is_integer() and float(self.y).is_integer()

    def moved_to(self, x: float, y: float) -> ViewerState:
        """Copy at (x, y), wrapped into [0, GRID_SIZE) so long drags keep float precision."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise LatentError(f"grid position ({x}, {y}) is not a finite point")
        return replace(self, x=float(x) % GRID_SIZE, y=float(y) % GRID_SIZE)

    def moved_by(self, dx: float, dy: float) -> ViewerState:
        """Copy moved by (dx, dy) cells (drag, animation), wrapped around the grid."""
        return self.moved_to(self.x + dx, self.y + dy)

    def at_seed(self, seed: int) -> ViewerState:
        """Copy placed exactly on the cell of `seed`."""
        x, y = position_of_seed(seed)
        return replace(self, x=float(x), y=float(y))

    def with_mix_row(self, row: int, on: bool) -> ViewerState:
        rows = list(self.mix_rows)
        if not 0 <= row < len(rows):
            raise LatentError(f"row {row} is out of range: this network has rows 0-{len(rows) - 1}")
        rows[row] = bool(on)
        return replace(self, mix_rows=tuple(rows))

    def seed_source(self, seed: int) -> SeedSource:
        """The SeedSource of `seed` under this state's truncation."""
        return SeedSource(seed=seed, psi=float(self.psi), cutoff=self.cutoff, class_idx=self.class_idx)


def grid_seed(ix: int, iy: int) -> int:
    """Seed shown by integer grid cell (ix, iy): (ix mod G) + (iy mod G) * G with G = GRID_SIZE."""
    return (int(ix) % GRID_SIZE) + (int(iy) % GRID_SIZE) * GRID_SIZE


def position_of_seed(seed: int) -> tuple[int, int]:
    """The grid cell (ix, iy) in [0, GRID_SIZE)^2 that shows `seed` (inverse of grid_seed)."""
    if not 0 <= int(seed) < GRID_SIZE * GRID_SIZE:
        raise LatentError(
            f"seed {seed} is out of range: use an integer from 0 to {GRID_SIZE * GRID_SIZE - 1}"
        )
    return int(seed) % GRID_SIZE, int(seed) // GRID_SIZE


def grid_corners(x: float, y: float) -> list[tuple[int, float]]:
    """(seed, weight) of the grid cells around (x, y) with non-zero bilinear weight; weights sum to 1."""
    if not (math.isfinite(x) and math.isfinite(y)):
        raise LatentError(f"grid position ({x}, {y}) is not a finite point")
    x0, y0 = math.floor(x), math.floor(y)
    fx, fy = x - x0, y - y0
    corners = [
        (grid_seed(x0, y0), (1.0 - fx) * (1.0 - fy)),
        (grid_seed(x0 + 1, y0), fx * (1.0 - fy)),
        (grid_seed(x0, y0 + 1), (1.0 - fx) * fy),
        (grid_seed(x0 + 1, y0 + 1), fx * fy),
    ]
    return [(seed, w) for seed, w in corners if w > 0.0]


def blended_w(state: ViewerState, resolve: Callable[[Source], np.ndarray]) -> np.ndarray:
    """The base w [num_ws, w_dim] at the state's grid position (truncated, before the style mix)."""
    corners = grid_corners(state.x, state.y)
    if len(corners) == 1:
        return np.asarray(resolve(state.seed_source(corners[0][0])), dtype=np.float32)
    out = None
    for seed, weight in corners:
        w = np.asarray(resolve(state.seed_source(seed)), dtype=np.float64) * weight
        out = w if out is None else out + w
    return out.astype(np.float32)


def base_source(state: ViewerState, resolve: Callable[[Source], np.ndarray]) -> Source:
    """The recipe base: the seed itself on a grid point, else the blended w as an explicit source."""
    corners = grid_corners(state.x, state.y)
    if len(corners) == 1:
        return state.seed_source(corners[0][0])
    label = f"grid ({state.x:.3f}, {state.y:.3f}) ψ {state.psi:.2f}"
    return WSource(w=blended_w(state, resolve), label=label, kind="w")


def build_recipe(state: ViewerState, resolve: Callable[[Source], np.ndarray], num_ws: int) -> Recipe:
    """ViewerState -> Recipe: the grid base, with every checked row replaced by the mix seed's row."""
    if len(state.mix_rows) != num_ws:
        raise LatentError(
            f"the viewer has {len(state.mix_rows)} mix rows but the network has {num_ws} w rows"
        )
    recipe = Recipe.plain(base_source(state, resolve), num_ws)
    rows = mixed_rows(state)
    if rows:
        recipe = recipe.with_rows(rows, RowEdit(source=state.seed_source(state.mix_seed), mode="replace"))
    return recipe


def mixed_rows(state: ViewerState) -> list[int]:
    """Indices of the rows taken from the mix seed."""
    return [i for i, on in enumerate(state.mix_rows) if on]


def rows_from(indices: Sequence[int], num_ws: int) -> tuple[bool, ...]:
    """Mix-row mask with `indices` checked (presets such as 'coarse rows')."""
    mask = [False] * num_ws
    for i in indices:
        if not 0 <= i < num_ws:
            raise LatentError(f"row {i} is out of range: this network has rows 0-{num_ws - 1}")
        mask[i] = True
    return tuple(mask)


def cells_per_pixel(image_width_px: float, cells_across: float = 4.0) -> float:
    """Drag scale: dragging across the whole displayed image moves `cells_across` grid cells."""
    return cells_across / max(float(image_width_px), 1.0)


def animation_step(dt_s: float, speed_cells_per_s: float, angle_deg: float = 0.0) -> tuple[float, float]:
    """Grid displacement (dx, dy) of one animation tick of `dt_s` seconds along `angle_deg`."""
    dist = float(dt_s) * float(speed_cells_per_s)
    a = math.radians(angle_deg)
    return dist * math.cos(a), dist * math.sin(a)
