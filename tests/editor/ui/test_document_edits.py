"""The recipe edits behind every editor gesture (editor/document.py, no Qt needed)."""

from __future__ import annotations

import pytest

from editor import document as doc
from renderer.errors import LatentError
from renderer.latents import Recipe, RowEdit, SeedSource
from renderer.nets.contract import SynthesisStep

BASE = SeedSource(5, psi=0.6, cutoff=2)


def plain(n: int = 6) -> Recipe:
    return Recipe.plain(BASE, n)


def test_base_seed_keeps_truncation():
    r = doc.set_base_seed(plain(), 9)
    assert r.base == SeedSource(9, psi=0.6, cutoff=2)
    with pytest.raises(LatentError, match="out of range"):
        doc.set_base_seed(plain(), -1)


def test_truncation_edits():
    r = doc.set_base_truncation(plain(), psi=1.5)
    assert r.base.psi == 1.5 and r.base.cutoff == 2
    r = doc.set_base_truncation(r, cutoff=None)
    assert r.base.cutoff is None and r.base.psi == 1.5
    with pytest.raises(LatentError, match="outside"):
        doc.set_base_truncation(plain(), psi=2.5)


def test_row_source_mode_weight():
    src = SeedSource(12)
    r = doc.set_rows_source(plain(), [1, 2], src)
    assert r.rows[1] == RowEdit(src, "replace", 1.0) and r.rows[0] == RowEdit()
    r = doc.set_rows_weight(r, [2], 0.25)
    assert r.rows[2] == RowEdit(src, "blend", 0.25)
    # picking another source keeps a blending row blending, with its weight
    other = SeedSource(13)
    r2 = doc.set_rows_source(r, [2], other)
    assert r2.rows[2] == RowEdit(other, "blend", 0.25)
    # back to base: keep, weight remembered
    r3 = doc.set_rows_source(r2, [2], None)
    assert r3.rows[2] == RowEdit(None, "keep", 0.25)
    # mode on a row without a source does nothing; keep on a sourced row keeps its source
    assert doc.set_rows_mode(r3, [2], "replace").rows[2].mode == "keep"
    kept = doc.set_rows_mode(r, [1], "keep")
    assert kept.rows[1] == RowEdit(src, "keep", 1.0)
    with pytest.raises(LatentError, match="out of range"):
        doc.set_rows_source(plain(), [6], src)


def test_describe_rows():
    assert doc.describe_rows([3]) == "row 3"
    assert doc.describe_rows([8, 9, 10, 12, 14, 15]) == "rows 8–10, 12, 14–15"
    assert doc.describe_rows([]) == "no rows"


def test_row_sizes_and_captions():
    steps = [
        SynthesisStep("b4.conv1", 0, 4, 8),
        SynthesisStep("b4.torgb", 1, 4, 3),
        SynthesisStep("b8.conv0", 1, 8, 8),
    ]
    sizes = doc.row_sizes_from_steps(steps, 3)
    assert sizes == ((4,), (4, 8), ())
    info = doc.NetworkInfo("n", "n", "f", "stylegan2", 3, 8, 8, 3, row_sizes=sizes)
    assert info.row_caption(1) == " 1 · middle · 4 / 8 px"
    assert info.rows_in_band("coarse") == [0]


def test_catalog_dedupes_and_follows_recipes():
    cat = doc.default_catalog(10, count=2)
    assert cat.sources == [SeedSource(11), SeedSource(12)]
    same = cat.add(SeedSource(11))
    assert same is cat.sources[0] and len(cat.sources) == 2
    r = doc.set_rows_source(plain(), [0], SeedSource(99))
    cat.include_recipe(r)
    assert cat.index(SeedSource(99)) == 2
