"""Training on the procedural cast: batches, the tiny loop, exact resume, export, the mapping fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from renderer.cast import description as d
from renderer.training import batches as B
from renderer.training import trainer as T
from renderer.training.configs import (
    CAST_PORTRAIT,
    CAST_SPRITE,
    CAST_TINY,
    TrainingError,
    _generator_kwargs,
    get_config,
)


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_configs_cover_every_row_once_inside_one_band():
    for config in (CAST_PORTRAIT, CAST_SPRITE, CAST_TINY):
        config.check()
    assert CAST_PORTRAIT.num_ws == 16 and CAST_SPRITE.num_ws == 12
    with pytest.raises(TrainingError, match="cast-portrait"):
        get_config("cast-potrait")


def test_compose_reads_each_factor_from_its_row_group():
    a, b = (d.random_character(np.random.RandomState(s)) for s in (1, 2))
    a, b = d.with_factor(a, expression=1, hair_style=0), d.with_factor(b, expression=3, hair_style=5)
    fa, fb = d.encode(a).astype(np.float64), d.encode(b).astype(np.float64)
    groups = [fa if g.name != "expression" else fb for g in CAST_PORTRAIT.groups]
    ws, c = B.compose(CAST_PORTRAIT, groups)
    assert c.expression == 3 and c.hair_style == 0 and c.hair == pytest.approx(a.hair)
    assert ws.shape == (16, d.W_DIM)
    np.testing.assert_allclose(ws[6, : d.FACTOR_DIMS], d.W_GAIN * fb, rtol=1e-6)
    np.testing.assert_allclose(ws[0, : d.FACTOR_DIMS], d.W_GAIN * fa, rtol=1e-6)


def test_training_batches_are_deterministic_and_mixed():
    draw = B.drawing_function(CAST_TINY)
    one = B.training_batch(np.random.RandomState(5), CAST_TINY, 24, draw)
    two = B.training_batch(np.random.RandomState(5), CAST_TINY, 24, draw)
    np.testing.assert_array_equal(one.ws, two.ws)
    np.testing.assert_array_equal(one.images, two.images)
    assert one.images.shape == (24, 32, 32, 3) and one.images.dtype == np.uint8
    differing = [not np.allclose(ws[0], ws[-1], atol=0.5) for ws in one.ws]
    assert any(differing) and not all(differing)  # some samples band-mixed, some one character


def test_heldout_mixed_batch_takes_bands_from_three_characters():
    plain = B.heldout_batch(CAST_PORTRAIT, 2, mixed=False)
    mixed = B.heldout_batch(CAST_PORTRAIT, 2, mixed=True)
    assert np.allclose(plain.ws[0, 0], plain.ws[0, 15])
    assert not np.allclose(mixed.ws[0, 0], mixed.ws[0, 8]) and not np.allclose(mixed.ws[0, 8], mixed.ws[0, 15])


def test_psnr_of_known_images():
    a = np.zeros((1, 4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0, 0] = 16  # MSE = 256 / 48
    assert T.psnr(a, b)[0] == pytest.approx(10 * np.log10(255**2 / (256 / 48)))


def _options(tmp_path, **kw) -> T.TrainOptions:
    base = dict(network="cast-tiny", outdir=str(tmp_path), eval_every_s=1e9, grid_every_s=1e9, heldout=4)
    base.update(kw)
    return T.TrainOptions(**base)


def test_tiny_training_lowers_the_loss(tmp_path):
    config = CAST_TINY
    options = _options(tmp_path)
    state = T.build_state(config, options, torch.device("cpu"))
    draw = B.drawing_function(config)
    fixed = B.training_batch(np.random.RandomState(123), config, 8, draw)
    ws, target = torch.from_numpy(fixed.ws), T.images_to_tensor(fixed.images, torch.device("cpu"))
    with torch.no_grad():
        before = float(T.training_loss(T.synthesize(state.G, ws), target))
    for _ in range(30):
        T.train_step(state, config, B.training_batch(state.rng, config, 8, draw), torch.device("cpu"))
    with torch.no_grad():
        after = float(T.training_loss(T.synthesize(state.G, ws), target))
    assert after < 0.8 * before, (before, after)


def _tiny_stylegan3(**kw):
    """cast-portrait's rows and drawing on a 32-px, 16-channel StyleGAN3-T (a few ms per step)."""
    kwargs = _generator_kwargs(32, channel_base=256, channel_max=16, magnitude_ema_beta=0.999, first_cutoff=4)
    return replace(CAST_PORTRAIT, init_kwargs=kwargs, **kw)


