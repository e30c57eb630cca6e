"""resources/gpu/train-cast.sh: the one-command GPU run refuses bad options before installing anything, and the
`train` / `bench` command lines it runs are ones today's CLI accepts (a renamed option would otherwise surface only
on a rented GPU, minutes in)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from editor.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "resources" / "gpu" / "train-cast.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unknown option --bogus"),
        (["--kimg", "3", "--minutes", "2"], "give --kimg or --minutes, not both"),
        (["--kimg"], "--kimg needs a value"),
        (["--outdir"], "--outdir needs a value"),
    ],
)
def test_bad_options_stop_before_any_install(args, message):
    before = set(REPO.iterdir())
    done = _run(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert set(REPO.iterdir()) == before  # no .venv, no training-runs/


def test_help_is_the_header_comment():
    done = _run("--help")
    assert done.returncode == 0
    assert "bash resources/gpu/train-cast.sh [--kimg K | --minutes M]" in done.stdout
    assert "set -euo pipefail" not in done.stdout


def _commands(script: str) -> list[list[str]]:
    """The `python main.py ...` command lines of the script (continuation lines joined), with its shell
    variables and arrays replaced by values of the kinds its option parsing allows."""
    joined = script.replace("\\\n", " ")
    values = {
        '"${STOP[@]}"': "--kimg 400",
        '"$BATCH"': "16",
        '"$OUTDIR"': "training-runs",
        '"${EXTRA[@]}"': "--draw-workers 4 --mapping-steps 50 --init bundled",
        '"${BUNDLE[@]}"': "--bundle",
    }
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line.startswith("python main.py "):
            continue
        command = line.split("|")[0]
        for var, value in values.items():
            command = command.replace(var, value)
        assert "$" not in command, f"a variable the test does not know: {command}"
        out.append(shlex.split(command)[2:])
    return out


def test_the_script_runs_command_lines_the_cli_accepts():
    commands = _commands(SCRIPT.read_text(encoding="utf-8"))
    assert [c[0] for c in commands] == ["train", "bench"]
    parser = build_parser()
    parsed = [parser.parse_args(argv) for argv in commands]  # argparse exits (SystemExit) on an unknown option
    assert [args.command for args in parsed] == ["train", "bench"]
    train = parsed[0]
    assert (train.kimg, train.batch, train.init, train.bundle) == (400, 16, "bundled", True)
