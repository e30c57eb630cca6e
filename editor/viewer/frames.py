"""The viewer's render job: a FrameRequest (state + inspector choice) -> a ViewerFrame, on the render thread.

Why a module of its own: it is the one place the viewer touches the Engine, so the window stays free
of forward passes and the job can be tested without a window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from editor.viewer.inspector import ActivationStats, InspectorSettings, activation_image, upscale_nearest
from editor.viewer.viewer_state import ViewerState, build_recipe
from renderer.engine import Engine
from renderer.latents import Recipe


@dataclass(frozen=True)
class FrameRequest:
    """What the window wants to see; `inspect` is None when the inspector is closed."""

    state: ViewerState
    inspect: InspectorSettings | None = None


@dataclass(frozen=True)
class InspectorView:
    """One layer's activation, ready to show."""

    settings: InspectorSettings
    step_name: str
    step_row: int
    num_channels: int
    image: np.ndarray  # uint8 H x W x 3, pixels repeated so the short side is >= 256
    stats: ActivationStats
    ms: float


@dataclass(frozen=True)
class ViewerFrame:
    """A finished render: the image, the w+ and recipe it came from, timings, the inspector view."""

    request: FrameRequest
    recipe: Recipe
    image: np.ndarray  # uint8 H x W x C
    ws: np.ndarray  # float32 [num_ws, w_dim]
    render_ms: float  # mapping + synthesis, as the Engine measured it
    start_step: int
    inspector: InspectorView | None


def render_frame(engine: Engine, request: FrameRequest) -> ViewerFrame:
    """Render the request's state and, if asked, the activation of one synthesis step (prefix-cached)."""
    recipe = build_recipe(request.state, engine.resolve, engine.num_ws)
    result = engine.render(recipe)
    view = None
    if request.inspect is not None:
        view = inspect_layer(engine, result.ws, request.inspect)
    return ViewerFrame(
        request=request,
        recipe=recipe,
        image=result.image,
        ws=result.ws,
        render_ms=result.ms,
        start_step=result.start_step,
        inspector=view,
    )


def inspect_layer(engine: Engine, ws: np.ndarray, settings: InspectorSettings) -> InspectorView:
    """Activation of step `settings.step_index` for `ws`, turned into an image with statistics."""
    t0 = time.perf_counter()
    act = engine.activations(ws, settings.step_index)
    image, stats = activation_image(act, settings)
    step = engine.steps[settings.step_index]
    return InspectorView(
        settings=settings,
        step_name=step.name,
        step_row=step.row,
        num_channels=int(act.shape[0]),
        image=upscale_nearest(image),
        stats=stats,
        ms=(time.perf_counter() - t0) * 1000,
    )
