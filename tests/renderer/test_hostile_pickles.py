"""Hostile network files: refused with NetworkLoadError, and nothing in them runs or writes anything.

Each payload would create a sentinel file if it ran; the controls at the end show that the payloads are
live (plain pickle / exec do create the sentinel), so the absence checks are meaningful.
"""

from __future__ import annotations

import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.official_pickle_writer import (  # noqa: E402
    SnapshotWriter,
    legacy_storage_stream,
    snapshot_node,
    write_snapshot,
)
from helpers.pickle_emitter import Call, Global, NewObj, Raw, dumps  # noqa: E402

from renderer.errors import NetworkLoadError  # noqa: E402
from renderer.loading import load_network  # noqa: E402

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "official"
SMALL = OFFICIAL / "stylegan3-r-64"


def touch_cmd(sentinel: Path) -> str:
    return f"touch {sentinel}"


def py_write(sentinel: Path) -> str:
    return f"open({str(sentinel)!r}, 'w').write('ran')"


def refuse(path: Path, sentinel: Path) -> str:
    """Load must fail with NetworkLoadError, create no sentinel and add no file beside the pickle."""
    before = sorted(path.parent.iterdir())
    with pytest.raises(NetworkLoadError) as info:
        load_network(str(path))
    assert not sentinel.exists(), "the hostile payload ran"
    assert sorted(path.parent.iterdir()) == before
    return str(info.value)


def in_snapshot(payload: object) -> dict:
    """A valid-looking snapshot whose G_ema state carries `payload` as an attribute."""
    node = snapshot_node(SMALL)
    node["G_ema"].args[0]["state"]["evil"] = payload
    return node


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.mark.parametrize(
    ("module", "name", "make_args"),
    [
        ("os", "system", lambda s: (touch_cmd(s),)),
        ("posix", "system", lambda s: (touch_cmd(s),)),
        ("builtins", "eval", lambda s: (py_write(s),)),
        ("builtins", "exec", lambda s: (py_write(s),)),
        ("subprocess", "Popen", lambda s: (["touch", str(s)],)),
    ],
)
@pytest.mark.parametrize("where", ["top", "nested"])
def test_reduce_of_dangerous_callables_is_refused(module, name, make_args, where, tmp_path, sentinel) -> None:
    payload = Call(Global(module, name), make_args(sentinel))
    node = payload if where == "top" else in_snapshot(payload)
    p = tmp_path / "evil.pkl"
    p.write_bytes(dumps(node, 4))
    msg = refuse(p, sentinel)
    assert f"refused global {module}.{name}" in msg


def test_embedded_module_source_is_never_executed(tmp_path: Path, sentinel: Path) -> None:
    source = py_write(sentinel) + "\nclass Generator: pass\n"
    p = write_snapshot(SMALL, tmp_path / "src.pkl", g_source=source)
    net = load_network(str(p))  # a valid network: loads, but its source text stays text
    assert not sentinel.exists()
    assert net.fingerprint
    node = snapshot_node(SMALL, g_source=source)
    node["G_ema"].args[0]["class_name"] = "Payload"
    p2 = tmp_path / "payload.pkl"
    p2.write_bytes(dumps(node, 4))
    assert "Payload" in refuse(p2, sentinel)


def test_hostile_reduce_inside_nested_storage_blob(tmp_path: Path, sentinel: Path) -> None:
    w = SnapshotWriter()
    blob = legacy_storage_stream(
        np.zeros(4, np.float32), extra_payload=Call(Global("os", "system"), (touch_cmd(sentinel),))
    )
    tensor = Call(w.g_tensor, (Call(w.g_bytes, (blob,)), 0, (4,), (1,), False, w.odict()))
    p = tmp_path / "blob.pkl"
    p.write_bytes(dumps(in_snapshot(tensor), 4))
    msg = refuse(p, sentinel)
    assert "refused global os.system inside a tensor storage blob" in msg


@pytest.mark.parametrize(
    "payload_maker",
    [
        lambda s: Call(
            Global("copyreg", "_reconstructor"),
            (Global("os", "system"), Global("builtins", "str"), touch_cmd(s)),
        ),
        lambda s: Call(Global("copyreg", "__newobj__"), (Global("subprocess", "Popen"), ["touch", str(s)])),
    ],
    ids=["_reconstructor", "__newobj__"],
)
def test_copyreg_reduce_helpers_are_refused(payload_maker, tmp_path: Path, sentinel: Path) -> None:
    p = tmp_path / "copyreg.pkl"
    p.write_bytes(dumps(in_snapshot(payload_maker(sentinel)), 4))
    assert "refused global copyreg." in refuse(p, sentinel)


