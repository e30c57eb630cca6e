"""StyleGAN2 discriminator: official names/shapes, shapes of outputs and features, strict loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from renderer.errors import NetworkLoadError
from renderer.nets.discriminator import Discriminator, build_discriminator
from renderer.network import DiscriminatorRecord


@pytest.fixture(scope="module")
def d_kwargs(official_dir) -> dict:
    init = json.loads((official_dir / "stylegan2-ada-64" / "init.json").read_text())
    return init["discriminator_in_pickle"]["init_kwargs"]


def _official_layout_64(channels: dict[int, int]) -> list[tuple[str, list[int]]]:
    """The state_dict layout of the official 64 px 'resnet' discriminator (format doc, section 9)."""
    keys: list[tuple[str, list[int]]] = []
    for res in (64, 32, 16, 8):
        tmp, out = channels[res], channels[res // 2]
        keys.append((f"b{res}.resample_filter", [4, 4]))
        if res == 64:
            keys += [
                (f"b{res}.fromrgb.weight", [tmp, 3, 1, 1]),
                (f"b{res}.fromrgb.bias", [tmp]),
                (f"b{res}.fromrgb.resample_filter", [4, 4]),
            ]
        keys += [
            (f"b{res}.conv0.weight", [tmp, tmp, 3, 3]),
            (f"b{res}.conv0.bias", [tmp]),
            (f"b{res}.conv0.resample_filter", [4, 4]),
            (f"b{res}.conv1.weight", [out, tmp, 3, 3]),
            (f"b{res}.conv1.bias", [out]),
            (f"b{res}.conv1.resample_filter", [4, 4]),
            (f"b{res}.skip.weight", [out, tmp, 1, 1]),
            (f"b{res}.skip.resample_filter", [4, 4]),
        ]
    c4 = channels[4]
    keys += [
        ("b4.conv.weight", [c4, c4 + 1, 3, 3]),
        ("b4.conv.bias", [c4]),
        ("b4.conv.resample_filter", [4, 4]),
        ("b4.fc.weight", [c4, c4 * 16]),
        ("b4.fc.bias", [c4]),
        ("b4.out.weight", [1, c4]),
        ("b4.out.bias", [1]),
    ]
    return keys


def test_names_and_shapes_match_the_official_layout(d_kwargs) -> None:
    D = Discriminator(**d_kwargs)
    channels = {res: min(2048 // res, 64) for res in (64, 32, 16, 8, 4)}
    ours = [(k, list(v.shape)) for k, v in D.state_dict().items()]
    assert ours == _official_layout_64(channels)
    assert len(ours) == 46
    assert [D.b64.use_fp16, D.b32.use_fp16, D.b16.use_fp16, D.b8.use_fp16] == [True, True, True, True]


def test_forward_and_feature_shapes(d_kwargs) -> None:
    torch.manual_seed(0)
    D = Discriminator(**d_kwargs).eval()
    img = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        logits = D(img, None)
        feats = D.features(img)
    assert logits.shape == (4, 1) and logits.dtype == torch.float32
    assert [tuple(f.shape) for f in feats] == [
        (4, 64, 32, 32),
        (4, 64, 16, 16),
        (4, 64, 8, 8),
        (4, 64, 4, 4),
        (4, 64, 4, 4),
    ]
    assert all(torch.isfinite(f).all() for f in feats)


def _random_record(kwargs: dict, seed: int = 0) -> DiscriminatorRecord:
    torch.manual_seed(seed)
    D = Discriminator(**kwargs)
    rng = np.random.RandomState(seed)
    state = {k: (v.numpy() + rng.randn(*v.shape).astype(np.float32) * 0.1) for k, v in D.state_dict().items()}
    return DiscriminatorRecord(init_kwargs=dict(kwargs), state=state)


def test_strict_load_round_trip(d_kwargs) -> None:
    record = _random_record(d_kwargs)
    D = build_discriminator(record)
    assert not D.training and not any(p.requires_grad for p in D.parameters())
    for name, value in D.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), record.state[name])
    img = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        again = build_discriminator(record)(img, None)
        torch.testing.assert_close(D(img, None), again, rtol=0, atol=0)


def test_mismatched_records_are_refused(d_kwargs) -> None:
    record = _random_record(d_kwargs)
    missing = DiscriminatorRecord(
        record.init_kwargs, {k: v for k, v in record.state.items() if k != "b4.fc.bias"}
    )
    with pytest.raises(NetworkLoadError, match="missing: b4.fc.bias"):
        build_discriminator(missing)
    wrong = DiscriminatorRecord(record.init_kwargs, {**record.state, "b4.out.bias": np.zeros(3, np.float32)})
    with pytest.raises(NetworkLoadError, match="wrong shape: b4.out.bias"):
        build_discriminator(wrong)
    bad_kwargs = DiscriminatorRecord({**record.init_kwargs, "img_resolution": 48}, record.state)
    with pytest.raises(NetworkLoadError, match="cannot build"):
        build_discriminator(bad_kwargs)


def test_features_change_with_the_input(d_kwargs) -> None:
    D = build_discriminator(_random_record(d_kwargs))
    torch.manual_seed(1)
    a, b = torch.randn(1, 3, 64, 64), torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        fa, fb, fa2 = D.features(a), D.features(b), D.features(a)
    for x, y, x2 in zip(fa, fb, fa2, strict=True):
        assert torch.equal(x, x2)
        assert float((x - y).abs().mean()) > 1e-3 * float(x.abs().mean())


def test_gradients_reach_the_image(d_kwargs) -> None:
    D = build_discriminator(_random_record(d_kwargs))
    img = torch.randn(1, 3, 64, 64, requires_grad=True)
    sum(f.square().mean() for f in D.features(img)).backward()
    assert img.grad is not None and float(img.grad.abs().sum()) > 0


def test_conditional_discriminator(d_kwargs) -> None:
    kwargs = {**d_kwargs, "c_dim": 3, "img_resolution": 16, "channel_base": 256, "channel_max": 16}
    D = build_discriminator(_random_record(kwargs))
    names = set(D.state_dict())
    assert {"mapping.embed.weight", "mapping.fc0.weight"} <= names and "mapping.w_avg" not in names
    img = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        l0 = D(img, torch.eye(3)[[0, 0, 0, 0]])
        l1 = D(img, torch.eye(3)[[1, 1, 1, 1]])
    assert l0.shape == (4, 1) and not torch.equal(l0, l1)
    with pytest.raises(ValueError, match="conditional"):
        D(img, None)


def test_bad_batches_and_images_are_rejected(d_kwargs) -> None:
    D = Discriminator(**d_kwargs).eval()
    with pytest.raises(ValueError, match="multiple of 4"):
        D(torch.randn(6, 3, 64, 64), None)
    with pytest.raises(ValueError, match="needs images"):
        D(torch.randn(1, 3, 32, 32), None)