def test_stylegan3_torgb_starts_at_the_configured_share_of_its_init(tmp_path):
    def torgb(gain):
        config = _tiny_stylegan3(torgb_init_gain=gain)
        state = T.build_state(config, _options(tmp_path, network="cast-portrait"), torch.device("cpu"))
        return getattr(state.G.synthesis, state.G.synthesis.layer_names[-1]).weight.detach().clone()

    full, share = torgb(1.0), torgb(0.05)
    assert float(full.abs().mean()) > 0
    torch.testing.assert_close(share, 0.05 * full, rtol=1e-6, atol=0)


@pytest.mark.parametrize("train_magnitudes", [False, True])
def test_stylegan3_input_magnitudes_stay_at_their_calibration_unless_trained(tmp_path, train_magnitudes):
    config = _tiny_stylegan3(train_magnitudes=train_magnitudes)
    state = T.build_state(config, _options(tmp_path, network="cast-portrait"), torch.device("cpu"))

    def magnitudes(G):
        return torch.stack([getattr(G.synthesis, n).magnitude_ema.clone() for n in G.synthesis.layer_names])

    calibrated = magnitudes(state.G)
    assert bool((calibrated > 0).all())
    draw = B.drawing_function(config)
    for _ in range(2):
        T.train_step(state, config, B.training_batch(state.rng, config, 2, draw), torch.device("cpu"))
    moved = (magnitudes(state.G) - calibrated).abs() > 1e-6 * calibrated
    if train_magnitudes:
        assert bool(moved.all()), moved
    else:
        assert not bool(moved.any()), moved
    torch.testing.assert_close(magnitudes(state.G_ema), magnitudes(state.G), rtol=0, atol=0)


def test_learning_rate_decays_exponentially_over_the_run():
    assert T.learning_rate(1e-3, 0.1, 0.0) == pytest.approx(1e-3)
    assert T.learning_rate(1e-3, 0.1, 0.5) == pytest.approx(1e-3 * 0.1**0.5)
    assert T.learning_rate(1e-3, 0.1, 1.0) == pytest.approx(1e-4)
    assert T.learning_rate(1e-3, 0.1, 3.0) == pytest.approx(1e-4)  # past the end it stays at the floor


def test_resume_continues_exactly(tmp_path):
    decaying = dict(kimg=0.032, lr_decay=0.25)  # the schedule follows images seen, so it survives a resume
    # An edge weight other than cast-tiny's default (0), given to the first half only: the resume must keep it.
    straight = T.run_training(_options(tmp_path / "a", edge_weight=3.0, **decaying), max_steps=4)
    half = T.run_training(_options(tmp_path / "b", edge_weight=3.0, **decaying), max_steps=2)
    resumed = T.run_training(_options(tmp_path / "b", **decaying), resume=half, max_steps=2)
    _, s1, _ = T.load_checkpoint(straight, torch.device("cpu"))
    _, s2, _ = T.load_checkpoint(resumed, torch.device("cpu"))
    assert s1.step == s2.step == 4 and s1.nimg == s2.nimg
    # Training reads only the synthesis (the mapping is fitted afterwards and a checkpoint's mapping is not loaded).
    for module in ("G", "G_ema"):
        a, b = (getattr(s, module).synthesis.state_dict() for s in (s1, s2))
        assert a.keys() == b.keys() and len(a) > 10
        for name in a:
            assert torch.equal(a[name], b[name]), (module, name)
    plain = T.run_training(_options(tmp_path / "c", edge_weight=0.0, **decaying), max_steps=4)
    _, s3, _ = T.load_checkpoint(plain, torch.device("cpu"))
    assert not torch.equal(s1.G.state_dict()["synthesis.b32.torgb.weight"], s3.G.state_dict()["synthesis.b32.torgb.weight"])


def test_a_run_never_overwrites_an_existing_checkpoint(tmp_path):
    T.run_training(_options(tmp_path), max_steps=1)
    with pytest.raises(TrainingError, match="--resume"):
        T.run_training(_options(tmp_path), max_steps=1)


