"""Castmaker's .safetensors network format: round trip, metadata, fingerprint check, atomic writes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.official_pickle_writer import write_snapshot  # noqa: E402

from renderer.errors import NetworkLoadError  # noqa: E402
from renderer.fingerprint import weights_fingerprint  # noqa: E402
from renderer.loading import load_network, save_native  # noqa: E402

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "official"


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    folder = tmp_path_factory.mktemp("native")
    net = load_network(str(write_snapshot(OFFICIAL / "stylegan2-ada-64", folder / "ada.pkl")))
    out = folder / "ada.safetensors"
    save_native(net, out)
    return net, out


def test_round_trip_keeps_weights_fingerprint_arch_and_discriminator(converted) -> None:
    net, out = converted
    back = load_network(str(out))
    assert back.fingerprint == net.fingerprint
    assert back.fingerprint == weights_fingerprint(
        load_file(str(OFFICIAL / "stylegan2-ada-64" / "weights.safetensors"))
    )
    assert back.arch == net.arch and back.kind == net.kind and back.name == net.name
    for key, value in net.G.state_dict().items():
        assert np.array_equal(back.G.state_dict()[key].numpy(), value.numpy()), key
    assert back.discriminator is not None and net.discriminator is not None
    assert back.discriminator.init_kwargs == net.discriminator.init_kwargs
    assert set(back.discriminator.state) == set(net.discriminator.state)
    for key, value in net.discriminator.state.items():
        assert np.array_equal(back.discriminator.state[key], value), key
    assert back.extra["format"] == "castmaker-safetensors"


def test_file_layout_and_metadata(converted) -> None:
    net, out = converted
    with safe_open(str(out), framework="np") as f:
        meta = f.metadata()
        keys = list(f.keys())
    assert meta["format"] == "castmaker-network" and meta["format_version"] == "1"
    assert json.loads(meta["arch"]) == net.arch
    assert meta["kind"] == "stylegan2" and meta["fingerprint"] == net.fingerprint and meta["name"] == net.name
    assert json.loads(meta["discriminator_init_kwargs"]) == net.discriminator.init_kwargs
    assert {k for k in keys if k.startswith("G_ema.")} == {"G_ema." + k for k in net.G.state_dict()}
    assert {k for k in keys if k.startswith("D.")} == {"D." + k for k in net.discriminator.state}
    assert all(k.startswith(("G_ema.", "D.")) for k in keys)


def test_tampered_weights_are_reported_as_corrupted(converted, tmp_path: Path) -> None:
    _, out = converted
    with safe_open(str(out), framework="np") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    tensors["G_ema.mapping.w_avg"] = tensors["G_ema.mapping.w_avg"] + np.float32(1e-3)
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata=meta)
    with pytest.raises(NetworkLoadError, match="file corrupted"):
        load_network(str(bad))


def test_truncated_safetensors_file(converted, tmp_path: Path) -> None:
    _, out = converted
    data = out.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(NetworkLoadError, match="truncated or corrupt"):
        load_network(str(cut))


def test_bare_weights_file_without_castmaker_metadata(tmp_path: Path) -> None:
    with pytest.raises(NetworkLoadError, match="without Castmaker network metadata"):
        load_network(str(OFFICIAL / "stylegan3-r-64" / "weights.safetensors"))


def test_newer_format_version_is_refused(converted, tmp_path: Path) -> None:
    _, out = converted
    with safe_open(str(out), framework="np") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta["format_version"] = "99"
    newer = tmp_path / "newer.safetensors"
    save_file(tensors, str(newer), metadata=meta)
    with pytest.raises(NetworkLoadError, match="version 99"):
        load_network(str(newer))


def test_save_refuses_other_suffix_and_leaves_no_temp_files(converted, tmp_path: Path) -> None:
    net, _ = converted
    with pytest.raises(NetworkLoadError, match=r"must end in \.safetensors"):
        save_native(net, tmp_path / "net.pkl")
    target = tmp_path / "net.safetensors"
    target.write_bytes(b"old content")
    save_native(net, target)  # replaces atomically
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.safetensors"]
    assert load_network(str(target)).fingerprint == net.fingerprint


def test_failed_write_keeps_the_old_file(converted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import renderer.loading.native as native

    net, _ = converted
    target = tmp_path / "keep.safetensors"
    target.write_bytes(b"previous")

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(native.os, "replace", boom)
    with pytest.raises(NetworkLoadError, match="No space left"):
        save_native(net, target)
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.safetensors"]
