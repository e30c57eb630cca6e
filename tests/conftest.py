"""Shared test set-up: offscreen Qt, few threads, paths to the bundled official fixtures."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

DATA = Path(__file__).parent / "data"
OFFICIAL = DATA / "official"
FIXTURE_NAMES = ["stylegan3-t-64", "stylegan3-r-64", "stylegan2-ada-64", "stylegan3-t-128"]


@pytest.fixture(scope="session")
def official_dir() -> Path:
    return OFFICIAL


@pytest.fixture
def one_thread():
    """torch on one thread for the test (tiny networks run fastest so, and the CI machine is shared)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