def test_unreadable_checkpoint_is_one_clear_error(tmp_path):
    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(TrainingError, match="not a readable training checkpoint"):
        T.load_checkpoint(bad, torch.device("cpu"))
    with pytest.raises(TrainingError, match="no checkpoint"):
        T.load_checkpoint(tmp_path / "missing.pt", torch.device("cpu"))


def test_interrupt_saves_a_checkpoint_first(tmp_path):
    calls = []

    def interrupt(progress):
        calls.append(progress)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        T.run_training(_options(tmp_path), on_progress=interrupt, max_steps=10)
    _, state, _ = T.load_checkpoint(tmp_path / T.CHECKPOINT_NAME, torch.device("cpu"))
    assert state.step == 2


def test_a_stop_request_is_honoured_between_steps(tmp_path):
    calls = {"n": 0}

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(KeyboardInterrupt):
        T.run_training(_options(tmp_path), should_stop=stop_after_three, max_steps=10)
    _, state, _ = T.load_checkpoint(tmp_path / T.CHECKPOINT_NAME, torch.device("cpu"))
    assert state.step == 3 and state.nimg == 3 * CAST_TINY.batch


def test_resume_writes_into_the_checkpoints_own_folder_and_checks_the_network(tmp_path):
    first = T.run_training(_options(tmp_path / "run"), max_steps=1)
    elsewhere = tmp_path / "elsewhere"
    resumed = T.run_training(_options(elsewhere), resume=first, max_steps=1)
    assert resumed == first and not (elsewhere / T.CHECKPOINT_NAME).exists()
    with pytest.raises(TrainingError, match="cast-tiny checkpoint, not cast-sprite"):
        T.run_training(_options(tmp_path, network="cast-sprite"), resume=first, max_steps=1)


def test_the_decayed_learning_rate_reaches_the_optimizer(tmp_path):
    ckpt = T.run_training(_options(tmp_path, kimg=0.016, lr_decay=0.1))  # 4 steps of 4 images
    payload, state, config = T.load_checkpoint(ckpt, torch.device("cpu"))
    last_step_progress = (state.nimg - config.batch) / 16
    expected = T.learning_rate(config.lr, 0.1, last_step_progress)
    assert state.optimizer.param_groups[0]["lr"] == pytest.approx(expected)
    assert expected < config.lr


def test_a_run_can_start_from_a_networks_weights(tmp_path):
    from renderer.loading import save_native
    from renderer.training.finalize import build_cast_network

    first = T.run_training(_options(tmp_path / "a"), max_steps=3)
    payload, state, config = T.load_checkpoint(first, torch.device("cpu"))
    synthesis = {k[len("synthesis."):]: v for k, v in payload["G_ema"].items() if k.startswith("synthesis.")}
    mapping = {k[len("mapping."):]: v for k, v in payload["G_ema"].items() if k.startswith("mapping.")}
    net_file = tmp_path / "tiny.safetensors"
    save_native(build_cast_network(config, synthesis, mapping, {"network": "cast-tiny"}), net_file)
    warm = T.build_state(config, _options(tmp_path / "b", init=str(net_file)), torch.device("cpu"))
    for name, value in synthesis.items():
        assert torch.equal(warm.G.synthesis.state_dict()[name], value), name
    with pytest.raises(TrainingError, match="not a cast-tiny network"):
        T.build_state(config, _options(tmp_path / "c", init="demo-sprite"), torch.device("cpu"))


def test_edge_map_marks_the_three_pixels_across_an_outline():
    img = torch.ones(1, 3, 7, 7)  # white
    img[:, :, :, 3] = -1.0  # a one-pixel black vertical line
    e = T.edge_map(img)
    assert e.shape == (1, 1, 7, 7)
    np.testing.assert_allclose(e[0, 0, :, 2:5].numpy(), 1.0)
    np.testing.assert_allclose(e[0, 0, :, :2].numpy(), 0.0)
    np.testing.assert_allclose(e[0, 0, :, 5:].numpy(), 0.0)
    tint = torch.zeros(1, 3, 5, 5)
    tint[:, 0, :, 2:] = 0.5  # a step of 0.5 in red only: that channel's range 0.5, halved by the map's scale
    assert float(T.edge_map(tint).max()) == pytest.approx(0.25)


