"""Seeds, w files and the recipe: everything about latents that is not a forward pass."""

from renderer.latents.recipe import (
    MODES,
    DirectionEdit,
    Recipe,
    RowEdit,
    SeedSource,
    Source,
    WSource,
    evaluate_recipe,
    source_label,
)
from renderer.latents.seeds import parse_rows, parse_seeds, z_from_seed
from renderer.latents.wfile import load_w, save_w

__all__ = [
    "MODES",
    "DirectionEdit",
    "Recipe",
    "RowEdit",
    "SeedSource",
    "Source",
    "WSource",
    "evaluate_recipe",
    "source_label",
    "parse_rows",
    "parse_seeds",
    "z_from_seed",
    "load_w",
    "save_w",
]
