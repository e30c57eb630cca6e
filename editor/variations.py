"""Children ("make variations") and crossbreeds of a recipe: pure numpy, no Qt, no torch.

Children: each child is the current recipe plus moves along directions in W (`DirectionEdit`s), so a child
is a plain recipe value: adopting it is an ordinary undoable edit, and sessions save it. Two kinds:
- "jitter": per band, one random direction in W (a standard normal vector shaped by the per-dimension
  spread of mapped w, made unit length), moved by strength · N(0, 1) σ, σ = the spread of w along it;
- "directions": per band, the band's top directions (SeFa / PCA), each moved by strength · N(0, 1) σ.
Strengths are per band (coarse / middle / fine), in σ; 0 leaves a band alone. The same seed gives the
same children (numpy's PCG64 generator, one stream per child).

Crossbreed: recipe A and recipe B combined band by band: every combination of "this band from A or B"
(2³ = 8 for coarse / middle / fine), A's row edits and direction moves on A's bands, B's on B's bands.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np

from renderer.errors import LatentError
from renderer.latents import DirectionEdit, Recipe, RowEdit, Source, WSource, evaluate_recipe
from renderer.nets.contract import BANDS, band_rows  # the panel and tests take both from here

KINDS = ("jitter", "directions")


@dataclass(frozen=True)
class VariationSettings:
    """What the children grid makes: `rows` × `cols` children, per-band strengths in σ, kind, seed."""

    rows: int = 4
    cols: int = 4
    strengths: tuple[float, float, float] = (0.0, 1.0, 1.0)  # coarse, middle, fine
    kind: str = "jitter"
    seed: int = 0

    def __post_init__(self) -> None:
        if not (1 <= self.rows <= 16 and 1 <= self.cols <= 16):
            raise LatentError(f"a children grid is 1-16 by 1-16, got {self.rows} x {self.cols}")
        if self.kind not in KINDS:
            raise LatentError(f"unknown kind of variation {self.kind!r}: use 'jitter' or 'directions'")
        if len(self.strengths) != 3 or not all(np.isfinite(s) and s >= 0 for s in self.strengths):
            raise LatentError(f"strengths must be three finite numbers >= 0 (coarse, middle, fine), got {self.strengths}")


def _random_axis(rng: np.random.Generator, spread: np.ndarray) -> np.ndarray:
    v = rng.standard_normal(spread.size) * spread
    n = float(np.linalg.norm(v))
    return (v / n if n > 0 else np.eye(spread.size)[0]).astype(np.float32)


def make_children(
    recipe: Recipe,
    settings: VariationSettings,
    w_cov: np.ndarray | None = None,
    band_directions: Mapping[str, Sequence[DirectionEdit]] | None = None,
) -> list[Recipe]:
    """rows·cols children of `recipe` (row-major), each the recipe plus direction moves; deterministic per seed.

    w_cov: float [w_dim, w_dim] covariance of mapped w (needed for kind 'jitter': the spread of the random
    axes and each axis's σ). band_directions: per band, the directions to move along (kind 'directions').
    Raises LatentError when the kind's input is missing.
    """
    rows_of = band_rows(recipe.num_ws)
    if settings.kind == "jitter":
        if w_cov is None:
            raise LatentError("jitter children need the covariance of mapped w (w_cov)")
        cov = np.asarray(w_cov, np.float64)
        spread = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    elif band_directions is None or (not band_directions and any(settings.strengths)):
        raise LatentError("children along directions need directions for at least one band: discover some first")
    children: list[Recipe] = []
    for child in range(settings.rows * settings.cols):
        rng = np.random.Generator(np.random.PCG64([int(settings.seed) & 0xFFFFFFFF, child]))
        moves: list[DirectionEdit] = []
        for band, strength in zip(BANDS, settings.strengths, strict=True):
            if strength == 0 or not rows_of[band]:
                continue
            if settings.kind == "jitter":
                axis = _random_axis(rng, spread)
                sigma = float(np.sqrt(max(float(axis @ cov @ axis), 0.0)))
                alpha = float(strength * rng.standard_normal())
                moves.append(
                    DirectionEdit(f"jitter {band}", tuple(rows_of[band]), axis, sigma, alpha, method="jitter")
                )
            else:
                for d in (band_directions or {}).get(band, ()):
                    alpha = float(strength * rng.standard_normal())
                    moves.append(replace(d, rows=tuple(rows_of[band]), alpha=alpha))
        children.append(replace(recipe, directions=recipe.directions + tuple(moves)))
    return children


# ----------------------------------------------------------------------------- crossbreed


def _restricted(d: DirectionEdit, rows: set[int]) -> DirectionEdit | None:
    keep = tuple(r for r in d.rows if r in rows)
    return replace(d, rows=keep) if keep else None


def _merge(entries: list[DirectionEdit]) -> tuple[DirectionEdit, ...]:
    """Entries that differ only in their rows become one (so A × A gives back A's entries)."""
    out: list[DirectionEdit] = []
    for e in entries:
        for i, o in enumerate(out):
            if (
                o.name == e.name
                and o.alpha == e.alpha
                and o.sigma == e.sigma
                and o.method == e.method
                and np.array_equal(o.vector, e.vector)
                and not set(o.rows) & set(e.rows)
            ):
                out[i] = replace(o, rows=tuple(sorted(o.rows + e.rows)))
                break
        else:
            out.append(e)
    return tuple(out)


def crossbreed(
    a: Recipe,
    b: Recipe,
    from_b: Sequence[str],
    resolve: Callable[[Source], np.ndarray] | None = None,
    b_label: str = "other",
) -> Recipe:
    """A with the rows of the bands in `from_b` taken from B (row edits and direction moves, band by band).

    Where B's row is relative to B's base and the bases differ (a kept or blended row), the child takes B's row
    from a WSource of B's evaluated rows (needs `resolve`, as for evaluate_recipe). LatentError if the recipes
    have different numbers of rows, a band name is unknown, or `resolve` is needed and missing.
    """
    if a.num_ws != b.num_ws:
        raise LatentError(f"cannot crossbreed a {a.num_ws}-row recipe with a {b.num_ws}-row one: use the same network")
    unknown = [x for x in from_b if x not in BANDS]
    if unknown:
        raise LatentError(f"unknown bands {unknown}: use coarse, middle, fine")
    rows_of = band_rows(a.num_ws)
    b_rows = {r for band in from_b for r in rows_of[band]}
    a_rows = set(range(a.num_ws)) - b_rows
    new_rows = list(a.rows)
    b_plain: WSource | None = None
    for r in sorted(b_rows):
        edit = b.rows[r]
        if b.base == a.base or edit.mode == "replace":
            new_rows[r] = edit
            continue
        if edit.mode == "keep":
            new_rows[r] = RowEdit(source=b.base, mode="replace")
            continue
        if resolve is None:
            raise LatentError("crossbreeding a blended row from another base needs the network (resolve)")
        if b_plain is None:
            w = evaluate_recipe(replace(b, directions=()), resolve)
            b_plain = WSource(w, label=f"{b_label} rows", kind="w")
        new_rows[r] = RowEdit(source=b_plain, mode="replace")
    entries = [e for e in (_restricted(d, a_rows) for d in a.directions) if e is not None]
    entries += [e for e in (_restricted(d, b_rows) for d in b.directions) if e is not None]
    return replace(a, rows=tuple(new_rows), directions=_merge(entries))


def crossbreed_grid(
    a: Recipe, b: Recipe, resolve: Callable[[Source], np.ndarray] | None = None, b_label: str = "other"
) -> list[tuple[str, Recipe]]:
    """Every band-by-band combination of A and B: [('A A A', A), ('A A B', ...), ..., ('B B B', ...)] (coarse, middle, fine)."""
    out = []
    for pick in product("AB", repeat=len(BANDS)):
        from_b = [band for band, p in zip(BANDS, pick, strict=True) if p == "B"]
        out.append((" ".join(pick), crossbreed(a, b, from_b, resolve, b_label)))
    return out


# ----------------------------------------------------------------------------- per-network statistics (cached)
# What the children grid needs from the network is found once per network and kept here, keyed by the
# network's fingerprint (never attached to the Engine or a widget). These two functions call the renderer
# (torch) lazily, on the render worker's thread; everything above stays pure numpy.

_STATS_LIMIT = 8  # networks' statistics kept (a few KB each for the small networks, w_dim² floats for w_cov)
_stats: OrderedDict[tuple, object] = OrderedDict()
_stats_lock = threading.Lock()


def _cached(key: tuple, compute: Callable[[], object]) -> object:
    with _stats_lock:
        if key in _stats:
            _stats.move_to_end(key)
            return _stats[key]
    value = compute()  # outside the lock: a slow first computation never blocks other networks' look-ups
    with _stats_lock:
        _stats[key] = value
        while len(_stats) > _STATS_LIMIT:
            _stats.popitem(last=False)
    return value


def clear_network_stats() -> None:
    """Forget every cached per-network statistic (tests; a network whose weights were changed in place)."""
    with _stats_lock:
        _stats.clear()


def w_covariance(network: Any, seeds: int = 2000) -> np.ndarray:
    """float64 [w_dim, w_dim]: the covariance of w mapped from seeds 0..seeds-1 at ψ = 1 (the spread of W that
    'jitter' children are shaped by). Cached per network fingerprint and seed count."""
    def compute() -> np.ndarray:
        from renderer.latents.directions import mapped_ws

        return np.cov(mapped_ws(network, seeds).T)

    return _cached(("w_cov", network.fingerprint, int(seeds)), compute)  # type: ignore[return-value]


def band_sefa_directions(network: Any, per_band: int = 3) -> dict[str, list[DirectionEdit]]:
    """Per band ('coarse' / 'middle' / 'fine', bands without rows left out): its top `per_band` SeFa directions
    as recipe entries (α 0), for 'directions' children. Cached per network fingerprint and count."""
    def compute() -> dict[str, list[DirectionEdit]]:
        from renderer.latents.directions import mapped_ws, sefa

        rows, ws = band_rows(network.num_ws), mapped_ws(network)
        return {b: [d.as_edit() for d in sefa(network, rows[b], per_band, ws=ws)] for b in BANDS if rows[b]}

    return _cached(("band_sefa", network.fingerprint, int(per_band)), compute)  # type: ignore[return-value]