def test_edge_weighted_l1_counts_outline_errors_more():
    target = torch.ones(1, 3, 8, 8)
    target[:, :, :, 4] = -1.0  # an outline
    blurred = target.clone()
    blurred[:, :, :, 4] = 0.0  # the outline drawn half-grey: error 1 on 8 of 64 pixels
    fogged = target.clone()
    fogged[:, :, :, 0] = 0.0  # the same error on flat background instead
    plain = (blurred - target).abs().mean()
    assert float(T.edge_weighted_l1(blurred, target, 0.0)) == pytest.approx(float(plain))
    assert float(T.edge_weighted_l1(fogged, target, 0.0)) == pytest.approx(float(plain))
    # weight 1+6 on the 24 edge pixels, 1 on 40: the outline error counts 7/(24*7+40) per pixel instead of 1/64
    assert float(T.edge_weighted_l1(blurred, target, 6.0)) == pytest.approx(8 * 7 / (24 * 7 + 40))
    assert float(T.edge_weighted_l1(fogged, target, 6.0)) == pytest.approx(8 / (24 * 7 + 40))


def test_the_edge_weight_is_kept_by_a_resume_and_can_be_changed(tmp_path):
    first = T.run_training(_options(tmp_path, edge_weight=3.0), max_steps=1)
    payload, _, _ = T.load_checkpoint(first, torch.device("cpu"))
    assert payload["options"]["edge_weight"] == 3.0
    T.run_training(_options(tmp_path), resume=first, max_steps=1)
    assert T.load_checkpoint(first, torch.device("cpu"))[0]["options"]["edge_weight"] == 3.0
    T.run_training(_options(tmp_path, edge_weight=0.0), resume=first, max_steps=1)
    assert T.load_checkpoint(first, torch.device("cpu"))[0]["options"]["edge_weight"] == 0.0
    for bad in (-1.0, float("nan")):
        with pytest.raises(TrainingError, match="edge weight"):
            T.run_training(_options(tmp_path / "bad", edge_weight=bad), max_steps=1)
    assert not (tmp_path / "bad").exists()  # refused before anything was written


def test_the_squared_error_term_adds_its_weight_times_the_mse():
    torch.manual_seed(0)
    out, target = torch.rand(2, 3, 8, 8) * 2 - 1, torch.rand(2, 3, 8, 8) * 2 - 1
    err = out - target
    l1 = err.abs().mean() + sum(w * (F.avg_pool2d(out, k) - F.avg_pool2d(target, k)).abs().mean() for k, w in ((2, 0.5), (4, 0.25)))
    assert float(T.training_loss(out, target)) == pytest.approx(float(l1), rel=1e-6)  # computed here independently
    assert float(T.training_loss(out, target, 0.0, 5.0)) == pytest.approx(float(l1) + 5.0 * float(err.square().mean()), rel=1e-6)
    assert float(T.training_loss(target, target, 6.0, 5.0)) == 0.0


def test_the_squared_error_weight_is_kept_by_a_resume_and_checked(tmp_path):
    first = T.run_training(_options(tmp_path, mse_weight=2.0), max_steps=1)
    assert T.load_checkpoint(first, torch.device("cpu"))[0]["options"]["mse_weight"] == 2.0
    T.run_training(_options(tmp_path), resume=first, max_steps=1)
    assert T.load_checkpoint(first, torch.device("cpu"))[0]["options"]["mse_weight"] == 2.0
    for bad in (-1.0, float("nan")):
        with pytest.raises(TrainingError, match="squared-error weight"):
            T.run_training(_options(tmp_path / "bad", mse_weight=bad), max_steps=1)
    for bad in (0.0, -1e-3, float("nan")):
        with pytest.raises(TrainingError, match="learning rate"):
            T.run_training(_options(tmp_path / "bad", lr=bad), max_steps=1)
    assert not (tmp_path / "bad").exists()


def test_a_resume_keeps_the_squared_error_weight_and_rate_exactly(tmp_path):
    kw = dict(kimg=0.032, lr_decay=0.25, mse_weight=2.0, lr=3e-3)  # neither is cast-tiny's default
    straight = T.run_training(_options(tmp_path / "a", **kw), max_steps=4)
    half = T.run_training(_options(tmp_path / "b", **kw), max_steps=2)
    resumed = T.run_training(_options(tmp_path / "b", kimg=0.032), resume=half, max_steps=2)
    _, s1, _ = T.load_checkpoint(straight, torch.device("cpu"))
    _, s2, _ = T.load_checkpoint(resumed, torch.device("cpu"))
    for (name, p1), p2 in zip(s1.G.state_dict().items(), s2.G.state_dict().values(), strict=True):
        assert torch.equal(p1, p2), name
    other = T.run_training(_options(tmp_path / "c", **{**kw, "mse_weight": 0.0}), max_steps=4)
    _, s3, _ = T.load_checkpoint(other, torch.device("cpu"))
    assert not torch.equal(s1.G.state_dict()["synthesis.b32.torgb.weight"], s3.G.state_dict()["synthesis.b32.torgb.weight"])


