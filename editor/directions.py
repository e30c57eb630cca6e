"""Direction sliders as recipe edits, and the user's folder of saved directions (no Qt).

Why here: the Directions panel, tests and the CLI share one definition of "move this slider" (a pure
function Recipe -> Recipe) and of where a network's saved directions live. A saved direction is the
existing direction file (`renderer.latents.directions`: `<slug>.json` + `<slug>.npy`, fingerprinted,
atomic writes); a folder per network fingerprint, beside the user's presets.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from editor.presets import data_dir
from renderer.errors import LatentError
from renderer.latents import DirectionEdit, Recipe
from renderer.latents.directions import Direction, direction_slug, load_direction, save_direction

ALPHA_MIN, ALPHA_MAX = -3.0, 3.0  # slider range, in σ


# ----------------------------------------------------------------------------- recipe edits


def direction_key(direction: DirectionEdit | Direction) -> tuple[tuple[int, ...], float, bytes]:
    """A direction's stable identity: its rows (sorted), σ and float32 vector bytes, never its name.

    Why not the name: the user renames directions, and an undo can bring back a recipe entry under the name it
    had before, so the panel's sliders and the recipe's entries are matched by what the direction moves.
    Two directions with one key are the same move (their α would add up), so a recipe holds one entry per key.
    """
    rows = tuple(sorted(set(int(r) for r in direction.rows)))
    return rows, float(direction.sigma), np.asarray(direction.vector, dtype=np.float32).tobytes()


def find_direction(recipe: Recipe, direction: DirectionEdit | Direction) -> int:
    """Index of the recipe's entry for the same direction (same `direction_key`; any name and α), or -1."""
    key = direction_key(direction)
    for i, d in enumerate(recipe.directions):
        if direction_key(d) == key:
            return i
    return -1


def direction_alpha(recipe: Recipe, direction: DirectionEdit | Direction) -> float:
    """Where `direction`'s slider stands in `recipe`, in σ: the sum of the α of its entries (what the recipe moves;
    several only when moves were stacked, e.g. a child of a child), 0 when the recipe does not use it."""
    key = direction_key(direction)
    return float(sum(d.alpha for d in recipe.directions if direction_key(d) == key))


def set_direction_alpha(recipe: Recipe, direction: DirectionEdit, alpha: float) -> Recipe:
    """Recipe with `direction` at `alpha` σ on its rows; α = 0 removes the entry (the recipe is then unchanged).

    Raises LatentError for a non-finite α or a direction whose rows are outside the recipe.
    """
    alpha = float(alpha)
    if not math.isfinite(alpha):
        raise LatentError(f"direction {direction.name!r}: α must be a finite number, got {alpha}")
    if direction.rows[-1] >= recipe.num_ws:
        raise LatentError(
            f"direction {direction.name!r} acts on rows up to {direction.rows[-1]}; this recipe has rows 0-{recipe.num_ws - 1}"
        )
    # one entry per direction: the first one's place is kept, stacked duplicates (same key) are folded into it
    key = direction_key(direction)
    i = find_direction(recipe, direction)
    entries = [d for d in recipe.directions if direction_key(d) != key]
    if alpha != 0.0:
        entries.insert(i if i >= 0 else len(entries), replace(direction, alpha=alpha))  # the slider's name comes along
    return replace(recipe, directions=tuple(entries))


def rename_direction(recipe: Recipe, direction: DirectionEdit | Direction, name: str) -> Recipe:
    """Recipe whose entry for `direction` (matched by `direction_key`) is called `name`; unchanged if unused.

    Raises LatentError for a name without letters or digits (it could not be saved as a file).
    """
    direction_slug(name)
    i = find_direction(recipe, direction)
    if i < 0 or recipe.directions[i].name == name:
        return recipe
    entries = list(recipe.directions)
    entries[i] = replace(entries[i], name=name)
    return replace(recipe, directions=tuple(entries))


def remove_direction(recipe: Recipe, direction: DirectionEdit) -> Recipe:
    """Recipe without `direction` (unchanged if it does not use it)."""
    return set_direction_alpha(recipe, direction, 0.0)


def rows_touched(recipe: Recipe) -> dict[int, list[str]]:
    """Per w row, the names of the recipe's directions (α ≠ 0) that move it (for the layer grid's marks)."""
    out: dict[int, list[str]] = {}
    for d in recipe.directions:
        if d.alpha != 0.0:
            for r in d.rows:
                out.setdefault(r, []).append(d.name)
    return out


# ----------------------------------------------------------------------------- the user's folder


def user_directions_folder(fingerprint: str) -> Path:
    """The user's saved directions for the network with `fingerprint` (CASTMAKER_DATA_DIR overrides the root)."""
    if not fingerprint:
        raise LatentError("cannot open a directions folder without a network fingerprint")
    return data_dir() / "directions" / fingerprint[:16]


class DirectionLibrary:
    """One folder of direction files for one network: list, save, rename, delete (atomic writes)."""

    def __init__(self, folder: str | os.PathLike, fingerprint: str, network_name: str = "") -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.network_name = network_name

    def list(self) -> tuple[list[Direction], list[str]]:
        """Readable directions made for this network (by name) and a message per file that was refused."""
        found: list[Direction] = []
        problems: list[str] = []
        if not self.folder.is_dir():
            return found, problems
        for path in sorted(self.folder.glob("*.json")):
            try:
                d = load_direction(path)
            except LatentError as exc:
                problems.append(str(exc))
                continue
            if d.fingerprint != self.fingerprint:
                problems.append(f"{path.name} was made for {d.network_name or 'another network'}, not this one")
                continue
            found.append(d)
        found.sort(key=lambda d: d.name.lower())
        return found, problems

    def load(self, path: str | os.PathLike) -> Direction:
        """A direction file from anywhere; LatentError (a clear message) if it was made for another network."""
        d = load_direction(path)
        if d.fingerprint != self.fingerprint:
            raise LatentError(
                f"{Path(path).name} was made for {d.network_name or 'another network'} ({d.fingerprint[:12]}…), "
                f"not {self.network_name or 'the loaded network'} ({self.fingerprint[:12]}…): "
                "directions only fit the network they were found on; discover them on this network instead"
            )
        return d

    def save(self, d: Direction, overwrite: bool = False) -> Path:
        """Write `d` (JSON + .npy, atomic); refuses another network's direction and, unless `overwrite`, a taken name."""
        if d.fingerprint != self.fingerprint:
            raise LatentError(f"direction {d.name!r} belongs to another network: it cannot be saved with this one")
        return save_direction(d, self.folder, overwrite=overwrite)

    def delete(self, name: str) -> None:
        """Remove a saved direction's files (JSON first, so a half-deleted direction is never listed)."""
        slug = direction_slug(name)
        json_path, npy_path = self.folder / f"{slug}.json", self.folder / f"{slug}.npy"
        if not json_path.is_file():
            raise LatentError(f"no saved direction named {name!r} in {self.folder}")
        json_path.unlink()
        if npy_path.exists():
            npy_path.unlink()

    def rename(self, d: Direction, new_name: str) -> Direction:
        """Save `d` as `new_name` and delete its old files; refuses to clobber another saved direction."""
        old_slug, new_slug = direction_slug(d.name), direction_slug(new_name)
        if new_slug != old_slug and (self.folder / f"{new_slug}.json").exists():
            raise LatentError(f"cannot rename {d.name!r} to {new_name!r}: a direction with that name is saved already")
        renamed = replace(d, name=new_name)
        self.save(renamed, overwrite=True)
        if new_slug != old_slug and (self.folder / f"{old_slug}.json").exists():
            self.delete(d.name)
        return renamed
