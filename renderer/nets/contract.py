"""The stepwise synthesis contract every Castmaker synthesis network implements.

Why: the prefix cache (edit rows >= k, re-run only the steps from k on), the layer inspector and the
official call surface all need synthesis as an explicit list of steps. A *step* is one unit that reads
exactly one w row: for StyleGAN3 the input layer (row 0) and each `L{i}_*` layer (row i+1); for
StyleGAN2 each conv and each toRGB (`b4.conv1` row 0, `b4.torgb` row 1, `b8.conv0` row 1, ...).

A synthesis network provides:

    steps: list[SynthesisStep]           # in execution order
    run_steps(ws, state, start, stop, force_fp32=False, noise_mode='const') -> state
        # ws: [N, num_ws, w_dim]; state is None when start == 0; runs steps[start:stop]
    state_to_image(state) -> Tensor      # [N, img_channels, H, W] float32, the synthesis output
    state_activation(state) -> Tensor    # the feature map after the last step run (inspector)
    forward(ws, **kw) == state_to_image(run_steps(ws, None, 0, len(steps), **kw))

A state is an opaque tensor or tuple of tensors; the cache stores it as is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SynthesisStep:
    """One unit of synthesis: its official module name, the w row it reads, its output geometry."""

    name: str  # e.g. "input", "L4_52_128", "b8.conv0", "b8.torgb"
    row: int  # index of the w row it reads
    size: int  # output spatial size (pixels, square)
    channels: int  # output channels


def band_of_row(row: int, num_ws: int) -> str:
    """Coarse / middle / fine band of a w row (thirds of the row range, as artists use them)."""
    third = num_ws / 3.0
    if row < third:
        return "coarse"
    if row < 2 * third:
        return "middle"
    return "fine"


BANDS = ("coarse", "middle", "fine")  # band_of_row's names, in row order


def band_rows(num_ws: int) -> dict[str, list[int]]:
    """{'coarse': [...], 'middle': [...], 'fine': [...]}: the rows of each band of a network with `num_ws` rows."""
    out: dict[str, list[int]] = {b: [] for b in BANDS}
    for r in range(num_ws):
        out[band_of_row(r, num_ws)].append(r)
    return out


def first_step_reading(steps: list[SynthesisStep], row: int) -> int:
    """Index of the first step whose output depends on `row` or later rows (cache boundary for edits >= row)."""
    for i, step in enumerate(steps):
        if step.row >= row:
            return i
    return len(steps)
