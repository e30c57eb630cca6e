"""The recipe: per w row, which source it takes and how (keep / replace / blend).

A plain value (frozen dataclasses + numpy arrays) shared by the editor, the pipeline, presets and tests.
Evaluation to w+ is pure numpy given a function that resolves a source to its `[num_ws, w_dim]` w.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from renderer.errors import LatentError

MODES = ("keep", "replace", "blend")


@dataclass(frozen=True)
class SeedSource:
    """The w of a seed: z from RandomState(seed), mapped, truncated with its own psi / cutoff."""

    seed: int
    psi: float = 0.7
    cutoff: int | None = None
    class_idx: int | None = None


@dataclass(frozen=True, eq=False)
class WSource:
    """An explicit w `[num_ws, w_dim]`: a w file, a preset, a projected image. `kind` says which."""

    w: np.ndarray
    label: str
    kind: str = "w"  # "w" | "preset" | "projected"

    def __post_init__(self) -> None:
        arr = np.asarray(self.w, dtype=np.float32)
        if arr.ndim != 2:
            raise LatentError(f"source {self.label!r}: w must be [num_ws, w_dim], got {list(arr.shape)}")
        arr = arr.copy()
        arr.setflags(write=False)
        object.__setattr__(self, "w", arr)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, WSource)
            and self.label == other.label
            and self.kind == other.kind
            and self.w.shape == other.w.shape
            and bool(np.array_equal(self.w, other.w))
        )

    def __hash__(self) -> int:
        return hash((self.label, self.kind, self.w.shape, self.w.tobytes()))


Source = SeedSource | WSource


def source_label(source: Source) -> str:
    """Short human label: 'seed 12 (ψ 0.70)', 'preset: happy', 'projected: face.png'."""
    if isinstance(source, SeedSource):
        text = f"seed {source.seed} (ψ {source.psi:.2f})"
        if source.class_idx is not None:
            text += f" class {source.class_idx}"
        return text
    prefix = {"preset": "preset: ", "projected": "projected: "}.get(source.kind, "w: ")
    return prefix + source.label


@dataclass(frozen=True)
class RowEdit:
    """What one row does: keep the base, replace it with `source`, or blend towards it by `weight`."""

    source: Source | None = None
    mode: str = "keep"
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise LatentError(f"unknown row mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.mode != "keep" and self.source is None:
            raise LatentError(f"a row in mode {self.mode!r} needs a source")
        if not np.isfinite(self.weight):
            raise LatentError("blend weight must be a finite number")


@dataclass(frozen=True, eq=False)
class DirectionEdit:
    """A move along a direction in W on some rows: w+[rows] += α·σ·d (α in units of σ; α = 0 changes nothing).

    `vector` is the unit direction d, float32 [w_dim] (stored read-only); `sigma` the standard deviation of w·d
    over mapped seeds, so α is a slider position in σ; `name` / `method` say what it is ("smile", "sefa").
    """

    name: str
    rows: tuple[int, ...]
    vector: np.ndarray
    sigma: float
    alpha: float = 0.0
    method: str = ""

    def __post_init__(self) -> None:
        arr = np.asarray(self.vector, dtype=np.float32)
        if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all():
            raise LatentError(f"direction {self.name!r}: its vector must be a finite [w_dim] array, got {list(arr.shape)}")
        arr = arr.copy()
        arr.setflags(write=False)
        object.__setattr__(self, "vector", arr)
        rows = tuple(sorted(set(int(r) for r in self.rows)))
        if not rows or rows[0] < 0:
            raise LatentError(f"direction {self.name!r} must act on at least one row >= 0, got {list(self.rows)}")
        object.__setattr__(self, "rows", rows)
        if not (np.isfinite(self.sigma) and np.isfinite(self.alpha)):
            raise LatentError(f"direction {self.name!r}: σ and α must be finite numbers")
        object.__setattr__(self, "sigma", float(self.sigma))
        object.__setattr__(self, "alpha", float(self.alpha))

    def same_direction(self, other: DirectionEdit) -> bool:
        """Same name, rows, vector and σ (α may differ): the same slider."""
        return (
            self.name == other.name
            and self.rows == other.rows
            and self.sigma == other.sigma
            and self.vector.shape == other.vector.shape
            and bool(np.array_equal(self.vector, other.vector))
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DirectionEdit)
            and self.same_direction(other)
            and self.alpha == other.alpha
            and self.method == other.method
        )

    def __hash__(self) -> int:
        return hash((self.name, self.rows, self.sigma, self.alpha, self.method, self.vector.tobytes()))


@dataclass(frozen=True)
class Recipe:
    """A base source plus one RowEdit per w row, then moves along directions (applied after the row edits)."""

    base: Source
    rows: tuple[RowEdit, ...] = field(default_factory=tuple)
    directions: tuple[DirectionEdit, ...] = field(default_factory=tuple)

    @staticmethod
    def plain(base: Source, num_ws: int) -> Recipe:
        return Recipe(base=base, rows=tuple(RowEdit() for _ in range(num_ws)))

    @property
    def num_ws(self) -> int:
        return len(self.rows)

    def with_base(self, base: Source) -> Recipe:
        return replace(self, base=base)

    def with_rows(self, rows: Sequence[int], edit: RowEdit) -> Recipe:
        """Copy with every row in `rows` set to `edit` (multi-row selection: 'rows 8-15 from seed 12')."""
        new = list(self.rows)
        for r in rows:
            if not 0 <= r < len(new):
                raise LatentError(f"row {r} is out of range: this recipe has rows 0-{len(new) - 1}")
            new[r] = edit
        return replace(self, rows=tuple(new))

    def sources(self) -> list[Source]:
        """Every distinct source the recipe reads, base first."""
        out: list[Source] = [self.base]
        for edit in self.rows:
            if edit.source is not None and edit.mode != "keep" and edit.source not in out:
                out.append(edit.source)
        return out


def evaluate_recipe(recipe: Recipe, resolve: Callable[[Source], np.ndarray]) -> np.ndarray:
    """Recipe -> w+ `[num_ws, w_dim]` float32. `resolve` maps a source to its w (cached by the caller).

    Row edits first, then each direction adds α·σ·d on its rows (LatentError if it does not fit the w).
    """
    base = np.asarray(resolve(recipe.base), dtype=np.float32)
    if base.shape[0] != recipe.num_ws:
        raise LatentError(f"recipe has {recipe.num_ws} rows but its base w has {base.shape[0]}")
    out = base.copy()
    for i, edit in enumerate(recipe.rows):
        if edit.mode == "keep":
            continue
        src = np.asarray(resolve(edit.source), dtype=np.float32)
        if src.shape != base.shape:
            raise LatentError(
                f"row {i}: source {source_label(edit.source)} has shape {list(src.shape)}, "
                f"the network needs {list(base.shape)}"
            )
        if edit.mode == "replace":
            out[i] = src[i]
        else:
            t = np.float32(edit.weight)
            out[i] = base[i] + t * (src[i] - base[i])
    for d in recipe.directions:
        if d.alpha == 0.0:
            continue  # α = 0 is exactly the identity
        if d.vector.size != out.shape[1] or d.rows[-1] >= out.shape[0]:
            raise LatentError(
                f"direction {d.name!r} acts on rows {list(d.rows)} of a {d.vector.size}-wide w; "
                f"this recipe's w is {list(out.shape)}: it was made for another network"
            )
        out[list(d.rows)] += np.float32(d.alpha * d.sigma) * d.vector
    return out
