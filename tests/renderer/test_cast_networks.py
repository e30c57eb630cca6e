"""The bundled cast networks and their presets: they load, draw the cast as well as their files say, and each
preset sets exactly the factors of its rows (checked against the cast's own drawings)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from editor.presets import apply_preset, bundled_library
from renderer import load_network
from renderer.cast.description import EXPRESSIONS, FACTOR_DIMS, W_GAIN, decode
from renderer.engine import Engine
from renderer.fingerprint import weights_fingerprint
from renderer.latents import Recipe, SeedSource
from renderer.loading import BUNDLED_DIR, BUNDLED_NETWORKS
from renderer.training.batches import compose, drawing_function, heldout_batch
from renderer.training.configs import get_config
from renderer.training.trainer import psnr, render_batch

NAMES = sorted(BUNDLED_NETWORKS)


@pytest.fixture(scope="module", params=NAMES)
def net(request):
    torch.set_num_threads(1)
    return load_network(request.param)


def test_bundled_files_are_small_and_fingerprinted(net):
    path = BUNDLED_DIR / BUNDLED_NETWORKS[net.name]
    assert path.stat().st_size <= 20 * 2**20
    assert weights_fingerprint(net.G.state_dict()) == net.fingerprint
    record = net.extra["cast"]
    assert record["made_by"] == "castmaker train" and record["kimg"] > 0
    assert record["latent_space"] == "castmaker-cast-1"
    config = get_config(net.name)
    assert [g["rows"] for g in record["row_groups"]] == [list(g.rows) for g in config.groups]


def test_heldout_psnr_is_what_the_file_reports(net):
    config = get_config(net.name)
    batch = heldout_batch(config, 16, mixed=False)
    measured = float(psnr(render_batch(net.G, batch.ws, torch.device("cpu")), batch.images).mean())
    reported = net.extra["cast"]["heldout_psnr_db"]["psnr_plain"]
    assert measured >= reported - 2.0, (measured, reported)


def _presets(net):
    library = bundled_library(net.preset_key)
    assert library is not None, f"no bundled presets for {net.name}"
    presets, problems = library.list()
    assert not problems
    return presets


def test_presets_fit_and_differ(net):
    presets = _presets(net)
    assert len(presets) >= 8
    for a, b in itertools.combinations(presets, 2):
        same_rows = a.rows == b.rows
        assert not (same_rows and np.array_equal(a.w[a.rows], b.w[b.rows])), (a.name, b.name)


def test_each_preset_sets_only_the_factors_of_its_rows(net):
    config = get_config(net.name)
    engine = Engine(net, "cpu")
    draw = drawing_function(config)
    reported = net.extra["cast"]["heldout_psnr_db"]["psnr_plain"]
    scores = []
    for preset in _presets(net):
        for seed in (3, 8):
            base = Recipe.plain(SeedSource(seed, 0.8), net.num_ws)
            before = engine.evaluate(base)
            after = engine.evaluate(apply_preset(base, preset, net.fingerprint, net.name))
            touched = set(preset.rows)
            for g in config.groups:
                rows = set(g.rows)
                assert rows <= touched or not rows & touched, f"{preset.name} splits row group {g.name}"
                want = preset.w[g.rows[0]] if rows <= touched else before[g.rows[0]]
                np.testing.assert_array_equal(after[g.rows[0]], want)
            factors = [after[g.rows[0], :FACTOR_DIMS].astype(np.float64) / W_GAIN for g in config.groups]
            _, expected = compose(config, factors)
            scores.append(float(psnr(render_batch(net.G, after[None], torch.device("cpu")), draw(expected)[None])[0]))
            if preset.name in EXPRESSIONS:
                assert decode(after[6, :FACTOR_DIMS] / W_GAIN).expression == EXPRESSIONS.index(preset.name)
    print(f"{net.name}: presets drawn at {np.mean(scores):.2f} dB (bound {reported - 3.0:.2f})")  # shown with -s
    assert np.mean(scores) >= reported - 3.0, (np.mean(scores), reported)
