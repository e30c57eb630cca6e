"""`python main.py view` for real: no display or no OpenGL -> exit 2 with one line; under Xvfb -> a
non-blank screenshot, and gestures (drag, mix row, capture, hand-off) driven by imgui's test engine.

The window tests need a virtual X display (pytest-xvfb starts one when Xvfb is installed) and an
OpenGL implementation (Mesa); without them they are skipped with the reason the probe gives.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from editor.cli import run as cli_run
from editor.viewer.display_probe import display_problem, opengl_problem
from renderer.fingerprint import weights_fingerprint
from renderer.loading import save_native
from renderer.nets import build_generator
from renderer.network import Network

ROOT = Path(__file__).resolve().parents[2]
TINY_KWARGS = dict(
    z_dim=16,
    w_dim=16,
    mapping_kwargs=dict(num_layers=2),
    channel_base=512,
    channel_max=32,
    c_dim=0,
    img_resolution=16,
    img_channels=3,
)


def _headless_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY only decides this on Linux")
def test_no_display_exits_2_with_one_line_in_process(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code = cli_run(["view", "--network", str(tmp_path / "never-loaded.pkl")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("castmaker: error: the viewer needs a display")
    assert "DISPLAY" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY only decides this on Linux")
def test_no_display_exits_2_with_one_line_from_main(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "view"],
        cwd=tmp_path,
        env=_headless_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "DISPLAY" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


NO_TCP = ["-nolisten", "tcp"]


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs the Xvfb binary for a display without GLX")
def test_display_without_opengl_exits_2_with_one_line(tmp_path):
    """An X display that has no GLX (no OpenGL): the probe must say so instead of the runner crashing."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24", "-extension", "GLX"] + NO_TCP,
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        assert number.isdigit(), "Xvfb did not report its display number"
        env = _headless_env(tmp_path)
        env["DISPLAY"] = f":{number}"
        proc = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "view"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(10)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert proc.stderr.startswith("castmaker: error: cannot open an OpenGL window"), proc.stderr
    assert "GLX" in proc.stderr


def _tiny_network_file(folder: Path) -> Path:
    torch.manual_seed(3)
    G = build_generator("stylegan3", TINY_KWARGS)
    net = Network(
        G=G,
        kind="stylegan3-t",
        arch={"arch": "stylegan3", "init_kwargs": TINY_KWARGS},
        fingerprint=weights_fingerprint(G.state_dict()),
        name="tiny",
        source="tiny",
    )
    path = folder / "tiny.safetensors"
    save_native(net, path)
    return path


@pytest.mark.slow
def test_screenshot_under_virtual_display(tmp_path):
    problem = display_problem() or opengl_problem()
    if problem:
        pytest.skip(f"no display with OpenGL for the viewer: {problem} (install Xvfb + Mesa to run this)")
    net = _tiny_network_file(tmp_path)
    shot = tmp_path / "shots" / "view.png"
    shot.parent.mkdir()
    keep = os.environ.get("CASTMAKER_KEEP_SCREENSHOT")  # a path: copy the PNG there to look at it
    work = tmp_path / "cwd"
    work.mkdir()
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), OMP_NUM_THREADS="1")
    cmd = [sys.executable, str(ROOT / "main.py"), "view", "--network", str(net), "--device", "cpu"]
    cmd += ["--screenshot", str(shot), "--frames", "5", "--capture-dir", str(tmp_path / "caps")]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"screenshot saved to {shot}" in proc.stdout

    img = np.asarray(Image.open(shot).convert("RGB"))
    # The whole window (1280 x 820, or less where the virtual screen is smaller), not the 16 px image.
    assert img.shape[0] >= 300 and img.shape[1] >= 400 and img.shape[2] == 3
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colours) > 100, "the screenshot is (nearly) blank"
    assert img.std() > 10
    if keep:
        Path(keep).write_bytes(shot.read_bytes())

    # imgui / hello_imgui settings go to the user config folder, never into the working directory.
    assert list(work.iterdir()) == []
    assert (tmp_path / "config" / "castmaker" / "viewer.ini").is_file()
    assert not (tmp_path / "caps").exists()  # nothing is captured unless asked


