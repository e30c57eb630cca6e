"""Projection of any image into w-space: targets, losses, the optimisation loop and its benchmark.

Public API (the editor, the pipeline and the `project` CLI use these names):
    load_target(path, network) -> uint8 [R, R, C]
    ProjectionConfig, ProjectionProgress, ProjectionResult
    project(engine, target, config, progress=None, should_stop=None) -> ProjectionResult
"""

from renderer.projector.losses import LOSS_CHOICES, resolve_loss_name
from renderer.projector.projector import (
    DEFAULT_SPACE,
    SPACES,
    ProjectionConfig,
    ProjectionProgress,
    ProjectionResult,
    project,
)
from renderer.projector.targets import load_target, prepare_target

__all__ = [
    "DEFAULT_SPACE",
    "LOSS_CHOICES",
    "SPACES",
    "ProjectionConfig",
    "ProjectionProgress",
    "ProjectionResult",
    "load_target",
    "prepare_target",
    "project",
    "resolve_loss_name",
]
