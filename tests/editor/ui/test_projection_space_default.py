"""The editor's projection panel starts on the same measured default space as the CLI and the pipeline."""

from __future__ import annotations

from renderer.projector import DEFAULT_SPACE, ProjectionConfig


def test_the_editor_panel_starts_on_the_default(qtbot, window) -> None:
    assert window.projection_panel.space.currentText() == DEFAULT_SPACE == ProjectionConfig().space
