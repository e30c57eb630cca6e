"""Classes of conditional networks in the editor's model: base class edits, fitting a recipe, presets, sessions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from editor import document as doc
from editor.presets import Preset, PresetLibrary, read_preset
from editor.session import load_session, save_session
from renderer.errors import LatentError
from renderer.latents import Recipe, RowEdit, SeedSource, WSource


def test_set_base_class_changes_only_the_base_and_refuses_a_w_base() -> None:
    r = Recipe.plain(SeedSource(4, psi=0.5, class_idx=0), 6).with_rows([2], RowEdit(SeedSource(9, class_idx=2), "replace"))
    new = doc.set_base_class(r, 1)
    assert new.base == SeedSource(4, psi=0.5, class_idx=1)
    assert new.rows[2].source == SeedSource(9, class_idx=2)  # a row source keeps its own class
    with pytest.raises(LatentError, match="explicit w"):
        doc.set_base_class(Recipe.plain(WSource(np.zeros((6, 4)), "x"), 6), 1)


def test_fit_classes_gives_conditional_seeds_a_class_and_takes_it_from_unconditional_ones() -> None:
    r = Recipe.plain(SeedSource(1), 4).with_rows([0], RowEdit(SeedSource(2, class_idx=5), "replace"))
    fitted = doc.fit_classes(r, 3)
    assert fitted.base.class_idx == 0 and fitted.rows[0].source.class_idx == 0  # 5 is past 0-2
    kept = doc.fit_classes(r.with_base(SeedSource(1, class_idx=2)), 3)
    assert kept.base.class_idx == 2
    plain = doc.fit_classes(fitted, 0)
    assert plain.base.class_idx is None and plain.rows[0].source.class_idx is None
    assert doc.default_class(0) is None and doc.default_class(10) == 0
    assert all(s.class_idx == 2 for s in doc.default_catalog(7, class_idx=2).sources)


def test_rows_class_is_the_one_class_the_rows_read() -> None:
    r = Recipe.plain(SeedSource(1, class_idx=1), 4).with_rows([2], RowEdit(SeedSource(2, class_idx=2), "replace"))
    assert doc.rows_class(r, [0, 1]) == 1
    assert doc.rows_class(r, [2]) == 2
    assert doc.rows_class(r, [1, 2]) is None  # two classes
    blend = r.with_rows([3], RowEdit(SeedSource(3, class_idx=2), "blend", 0.5))
    assert doc.rows_class(blend, [3]) is None  # a blend reads the base's class too


def test_a_preset_and_a_session_keep_the_class(tmp_path: Path) -> None:
    lib = PresetLibrary(tmp_path / "presets")
    w = np.random.RandomState(0).randn(4, 8).astype(np.float32)
    saved = lib.save(Preset(name="knight", fingerprint="ab" * 32, network_name="cond", rows=[1, 2], w=w, class_idx=2))
    assert read_preset(saved.path).class_idx == 2
    plain = lib.save(Preset(name="plain", fingerprint="ab" * 32, network_name="cond", rows=[1], w=w))
    assert read_preset(plain.path).class_idx is None and "class_idx" not in plain.path.read_text()
    recipe = Recipe.plain(SeedSource(5, class_idx=1), 4).with_rows([3], RowEdit(SeedSource(6, class_idx=2), "replace"))
    path = save_session(tmp_path / "s", recipe, "cond.safetensors", "ab" * 32)
    assert load_session(path).recipe == recipe
