"""`main.py directions` mistakes a newcomer makes: one error line, nothing half-written."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from editor.cli import run


def cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        return run(argv), out.getvalue(), err.getvalue()


def test_label_seeds_without_method_labels_are_refused_not_ignored(tmp_path: Path) -> None:
    rc, _, err = cli(["directions", "--network", "demo-sprite", "--with", "1,2", "--without", "3,4",
                      "--outdir", str(tmp_path / "d"), "--device", "cpu"])  # fmt: skip
    errors = [line for line in err.splitlines() if line.startswith("castmaker: error")]
    assert rc == 2 and len(errors) == 1 and "belong to --method labels" in errors[0], err
    assert not (tmp_path / "d").exists()


def test_one_existing_direction_file_stops_the_whole_set_before_any_is_written(tmp_path: Path) -> None:
    (tmp_path / "sefa-1.json").write_text("mine")
    argv = ["directions", "--network", "demo-sprite", "--rows", "8-11", "--top", "3", "--outdir", str(tmp_path),
            "--device", "cpu"]  # fmt: skip
    rc, _, err = cli(argv)
    assert rc == 2 and "sefa-1.json already exists" in err and "--overwrite" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sefa-1.json"]
    assert (tmp_path / "sefa-1.json").read_text() == "mine"
    rc, out, _ = cli([*argv, "--overwrite"])
    assert rc == 0 and "found 3 sefa directions" in out and "--direction" in out
    assert (tmp_path / "sefa-1.npy").is_file() and (tmp_path / "sefa-rows8-11.png").is_file()


def test_render_alpha_without_a_direction_is_refused_not_ignored(tmp_path: Path) -> None:
    for extra in (["--alpha", "2"], ["--alpha", "nan", "--direction", str(tmp_path / "d.json")]):
        rc, _, err = cli(["render", "--network", "demo-sprite", "--seeds", "1", "--outdir", str(tmp_path / "r"), *extra])
        errors = [line for line in err.splitlines() if line.startswith("castmaker: error")]
        assert rc == 2 and len(errors) == 1 and "--alpha" in errors[0], err
    assert not (tmp_path / "r").exists()
