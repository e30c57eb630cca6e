"""`main.py animate` mistakes a newcomer makes, refused with one line before any network is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from editor.cli import run as cli

BASE = ["animate", "--network", "no-such-network.pkl", "--seeds", "0,5", "--rows", "1", "--seconds", "1", "--fps", "4"]


@pytest.mark.parametrize(
    "fmt,name",
    [("webp", "clip.gif"), ("gif", "clip.webp"), ("mp4", "clip.png"), ("frames", "clip.gif"), ("apng", "clip.mp4")],
)
def test_a_format_that_contradicts_the_file_name_is_refused(tmp_path: Path, capsys, fmt: str, name: str) -> None:
    assert cli([*BASE, "--format", fmt, "--out", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert f"--format {fmt} does not match the name {name}" in err and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_a_base_that_is_neither_a_seed_nor_a_file_is_named(tmp_path: Path, capsys) -> None:
    assert cli([*BASE, "--base", "heroine", "--out", str(tmp_path / "clip.gif")]) == 2
    err = capsys.readouterr().err
    assert "--base heroine: give a seed number or an existing .castmaker-session file" in err, err
    assert list(tmp_path.iterdir()) == []
