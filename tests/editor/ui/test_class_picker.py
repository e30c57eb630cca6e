"""The Base panel's class picker on a class-conditional network, and `--screenshot` failing at once on a render error."""

from __future__ import annotations

import pytest

from editor.ui.app import create_window, shutdown, take_screenshot
from renderer.engine import Engine
from renderer.errors import CastmakerError, NetworkLoadError, RenderError
from renderer.latents import SeedSource
from tests.helpers.conditional import C_DIM, tiny_conditional_network
from tests.helpers.tiny import tiny_network


def cond_loader(source: str):
    if source == "cond":
        return tiny_conditional_network("cond")
    if source == "tiny":
        return tiny_network("tiny")
    raise NetworkLoadError(f"{source} is not a StyleGAN network file")


@pytest.fixture
def cond_window(qtbot, isolated):
    win = create_window("cond", device="cpu", settings=isolated, loader=cond_loader)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: bool(win.info is not None and (win.preview.mix_image() is not None or win.last_error)), timeout=60000)
    yield win
    shutdown(win)


def test_a_conditional_network_renders_at_once_with_class_0(qtbot, cond_window) -> None:
    win = cond_window
    assert win.preview.mix_image() is not None and not win.error_banner.isVisibleTo(win), win.last_error
    assert win.recipe.base.class_idx == 0
    assert all(s.class_idx == 0 for s in win.catalog.sources if isinstance(s, SeedSource))
    spin = win.base_controls.class_spin
    assert spin.isVisibleTo(win) and spin.maximum() == C_DIM - 1


def test_the_class_picker_is_an_undoable_recipe_edit(qtbot, cond_window) -> None:
    win = cond_window
    reference = Engine(tiny_conditional_network("cond"), "cpu")
    win.base_controls.class_spin.setValue(2)
    assert win.recipe.base.class_idx == 2
    qtbot.waitUntil(lambda: win._shown_request == win._latest_request, timeout=30000)
    want = reference.render(win.recipe).image
    assert (win.last_result.image == want).all()
    src = win.add_seed_source(40)
    assert src.class_idx == 2  # a seed source takes the base's class when added, and keeps its own after
    win.undo_stack.undo()
    assert win.recipe.base.class_idx == 0 and win.base_controls.class_spin.value() == 0
    assert src in win.catalog.sources and src.class_idx == 2


def test_an_unconditional_network_hides_the_picker(qtbot, window) -> None:
    assert not window.base_controls.class_spin.isVisibleTo(window)
    assert window.recipe.base.class_idx is None


def test_screenshot_fails_at_once_with_the_render_error(qtbot, isolated, tmp_path) -> None:
    class BrokenEngine(Engine):
        def render(self, *args, **kwargs):
            raise RenderError("the preview cannot be drawn (test)")

    win = create_window("tiny", device="cpu", settings=isolated, loader=cond_loader, engine_factory=BrokenEngine)
    qtbot.addWidget(win)
    try:
        with pytest.raises(CastmakerError, match=r"could not render its preview: the preview cannot be drawn \(test\)"):
            take_screenshot(win, tmp_path / "shot.png", timeout_s=30)
        assert not (tmp_path / "shot.png").exists()
    finally:
        shutdown(win)


def test_the_projection_panel_projects_with_the_base_class(qtbot, cond_window, tmp_path) -> None:
    import numpy as np
    from PIL import Image

    win, panel = cond_window, cond_window.projection_panel
    win.base_controls.class_spin.setValue(1)
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    panel.steps.setValue(10)
    panel.start_projection(str(tmp_path / "grey.png"))
    qtbot.waitUntil(lambda: not panel.running, timeout=120000)
    assert panel.result_source is not None, (panel.status.text(), win.last_error)