def test_build_setstate_gadget_is_refused(tmp_path: Path, sentinel: Path) -> None:
    # classic gadget: BUILD {'__setstate__': f} on an object with a __dict__, then BUILD again calls f(state)
    target = NewObj(
        Global("dnnlib.util", "EasyDict"),
        (),
        state={"__setstate__": Global("_codecs", "encode")},
        has_state=True,
    )
    p = tmp_path / "build.pkl"
    p.write_bytes(dumps(in_snapshot([target, target]), 4))
    assert "refused pickle BUILD on dnnlib.util.EasyDict" in refuse(p, sentinel)


def test_build_on_persistent_object_is_refused(tmp_path: Path, sentinel: Path) -> None:
    node = snapshot_node(SMALL)
    node["G_ema"].has_state = True
    node["G_ema"].state = {"__reduce__": "x"}
    p = tmp_path / "build2.pkl"
    p.write_bytes(dumps(node, 4))
    assert "refused pickle BUILD on PersistentObject" in refuse(p, sentinel)


@pytest.mark.parametrize(
    "opcodes",
    [
        lambda s: b"(S'" + touch_cmd(s).encode() + b"'\nios\nsystem\n.",  # INST
        lambda s: b"(cos\nsystem\nS'" + touch_cmd(s).encode() + b"'\no.",  # OBJ
        lambda s: b"cposix\nsystem\n(S'" + touch_cmd(s).encode() + b"'\ntR.",  # protocol-0 GLOBAL + REDUCE
    ],
    ids=["INST", "OBJ", "proto0-REDUCE"],
)
def test_protocol0_inst_and_obj_opcodes_are_refused(opcodes, tmp_path: Path, sentinel: Path) -> None:
    p = tmp_path / "old.pkl"
    p.write_bytes(opcodes(sentinel))
    assert "refused global" in refuse(p, sentinel)


def test_huge_declared_bytes_length(tmp_path: Path, sentinel: Path) -> None:
    p = tmp_path / "huge.pkl"
    p.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"tiny")
    msg = refuse(p, sentinel)
    assert "larger than memory" in msg or "truncated" in msg


def test_huge_declared_storage_size(tmp_path: Path, sentinel: Path) -> None:
    w = SnapshotWriter()
    blob = legacy_storage_stream(np.zeros(4, np.float32), numel=2**40)
    tensor = Call(w.g_tensor, (Call(w.g_bytes, (blob,)), 0, (4,), (1,), False, w.odict()))
    p = tmp_path / "numel.pkl"
    p.write_bytes(dumps(in_snapshot(tensor), 4))
    assert "declares 1099511627776 elements" in refuse(p, sentinel)


def test_huge_declared_tensor_shape(tmp_path: Path, sentinel: Path) -> None:
    w = SnapshotWriter()
    storage = Call(w.g_bytes, (legacy_storage_stream(np.zeros(4, np.float32)),))
    tensor = Call(w.g_tensor, (storage, 0, (2**20, 2**20), (0, 0), False, w.odict()))
    p = tmp_path / "shape.pkl"
    p.write_bytes(dumps(in_snapshot(tensor), 4))
    assert "more elements than its storage" in refuse(p, sentinel)


def test_object_dtype_arrays_are_refused(tmp_path: Path, sentinel: Path) -> None:
    dtype = Call(Global("numpy", "dtype"), ("O8", False, True))
    p = tmp_path / "objarr.pkl"
    p.write_bytes(dumps(in_snapshot(dtype), 4))
    assert "refused numpy dtype 'O8'" in refuse(p, sentinel)


# ---- controls: the payloads above are live when a normal unpickler / exec sees them --------------------


def test_control_plain_pickle_would_run_the_payload(tmp_path: Path, sentinel: Path) -> None:
    data = dumps(Call(Global("os", "system"), (touch_cmd(sentinel),)), 4)
    pickle.loads(data)  # our own payload, writing only inside tmp_path
    assert sentinel.exists()


def test_control_module_source_payload_is_live(tmp_path: Path, sentinel: Path) -> None:
    exec(py_write(sentinel), {})  # noqa: S102 - our own payload, proving the sentinel check can fail
    assert sentinel.exists()


def test_deeply_nested_data_is_refused_cleanly(tmp_path: Path, sentinel: Path) -> None:
    depth = 200_000
    nested = Raw(b"]" * depth + b"a" * (depth - 1))  # a list inside a list ... 200k levels deep
    p = tmp_path / "deep.pkl"
    p.write_bytes(dumps(in_snapshot(nested), 4))
    assert "nested too deeply" in refuse(p, sentinel)
