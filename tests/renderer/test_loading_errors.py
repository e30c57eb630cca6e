"""Every way a network file can be wrong ends in one NetworkLoadError that says what it is and what to do."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.official_pickle_writer import snapshot_node, write_snapshot  # noqa: E402
from helpers.pickle_emitter import Call, Global, dumps  # noqa: E402

from renderer.errors import NetworkLoadError  # noqa: E402
from renderer.loading import load_network  # noqa: E402

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "official"
SMALL = OFFICIAL / "stylegan3-r-64"  # the smallest fixture (270k floats)


def load_error(path: Path | str) -> str:
    with pytest.raises(NetworkLoadError) as info:
        load_network(str(path))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    msg = load_error(tmp_path / "nope.pkl")
    assert "not found" in msg and "nope.pkl" in msg


def test_directory(tmp_path: Path) -> None:
    assert "is a folder" in load_error(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.pkl"
    p.write_bytes(b"")
    assert "is empty" in load_error(p)


def test_png_image(tmp_path: Path) -> None:
    from PIL import Image

    p = tmp_path / "face.pkl"
    Image.new("RGB", (4, 4)).save(p, format="PNG")
    assert "is a PNG image, not a network file" in load_error(p)


def test_zip_torch_save_checkpoint(tmp_path: Path) -> None:
    p = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, p)
    assert zipfile.is_zipfile(p)
    assert "zip archive" in load_error(p)


def test_legacy_torch_save_checkpoint(tmp_path: Path) -> None:
    p = tmp_path / "old.pt"
    torch.save({"w": torch.zeros(2)}, p, _use_new_zipfile_serialization=False)
    assert "torch.save checkpoint" in load_error(p)


def test_plain_text_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello, this is not a network\n")
    assert "not a network file" in load_error(p)


def test_truncated_pickle(tmp_path: Path) -> None:
    full = write_snapshot(SMALL, tmp_path / "full.pkl").read_bytes()
    for cut in (len(full) // 3, len(full) - 10):
        p = tmp_path / f"cut{cut}.pkl"
        p.write_bytes(full[:cut])
        assert "truncated" in load_error(p)


def test_corrupt_pickle_bytes(tmp_path: Path) -> None:
    full = bytearray(write_snapshot(SMALL, tmp_path / "full.pkl").read_bytes())
    rng = np.random.default_rng(0)
    full[200:400] = rng.integers(0, 256, 200, dtype=np.uint8).tobytes()
    p = tmp_path / "corrupt.pkl"
    p.write_bytes(bytes(full))
    msg = load_error(p)
    assert "corrupt" in msg or "truncated" in msg or "refused" in msg


def test_tensorflow_era_pickle(tmp_path: Path) -> None:
    tf_net = Call(Global("dnnlib.tflib.network", "Network"), ())
    p = tmp_path / "karras2019.pkl"
    p.write_bytes(dumps((tf_net, tf_net, tf_net), 2))
    msg = load_error(p)
    assert "TensorFlow" in msg and "legacy.py" in msg


def test_not_a_snapshot_dict(tmp_path: Path) -> None:
    p = tmp_path / "list.pkl"
    p.write_bytes(dumps([1, 2, 3], 4))
    assert "not a network snapshot" in load_error(p)


def test_missing_generator(tmp_path: Path) -> None:
    p = write_snapshot(SMALL, tmp_path / "d_only.pkl", keys=("D",))
    msg = load_error(p)
    assert "G_ema" in msg and "no generator" in msg


def _write_node(node: object, path: Path) -> Path:
    path.write_bytes(dumps(node, 4))
    return path


def test_unknown_generator_class_is_named(tmp_path: Path) -> None:
    node = snapshot_node(SMALL)
    node["G_ema"].args[0]["class_name"] = "StyleGAN9Generator"
    msg = load_error(_write_node(node, tmp_path / "odd.pkl"))
    assert "unknown network architecture" in msg and "StyleGAN9Generator" in msg


def test_unknown_synthesis_modules_are_named(tmp_path: Path) -> None:
    node = snapshot_node(SMALL)
    synthesis = node["G_ema"].args[0]["state"]["_modules"]["synthesis"].args[0]["state"]
    for child in synthesis["_modules"].values():
        child.args[0]["class_name"] = "AliasFreeThing"
    msg = load_error(_write_node(node, tmp_path / "odd.pkl"))
    assert "AliasFreeThing" in msg


def test_incompatible_weights_name_key_and_shapes(tmp_path: Path) -> None:
    node = snapshot_node(SMALL)
    node["G_ema"].args[0]["state"]["_init_kwargs"]["w_dim"] = 32  # the weights are for w_dim 64
    msg = load_error(_write_node(node, tmp_path / "mismatch.pkl"))
    assert "incompatible weights" in msg
    assert "'synthesis.input.affine.weight' has shape [4, 64] in the file" in msg and "expects [4, 32]" in msg


def test_missing_weight_is_named(tmp_path: Path) -> None:
    node = snapshot_node(SMALL)
    mapping = node["G_ema"].args[0]["state"]["_modules"]["mapping"].args[0]["state"]
    del mapping["_buffers"]["w_avg"]
    msg = load_error(_write_node(node, tmp_path / "missing.pkl"))
    assert "incompatible weights" in msg and "mapping.w_avg" in msg


def test_unsupported_generator_option_is_reported(tmp_path: Path) -> None:
    node = snapshot_node(SMALL)
    node["G_ema"].args[0]["state"]["_init_kwargs"]["warp_drive"] = True
    msg = load_error(_write_node(node, tmp_path / "opt.pkl"))
    assert "warp_drive" in msg


def test_wrong_persistence_version(tmp_path: Path) -> None:
    node = snapshot_node(SMALL)
    node["G_ema"].args[0]["version"] = 5
    assert "version 5" in load_error(_write_node(node, tmp_path / "v5.pkl"))
