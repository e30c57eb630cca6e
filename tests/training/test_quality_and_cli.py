"""Cast quality measures (edge maps, masked PSNR, bench --cast refusals) and the `train` / `cast` commands."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch
from PIL import Image

from editor.cli import run
from renderer.errors import CastmakerError
from renderer.training.quality import edge_map, masked_psnr, run_cast_bench


def cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = run(argv)
    return rc, out.getvalue(), err.getvalue()


def test_edge_map_finds_a_squares_border_only():
    img = np.full((1, 16, 16, 3), 230, np.uint8)
    img[0, 4:12, 4:12] = 20
    edges = edge_map(img)[0]
    assert edges[4, 8] and edges[8, 4] and edges[11, 8]
    assert not edges[8, 8] and not edges[0, 0] and not edges[15, 15]


def test_masked_psnr_counts_only_the_mask():
    a = np.zeros((1, 4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255
    mask = np.ones_like(a, bool)
    mask[0, 0, 0] = False
    assert masked_psnr(a, b, mask) > 90
    assert masked_psnr(a, b, np.ones_like(a, bool)) == pytest.approx(10 * np.log10(48 / 3))  # one pixel, 3 channels of 255


def test_bench_cast_refuses_other_networks():
    from renderer import load_network

    with pytest.raises(CastmakerError, match="cast networks"):
        run_cast_bench(load_network("demo-sprite"), count=2)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "cast-sprite"], "--kimg K"),
        (["train", "cast-sprite", "--kimg", "-1"], "must not be negative"),
        (["train", "all", "--kimg", "1", "--export", "x.safetensors"], "one network"),
    ],
)
def test_train_refuses_bad_options_in_one_line(argv, message):
    rc, _, err = cli(argv)
    assert rc == 2 and message in err and err.count("\n") == 1


def test_train_resume_of_a_missing_checkpoint_is_one_clear_error(tmp_path):
    rc, _, err = cli(["train", "cast-tiny", "--kimg", "1", "--resume", str(tmp_path / "nope.pt"), "--outdir", str(tmp_path)])
    assert rc == 2 and "no checkpoint" in err


def test_train_tiny_writes_checkpoint_log_grid_and_network(tmp_path):
    rc, out, err = cli(
        ["--threads", "1", "train", "cast-tiny", "--kimg", "0.012", "--outdir", str(tmp_path),
         "--mapping", str(tmp_path / "mapping.pt"), "--mapping-steps", "30"]
    )
    assert rc == 0, err
    run_dir = tmp_path / "cast-tiny"
    assert (run_dir / "checkpoint.pt").is_file() and (run_dir / "log.csv").is_file()
    assert (run_dir / "samples-latest.png").is_file() and (run_dir / "cast-tiny.safetensors").is_file()
    assert (run_dir / "curve.png").is_file()
    assert "held-out PSNR" in out and "wrote" in out
    assert f"fitting the mapping network z -> w to the cast's seed rule (30 steps, kept in {tmp_path / 'mapping.pt'}" in out
    assert "mapping fit" in err and "Warning" not in err  # the fit shows a bar; no library warnings
    from renderer import load_network

    told = load_network(str(run_dir / "cast-tiny.safetensors")).extra["cast"]["command"]
    assert told.startswith("python main.py --threads 1 train cast-tiny --kimg 0.012 --outdir ") and told.endswith("(0 → 0.012 kimg; lr 0.002 → 0.00043, edge weight 0, mse weight 0)")


def test_cast_contact_sheet(tmp_path):
    out = tmp_path / "cast.png"
    rc, text, err = cli(["cast", "--seeds", "0-3", "--columns", "2", "--out", str(out)])
    assert rc == 0, err
    assert text.count("seed ") == 4
    with Image.open(out) as im:
        assert im.width > im.height > 200  # 2 x 2 tiles of portrait + sprite
    before = out.read_bytes()
    rc, _, err = cli(["cast", "--seeds", "0", "--out", str(out)])  # a sheet already there is kept
    assert rc == 2 and "already exists" in err and "--force" in err and out.read_bytes() == before
    rc, text, err = cli(["cast", "--seeds", "0", "--out", str(out), "--force"])
    assert rc == 0 and text.count("seed ") == 1 and out.read_bytes() != before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "cast-tiny", "--kimg", "0"], "a run of 0 trains nothing"),
        (["train", "cast-tiny", "--minutes", "0"], "a run of 0 trains nothing"),
        (["train", "cast-tiny", "--kimg", "1", "--batch", "0"], "--batch must be 1 or more"),
        (["train", "cast-tiny", "--kimg", "1", "--lr-decay", "2"], "--lr-decay"),
        (["train", "cast-tiny", "--kimg", "1", "--lr", "0"], "--lr must be above 0"),
        (["train", "cast-tiny", "--kimg", "1", "--lr", "nan"], "--lr must be above 0"),
        (["train", "cast-tiny", "--kimg", "1", "--mse-weight", "-1"], "--mse-weight must be between 0 and 100"),
    ],
)
def test_train_refuses_nonsense_numbers(tmp_path, argv, message):
    rc, _, err = cli([*argv, "--outdir", str(tmp_path)])
    assert rc == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "cast-tiny" / "checkpoint.pt").exists()


def test_train_restores_signal_handlers_and_threads(tmp_path):
    import signal

    import torch

    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), torch.get_num_threads())
    rc, _, err = cli(["train", "cast-tiny", "--kimg", "0.004", "--outdir", str(tmp_path), "--threads", "1",
                      "--mapping-steps", "20"])
    assert rc == 0, err
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), torch.get_num_threads()) == before


def test_a_mapping_fitted_differently_is_refused(tmp_path):
    common = ["train", "cast-tiny", "--kimg", "0.004", "--outdir", str(tmp_path), "--threads", "1"]
    rc, _, err = cli([*common, "--mapping-steps", "20"])
    assert rc == 0, err
    rc, _, err = cli(["train", "cast-tiny", "--kimg", "0.008", "--resume", str(tmp_path / "cast-tiny" / "checkpoint.pt"),
                      "--outdir", str(tmp_path), "--mapping-steps", "30"])
    assert rc == 2 and "delete it to fit again" in err


def test_resume_reuses_the_mapping_beside_its_run_and_a_bad_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may land in ./training-runs
    runs = tmp_path / "runs"
    rc, _, err = cli(["train", "cast-tiny", "--kimg", "0.004", "--outdir", str(runs), "--threads", "1",
                      "--mapping-steps", "20"])
    assert rc == 0, err
    rc, out, err = cli(["train", "cast-tiny", "--kimg", "0.008", "--resume", str(runs / "cast-tiny" / "checkpoint.pt"),
                        "--mapping-steps", "20"])
    assert rc == 0, err
    assert not (tmp_path / "training-runs").exists()
    picture = tmp_path / "a.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\nnot a checkpoint")
    rc, _, err = cli(["train", "cast-tiny", "--kimg", "1", "--resume", str(picture)])
    assert rc == 2 and "not a readable training checkpoint" in err and err.count("\n") == 1


def test_curve_image_draws_both_series():
    from renderer.training.curve import HEIGHT, SERIES, WIDTH, curve_image

    rows = [{"kimg": k, "psnr_plain": 12 + k, "psnr_mixed": 11.5 + k} for k in (1.0, 2.0, 3.0)]
    img = curve_image(rows, "test")
    assert img.shape == (HEIGHT, WIDTH, 3) and img.dtype == np.uint8
    for _, colour, _ in SERIES:
        assert (img.reshape(-1, 3) == colour).all(axis=1).sum() > 50  # each line is drawn
    assert curve_image(rows[:1], "one").shape == (HEIGHT, WIDTH, 3)
    with pytest.raises(ValueError, match="nothing to plot"):
        curve_image([], "none")


@pytest.mark.parametrize("error", [TypeError, ImportError])
def test_curve_image_without_a_sized_default_font_uses_the_bitmap_font(monkeypatch, error):
    """Pillow < 10.1 has no size argument (TypeError); one without FreeType raises ImportError for it: the curve,
    drawn at every evaluation of a training run, must still come out."""
    from PIL import ImageFont

    from renderer.training.curve import HEIGHT, WIDTH, curve_image

    real = ImageFont.load_default
    sizes = []

    def load_default(size=None):
        sizes.append(size)
        if size is not None:
            raise error("no sized default font")
        return real()

    monkeypatch.setattr(ImageFont, "load_default", load_default)
    rows = [{"kimg": k, "psnr_plain": 12 + k, "psnr_mixed": 11.5 + k} for k in (1.0, 2.0)]
    assert curve_image(rows, "test").shape == (HEIGHT, WIDTH, 3)
    assert sizes == [12, None]


def test_mapping_fit_bar_fills_only_a_finished_fit(capsys):
    from editor.cli.cast_files import mapping_fit_bar

    with mapping_fit_bar(None) as show:
        show(0, 300)
        show(200, 300)
    assert "300/300" in capsys.readouterr().err
    with pytest.raises(KeyboardInterrupt), mapping_fit_bar(None) as show:
        show(0, 300)
        show(100, 300)
        raise KeyboardInterrupt
    err = capsys.readouterr().err
    assert "100/300" in err and "300/300" not in err


def test_train_init_bundled_starts_each_network_from_its_own_weights(tmp_path, monkeypatch):
    from renderer.training import trainer

    started: list[tuple[str, str | None]] = []

    def record(options, resume=None, **_):
        started.append((options.network, options.init))
        raise KeyboardInterrupt  # stop before any training: only the options matter here

    monkeypatch.setattr(trainer, "run_training", record)
    rc, _, _ = cli(["train", "cast-sprite", "--kimg", "1", "--init", "bundled", "--outdir", str(tmp_path)])
    assert rc == 130 and started == [("cast-sprite", "cast-sprite")]
    started.clear()
    rc, _, _ = cli(["train", "all", "--kimg", "1", "--init", "bundled", "--outdir", str(tmp_path)])
    assert rc == 130 and started == [("cast-sprite", "cast-sprite")]  # the first network was interrupted
    started.clear()
    rc, _, _ = cli(["train", "cast-portrait", "--kimg", "1", "--init", "bundled", "--outdir", str(tmp_path)])
    assert rc == 130 and started == [("cast-portrait", "cast-portrait")]
    rc, _, err = cli(["train", "cast-tiny", "--kimg", "1", "--init", "x", "--resume", str(tmp_path / "c.pt")])
    assert rc == 2 and "--init starts a new run" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "all", "--kimg", "1", "--lr", "1e-3"], "train them one at a time with --lr"),
        (["train", "cast-tiny", "--kimg", "1", "--lr", "1e-3", "--resume", "c.pt"], "keeps its learning-rate schedule"),
    ],
)
def test_train_refuses_lr_where_it_cannot_apply(tmp_path, argv, message):
    rc, _, err = cli([*argv, "--outdir", str(tmp_path)])
    assert rc == 2 and message in err and err.count("\n") == 1


def test_train_lr_and_mse_weight_reach_a_new_run(tmp_path, monkeypatch):
    from renderer.training import trainer

    seen: list[tuple[float | None, float | None]] = []

    def record(options, resume=None, **_):
        seen.append((options.lr, options.mse_weight))
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "run_training", record)
    argv = ["train", "cast-tiny", "--kimg", "1", "--outdir", str(tmp_path)]
    assert cli([*argv, "--lr", "3e-4", "--mse-weight", "5"])[0] == 130
    assert cli(argv)[0] == 130
    assert seen == [(3e-4, 5.0), (None, None)]  # None: the config's rate and weight


def test_remap_writes_the_same_synthesis_with_the_fitted_mapping_and_says_so(tmp_path):
    from renderer import load_network

    rc, _, err = cli(["--threads", "1", "train", "cast-tiny", "--kimg", "0.004", "--outdir", str(tmp_path),
                      "--mapping", str(tmp_path / "a.pt"), "--mapping-steps", "20"])
    assert rc == 0, err
    source = tmp_path / "cast-tiny" / "cast-tiny.safetensors"
    out = tmp_path / "remapped.safetensors"
    rc, text, err = cli(["train", "cast-tiny", "--remap", str(source), "--mapping", str(tmp_path / "b.pt"),
                         "--mapping-steps", "30", "--export", str(out)])
    assert rc == 0, err
    assert f"wrote {out}" in text and "mapping relative MSE" in text
    before, after = load_network(str(source)), load_network(str(out))
    old, new = before.G.state_dict(), after.G.state_dict()
    for name, value in old.items():
        if name.startswith("synthesis."):
            assert torch.equal(value, new[name]), name
    fitted = torch.load(tmp_path / "b.pt", weights_only=False)["state"]
    for name, value in fitted.items():  # the mapping is exactly the fit cached in b.pt, not the source's
        assert torch.equal(new[f"mapping.{name}"], value), name
    assert not torch.equal(old["mapping.fc0.weight"], new["mapping.fc0.weight"])
    rc, text, err = cli(["train", "cast-tiny", "--remap", str(source), "--mapping", str(tmp_path / "b.pt"),
                         "--mapping-steps", "30", "--outdir", str(tmp_path / "runs")])
    default = tmp_path / "runs" / "cast-tiny" / "cast-tiny-remapped.safetensors"  # never over a training export
    assert rc == 0 and f"wrote {default}" in text, err
    record = after.extra["cast"]
    assert record["mapping_fit"]["fit"]["steps"] == 30 and record["kimg"] == before.extra["cast"]["kimg"]
    assert record["heldout_psnr_db"] == before.extra["cast"]["heldout_psnr_db"]
    assert record["command"].startswith(before.extra["cast"]["command"] + "; then, its mapping refitted, python main.py train")
    assert after.fingerprint != before.fingerprint


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kimg", "1"], "--remap trains nothing: drop --kimg"),
        (["--seed", "3", "--lr", "1e-3"], "--remap trains nothing: drop --seed, --lr"),
        (["--device", "cpu"], "drop --device"),
        (["--mapping-steps", "0"], "--mapping-steps must be 1 or more"),
        (["--mapping-steps", "-5"], "--mapping-steps must be 1 or more"),
        ([], "is not a cast-tiny network Castmaker trained"),
    ],
)
def test_remap_refuses_training_options_and_other_networks_in_one_line(tmp_path, extra, message):
    steps = [] if any(a.startswith("--mapping-steps") for a in extra) else ["--mapping-steps", "20"]
    rc, _, err = cli(["train", "cast-tiny", "--remap", "cast-sprite", "--outdir", str(tmp_path), *steps, *extra])
    assert rc == 2 and message in err and err.count("\n") == 1
    assert not any(tmp_path.iterdir())


def test_train_all_remaps_only_the_bundled_pair(tmp_path):
    rc, _, err = cli(["train", "all", "--remap", str(tmp_path / "x.safetensors"), "--outdir", str(tmp_path)])
    assert rc == 2 and "--remap bundled" in err and err.count("\n") == 1


def test_a_stale_mapping_cache_or_checkpoint_is_refused_before_any_training(tmp_path, monkeypatch):
    from renderer.training import trainer
    from renderer.training.configs import get_config
    from renderer.training.finalize import fitted_mapping

    def never(*_, **__):
        raise AssertionError("training started")

    monkeypatch.setattr(trainer, "run_training", never)
    fitted_mapping(get_config("cast-tiny"), tmp_path / "mapping.pt", 20)  # a cache from a 20-step fit
    rc, _, err = cli(["train", "cast-tiny", "--kimg", "1", "--outdir", str(tmp_path), "--mapping-steps", "30"])
    assert rc == 2 and "was fitted with" in err and err.count("\n") == 1
    # `train all` continues checkpoints it finds in DIR: a broken one for the second network stops the first too.
    (tmp_path / "cast-portrait").mkdir()
    (tmp_path / "cast-portrait" / "checkpoint.pt").write_bytes(b"left by something else")
    rc, _, err = cli(["train", "all", "--kimg", "1", "--outdir", str(tmp_path), "--mapping", str(tmp_path / "m2.pt")])
    assert rc == 2 and "not a readable training checkpoint" in err
    assert not (tmp_path / "cast-sprite").exists()


def test_bundling_refuses_a_network_whose_mapping_differs_from_the_other_bundled_one(tmp_path):
    from editor.cli.cast_files import check_shared_mapping
    from renderer.training.configs import TrainingError

    files = {}
    for name, cache in (("a", "m1.pt"), ("b", "m1.pt"), ("c", "m2.pt")):
        rc, _, err = cli(["--threads", "1", "train", "cast-tiny", "--remap", str(_tiny(tmp_path)),
                          "--mapping", str(tmp_path / cache), "--mapping-steps", "20" if cache == "m1.pt" else "25",
                          "--export", str(tmp_path / f"{name}.safetensors")])
        assert rc == 0, err
        files[name] = tmp_path / f"{name}.safetensors"
    check_shared_mapping({"cast-sprite": files["a"]}, {"cast-portrait": files["b"], "cast-sprite": tmp_path / "gone"})
    with pytest.raises(TrainingError, match="another mapping network than the bundled cast-portrait"):
        check_shared_mapping({"cast-sprite": files["c"]}, {"cast-portrait": files["b"], "cast-sprite": files["a"]})


def _tiny(tmp_path):
    """A trained cast-tiny network file (a few steps), made once per test folder."""
    path = tmp_path / "runs" / "cast-tiny" / "cast-tiny.safetensors"
    if not path.is_file():
        rc, _, err = cli(["--threads", "1", "train", "cast-tiny", "--kimg", "0.004", "--outdir", str(tmp_path / "runs"),
                          "--mapping", str(tmp_path / "runs.pt"), "--mapping-steps", "20"])
        assert rc == 0, err
    return path


def test_a_run_continued_from_a_trained_network_starts_at_the_rate_its_last_run_ended_at(tmp_path, monkeypatch):
    from renderer import load_network
    from renderer.training import trainer
    from renderer.training.finalize import last_learning_rate

    rc, _, err = cli(["--threads", "1", "train", "cast-tiny", "--kimg", "0.008", "--lr", "2e-3", "--lr-decay", "0.25",
                      "--outdir", str(tmp_path), "--mapping", str(tmp_path / "m.pt"), "--mapping-steps", "20"])
    assert rc == 0, err
    source = tmp_path / "cast-tiny" / "cast-tiny.safetensors"
    record = load_network(str(source)).extra["cast"]
    # The rate of the last step taken: 8 images at batch 4, so the second step, set at 4 of the 8 images.
    assert record["lr_end"] == pytest.approx(2e-3 * 0.25 ** (4 / 8), rel=1e-6)
    seen = []

    def record_lr(options, resume=None, **_):
        seen.append(options.lr)
        decays.append(options.lr_decay)
        raise KeyboardInterrupt

    decays = []
    monkeypatch.setattr(trainer, "run_training", record_lr)
    argv = ["train", "cast-tiny", "--kimg", "1", "--init", str(source), "--outdir", str(tmp_path / "next")]
    rc, text, _ = cli(argv)
    assert rc == 130 and seen == [record["lr_end"]] and "the rate" in text and "last run ended at" in text
    assert cli([*argv, "--lr", "1e-4"])[0] == 130 and seen[-1] == 1e-4  # --lr still decides
    assert decays == [0.5, 0.5]  # a continuation falls gently by default (a new run: to a tenth)
    # Files from before lr_end was recorded: the last "lr A → B" of their command history.
    legacy = {"command": "x (0 → 5 kimg; lr 0.004 → 0.0014, edge weight 6); then y (5 → 9 kimg; lr 6e-05 → 3e-05, edge)"}
    assert last_learning_rate(legacy) == 3e-05 and last_learning_rate({"command": "trained elsewhere"}) is None


def test_remap_knows_every_option_of_train_and_the_default_of_each_it_refuses():
    import argparse

    from editor.cli import cast_files, cmd_train

    sub = argparse.ArgumentParser().add_subparsers()
    cmd_train.add_parser(sub)
    defaults = vars(sub.choices["train"].parse_args(["cast-tiny"]))
    assert set(defaults) == set(cast_files._TRAINING_ONLY) | set(cast_files.REMAP_OPTIONS)  # a new option is sorted
    assert {k: defaults[k] for k in cast_files._TRAINING_ONLY} == cast_files._TRAINING_ONLY


def test_the_route_the_bundle_refusal_names_gives_a_file_that_fits_beside_the_bundled_networks(tmp_path):
    from editor.cli.cast_files import check_shared_mapping
    from renderer.loading import BUNDLED_DIR, BUNDLED_NETWORKS
    from renderer.training.configs import TrainingError

    bundled = {n: BUNDLED_DIR / f for n, f in BUNDLED_NETWORKS.items()}
    tiny = _tiny(tmp_path)  # its own 20-step mapping
    with pytest.raises(TrainingError, match="--mapping bundled --bundle") as refused:
        check_shared_mapping({"cast-portrait": tiny}, bundled)
    assert "nothing was bundled" in str(refused.value)
    out = tmp_path / "fits.safetensors"
    rc, text, err = cli(["train", "cast-tiny", "--remap", str(tiny), "--mapping", "bundled", "--export", str(out)])
    assert rc == 0 and f"wrote {out}" in text, err
    check_shared_mapping({"cast-portrait": out}, bundled)  # now accepted (nothing is copied by the check)
    check_shared_mapping({}, {})  # nothing to compare: nothing to refuse


def test_one_network_bundled_alone_takes_the_bundled_mapping_unless_told_otherwise(tmp_path):
    import argparse
    from pathlib import Path

    from editor.cli.cast_files import mapping_cache
    from renderer.training.finalize import BUNDLED_MAPPING

    def args(**kw):
        return argparse.Namespace(**{"mapping": None, "bundle": False, "network": "cast-portrait", **kw})

    assert mapping_cache(args(bundle=True), tmp_path) == BUNDLED_MAPPING
    assert mapping_cache(args(bundle=True, network="all"), tmp_path) == tmp_path / "mapping.pt"
    assert mapping_cache(args(), tmp_path) == tmp_path / "mapping.pt"
    assert mapping_cache(args(bundle=True, mapping="m.pt"), tmp_path) == Path("m.pt")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "cast-tiny", "--kimg", "1", "--bundle"], "never bundled"),
        (["train", "cast-tiny", "--kimg", "1", "--export", "net.pkl"], "ends in .safetensors"),
        (["train", "cast-tiny", "--remap", "bundled"], "cast-tiny has no bundled network"),
        (["train", "cast-tiny", "--kimg", "1", "--init", "bundled"], "cast-tiny has no bundled network"),
        (["train", "all", "--kimg", "1", "--init", "cast-sprite"], "cast-sprite is not a cast-portrait network"),
        (["train", "cast-portrait", "--remap", "x.safetensors", "--mapping", "bundled", "--mapping-steps", "5"],
         "drop --mapping-steps"),
    ],
)
def test_train_refuses_wrong_files_before_any_training(tmp_path, monkeypatch, argv, message):
    from renderer.training import trainer

    def never(*_, **__):
        raise AssertionError("training started")

    monkeypatch.setattr(trainer, "run_training", never)
    rc, out, err = cli([*argv, "--outdir", str(tmp_path)])
    assert rc == 2 and message in err and err.count("\n") == 1, err
    assert "starting at lr" not in out and not any(tmp_path.iterdir())


def test_the_mapping_fit_is_seeded_from_its_first_weight():
    from renderer.training.configs import get_config
    from renderer.training.finalize import fitted_mapping

    a, _ = fitted_mapping(get_config("cast-tiny"), None, 5)
    torch.manual_seed(12345)  # the global generator's state does not matter
    b, _ = fitted_mapping(get_config("cast-tiny"), None, 5)
    assert all(torch.equal(a[k], b[k]) for k in a)
