"""The cast networks' shared latent: the portrait w assembled from a sprite recipe, factor by factor."""

from __future__ import annotations

import numpy as np
import pytest

from editor.pipeline.errors import PipelineError
from editor.pipeline.runner import shared_portrait_w
from renderer import load_network
from renderer.cast.description import FACTOR_SLICES, Character, character_to_w, w_to_character
from renderer.engine import Engine
from renderer.latents import Recipe, RowEdit, SeedSource, WSource


@pytest.fixture(scope="module")
def nets():
    return load_network("cast-sprite"), load_network("cast-portrait")


def test_each_factor_comes_from_the_sprite_rows_that_read_it(nets):
    sprite, portrait = nets
    engine = Engine(sprite, "cpu")
    hair_rows = [2, 3]
    villain = Character(hair_style=3, outfit_style=3, expression=4, hair=(0.4, 0.1, 0.0))
    w_villain = np.repeat(character_to_w(villain)[None], sprite.num_ws, axis=0)
    recipe = Recipe.plain(SeedSource(11, 0.6), sprite.num_ws).with_rows(
        hair_rows, RowEdit(WSource(w_villain, "villain", "preset"), "replace")
    )
    w = shared_portrait_w(engine, recipe, sprite, portrait)
    assert w.shape == (portrait.num_ws, portrait.w_dim)
    base = engine.map_seed(11, 0.6)[0]
    got = w_to_character(w[0])
    assert got.hair_style == 3  # from the preset on the hair-style rows
    np.testing.assert_array_equal(w[0][FACTOR_SLICES["hair_style"]], w_villain[0][FACTOR_SLICES["hair_style"]])
    for factor in ("hair", "skin", "outfit_style", "expression", "head_turn"):  # from the seed
        np.testing.assert_array_equal(w[0][FACTOR_SLICES[factor]], base[FACTOR_SLICES[factor]])
    assert (w == w[0]).all()  # one w on every portrait row


def test_other_networks_are_refused(nets):
    sprite, _ = nets
    demo = load_network("demo-face")
    recipe = Recipe.plain(SeedSource(1, 0.6), sprite.num_ws)
    with pytest.raises(PipelineError, match="projection"):
        shared_portrait_w(Engine(sprite, "cpu"), recipe, sprite, demo)
