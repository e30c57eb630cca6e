"""A URL given as a network: Castmaker never downloads, shows the URL intact and says to download it first."""

from __future__ import annotations

from pathlib import Path

import pytest

from editor.cli import run as cli
from renderer.errors import NetworkLoadError
from renderer.loading import is_url, load_network

URLS = [
    "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan3/versions/1/files/stylegan3-t-ffhq-1024x1024.pkl",
    "http://example.org/nets/ffhq.pkl",
    "s3://bucket/path/network-snapshot-000100.pkl",
    "gs://bucket/ffhq.safetensors",
]


@pytest.mark.parametrize("url", URLS)
def test_a_url_is_refused_intact_with_what_to_do(url: str) -> None:
    with pytest.raises(NetworkLoadError) as info:
        load_network(url)
    text = str(info.value)
    assert url in text  # not "https:/…" with one slash
    assert "never downloads" in text and "download the file" in text and Path(url).name in text


def test_a_file_url_names_the_path_to_give_instead() -> None:
    with pytest.raises(NetworkLoadError, match=r"give the path itself: /data/my net\.pkl"):
        load_network("file:///data/my%20net.pkl")


def test_paths_are_not_urls() -> None:
    assert not any(is_url(p) for p in ("C:\\nets\\ffhq.pkl", "C:/nets/ffhq.pkl", "nets/ffhq.pkl", "ffhq.pkl", "demo-face"))
    assert all(is_url(u) for u in URLS)


def test_the_cli_prints_the_url_intact(capsys) -> None:
    assert cli(["render", "--network", URLS[0], "--seeds", "0", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and URLS[0] in err[0] and "never downloads" in err[0]


def test_a_pipeline_config_keeps_a_url_intact(tmp_path: Path) -> None:
    from editor.pipeline.config import load_config

    cfg = load_config(None)
    assert cfg.resolve_path(URLS[1]) == URLS[1]