def _export(tmp_path, ckpt, name):
    from renderer import load_network
    from renderer.training.finalize import export_checkpoint

    payload, _, config = T.load_checkpoint(ckpt, torch.device("cpu"))
    export_checkpoint(payload, config, tmp_path / name, tmp_path / "mapping.pt", mapping_steps=20)
    return load_network(str(tmp_path / name)).extra["cast"]


def test_a_run_from_a_cast_network_adds_its_story_to_that_networks(tmp_path):
    first = T.run_training(_options(tmp_path / "a", lr=3e-3), max_steps=3, command="cmd-a")
    told = _export(tmp_path, first, "parent.safetensors")
    assert told["command"] == "cmd-a (0 → 0.012 kimg; lr 0.003 → 0.003, edge weight 0, mse weight 0)"
    assert told["kimg"] == pytest.approx(0.012)

    parent = str(tmp_path / "parent.safetensors")
    second = T.run_training(_options(tmp_path / "b", init=parent, mse_weight=1.5), max_steps=2, command="cmd-b")
    T.run_training(_options(tmp_path / "b"), resume=second, max_steps=1, command="cmd-c")  # a resume keeps the origin
    state = T.load_checkpoint(second, torch.device("cpu"))[1]
    assert state.origin["command"] == told["command"] and state.origin["source"] == parent
    story = _export(tmp_path, second, "child.safetensors")
    assert story["command"] == (
        f"{told['command']}; then, from those weights, cmd-b (0 → 0.008 kimg; lr 0.002 → 0.002, edge weight 0, mse "
        "weight 1.5); then cmd-c (0.008 → 0.012 kimg; lr 0.002 → 0.002, edge weight 0, mse weight 1.5)"
    )
    assert story["kimg"] == pytest.approx(0.012 + 0.012)
    assert story["training_seconds"] == pytest.approx(told["training_seconds"] + state.seconds, abs=0.11)

    plain = T.run_training(_options(tmp_path / "c"), max_steps=1)
    assert T.load_checkpoint(plain, torch.device("cpu"))[1].origin is None


def test_a_run_from_a_file_castmaker_did_not_train_names_that_file(tmp_path):
    from renderer.loading import save_native

    net = T.run_training(_options(tmp_path / "a"), max_steps=1)
    payload, _, config = T.load_checkpoint(net, torch.device("cpu"))
    from renderer.training.finalize import build_cast_network

    synthesis = {k[len("synthesis."):]: v for k, v in payload["G_ema"].items() if k.startswith("synthesis.")}
    mapping = {k[len("mapping."):]: v for k, v in payload["G_ema"].items() if k.startswith("mapping.")}
    foreign = build_cast_network(config, synthesis, mapping, {})
    foreign.extra = {}
    save_native(foreign, tmp_path / "foreign.safetensors")
    run = T.run_training(_options(tmp_path / "b", init=str(tmp_path / "foreign.safetensors")), max_steps=1, command="cmd")
    story = _export(tmp_path, run, "out.safetensors")["command"]
    assert story.startswith(f"from the weights of {tmp_path / 'foreign.safetensors'} (fingerprint {foreign.fingerprint[:12]}): cmd (0 → 0.004 kimg")

    damaged = build_cast_network(config, synthesis, mapping, {"command": "x", "kimg": "?"})
    save_native(damaged, tmp_path / "damaged.safetensors")
    with pytest.raises(TrainingError, match="no usable kimg"):
        T.run_training(_options(tmp_path / "c", init=str(tmp_path / "damaged.safetensors")), max_steps=1)


