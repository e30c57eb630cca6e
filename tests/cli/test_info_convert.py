"""`castmaker info` and `castmaker convert` on demos, official-layout pickles and bad paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.official_pickle_writer import write_snapshot  # noqa: E402

from editor.cli import run  # noqa: E402
from renderer.fingerprint import weights_fingerprint  # noqa: E402

OFFICIAL = Path(__file__).resolve().parents[1] / "data" / "official"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sg3_pickle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_snapshot(OFFICIAL / "stylegan3-r-64", tmp_path_factory.mktemp("cli") / "sg3r.pkl")


def fixture_fingerprint(name: str) -> str:
    from safetensors.numpy import load_file

    return weights_fingerprint(load_file(str(OFFICIAL / name / "weights.safetensors")))


def field(out: str, name: str) -> str:
    for line in out.splitlines():
        if line.startswith(name + " "):
            return line[len(name) :].strip()
    raise AssertionError(f"no {name!r} line in:\n{out}")


def test_info_on_official_pickle(sg3_pickle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["info", str(sg3_pickle)]) == 0
    out = capsys.readouterr().out
    assert field(out, "kind") == "stylegan3-r"
    assert field(out, "resolution").startswith("64 x 64")
    assert (field(out, "z_dim"), field(out, "w_dim"), field(out, "num_ws"), field(out, "c_dim")) == (
        "64",
        "64",
        "16",
        "0",
    )
    assert field(out, "fingerprint") == fixture_fingerprint("stylegan3-r-64")
    assert field(out, "discriminator").startswith("included (46 tensors)")
    assert "untrained demo network" not in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "step"])
    rows = [line.split() for line in lines[header + 2 :] if line.strip()]
    assert len(rows) == 16
    assert rows[0] == ["0", "input", "36x36", "128", "0", "coarse"]
    assert rows[-1][:2] == ["15", "L14_64_3"] and rows[-1][-2:] == ["15", "fine"]
    assert [int(r[4]) for r in rows] == list(range(16))
    # aligned: every row has the same width as the dashed rule under the header
    rule = lines[header + 1]
    assert all(len(line) <= len(rule) for line in lines[header + 2 :])


def test_info_on_demo(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip(
        "renderer.demo", reason="renderer/demo.py (another engineer's module) not in the tree yet"
    )
    assert run(["info", "demo-sprite"]) == 0
    out = capsys.readouterr().out
    assert "untrained demo network" in out
    assert field(out, "kind").startswith("stylegan2")
    assert field(out, "num_ws") == "12"
    assert field(out, "discriminator") == "not included"
    assert out.count("untrained demo network") == 1


def test_convert_demo_keeps_fingerprint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from renderer.loading import load_network

    out_path = tmp_path / "face.safetensors"
    assert run(["convert", "demo", str(out_path)]) == 0
    expected = load_network("demo-face").fingerprint
    assert f"fingerprint {expected}" in capsys.readouterr().out
    back = load_network(str(out_path))
    assert back.fingerprint == expected and back.kind == "stylegan3-t"


def test_convert_round_trip_keeps_fingerprint(
    sg3_pickle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = tmp_path / "sg3r.safetensors"
    assert run(["convert", str(sg3_pickle), str(out_path)]) == 0
    printed = capsys.readouterr().out
    expected = fixture_fingerprint("stylegan3-r-64")
    assert f"fingerprint {expected}" in printed
    assert run(["info", str(out_path)]) == 0
    assert field(capsys.readouterr().out, "fingerprint") == expected
    # converting the converted file again gives the same fingerprint
    again = tmp_path / "again.safetensors"
    assert run(["convert", str(out_path), str(again)]) == 0
    assert f"fingerprint {expected}" in capsys.readouterr().out


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("command", ["info", "convert"])
def test_bad_input_path_exits_2_with_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, str(tmp_path / "missing.pkl")] + (
        [str(tmp_path / "o.safetensors")] if command == "convert" else []
    )
    assert run(argv) == 2
    assert "not found" in one_error_line(capsys)


def test_convert_refuses_wrong_suffix(
    sg3_pickle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["convert", str(sg3_pickle), str(tmp_path / "out.pkl")]) == 2
    assert "must end in .safetensors" in one_error_line(capsys)
    assert not (tmp_path / "out.pkl").exists()


def test_convert_refuses_to_overwrite_input(
    sg3_pickle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    native = tmp_path / "n.safetensors"
    assert run(["convert", str(sg3_pickle), str(native)]) == 0
    capsys.readouterr()
    before = native.read_bytes()
    assert run(["convert", str(native), str(native), "--force"]) == 2
    assert "output is the input" in one_error_line(capsys)
    assert native.read_bytes() == before


def test_convert_refuses_existing_output_without_force(
    sg3_pickle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "mine.safetensors"
    existing.write_bytes(b"user data")
    assert run(["convert", str(sg3_pickle), str(existing)]) == 2
    assert "already exists" in one_error_line(capsys)
    assert existing.read_bytes() == b"user data"
    assert run(["convert", str(sg3_pickle), str(existing), "--force"]) == 0
    assert existing.read_bytes() != b"user data"


def test_real_process_bad_path_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), "info", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "is a folder" in proc.stderr
