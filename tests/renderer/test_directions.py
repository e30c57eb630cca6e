"""Directions in W: SeFa from the weights, PCA of mapped seeds, their files and the `directions` command."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from renderer import load_network
from renderer.errors import LatentError
from renderer.latents.directions import load_direction, principal_axes, save_direction, sefa


@pytest.fixture(scope="module")
def net():
    return load_network("demo-face")


def test_sefa_directions_are_orthonormal_ordered_and_match_a_float64_reference(net):
    rows = [6, 7, 8]
    found = sefa(net, rows, top=5)
    V = np.stack([d.vector for d in found], axis=1).astype(np.float64)
    np.testing.assert_allclose(V.T @ V, np.eye(5), atol=1e-6)
    strengths = [d.strength for d in found]
    assert strengths == sorted(strengths, reverse=True)
    # reference: the affines straight from the state dict (equalised-lr gain 1/sqrt(w_dim)), eigen-decomposed in float64
    state = net.G.state_dict()
    names = [s.name for s in net.G.synthesis.steps if s.row in rows]
    A = np.concatenate([state[f"synthesis.{n}.affine.weight"].double().numpy() / np.sqrt(net.w_dim) for n in names])
    values, vectors = np.linalg.eigh(A.T @ A)
    for i, d in enumerate(found):
        assert d.strength == pytest.approx(values[::-1][i], rel=1e-9)
        assert abs(float(vectors[:, ::-1][:, i] @ d.vector)) == pytest.approx(1.0, abs=1e-6)
        assert d.sigma > 0 and d.rows == rows


def test_pca_recovers_a_known_distribution():
    rng = np.random.RandomState(0)
    rotation, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    samples = (rng.standard_normal((20000, 4)) * [3.0, 2.0, 1.0, 0.5]) @ rotation.T
    variances, axes = principal_axes(samples, 3)
    np.testing.assert_allclose(variances, [9.0, 4.0, 1.0], rtol=0.05)
    for i in range(3):
        assert abs(float(axes[:, i] @ rotation[:, i])) > 0.999


def test_alpha_zero_is_the_identity_and_offsets_touch_only_the_rows(net):
    d = sefa(net, [2, 3], top=1)[0]
    assert not d.offset(0.0, net.num_ws).any()
    off = d.offset(2.0, net.num_ws)
    assert not off[[0, 1, 4]].any()
    np.testing.assert_allclose(np.linalg.norm(off[2]), 2.0 * d.sigma, rtol=1e-5)


def test_direction_files_round_trip_and_are_refused_on_another_network(net, tmp_path):
    d = sefa(net, [4, 5], top=1)[0]
    d.name = "Smile!"
    path = save_direction(d, tmp_path)
    assert path.name == "smile.json" and (tmp_path / "smile.npy").is_file()
    back = load_direction(path, net)
    assert back.rows == d.rows and back.sigma == d.sigma and np.array_equal(back.vector, d.vector)
    with pytest.raises(LatentError, match="exists"):
        save_direction(d, tmp_path)
    with pytest.raises(LatentError, match="discover directions on this network"):
        load_direction(path, load_network("demo-sprite"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(LatentError, match="not a readable direction"):
        load_direction(bad)


def test_rows_outside_the_network_are_refused(net):
    with pytest.raises(LatentError, match="outside"):
        sefa(net, [net.num_ws], top=1)


def test_directions_command_writes_files_and_a_sheet(tmp_path):
    from editor.cli import run

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = run(["directions", "--network", "demo-sprite", "--rows", "4-7", "--top", "2", "--outdir", str(tmp_path),
                  "--device", "cpu"])
    assert rc == 0
    assert (tmp_path / "sefa-0.json").is_file() and (tmp_path / "sefa-1.npy").is_file()
    with Image.open(tmp_path / "sefa-rows4-7.png") as sheet:
        assert sheet.size == (7 * 128, 2 * 128)
    assert "found 2 sefa directions" in out.getvalue()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = run(["render", "--network", "demo-sprite", "--seeds", "1", "--direction", str(tmp_path / "sefa-0.json"),
                  "--alpha", "2", "--outdir", str(tmp_path / "r"), "--device", "cpu"])
    assert rc == 0 and (tmp_path / "r" / "seed0001.png").is_file()


def test_a_labelled_boundary_separates_a_linearly_separable_labelling():
    from renderer.latents.directions import boundary_axis

    rng = np.random.RandomState(3)
    normal = rng.standard_normal(16)
    normal /= np.linalg.norm(normal)
    pts = rng.standard_normal((400, 16))
    score = pts @ normal
    pos, neg = pts[score > 0.3][:12], pts[score < -0.3][:12]  # "a dozen thumbnails" each side
    axis = boundary_axis(pos, neg)
    assert abs(np.linalg.norm(axis) - 1) < 1e-9
    assert (pos @ axis).min() > (neg @ axis).max()  # the boundary separates what was labelled
    assert float(axis @ normal) > 0.7  # and points along the true normal
    with pytest.raises(LatentError, match="at least 2"):
        boundary_axis(pos[:1], neg)


def test_labelled_direction_on_a_network_and_contradictory_labels(net):
    from renderer.latents.directions import labelled

    d = labelled(net, [6, 7], [1, 2, 3, 4], [5, 6, 7, 8], name="warm")
    assert d.name == "warm" and d.method == "labels" and d.rows == [6, 7] and d.sigma > 0
    with pytest.raises(LatentError, match="both ways"):
        labelled(net, [6], [1, 2], [2, 3])


def test_directions_command_labels_and_its_errors(tmp_path):
    from editor.cli import run

    def cli(argv):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            return run(argv), err.getvalue()

    rc, _ = cli(["directions", "--network", "demo-sprite", "--method", "labels", "--with", "1-4", "--without", "5-8",
                 "--rows", "8-11", "--name", "Bright", "--outdir", str(tmp_path), "--device", "cpu"])
    assert rc == 0 and (tmp_path / "bright.json").is_file()
    rc, err = cli(["directions", "--network", "demo-sprite", "--method", "labels", "--outdir", str(tmp_path)])
    errors = [line for line in err.splitlines() if line.startswith("castmaker: error")]
    assert rc == 2 and len(errors) == 1 and "--with SEEDS" in errors[0]
    rc, err = cli(["directions", "--network", "demo-sprite", "--rows", "40-41", "--outdir", str(tmp_path)])
    assert rc == 2 and len([line for line in err.splitlines() if line.startswith("castmaker: error")]) == 1