def test_each_invocation_is_recorded_once_with_the_kimg_it_trained(tmp_path):
    from renderer.training.finalize import history_text

    options = _options(tmp_path, checkpoint_every_s=0.0, kimg=0.02, lr_decay=0.5)  # a checkpoint after every step
    first = T.run_training(options, max_steps=3, command="train a")
    T.run_training(_options(tmp_path, kimg=0.02), resume=first, max_steps=0, command="train export")  # trains nothing
    T.run_training(_options(tmp_path, kimg=0.02), resume=first, max_steps=2, command="train b")
    runs = T.load_checkpoint(first, torch.device("cpu"))[1].runs
    assert [(r["command"], r["from_kimg"], r["to_kimg"]) for r in runs] == [("train a", 0.0, 0.012), ("train b", 0.012, 0.02)]
    # the rate each run started at, and the rate of its last step (the step that began at 16 of 20 images)
    assert runs[0]["lr_from"] == pytest.approx(2e-3) and runs[1]["lr_from"] == pytest.approx(2e-3 * 0.5 ** (12 / 20))
    assert runs[1]["lr_to"] == pytest.approx(2e-3 * 0.5 ** (16 / 20))
    assert history_text(runs, {}, 0.02).startswith("train a (0 → 0.012 kimg; lr 0.002 → ")
    old = {"seed": 1, "lr": 3e-4, "lr_decay": 0.33, "edge_weight": 6.0, "mse_weight": None}
    assert history_text([], old, 489.216) == (
        "unrecorded training commands (0 → 489.216 kimg; last settings seed 1, lr 0.0003, lr-decay 0.33, edge weight 6)"
    )
    later = [{"command": "c", "from_kimg": 489.216, "to_kimg": 12345.6}]
    assert history_text(later, old, 12345.6).endswith("; then c (489.216 → 12345.6 kimg)")


def test_a_checkpoint_from_before_the_new_records_resumes_and_exports(tmp_path):
    ckpt = T.run_training(_options(tmp_path, edge_weight=2.0), max_steps=2, command="train a")
    payload = torch.load(ckpt, weights_only=False)
    for key in ("origin", "runs"):
        del payload[key]
    del payload["options"]["mse_weight"]
    torch.save(payload, ckpt)
    T.run_training(_options(tmp_path), resume=ckpt, max_steps=1, command="train b")
    saved, state, _ = T.load_checkpoint(ckpt, torch.device("cpu"))
    assert saved["options"]["mse_weight"] == 0.0 and saved["options"]["edge_weight"] == 2.0
    assert state.origin is None and [r["command"] for r in state.runs] == ["train b"]
    assert _export(tmp_path, ckpt, "old.safetensors")["command"].startswith(
        "unrecorded training commands (0 → 0.008 kimg; last settings seed 0, edge weight 2, mse weight 0); then train b"
    )
    payload["options"]["from_the_future"] = 1
    torch.save(payload, ckpt)
    with pytest.raises(TrainingError, match="newer Castmaker"):
        T.load_checkpoint(ckpt, torch.device("cpu"))
    del payload["options"]["from_the_future"]
    payload["arch"] = {**payload["arch"], "init_kwargs": {**payload["arch"]["init_kwargs"], "channel_base": 512}}
    torch.save(payload, ckpt)
    with pytest.raises(TrainingError, match="another architecture"):
        T.load_checkpoint(ckpt, torch.device("cpu"))


def test_a_checkpoint_whose_mapping_has_another_shape_resumes_with_its_synthesis(tmp_path):
    """Training never touches the mapping (it is fitted afterwards), so a checkpoint written when the mapping
    had other kwargs continues: the synthesis weights come back exactly, the checkpoint's mapping is dropped."""
    ckpt = T.run_training(_options(tmp_path), max_steps=1)
    payload = torch.load(ckpt, weights_only=False)
    payload["arch"] = {**payload["arch"], "init_kwargs": {**payload["arch"]["init_kwargs"], "mapping_kwargs": {"num_layers": 2}}}
    for key in ("G", "G_ema"):
        payload[key] = {k: v for k, v in payload[key].items() if not k.startswith("mapping.fc3")}
        payload[key]["mapping.fc0.weight"] = torch.zeros(7, 3)  # a shape no mapping of this config has
    torch.save(payload, ckpt)
    _, state, _ = T.load_checkpoint(ckpt, torch.device("cpu"))
    for key, module in (("G", state.G), ("G_ema", state.G_ema)):
        for name, value in module.synthesis.state_dict().items():
            assert torch.equal(value, payload[key][f"synthesis.{name}"]), name
    T.run_training(_options(tmp_path), resume=ckpt, max_steps=1)  # and it trains on
    assert T.load_checkpoint(ckpt, torch.device("cpu"))[1].step == 2


