"""Fixtures for the editor UI tests: a tiny real StyleGAN2 network, an isolated settings/data folder."""

from __future__ import annotations

import pytest
import torch

from renderer.errors import NetworkLoadError
from renderer.network import Network

TINY_KWARGS = dict(
    z_dim=16,
    c_dim=0,
    w_dim=16,
    img_resolution=16,
    img_channels=3,
    mapping_kwargs=dict(num_layers=2),
    synthesis_kwargs=dict(channel_base=256, channel_max=32),
)


def tiny_network(name: str = "tiny", seed: int = 0) -> Network:
    """A 16-px, 6-row StyleGAN2 with deterministic random weights (same seed -> same weights)."""
    from renderer.nets import build_generator

    torch.manual_seed(seed)
    G = build_generator("stylegan2", TINY_KWARGS)
    # move the mapping's w_avg off zero so truncation is visible
    G.mapping.w_avg.copy_(torch.randn_like(G.mapping.w_avg) * 0.3)
    return Network(
        G=G,
        kind="stylegan2",
        arch={"arch": "stylegan2", "init_kwargs": TINY_KWARGS},
        fingerprint=f"{seed:02x}" * 32,
        name=name,
        source=name,
        is_demo=False,
    )


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
