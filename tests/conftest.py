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
