"""Session files: round trip of every source kind, atomic write, clear errors for bad files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from editor.session import SessionError, load_session, save_session
from renderer.latents import Recipe, RowEdit, SeedSource, WSource

NUM_WS, W_DIM = 5, 3


def sample_recipe() -> Recipe:
    rng = np.random.default_rng(0)
    preset = WSource(rng.standard_normal((NUM_WS, W_DIM)), label="happy", kind="preset")
    projected = WSource(rng.standard_normal((NUM_WS, W_DIM)), label="face.png", kind="projected")
    recipe = Recipe.plain(SeedSource(12, psi=0.5, cutoff=4), NUM_WS)
    recipe = recipe.with_rows([0], RowEdit(SeedSource(3, psi=1.0, class_idx=2), "replace"))
    recipe = recipe.with_rows([1, 2], RowEdit(preset, "blend", 0.25))
    recipe = recipe.with_rows([3], RowEdit(projected, "replace"))
    return recipe.with_rows([4], RowEdit(projected, "keep", 0.6))


def test_round_trip(tmp_path):
    recipe = sample_recipe()
    path = save_session(tmp_path / "mix.castmaker-session", recipe, "demo-face", "f" * 64)
    data = load_session(path)
    assert data.recipe == recipe
    assert data.network_source == "demo-face" and data.fingerprint == "f" * 64
    assert [p.name for p in tmp_path.iterdir()] == ["mix.castmaker-session"]


def test_documented_layout(tmp_path):
    path = save_session(tmp_path / "mix", sample_recipe(), "/nets/ffhq.pkl", "ab12")
    assert path.name == "mix.castmaker-session"
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["session_json", "w_0", "w_1"]  # identical w stored once
        doc = json.loads(npz["session_json"].tobytes().decode("utf-8"))
        assert npz["w_0"].dtype == np.float32
    assert doc["format"] == "castmaker-session" and doc["version"] == 1
    assert doc["network"] == {"source": "/nets/ffhq.pkl", "fingerprint": "ab12"}
    assert doc["base"] == {"type": "seed", "seed": 12, "psi": 0.5, "cutoff": 4, "class_idx": None}
    assert doc["rows"][1] == {
        "mode": "blend",
        "weight": 0.25,
        "source": {"type": "w", "label": "happy", "kind": "preset", "array": "w_0"},
    }
    assert doc["rows"][3]["source"]["array"] == doc["rows"][4]["source"]["array"] == "w_1"


def _write_npz(path, doc, **arrays):
    text = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, session_json=text, **arrays)
    return path


def _good_doc():
    return {
        "format": "castmaker-session",
        "version": 1,
        "network": {"source": "demo-face", "fingerprint": "x"},
        "base": {"type": "seed", "seed": 1, "psi": 0.7, "cutoff": None, "class_idx": None},
        "rows": [{"mode": "keep", "weight": 1.0, "source": None}] * 2,
    }


def test_bad_files_raise_session_error(tmp_path):
    with pytest.raises(SessionError, match="not found"):
        load_session(tmp_path / "missing.castmaker-session")
    junk = tmp_path / "junk.castmaker-session"
    junk.write_bytes(b"hello")
    with pytest.raises(SessionError, match="not a readable session"):
        load_session(junk)
    plain = tmp_path / "plain.npz"
    with open(plain, "wb") as f:
        np.savez(f, w=np.zeros((2, 2), np.float32))
    with pytest.raises(SessionError, match="no 'session_json'"):
        load_session(plain)

    doc = _good_doc()
    assert load_session(_write_npz(tmp_path / "ok.npz", doc)).recipe.num_ws == 2

    bad = dict(doc, format="other")
    with pytest.raises(SessionError, match="not a Castmaker session"):
        load_session(_write_npz(tmp_path / "a.npz", bad))
    with pytest.raises(SessionError, match="update Castmaker"):
        load_session(_write_npz(tmp_path / "b.npz", dict(doc, version=7)))
    rows = [
        {"mode": "replace", "weight": 1.0, "source": {"type": "w", "label": "x", "kind": "w", "array": "w_9"}}
    ]
    with pytest.raises(SessionError, match="no array 'w_9'"):
        load_session(_write_npz(tmp_path / "c.npz", dict(doc, rows=rows)))
    rows = [{"mode": "replace", "weight": 1.0, "source": None}]
    with pytest.raises(SessionError, match="row 0: a row in mode 'replace' needs a source"):
        load_session(_write_npz(tmp_path / "d.npz", dict(doc, rows=rows)))
    with pytest.raises(SessionError, match="unknown source type"):
        load_session(_write_npz(tmp_path / "e.npz", dict(doc, base={"type": "zzz"})))
    rows = [
        {"mode": "replace", "weight": 1.0, "source": {"type": "w", "label": "x", "kind": "w", "array": "w_0"}}
    ] * 2
    with pytest.raises(SessionError, match="has 3 w rows but the recipe has 2"):
        load_session(_write_npz(tmp_path / "f.npz", dict(doc, rows=rows), w_0=np.zeros((3, 4), np.float32)))
    with pytest.raises(SessionError, match="not a finite float32"):
        load_session(
            _write_npz(tmp_path / "g.npz", dict(doc, rows=rows), w_0=np.full((2, 4), np.nan, np.float32))
        )
    raw = tmp_path / "h.npz"
    with zipfile.ZipFile(raw, "w") as z:
        z.writestr("session_json.npy", b"broken")
    with pytest.raises(SessionError):
        load_session(raw)


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = save_session(tmp_path / "s.castmaker-session", sample_recipe(), "demo-face", "fp")
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        save_session(path, Recipe.plain(SeedSource(1), NUM_WS), "demo-face", "fp")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.castmaker-session"]
