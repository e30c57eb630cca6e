"""The editor's model without Qt: the network's description, the recipe, and the sources on offer.

Why apart from the widgets: every gesture is a pure function Recipe -> Recipe here, so tests, the undo
stack and the UI bench share one definition of "what this slider does".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from renderer.errors import LatentError
from renderer.latents import Recipe, RowEdit, SeedSource, Source, WSource
from renderer.nets.contract import band_of_row

PSI_MIN, PSI_MAX, PSI_DEFAULT = -1.0, 2.0, 0.7
SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class NetworkInfo:
    """What the UI may know about the loaded network: plain values, no tensors or modules."""

    name: str
    source: str
    fingerprint: str
    kind: str
    num_ws: int
    w_dim: int
    img_resolution: int
    img_channels: int
    c_dim: int = 0
    is_demo: bool = False
    device_name: str = ""
    preset_key: str = ""  # folder of its bundled presets (name of a demo / bundled network, else fingerprint)
    row_factors: tuple[str, ...] = ()  # per w row, what it controls on a cast network ("expression"), else empty
    row_sizes: tuple[tuple[int, ...], ...] = ()  # per w row: output sizes of the synthesis steps reading it

    def row_band(self, row: int) -> str:
        return band_of_row(row, self.num_ws)

    def row_caption(self, row: int) -> str:
        """'row 3 · coarse · 16 px' (sizes of the steps that read the row), plus what it controls if known."""
        sizes = self.row_sizes[row] if row < len(self.row_sizes) else ()
        size_text = " / ".join(f"{s}" for s in sizes) + " px" if sizes else "?"
        factor = self.row_factors[row] if row < len(self.row_factors) else ""
        return f"{row:>2} · {self.row_band(row)} · {size_text}" + (f" · {factor}" if factor else "")

    def rows_in_band(self, band: str) -> list[int]:
        return [r for r in range(self.num_ws) if self.row_band(r) == band]


def row_factors_of(extra: dict, num_ws: int) -> tuple[str, ...]:
    """Per w row, the name of the cast row group that reads it (from a cast network's file), else ()."""
    groups = (extra.get("cast") or {}).get("row_groups") or []
    names = [""] * num_ws
    for g in groups:
        for r in g.get("rows", []):
            if 0 <= int(r) < num_ws:
                names[int(r)] = str(g.get("name", ""))
    return tuple(names) if any(names) else ()


def row_sizes_from_steps(steps: Iterable[object], num_ws: int) -> tuple[tuple[int, ...], ...]:
    """Per row, the sorted distinct output sizes of the synthesis steps that read it."""
    sizes: list[set[int]] = [set() for _ in range(num_ws)]
    for step in steps:
        row = int(step.row)  # type: ignore[attr-defined]
        if 0 <= row < num_ws:
            sizes[row].add(int(step.size))  # type: ignore[attr-defined]
    return tuple(tuple(sorted(s)) for s in sizes)


# ----------------------------------------------------------------------------- recipe edits


def set_base_seed(recipe: Recipe, seed: int) -> Recipe:
    """Base becomes `seed`, keeping the base's psi / cutoff (or the defaults if the base was a w)."""
    if not 0 <= seed <= SEED_MAX:
        raise LatentError(f"seed {seed} is out of range: use 0-{SEED_MAX}")
    base = recipe.base
    if isinstance(base, SeedSource):
        return recipe.with_base(replace(base, seed=int(seed)))
    return recipe.with_base(SeedSource(int(seed), psi=PSI_DEFAULT))


def set_base_truncation(
    recipe: Recipe, psi: float | None = None, cutoff: int | None | str = "keep"
) -> Recipe:
    """Change the base seed's psi and/or cutoff ("keep" leaves the cutoff alone; None means no cutoff)."""
    base = recipe.base
    if not isinstance(base, SeedSource):
        raise LatentError("the base is an explicit w, not a seed: truncation only applies to seeds")
    if psi is not None and not PSI_MIN <= psi <= PSI_MAX:
        raise LatentError(f"psi {psi} is outside {PSI_MIN}..{PSI_MAX}")
    new = base
    if psi is not None:
        new = replace(new, psi=float(psi))
    if cutoff != "keep":
        new = replace(new, cutoff=None if cutoff is None else int(cutoff))  # type: ignore[arg-type]
    return recipe.with_base(new)


def default_class(c_dim: int) -> int | None:
    """The class a new seed gets: 0 on a class-conditional network (c_dim > 0), None on an unconditional one."""
    return 0 if c_dim > 0 else None


def set_base_class(recipe: Recipe, class_idx: int | None) -> Recipe:
    """The base seed draws class `class_idx` (conditional networks); row sources keep their own class."""
    base = recipe.base
    if not isinstance(base, SeedSource):
        raise LatentError("the base is an explicit w, not a seed: a class only applies to seeds")
    if class_idx is not None and class_idx < 0:
        raise LatentError(f"class {class_idx} is out of range: classes start at 0")
    return recipe.with_base(replace(base, class_idx=None if class_idx is None else int(class_idx)))


def fit_classes(recipe: Recipe, c_dim: int) -> Recipe:
    """Every seed source made valid for a network with `c_dim` classes (a session or preset from another net).

    On an unconditional network (c_dim 0) seeds lose their class; on a conditional one a seed without a
    class, or with one past c_dim - 1, draws class 0. Seeds that already fit are left alone.
    """

    def fit(src: Source | None) -> Source | None:
        if not isinstance(src, SeedSource):
            return src
        if c_dim == 0:
            return src if src.class_idx is None else replace(src, class_idx=None)
        if src.class_idx is None or not 0 <= src.class_idx < c_dim:
            return replace(src, class_idx=0)
        return src

    rows = tuple(RowEdit(source=fit(e.source), mode=e.mode, weight=e.weight) for e in recipe.rows)
    return replace(recipe, base=fit(recipe.base), rows=rows)


def rows_class(recipe: Recipe, rows: Sequence[int]) -> int | None:
    """The one class the seeds behind `rows` draw (base for kept rows, the row's source, both when
    blending), or None when they draw none (unconditional, explicit w) or several (presets record it)."""
    classes: set[int] = set()
    for r in _checked(recipe, rows):
        edit = recipe.rows[r]
        reads = [recipe.base] if edit.mode != "replace" else []
        if edit.mode != "keep" and edit.source is not None:
            reads.append(edit.source)
        classes.update(s.class_idx for s in reads if isinstance(s, SeedSource) and s.class_idx is not None)
    return classes.pop() if len(classes) == 1 else None


def set_rows_source(recipe: Recipe, rows: Sequence[int], source: Source | None) -> Recipe:
    """Rows take `source` (None = back to the base). A kept row starts replacing; a blending row keeps blending."""
    new = list(recipe.rows)
    for r in _checked(recipe, rows):
        old = new[r]
        if source is None:
            new[r] = RowEdit(weight=old.weight)
        else:
            mode = old.mode if old.mode != "keep" else "replace"
            new[r] = RowEdit(source=source, mode=mode, weight=old.weight)
    return replace(recipe, rows=tuple(new))


def set_rows_mode(recipe: Recipe, rows: Sequence[int], mode: str) -> Recipe:
    """Rows switch mode; rows without a source stay 'keep' (there is nothing to replace with)."""
    new = list(recipe.rows)
    for r in _checked(recipe, rows):
        old = new[r]
        if mode != "keep" and old.source is None:
            continue
        new[r] = RowEdit(source=old.source, mode=mode, weight=old.weight)
    return replace(recipe, rows=tuple(new))


def set_rows_weight(recipe: Recipe, rows: Sequence[int], weight: float) -> Recipe:
    """Rows blend towards their source by `weight` (rows with a source switch to 'blend')."""
    new = list(recipe.rows)
    for r in _checked(recipe, rows):
        old = new[r]
        mode = "blend" if old.source is not None else old.mode
        new[r] = RowEdit(source=old.source, mode=mode, weight=float(weight))
    return replace(recipe, rows=tuple(new))


def _checked(recipe: Recipe, rows: Sequence[int]) -> list[int]:
    out = sorted(set(int(r) for r in rows))
    for r in out:
        if not 0 <= r < recipe.num_ws:
            raise LatentError(f"row {r} is out of range: this recipe has rows 0-{recipe.num_ws - 1}")
    return out


def describe_rows(rows: Sequence[int]) -> str:
    """[8, 9, 10, 12] -> 'rows 8–10, 12'; [3] -> 'row 3' (undo texts, status messages)."""
    rs = sorted(set(rows))
    if not rs:
        return "no rows"
    parts: list[str] = []
    start = prev = rs[0]
    for r in rs[1:] + [None]:  # type: ignore[list-item]
        if r is not None and r == prev + 1:
            prev = r
            continue
        parts.append(f"{start}" if start == prev else f"{start}–{prev}")
        if r is not None:
            start = prev = r
    return ("row " if len(rs) == 1 else "rows ") + ", ".join(parts)


# ----------------------------------------------------------------------------- sources on offer


@dataclass
class SourceCatalog:
    """The sources the row pickers offer (seeds, presets, projections, w files), in order of arrival."""

    sources: list[Source] = field(default_factory=list)

    def add(self, source: Source) -> Source:
        """Add `source` unless an equal one is there; returns the catalog's copy."""
        for s in self.sources:
            if s == source:
                return s
        self.sources.append(source)
        return source

    def remove(self, source: Source) -> None:
        self.sources = [s for s in self.sources if s != source]

    def include_recipe(self, recipe: Recipe) -> None:
        """Make sure every source a recipe uses on its rows is on offer (after undo, session open, presets)."""
        for edit in recipe.rows:
            if edit.source is not None:
                self.add(edit.source)

    def index(self, source: Source) -> int:
        for i, s in enumerate(self.sources):
            if s == source:
                return i
        return -1

    def clear(self) -> None:
        self.sources.clear()


def default_catalog(
    base_seed: int, count: int = 4, psi: float = PSI_DEFAULT, class_idx: int | None = None
) -> SourceCatalog:
    """A few neighbouring seeds to mix from (of class `class_idx` on a conditional network)."""
    return SourceCatalog(
        [SeedSource((base_seed + i) % (SEED_MAX + 1), psi=psi, class_idx=class_idx) for i in range(1, count + 1)]
    )


def is_projected(source: Source) -> bool:
    return isinstance(source, WSource) and source.kind == "projected"
