"""The test helper that writes official-layout pickles matches what torch and numpy themselves write.

If these fail, the loader tests prove nothing about real files; so the helper's tensors, storage
streams, numpy objects and protocol conventions are checked against the real libraries here.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.official_pickle_writer import SnapshotWriter, legacy_storage_stream, write_snapshot  # noqa: E402
from helpers.pickle_emitter import dumps  # noqa: E402

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "official"


def torch_storage_blob(t: torch.Tensor) -> bytes:
    """The `_load_from_bytes` argument torch itself writes when pickling `t`."""
    blobs: list[bytes] = []

    class Grab(pickle.Unpickler):
        def find_class(self, module: str, name: str):  # noqa: ANN202
            if (module, name) == ("torch.storage", "_load_from_bytes"):
                return lambda b: blobs.append(b)
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda *a: None
            return super().find_class(module, name)

    Grab(io.BytesIO(pickle.dumps(t, protocol=4))).load()
    return blobs[0]


@pytest.mark.parametrize("shape", [(6,), (2, 3), (3, 2, 1, 1), ()])
def test_storage_stream_is_byte_identical_to_torch(shape: tuple[int, ...]) -> None:
    t = torch.arange(int(np.prod(shape)), dtype=torch.float32).reshape(shape) * 0.5
    blob = torch_storage_blob(t)
    # the storage key is a process-specific id string: read it from torch's blob, then compare all bytes
    f = io.BytesIO(blob)
    for _ in range(3):
        pickle.load(f)
    ref = pickle.Unpickler(f)
    ref.persistent_load = lambda pid: pid  # type: ignore[method-assign]
    pid = ref.load()
    assert pid[0] == "storage" and pid[3] == "cpu" and pid[4] == t.numel()
    assert legacy_storage_stream(t.numpy(), key=pid[2]) == blob


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_real_torch_and_numpy_unpickle_the_helpers_objects(protocol: int) -> None:
    w = SnapshotWriter(numpy_major=2)
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    param = pickle.loads(dumps(w.tensor(arr, True), protocol))
    assert isinstance(param, torch.nn.Parameter) and not param.requires_grad
    assert np.array_equal(param.detach().numpy(), arr)
    scalar_t = pickle.loads(dumps(w.tensor(np.array(2.5, np.float32), False), protocol))
    assert scalar_t.shape == () and float(scalar_t) == 2.5
    f8 = pickle.loads(dumps(w.scalar(0.1, "f8"), protocol))
    assert type(f8) is np.float64 and f8 == 0.1
    b1 = pickle.loads(dumps(w.scalar(True, "b1"), protocol))
    assert type(b1) is np.bool_ and bool(b1)
    size = pickle.loads(dumps(w.ndarray(np.array([36, 36]), "i8"), protocol))
    assert size.dtype == np.int64 and size.tolist() == [36, 36]
    plain = {"a": {1, 2}, "b": b"\x00\xffraw", "c": (1, 2.5, None, True), "d": ["x"] * 3}
    assert pickle.loads(dumps(plain, protocol)) == plain


def test_numpy_scalars_match_numpys_own_pickle_bytes() -> None:
    w = SnapshotWriter(numpy_major=2)
    ours = dumps(w.scalar(0.75, "f8"), 4)
    assert pickle.loads(ours) == pickle.loads(pickle.dumps(np.float64(0.75), protocol=4))
    # the same opcodes apart from framing/memo details: compare the global names referenced
    assert _globals(ours) == _globals(pickle.dumps(np.float64(0.75), protocol=4))


def _globals(data: bytes) -> list[str]:
    """module.name of every GLOBAL / STACK_GLOBAL, resolving memoized strings (BINGET after MEMOIZE)."""
    names: list[str] = []
    pushed: list[object] = []  # what each opcode left on top (strings tracked, everything else None)
    memo: dict[int, object] = {}
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"):
            pushed.append(arg)
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            pushed.append(memo.get(int(arg)))
        elif op.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1]
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg)] = pushed[-1]
        elif op.name == "STACK_GLOBAL":
            names.append(f"{pushed[-2]}.{pushed[-1]}")
            pushed.append(None)
        elif op.name in ("GLOBAL", "INST"):
            names.append(arg.replace(" ", "."))
            pushed.append(None)
        elif op.name not in ("FRAME", "PROTO", "STOP"):
            pushed.append(None)
    return sorted(set(names))


@pytest.mark.parametrize(
    ("protocol", "numpy_major", "expected_extra"),
    [
        (4, 2, set()),
        (4, 1, set()),
        (3, 2, {"builtins.set"}),
        (2, 2, {"__builtin__.set", "_codecs.encode"}),
    ],
)
def test_snapshot_references_exactly_the_documented_globals(
    tmp_path: Path, protocol, numpy_major, expected_extra
) -> None:
    path = write_snapshot(
        OFFICIAL / "stylegan3-r-64", tmp_path / "n.pkl", protocol=protocol, numpy_major=numpy_major
    )
    core = "numpy._core.multiarray" if numpy_major == 2 else "numpy.core.multiarray"
    documented = {
        "collections.OrderedDict", "dnnlib.util.EasyDict", f"{core}._reconstruct", f"{core}.scalar", "numpy.dtype",
        "numpy.ndarray", "torch._utils._rebuild_parameter", "torch._utils._rebuild_tensor_v2",
        "torch.storage._load_from_bytes", "torch_utils.persistence._reconstruct_persistent_obj",
    }  # fmt: skip
    assert set(_globals(path.read_bytes())) == documented | expected_extra