def _tiny_file_with_another_mapping(tmp_path, steps=1):
    """A cast-tiny network file (with a training record) whose mapping network is 2 layers of 16 features."""
    from renderer.loading import save_native
    from renderer.nets.mapping import MappingNetwork
    from renderer.training.finalize import build_cast_network

    ckpt = T.run_training(_options(tmp_path / "src"), max_steps=steps)
    payload, _, config = T.load_checkpoint(ckpt, torch.device("cpu"))
    other = {"num_layers": 2, "layer_features": 16}
    variant = replace(config, init_kwargs={**config.init_kwargs, "mapping_kwargs": other})
    ik = config.init_kwargs
    torch.manual_seed(5)
    mapping = MappingNetwork(z_dim=ik["z_dim"], c_dim=ik["c_dim"], w_dim=ik["w_dim"], num_ws=1, **other).state_dict()
    synthesis = {k[len("synthesis."):]: v for k, v in payload["G_ema"].items() if k.startswith("synthesis.")}
    record = {"network": "cast-tiny", "command": "python main.py train cast-tiny --kimg 1", "kimg": 0.004,
              "training_seconds": 1.0, "heldout_psnr_db": {"psnr_plain": 10.0}}
    path = tmp_path / "other-mapping.safetensors"
    save_native(build_cast_network(variant, synthesis, mapping, record), path)
    return path, synthesis, config


def test_a_run_can_start_from_a_network_whose_mapping_has_another_shape(tmp_path):
    path, synthesis, config = _tiny_file_with_another_mapping(tmp_path)
    warm = T.build_state(config, _options(tmp_path / "b", init=str(path)), torch.device("cpu"))
    for name, value in synthesis.items():
        assert torch.equal(warm.G.synthesis.state_dict()[name], value), name
    assert warm.G.mapping.fc0.weight.shape[0] == config.init_kwargs["mapping_kwargs"]["layer_features"]


def test_remap_gives_a_network_with_another_mapping_shape_this_castmakers_mapping(tmp_path):
    from renderer import load_network
    from renderer.training.finalize import read_mapping_cache, remap_network

    path, synthesis, config = _tiny_file_with_another_mapping(tmp_path)
    cache = tmp_path / "mapping.pt"
    net = remap_network(path, config, tmp_path / "out.safetensors", cache, "python main.py train cast-tiny --remap x", 20)
    state = load_network(str(tmp_path / "out.safetensors")).G.state_dict()
    for name, value in synthesis.items():
        assert torch.equal(state[f"synthesis.{name}"], value), name
    fitted = read_mapping_cache(config, cache, 20)["state"]
    for name, value in fitted.items():  # exactly the cached fit, in this Castmaker's shape
        assert torch.equal(state[f"mapping.{name}"], value), name
    assert net.extra["cast"]["kimg"] == 0.004


def test_remap_refuses_a_network_whose_synthesis_has_another_architecture(tmp_path):
    from renderer.training.finalize import remap_network

    path, _, config = _tiny_file_with_another_mapping(tmp_path)
    wider = replace(config, init_kwargs={**config.init_kwargs, "channel_max": 32})
    out = tmp_path / "out.safetensors"
    with pytest.raises(TrainingError, match="another architecture"):
        remap_network(path, wider, out, tmp_path / "m.pt", "python main.py train cast-tiny --remap x", 20)
    assert not out.exists() and not (tmp_path / "m.pt").exists()


def test_a_mapping_cache_of_another_shape_or_fit_is_refused_by_name(tmp_path):
    from renderer.training.finalize import fitted_mapping, read_mapping_cache

    config = get_config("cast-tiny")
    cache = tmp_path / "mapping.pt"
    assert read_mapping_cache(config, cache, 20) is None
    fitted_mapping(config, cache, 20)
    assert read_mapping_cache(config, cache, 20) is not None
    with pytest.raises(TrainingError, match="fitted with"):
        read_mapping_cache(config, cache, 30)
    narrow = replace(config, init_kwargs={**config.init_kwargs, "mapping_kwargs": {"num_layers": 2}})
    with pytest.raises(TrainingError, match="mapping network of another shape"):
        read_mapping_cache(narrow, cache, 20)
