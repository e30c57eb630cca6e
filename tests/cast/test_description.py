"""The cast's description: encoding round trips, the seed rule, ranges and determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from renderer.cast import description as d


def _chars(n: int, seed: int = 0, balanced: bool = True) -> list[d.Character]:
    rng = np.random.RandomState(seed)
    return [d.random_character(rng, balanced=balanced) for _ in range(n)]


def test_encode_decode_round_trip():
    for c in _chars(200):
        back = d.decode(d.encode(c))
        for name in d.CLASSES:
            assert getattr(back, name) == getattr(c, name)
        assert back.hair == pytest.approx(c.hair, abs=1e-6)
        assert back.outfit == pytest.approx(c.outfit, abs=1e-6)
        assert back.eyes == pytest.approx(c.eyes, abs=1e-6)
        assert back.background == pytest.approx(c.background, abs=1e-6)
        assert back.skin == pytest.approx(c.skin, abs=1e-6)
        assert back.head_shape == pytest.approx(c.head_shape, abs=1e-6)


def test_w_layout_and_unused_entries_are_zero():
    w = d.character_to_w(_chars(1)[0])
    assert w.shape == (d.W_DIM,) and w.dtype == np.float32
    assert not w[d.FACTOR_DIMS :].any()
    assert d.FACTOR_DIMS == sum(n for _, n, _ in d.LAYOUT)


def test_random_factors_stay_in_range():
    for c in _chars(300, balanced=False):
        assert 0 <= c.head_shape <= 1 and 0 <= c.body_build <= 1 and 0 <= c.skin <= 1
        assert d.HAIR_L[0] <= c.hair[0] <= d.HAIR_L[1]
        assert d.OUTFIT_L[0] <= c.outfit[0] <= d.OUTFIT_L[1]
        for a, b in (c.hair[1:], c.outfit[1:], c.eyes, c.background):
            assert np.hypot(a, b) <= d.CHROMA_MAX + 1e-9


def test_blends_decode_to_the_larger_class_and_lerped_colours():
    a, b = _chars(2, seed=3)
    a = d.with_factor(a, hair_style=0)
    b = d.with_factor(b, hair_style=4)
    fa, fb = d.encode(a), d.encode(b)
    assert d.decode(0.7 * fa + 0.3 * fb).hair_style == 0
    assert d.decode(0.3 * fa + 0.7 * fb).hair_style == 4
    mid = d.decode(0.5 * fa + 0.5 * fb + 1e-3 * (fb - fa))
    assert mid.skin == pytest.approx(0.5 * (a.skin + b.skin), abs=1e-3)


def test_seed_rule_is_deterministic_and_follows_the_class_weights():
    chars = [d.character_from_z(np.random.RandomState(s).randn(64)) for s in range(2000)]
    again = d.character_from_z(np.random.RandomState(7).randn(64))
    assert again == chars[7]
    for name, weights in d.PRIORS.items():
        counts = Counter(getattr(c, name) for c in chars)
        freq = [counts[k] / len(chars) for k in range(len(weights))]
        assert all(f > 0.05 for f in freq), (name, freq)  # every class occurs
        assert freq[0] == max(freq), (name, freq)  # the first (most weighted) class is the most common


def test_seed_factors_are_a_soft_one_hot_per_class_factor():
    f = d.seed_factors(np.random.RandomState(1).randn(64))
    for name in d.CLASSES:
        part = f[d.FACTOR_SLICES[name]]
        assert part.min() >= 0 and part.sum() == pytest.approx(1.0)


def test_mean_seed_factors_decode_to_the_typical_class():
    mean = np.mean([d.seed_factors(np.random.RandomState(s).randn(64)) for s in range(500)], axis=0)
    typical = d.decode(mean)
    for name in d.CLASSES:
        assert getattr(typical, name) == 0


def test_bad_values_are_refused_with_the_factor_named():
    with pytest.raises(ValueError, match="hair_style"):
        d.Character(hair_style=9)
    with pytest.raises(ValueError, match="unknown factor"):
        d.with_factor(d.Character(), hat=1)
    with pytest.raises(ValueError, match="components"):
        d.seed_factors(np.zeros(4))


def test_oklab_conversion_matches_known_values():
    assert d.oklab_to_srgb8(1.0, 0.0, 0.0) == (255, 255, 255)
    assert d.oklab_to_srgb8(0.0, 0.0, 0.0) == (0, 0, 0)
    # sRGB red is OKLab (0.627955, 0.224863, 0.125846) (Ottosson's reference values)
    assert d.oklab_to_srgb8(0.627955, 0.224863, 0.125846) == (255, 0, 0)
