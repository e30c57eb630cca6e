"""Preset library: save / list / rename / delete / import, corrupt files, applying and refusing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from editor.presets import (
    Preset,
    PresetError,
    PresetLibrary,
    apply_preset,
    bundled_library,
    read_preset,
    slugify,
    user_library,
)
from renderer.latents import Recipe, RowEdit, SeedSource, WSource, evaluate_recipe, save_w

NUM_WS, W_DIM = 6, 4
FP = "ab" * 32
OTHER_FP = "cd" * 32


def make_w(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((NUM_WS, W_DIM)).astype(np.float32)


def make_preset(name: str = "happy", rows=(2, 3), seed: int = 0, **kw) -> Preset:
    return Preset(name=name, fingerprint=FP, network_name="tiny", rows=list(rows), w=make_w(seed), **kw)


def test_save_writes_documented_format(tmp_path):
    lib = PresetLibrary(tmp_path)
    thumb = np.full((8, 8, 3), 200, np.uint8)
    saved = lib.save(make_preset("Happy Face"), thumbnail=thumb)
    assert saved.path == tmp_path / "happy-face.json"
    meta = json.loads(saved.path.read_text())
    assert meta["format"] == "castmaker-preset" and meta["version"] == 1
    assert meta["name"] == "Happy Face"
    assert meta["network"] == {"fingerprint": FP, "name": "tiny"}
    assert meta["rows"] == [2, 3] and meta["mode"] == "replace" and meta["weight"] == 1.0
    assert meta["w"] == "happy-face.npy" and meta["thumbnail"] == "happy-face.png"
    assert meta["created"].endswith("+00:00")
    arr = np.load(tmp_path / "happy-face.npy")
    assert arr.dtype == np.float32 and arr.shape == (1, NUM_WS, W_DIM)
    np.testing.assert_array_equal(arr[0], make_w(0))
    assert np.asarray(Image.open(tmp_path / "happy-face.png")).shape == (8, 8, 3)
    # no temp files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "happy-face.json",
        "happy-face.npy",
        "happy-face.png",
    ]


def test_list_get_round_trip(tmp_path):
    lib = PresetLibrary(tmp_path)
    lib.save(make_preset("sad", rows=[5], seed=1, mode="blend", weight=0.5, description="frown"))
    lib.save(make_preset("angry", rows=[1], seed=2))
    presets, problems = lib.list()
    assert problems == []
    assert [p.name for p in presets] == ["angry", "sad"]
    sad = lib.get("sad")
    assert sad.rows == [5] and sad.mode == "blend" and sad.weight == 0.5 and sad.description == "frown"
    np.testing.assert_array_equal(sad.w, make_w(1))
    assert sad.thumbnail_path is None


def test_save_refuses_to_overwrite_without_flag(tmp_path):
    lib = PresetLibrary(tmp_path)
    lib.save(make_preset("happy", seed=0))
    with pytest.raises(PresetError, match="already exists"):
        lib.save(make_preset("happy", seed=5))
    np.testing.assert_array_equal(lib.get("happy").w, make_w(0))
    lib.save(make_preset("happy", seed=5), overwrite=True)
    np.testing.assert_array_equal(lib.get("happy").w, make_w(5))


def test_corrupt_files_are_reported_and_skipped(tmp_path):
    lib = PresetLibrary(tmp_path)
    lib.save(make_preset("good"))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "wrongformat.json").write_text(json.dumps({"format": "something-else"}))
    lib.save(make_preset("nofile"))
    (tmp_path / "nofile.npy").unlink()
    lib.save(make_preset("badnpy"))
    (tmp_path / "badnpy.npy").write_bytes(b"garbage")
    lib.save(make_preset("future"))
    meta = json.loads((tmp_path / "future.json").read_text())
    meta["version"] = 99
    (tmp_path / "future.json").write_text(json.dumps(meta))
    presets, problems = lib.list()
    assert [p.name for p in presets] == ["good"]
    names = sorted(pr.path.name for pr in problems)
    assert names == ["badnpy.json", "broken.json", "future.json", "nofile.json", "wrongformat.json"]
    text = {pr.path.name: str(pr) for pr in problems}
    assert "not a readable preset JSON" in text["broken.json"]
    assert "not a Castmaker preset" in text["wrongformat.json"]
    assert "update Castmaker" in text["future.json"]
    assert "w file" in text["nofile.json"]


def test_rows_outside_w_are_reported(tmp_path):
    lib = PresetLibrary(tmp_path)
    lib.save(make_preset("ok"))
    meta = json.loads((tmp_path / "ok.json").read_text())
    meta["rows"] = [NUM_WS + 3]
    (tmp_path / "ok.json").write_text(json.dumps(meta))
    presets, problems = lib.list()
    assert presets == [] and "outside" in str(problems[0])


def test_rename_and_delete(tmp_path):
    lib = PresetLibrary(tmp_path)
    lib.save(make_preset("happy"), thumbnail=np.zeros((4, 4, 3), np.uint8))
    lib.save(make_preset("sad"))
    with pytest.raises(PresetError, match="already exists"):
        lib.rename("happy", "sad")
    renamed = lib.rename("happy", "joyful")
    assert renamed.name == "joyful" and renamed.thumbnail_path == tmp_path / "joyful.png"
    assert not (tmp_path / "happy.json").exists() and not (tmp_path / "happy.npy").exists()
    assert not (tmp_path / "happy.png").exists()
    np.testing.assert_array_equal(lib.get("joyful").w, make_w(0))
    lib.delete("joyful")
    assert [p.name for p in lib.list()[0]] == ["sad"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sad.json", "sad.npy"]
    with pytest.raises(PresetError, match="no preset named"):
        lib.get("joyful")


def test_read_only_library_refuses_writes(tmp_path):
    PresetLibrary(tmp_path).save(make_preset("happy"))
    lib = PresetLibrary(tmp_path, read_only=True)
    assert [p.name for p in lib.list()[0]] == ["happy"]
    for action in (
        lambda: lib.save(make_preset("x")),
        lambda: lib.delete("happy"),
        lambda: lib.rename("happy", "y"),
    ):
        with pytest.raises(PresetError, match="read-only"):
            action()


def test_import_w_npy_and_npz(tmp_path):
    lib = PresetLibrary(tmp_path / "lib")
    w = make_w(7)
    save_w(tmp_path / "proj.npy", w)
    save_w(tmp_path / "proj.npz", w)
    a = lib.import_w(
        tmp_path / "proj.npy", "from npy", rows=[0, 1], fingerprint=FP, num_ws=NUM_WS, w_dim=W_DIM
    )
    b = lib.import_w(tmp_path / "proj.npz", "from npz", rows=[4], fingerprint=FP, num_ws=NUM_WS, w_dim=W_DIM)
    np.testing.assert_array_equal(lib.get(a.name).w, w)
    np.testing.assert_array_equal(lib.get(b.name).w, w)
    assert "proj.npz" in lib.get("from npz").description
    with pytest.raises(PresetError, match="made for another network"):
        lib.import_w(tmp_path / "proj.npy", "wrong", rows=[0], fingerprint=FP, num_ws=NUM_WS + 1, w_dim=W_DIM)
    (tmp_path / "bad.npy").write_bytes(b"nope")
    with pytest.raises(PresetError, match="cannot import bad.npy"):
        lib.import_w(tmp_path / "bad.npy", "bad", rows=[0], fingerprint=FP)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "  "}, "needs a name"),
        ({"name": "!!!"}, "no letters or digits"),
        ({"rows": []}, "applies no rows"),
        ({"rows": [NUM_WS]}, "outside"),
        ({"mode": "keep"}, "mode 'keep' is unknown"),
    ],
)
def test_invalid_presets_are_refused(kwargs, message):
    base = dict(name="p", fingerprint=FP, network_name="tiny", rows=[0], w=make_w())
    base.update(kwargs)
    with pytest.raises(PresetError, match=message):
        Preset(**base)


def test_apply_preset_sets_rows_and_matches_evaluation():
    base_w = make_w(10)
    recipe = Recipe.plain(WSource(base_w, label="base"), NUM_WS)
    preset = make_preset("happy", rows=[2, 3], seed=3)
    out = apply_preset(recipe, preset, FP)
    assert out.rows[0] == RowEdit() and out.rows[5] == RowEdit()
    edit = out.rows[2]
    assert edit.mode == "replace" and edit.source.kind == "preset" and edit.source.label == "happy"
    ws = evaluate_recipe(out, lambda s: s.w)
    np.testing.assert_array_equal(ws[[2, 3]], make_w(3)[[2, 3]])
    np.testing.assert_array_equal(ws[[0, 1, 4, 5]], base_w[[0, 1, 4, 5]])

    blend = apply_preset(recipe, make_preset("half", rows=[1], seed=3, mode="blend", weight=0.25), FP)
    ws = evaluate_recipe(blend, lambda s: s.w)
    np.testing.assert_allclose(ws[1], base_w[1] + 0.25 * (make_w(3)[1] - base_w[1]), rtol=1e-6)


def test_apply_to_other_network_is_refused_with_clear_message():
    recipe = Recipe.plain(SeedSource(1), NUM_WS)
    with pytest.raises(PresetError) as info:
        apply_preset(recipe, make_preset("happy"), OTHER_FP, network_label="demo-sprite")
    msg = str(info.value)
    assert "'happy' was made for network tiny" in msg and FP[:12] in msg
    assert "demo-sprite" in msg and "only fit the network they were made with" in msg


def test_user_library_honours_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path))
    lib = user_library(FP)
    assert lib.folder == tmp_path / "presets" / FP[:16] and not lib.read_only
    lib.save(make_preset("mine"))
    assert (tmp_path / "presets" / FP[:16] / "mine.json").is_file()


def test_bundled_library_by_name_or_fingerprint(tmp_path):
    (tmp_path / "demo-face").mkdir()
    (tmp_path / FP[:16]).mkdir()
    lib = bundled_library("demo-face", root=tmp_path)
    assert lib is not None and lib.read_only and lib.folder == tmp_path / "demo-face"
    assert bundled_library(FP, root=tmp_path).folder == tmp_path / FP[:16]
    assert bundled_library(OTHER_FP, root=tmp_path) is None
    assert bundled_library("../etc", root=tmp_path) is None


def test_slugify():
    assert slugify("Happy Face!") == "happy-face"
    assert slugify("Élan 2") == "elan-2"


def test_read_preset_rejects_path_escape(tmp_path):
    PresetLibrary(tmp_path).save(make_preset("p"))
    meta = json.loads((tmp_path / "p.json").read_text())
    meta["w"] = "../elsewhere.npy"
    (tmp_path / "p.json").write_text(json.dumps(meta))
    with pytest.raises(PresetError, match="file name beside the JSON"):
        read_preset(tmp_path / "p.json")
