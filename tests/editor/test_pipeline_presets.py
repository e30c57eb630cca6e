"""The bundled presets exist for every archetype and expression of the shipped configs and fit their networks.

If this fails after renderer/demo.py changed, re-make them: `python -m editor.pipeline.make_demo_presets`; after
the cast networks were retrained: `python -m editor.pipeline.make_cast_presets`.
"""

from __future__ import annotations

import numpy as np
import pytest

from editor.pipeline import load_config
from editor.presets import bundled_library, check_fits
from renderer import load_network


@pytest.mark.parametrize("config", ["default", "demo"])
@pytest.mark.parametrize("which", ["sprite", "portrait"])
def test_bundled_presets_cover_the_shipped_configs_and_fit(which: str, config: str) -> None:
    from editor.pipeline.config import DEMO_CONFIG

    cfg = load_config(DEMO_CONFIG if config == "demo" else None)
    net_name = cfg.sprite_network if which == "sprite" else cfg.portrait_network
    net = load_network(net_name)
    library = bundled_library(net_name)
    assert library is not None and library.read_only
    names = {a.sprite_preset if which == "sprite" else a.portrait_preset for a in cfg.archetypes.values()}
    if which == "portrait":
        names |= {e.preset for e in cfg.expressions}
    for name in sorted(names):
        preset = library.get(name)
        check_fits(preset, net.fingerprint, net.name)
        assert preset.w.shape == (net.num_ws, net.w_dim) and np.isfinite(preset.w).all()
        assert preset.thumbnail_path is not None and preset.thumbnail_path.stat().st_mode & 0o044 == 0o044
    presets, problems = library.list()
    assert problems == []
    if config == "demo":  # the demo networks carry exactly the config's presets
        assert len(presets) == len(names)


def test_a_failed_cast_preset_rebuild_keeps_the_old_sets(tmp_path, monkeypatch):
    from editor.pipeline import make_cast_presets as m
    from editor.presets import PresetError

    for name in ("cast-sprite", "cast-portrait"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "old.json").write_text("{}")
    calls = []

    def fake_make(network_name, specs, out, seeds):  # noqa: ANN001
        calls.append(network_name)
        if network_name == "cast-portrait":
            raise PresetError("no seeds match")
        (out / network_name).mkdir(parents=True)
        (out / network_name / "new.json").write_text("{}")
        return [out / network_name / "new.json"]

    monkeypatch.setattr(m, "make_presets", fake_make)
    with pytest.raises(PresetError):
        m.rebuild_bundled_presets(tmp_path, seeds=10)
    assert calls == ["cast-sprite", "cast-portrait"]
    assert sorted(p.name for p in (tmp_path / "cast-sprite").iterdir()) == ["old.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cast-portrait", "cast-sprite"]  # no staging left behind
