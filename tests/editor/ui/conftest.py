"""Fixtures for the editor UI tests: a tiny real StyleGAN2 network, an isolated settings/data folder."""

from __future__ import annotations

import pytest

from renderer.errors import NetworkLoadError
from renderer.network import Network
from tests.helpers.tiny import tiny_network


def tiny_loader(source: str) -> Network:
    """Loader for the worker: 'tiny' / 'tiny2' build networks, anything else fails like a bad file."""
    if source == "tiny":
        return tiny_network("tiny", 0)
    if source == "tiny2":
        return tiny_network("tiny2", 1)
    raise NetworkLoadError(f"{source} is not a StyleGAN network file")


@pytest.fixture
def loader():
    """The tiny networks' loader (for tests that start their own window or bench)."""
    return tiny_loader


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Settings and user presets under tmp_path, never the user's own."""
    monkeypatch.setenv("CASTMAKER_DATA_DIR", str(tmp_path / "data"))
    from editor.ui.settings import make_settings

    return make_settings()


@pytest.fixture
def window(qtbot, isolated):
    """An editor window on the tiny network, loaded and showing its first frame."""
    from editor.ui.app import create_window, shutdown

    win = create_window("tiny", device="cpu", settings=isolated, loader=tiny_loader)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.info is not None and win.preview.mix_image() is not None, timeout=60000)
    yield win
    shutdown(win)


@pytest.fixture
def reference():
    """An Engine on an identical copy of the tiny network, for pixel comparisons in the test thread."""
    from renderer.engine import Engine

    return Engine(tiny_network("tiny", 0), "cpu")
