"""Directions as recipe edits (sessions, presets, user folder) and the children / crossbreed grids (issue 14)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from editor.directions import (
    DirectionLibrary,
    direction_alpha,
    rows_touched,
    set_direction_alpha,
)
from editor.presets import Preset, PresetLibrary, apply_preset
from editor.session import SessionError, load_session, save_session
from editor.variations import VariationSettings, band_rows, crossbreed, crossbreed_grid, make_children
from renderer.errors import LatentError
from renderer.latents import DirectionEdit, Recipe, RowEdit, SeedSource, WSource, evaluate_recipe
from renderer.latents.directions import Direction

NUM_WS, W_DIM = 8, 6
RNG = np.random.default_rng(3)
BASE_WS = {s: RNG.standard_normal((NUM_WS, W_DIM)).astype(np.float32) for s in range(10)}


def resolve(src):
    return src.w if isinstance(src, WSource) else BASE_WS[src.seed]


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(W_DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


def smile(alpha: float = 0.0) -> DirectionEdit:
    return DirectionEdit("smile", (3, 4), unit(1), sigma=0.5, alpha=alpha, method="labels")


def mixed_recipe() -> Recipe:
    r = Recipe.plain(SeedSource(0), NUM_WS)
    r = r.with_rows([1], RowEdit(SeedSource(1), "replace"))
    return r.with_rows([5, 6], RowEdit(SeedSource(2), "blend", 0.3))


# ----------------------------------------------------------------------------- recipe edits


def test_direction_moves_only_its_rows_by_alpha_sigma():
    r = mixed_recipe()
    moved = set_direction_alpha(r, smile(), 1.5)
    delta = evaluate_recipe(moved, resolve) - evaluate_recipe(r, resolve)
    assert not delta[[0, 1, 2, 5, 6, 7]].any()
    np.testing.assert_allclose(delta[3], 1.5 * 0.5 * unit(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(delta[4], 1.5 * 0.5 * unit(1), rtol=1e-5, atol=1e-6)
    assert direction_alpha(moved, smile()) == 1.5 and rows_touched(moved) == {3: ["smile"], 4: ["smile"]}
    # moving the same slider again replaces its entry instead of stacking a second one
    again = set_direction_alpha(moved, smile(), -2.0)
    assert len(again.directions) == 1 and again.directions[0].alpha == -2.0


def test_alpha_zero_is_the_identity():
    r = mixed_recipe()
    kept_at_zero = Recipe(base=r.base, rows=r.rows, directions=(smile(0.0),))
    assert np.array_equal(evaluate_recipe(kept_at_zero, resolve), evaluate_recipe(r, resolve))
    # the slider edit at 0 gives back the very same recipe value (so the undo stack sees no change)
    assert set_direction_alpha(r, smile(), 0.0) == r
    assert set_direction_alpha(set_direction_alpha(r, smile(), 2.0), smile(), 0.0) == r


def test_recipe_stays_a_plain_immutable_value():
    a, b = set_direction_alpha(mixed_recipe(), smile(), 1.0), set_direction_alpha(mixed_recipe(), smile(), 1.0)
    assert a == b and hash(a.directions) == hash(b.directions)
    assert a != set_direction_alpha(mixed_recipe(), smile(), 1.01)
    with pytest.raises(ValueError):
        a.directions[0].vector[0] = 9.0  # read-only
    with pytest.raises(LatentError, match="another network"):
        evaluate_recipe(Recipe(base=SeedSource(0), rows=mixed_recipe().rows, directions=(
            DirectionEdit("wide", (1,), np.ones(W_DIM + 1, np.float32), 1.0, 1.0),)), resolve)
    with pytest.raises(LatentError, match="rows 0-7"):
        set_direction_alpha(mixed_recipe(), DirectionEdit("far", (9,), unit(2), 1.0), 1.0)


# ----------------------------------------------------------------------------- files


def test_session_round_trip_with_directions_and_old_files_still_load(tmp_path):
    r = set_direction_alpha(set_direction_alpha(mixed_recipe(), smile(), 2.5), DirectionEdit("sefa-0", (0, 1, 2), unit(4), 1.25), -1.0)
    path = save_session(tmp_path / "s", r, "demo-face", "ab" * 32)
    back = load_session(path).recipe
    assert back == r
    assert np.array_equal(evaluate_recipe(back, resolve), evaluate_recipe(r, resolve))
    with np.load(path) as npz:
        doc = json.loads(npz["session_json"].tobytes().decode())
        assert doc["version"] == 2 and sorted(k for k in npz.files if k.startswith("d_")) == ["d_0", "d_1"]
    # a session without directions is still version 1 and loads with none
    plain = save_session(tmp_path / "p", mixed_recipe(), "demo-face", "ab" * 32)
    assert load_session(plain).recipe.directions == ()
    # a damaged direction entry is one clear error
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    doc["directions"][0]["array"] = "d_9"
    arrays["session_json"] = np.frombuffer(json.dumps(doc).encode(), np.uint8)
    bad = tmp_path / "bad.castmaker-session"
    with open(bad, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(SessionError, match="direction 0"):
        load_session(bad)


def test_preset_round_trip_with_directions(tmp_path):
    lib = PresetLibrary(tmp_path)
    preset = Preset("happy", "f" * 64, "net", [3, 4], BASE_WS[5], directions=(smile(1.75),))
    saved = lib.save(preset)
    assert (tmp_path / "happy.d0.npy").is_file()
    assert json.loads((tmp_path / "happy.json").read_text())["version"] == 2
    back = lib.get("happy")
    assert back.directions == (smile(1.75),)
    applied = apply_preset(mixed_recipe(), back, "f" * 64)
    assert applied.directions == (smile(1.75),)
    want = evaluate_recipe(mixed_recipe().with_rows([3, 4], RowEdit(WSource(BASE_WS[5], "happy", "preset"), "replace")), resolve)
    want[[3, 4]] += 1.75 * 0.5 * unit(1)
    np.testing.assert_allclose(evaluate_recipe(applied, resolve), want, rtol=1e-6, atol=1e-6)
    # applying twice does not stack the move
    assert apply_preset(applied, back, "f" * 64).directions == (smile(1.75),)
    lib.delete(saved.name)
    assert list(tmp_path.iterdir()) == []
    # an old preset (no directions) still reads
    lib.save(Preset("plain", "f" * 64, "net", [0], BASE_WS[1]))
    assert json.loads((tmp_path / "plain.json").read_text())["version"] == 1
    assert lib.get("plain").directions == ()



def test_replacing_a_preset_leaves_no_stale_direction_files(tmp_path):
    lib = PresetLibrary(tmp_path)
    frown = DirectionEdit("frown", (2,), unit(2), sigma=0.4, alpha=-1.0)
    lib.save(Preset("mood", "f" * 64, "net", [3], BASE_WS[5], directions=(smile(1.0), frown)))
    assert {p.name for p in tmp_path.glob("mood.d*.npy")} == {"mood.d0.npy", "mood.d1.npy"}
    lib.save(Preset("mood", "f" * 64, "net", [3], BASE_WS[6], directions=(smile(2.0),)), overwrite=True)
    assert {p.name for p in tmp_path.glob("mood.d*.npy")} == {"mood.d0.npy"}
    lib.save(Preset("mood", "f" * 64, "net", [3], BASE_WS[6]), overwrite=True)
    assert list(tmp_path.glob("mood.d*.npy")) == []
    lib.delete("mood")
    assert list(tmp_path.iterdir()) == []

def _direction(fingerprint: str, name: str = "smile", network: str = "net-a") -> Direction:
    return Direction(name, [3, 4], unit(1), 0.5, "labels", 2.0, fingerprint, network)


def test_direction_library_saves_lists_renames_deletes_and_refuses_another_network(tmp_path):
    lib = DirectionLibrary(tmp_path, "a" * 64, "net-a")
    lib.save(_direction("a" * 64))
    with pytest.raises(LatentError, match="exists"):
        lib.save(_direction("a" * 64))
    found, problems = lib.list()
    assert [d.name for d in found] == ["smile"] and problems == []
    renamed = lib.rename(found[0], "Grin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grin.json", "grin.npy"]
    assert renamed.name == "Grin" and np.array_equal(lib.list()[0][0].vector, unit(1))
    # a file from another network: listed as a problem, refused on load with a clear message
    other = DirectionLibrary(tmp_path / "other", "b" * 64, "net-b")
    other_path = other.save(_direction("b" * 64, "frown", "net-b"))
    with pytest.raises(LatentError, match="only fit the network they were found on"):
        lib.load(other_path)
    (tmp_path / "frown.json").write_text(other_path.read_text())
    (tmp_path / "frown.npy").write_bytes(other_path.with_suffix(".npy").read_bytes())
    found, problems = lib.list()
    assert [d.name for d in found] == ["Grin"] and "net-b" in problems[0]
    lib.delete("Grin")
    assert not (tmp_path / "grin.json").exists()
    assert not list(tmp_path.glob("*.tmp*"))


# ----------------------------------------------------------------------------- children and crossbreed


def _cov() -> np.ndarray:
    x = np.random.default_rng(9).standard_normal((500, W_DIM)) * np.linspace(0.5, 2.0, W_DIM)
    return np.cov(x.T)


def test_children_are_deterministic_for_a_seed_and_respect_band_strengths():
    r = set_direction_alpha(mixed_recipe(), smile(), 1.0)
    s = VariationSettings(rows=2, cols=3, strengths=(0.0, 1.0, 2.0), kind="jitter", seed=7)
    a, b = make_children(r, s, w_cov=_cov()), make_children(r, s, w_cov=_cov())
    assert len(a) == 6 and a == b
    assert make_children(r, VariationSettings(2, 3, (0.0, 1.0, 2.0), "jitter", seed=8), w_cov=_cov()) != a
    base = evaluate_recipe(r, resolve)
    bands = band_rows(NUM_WS)
    ws = [evaluate_recipe(c, resolve) for c in a]
    for w in ws:
        assert np.array_equal(w[bands["coarse"]], base[bands["coarse"]])  # strength 0: untouched
        assert not np.array_equal(w[bands["fine"]], base[bands["fine"]])
        assert all(c.directions[0] == r.directions[0] for c in a)  # the recipe's own moves are kept
    assert len({w.tobytes() for w in ws}) == 6
    # along given directions instead of random ones
    dirs = {"middle": [DirectionEdit("sefa-0", (0,), unit(5), 0.8)]}
    c = make_children(r, VariationSettings(1, 2, (1.0, 1.0, 1.0), "directions", seed=1), band_directions=dirs)
    assert c == make_children(r, VariationSettings(1, 2, (1.0, 1.0, 1.0), "directions", seed=1), band_directions=dirs)
    assert c[0].directions[-1].rows == tuple(bands["middle"])
    with pytest.raises(LatentError, match="discover some first"):
        make_children(r, VariationSettings(kind="directions"))


def test_crossbreed_of_a_recipe_with_itself_is_the_recipe():
    r = set_direction_alpha(mixed_recipe(), DirectionEdit("all", tuple(range(NUM_WS)), unit(6), 0.7), 1.2)
    grid = crossbreed_grid(r, r, resolve)
    assert len(grid) == 8 and all(child == r for _, child in grid)


def test_crossbreed_takes_each_band_from_the_chosen_parent():
    a = set_direction_alpha(mixed_recipe(), smile(), 1.0)
    b = Recipe.plain(SeedSource(7), NUM_WS).with_rows([6], RowEdit(SeedSource(8), "blend", 0.5))
    wa, wb = evaluate_recipe(a, resolve), evaluate_recipe(b, resolve)
    bands = band_rows(NUM_WS)
    for label, child in crossbreed_grid(a, b, resolve, "b"):
        w = evaluate_recipe(child, resolve)
        for band, pick in zip(("coarse", "middle", "fine"), label.split(), strict=True):
            want = wa if pick == "A" else wb
            np.testing.assert_allclose(w[bands[band]], want[bands[band]], rtol=1e-6, atol=1e-6)
    assert crossbreed(a, b, []) == a
    with pytest.raises(LatentError, match="same network"):
        crossbreed(a, Recipe.plain(SeedSource(0), NUM_WS + 1), ["fine"])


def test_pipeline_character_record_keeps_direction_moves(tmp_path):
    from editor.pipeline.record import SourceTable, recipe_from_record

    r = set_direction_alpha(
        mixed_recipe().with_rows([2], RowEdit(WSource(BASE_WS[4], "happy", "preset"), "replace")), smile(), -1.25
    )
    table = SourceTable()
    data = json.loads(json.dumps(table.recipe(r)))
    for rel, blob in table.files().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(blob)
    back = recipe_from_record(data, tmp_path)
    assert back == r and np.array_equal(evaluate_recipe(back, resolve), evaluate_recipe(r, resolve))
    # a recipe without moves is recorded exactly as before (no "directions" key, no extra files)
    plain = SourceTable()
    assert "directions" not in plain.recipe(mixed_recipe()) and plain.files() == {}


def test_recipe_entries_are_matched_by_what_they_move_not_by_name():
    """A renamed direction (same rows, σ, vector) is the same slider: it finds, moves and renames the one entry."""
    from editor.directions import direction_key, find_direction, rename_direction

    r = set_direction_alpha(mixed_recipe(), smile(), 1.0)
    grin = DirectionEdit("grin", (4, 3), unit(1), sigma=0.5, method="labels")  # rows in another order
    assert direction_key(grin) == direction_key(smile()) and find_direction(r, grin) == 0
    assert direction_alpha(r, grin) == 1.0
    moved = set_direction_alpha(r, grin, 2.0)
    assert [(d.name, d.alpha) for d in moved.directions] == [("grin", 2.0)]  # moved, never stacked
    renamed = rename_direction(r, smile(), "beam")
    assert [(d.name, d.alpha) for d in renamed.directions] == [("beam", 1.0)]
    np.testing.assert_array_equal(evaluate_recipe(renamed, resolve), evaluate_recipe(r, resolve))
    assert rename_direction(mixed_recipe(), smile(), "beam") == mixed_recipe()  # unused: unchanged
    other = DirectionEdit("smile", (3, 4), unit(2), sigma=0.5)
    assert find_direction(r, other) == -1  # another vector under the same name is another direction
    with pytest.raises(LatentError, match="no letters or digits"):
        rename_direction(r, smile(), "!!")


def test_direction_slug_is_public_and_no_editor_module_imports_a_private_renderer_name():
    import ast
    from pathlib import Path

    from renderer.latents.directions import direction_slug

    assert direction_slug("Big Smile!") == "big-smile" and direction_slug("x" * 80) == "x" * 64
    assert direction_slug.__doc__ and "LatentError" in direction_slug.__doc__
    with pytest.raises(LatentError, match="no letters or digits"):
        direction_slug("?!")
    root = Path(__file__).resolve().parents[2]
    private = []
    for path in sorted((root / "editor").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("renderer"):
                private += [f"{path.relative_to(root)}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert private == []


def test_stacked_moves_along_one_direction_show_as_one_slider_and_fold_when_moved():
    """A child of a child may hold two entries for one direction: the slider is their sum (what the recipe moves),
    and moving it leaves one entry, in the first one's place."""
    from dataclasses import replace

    other = DirectionEdit("sefa-0", (0, 1, 2), unit(4), 1.25, alpha=-1.0)
    base = mixed_recipe()
    stacked = replace(base, directions=(smile(1.0), other, smile(0.5)))
    assert direction_alpha(stacked, smile()) == 1.5
    moved = set_direction_alpha(stacked, smile(), 2.0)
    assert [(d.name, d.alpha) for d in moved.directions] == [("smile", 2.0), ("sefa-0", -1.0)]
    np.testing.assert_allclose(
        evaluate_recipe(set_direction_alpha(stacked, smile(), 1.5), resolve), evaluate_recipe(stacked, resolve), atol=1e-6
    )
    assert set_direction_alpha(stacked, smile(), 0.0).directions == (other,)
