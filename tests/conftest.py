"""Shared test set-up: offscreen Qt, few threads, paths to the bundled official fixtures."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Renders compared bit for bit must not change their thread team with the test machine's load (a float sum
# split across a different number of threads can round a pixel the other way): CPU sharing is off in the
# suite, and tests/renderer/test_cpu_share.py turns it on where it tests it.
os.environ["CASTMAKER_CPU_SHARE"] = "0"

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