@pytest.mark.slow
def test_gestures_drive_the_state_and_the_render_thread(tmp_path, monkeypatch):
    """Drive the real window with imgui's test engine: drag the image, tick a mix row, capture, hand off."""
    problem = display_problem() or opengl_problem()
    if problem:
        pytest.skip(f"no display with OpenGL for the viewer: {problem} (install Xvfb + Mesa to run this)")
    from imgui_bundle.immapp import testing

    from editor.session import load_session
    from editor.viewer.app import (
        ViewerApp,
        ViewerInfo,
        ViewerOptions,
        _signal_dispositions_kept,
        add_ons,
        runner_params,
    )
    from editor.viewer.frames import render_frame
    from editor.viewer.render_thread import RenderThread
    from editor.viewer.viewer_state import GRID_SIZE
    from renderer.engine import Engine
    from renderer.loading import load_network

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    network = load_network(str(_tiny_network_file(tmp_path)))
    engine = Engine(network, device="cpu")
    info = ViewerInfo.from_engine(engine)
    worker = RenderThread(lambda request: render_frame(engine, request))
    app = ViewerApp(info, worker, ViewerOptions(capture_dir=tmp_path / "caps", window_size=(1000, 700)))
    seen: dict[str, object] = {}

    def wait_for_frame_of(ctx, state, limit=3000) -> bool:
        for _ in range(limit):
            if app.frame is not None and app.frame.request.state == state:
                return True
            ctx.yield_()
        return False

    def script(ctx) -> None:
        seen["first"] = wait_for_frame_of(ctx, app.state)
        ctx.mouse_move("//**/##drag-image")
        ctx.mouse_drag_with_delta((-60.0, 0.0))  # drag left: move right through the grid
        seen["after_drag"] = app.state
        ctx.item_click("//**/ 3##mix3")
        seen["after_mix"] = app.state
        seen["rendered_mix"] = wait_for_frame_of(ctx, app.state)
        for header in ("Latent", "Truncation", "Style mix", "Layer inspector"):  # bring Capture into view
            ctx.item_close(f"//**/{header}")
        ctx.item_click("//**/Save PNG + w")
        ctx.item_click("//**/Open in editor")
        ctx.yield_(2)

    try:
        with _signal_dispositions_kept():  # as run_viewer does: the window stack leaves a SIGPIPE handler behind
            testing.run(test_function=script, runner_params=runner_params(app), add_ons_params=add_ons())
    finally:
        worker.stop()
        torch.set_num_threads(threads)

    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN  # Python's own setting is back
    assert seen["first"], "no frame arrived from the render thread"
    dragged = seen["after_drag"]
    assert dragged.y == 0.0 and 0.05 < dragged.x < 2.0, dragged  # moved right by a fraction of a cell
    assert not dragged.on_grid_point and dragged.x % GRID_SIZE == dragged.x
    assert seen["after_mix"].mix_rows[3] and sum(seen["after_mix"].mix_rows) == 1
    assert seen["rendered_mix"], "the render thread never delivered the mixed state"
    assert app.status == "session saved for the editor", app.status
    pngs = sorted((tmp_path / "caps").glob("*.png"))
    npys = sorted((tmp_path / "caps").glob("*.npy"))
    sessions = sorted((tmp_path / "caps").glob("*.castmaker-session"))
    assert len(pngs) == len(npys) == len(sessions) == 1, list((tmp_path / "caps").iterdir())
    frame = app.frame
    np.testing.assert_array_equal(np.asarray(Image.open(pngs[0])), frame.image)
    np.testing.assert_array_equal(np.load(npys[0])[0], frame.ws)
    np.testing.assert_array_equal(engine.evaluate(load_session(sessions[0]).recipe), frame.ws)
