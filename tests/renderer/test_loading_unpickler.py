"""Tensor layouts the allow-list unpickler must read like torch does: strides, offsets, shared and typed storages."""

from __future__ import annotations

import io
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.official_pickle_writer import SnapshotWriter, legacy_storage_stream  # noqa: E402
from helpers.pickle_emitter import Call, dumps  # noqa: E402

from renderer.errors import NetworkLoadError  # noqa: E402
from renderer.loading.records import plain  # noqa: E402
from renderer.loading.safe_unpickler import load_restricted  # noqa: E402


def restricted(node: object, protocol: int = 4) -> object:
    return plain(load_restricted(io.BytesIO(dumps(node, protocol))))


def tensor_node(w: SnapshotWriter, storage: Call, offset: int, size: tuple, stride: tuple) -> Call:
    return Call(w.g_tensor, (storage, offset, size, stride, False, w.odict()))


def test_strided_and_offset_views_match_torch() -> None:
    w = SnapshotWriter()
    data = np.arange(24, dtype=np.float32)
    storage = Call(w.g_bytes, (legacy_storage_stream(data),))
    nodes = [
        tensor_node(w, storage, 0, (4, 6), (6, 1)),  # contiguous
        tensor_node(w, storage, 0, (6, 4), (1, 6)),  # transposed
        tensor_node(w, storage, 5, (3, 2), (4, 2)),  # offset + gaps
        tensor_node(w, storage, 7, (), ()),  # 0-d
    ]
    ours = restricted(nodes)
    reference = pickle.loads(dumps(nodes, 4))  # what torch itself builds from the same bytes
    for got, ref in zip(ours, reference, strict=True):
        assert got.shape == tuple(ref.shape)
        assert np.array_equal(got, ref.numpy())


@pytest.mark.parametrize(
    ("storage_class", "dtype", "torch_dtype"),
    [("HalfStorage", np.float16, torch.float16), ("DoubleStorage", np.float64, torch.float64)],
)
def test_other_float_storages(storage_class: str, dtype, torch_dtype) -> None:
    w = SnapshotWriter()
    data = (np.arange(6) * 0.25).astype(dtype)
    storage = Call(w.g_bytes, (legacy_storage_stream(data, storage_class=storage_class),))
    node = tensor_node(w, storage, 0, (2, 3), (3, 1))
    got = restricted(node)
    ref = pickle.loads(dumps(node, 4))
    assert ref.dtype == torch_dtype
    assert got.dtype == dtype and np.array_equal(got, ref.numpy())


def test_bfloat16_storage_widens_to_float32() -> None:
    w = SnapshotWriter()
    values = torch.tensor([1.5, -2.0, 3.25], dtype=torch.bfloat16)
    raw = values.view(torch.int16).numpy().view(np.uint16)
    storage = Call(w.g_bytes, (legacy_storage_stream(raw, storage_class="BFloat16Storage"),))
    got = restricted(tensor_node(w, storage, 0, (3,), (1,)))
    assert got.dtype == np.float32 and got.tolist() == [1.5, -2.0, 3.25]


def test_tensor_past_the_end_of_its_storage_is_refused() -> None:
    w = SnapshotWriter()
    storage = Call(w.g_bytes, (legacy_storage_stream(np.zeros(6, np.float32)),))
    with pytest.raises(NetworkLoadError, match="reaches element"):
        restricted(tensor_node(w, storage, 4, (2, 2), (2, 1)))


def test_storage_data_shorter_than_declared_is_refused() -> None:
    w = SnapshotWriter()
    blob = legacy_storage_stream(np.zeros(6, np.float32))[:-8]
    with pytest.raises(NetworkLoadError, match="truncated or corrupt|holds"):
        restricted(tensor_node(w, Call(w.g_bytes, (blob,)), 0, (6,), (1,)))
