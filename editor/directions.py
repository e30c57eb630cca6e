"""Direction sliders as recipe edits, and the user's folder of saved directions (no Qt).

Why here: the Directions panel, tests and the CLI share one definition of "move this slider" (a pure
function Recipe -> Recipe) and of where a network's saved directions live. A saved direction is the
existing direction file (`renderer.latents.directions`: `<slug>.json` + `<slug>.npy`, fingerprinted,
atomic writes); a folder per network fingerprint, beside the user's presets.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from editor.presets import data_dir
from renderer.errors import LatentError
from renderer.latents import DirectionEdit, Recipe
from renderer.latents.directions import Direction, _slug, load_direction, save_direction

log = logging.getLogger(__name__)

ALPHA_MIN, ALPHA_MAX = -3.0, 3.0  # slider range, in σ


# ----------------------------------------------------------------------------- recipe edits


def find_direction(recipe: Recipe, direction: DirectionEdit) -> int:
    """Index of the recipe's entry for the same direction (any α), or -1."""
    for i, d in enumerate(recipe.directions):
        if d.same_direction(direction):
            return i
    return -1


def direction_alpha(recipe: Recipe, direction: DirectionEdit) -> float:
    """Where `direction`'s slider stands in `recipe` (0 when the recipe does not use it)."""
    i = find_direction(recipe, direction)
    return recipe.directions[i].alpha if i >= 0 else 0.0


def set_direction_alpha(recipe: Recipe, direction: DirectionEdit, alpha: float) -> Recipe:
    """Recipe with `direction` at `alpha` σ on its rows; α = 0 removes the entry (the recipe is then unchanged).

    Raises LatentError for a non-finite α or a direction whose rows are outside the recipe.
    """
    alpha = float(alpha)
    if not alpha == alpha or alpha in (float("inf"), float("-inf")):
        raise LatentError(f"direction {direction.name!r}: α must be a finite number, got {alpha}")
    if direction.rows[-1] >= recipe.num_ws:
        raise LatentError(
            f"direction {direction.name!r} acts on rows up to {direction.rows[-1]}; this recipe has rows 0-{recipe.num_ws - 1}"
        )
    entries = list(recipe.directions)
    i = find_direction(recipe, direction)
    if alpha == 0.0:
        if i >= 0:
            del entries[i]
    elif i >= 0:
        entries[i] = replace(entries[i], alpha=alpha)
    else:
        entries.append(replace(direction, alpha=alpha))
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
        slug = _slug(name)
        json_path, npy_path = self.folder / f"{slug}.json", self.folder / f"{slug}.npy"
        if not json_path.is_file():
            raise LatentError(f"no saved direction named {name!r} in {self.folder}")
        json_path.unlink()
        if npy_path.exists():
            npy_path.unlink()

    def rename(self, d: Direction, new_name: str) -> Direction:
        """Save `d` as `new_name` and delete its old files; refuses to clobber another saved direction."""
        if _slug(new_name) != _slug(d.name) and (self.folder / f"{_slug(new_name)}.json").exists():
            raise LatentError(f"cannot rename {d.name!r} to {new_name!r}: a direction with that name is saved already")
        renamed = replace(d, name=new_name)
        self.save(renamed, overwrite=True)
        if _slug(new_name) != _slug(d.name) and (self.folder / f"{_slug(d.name)}.json").exists():
            self.delete(d.name)
        return renamed
