"""Choose between one batched forward pass and separate single renders for thumbnails.

Why: batching is the cheap way on GPUs, but on some CPUs (see the official-code timings) a batch costs
more than the same number of single calls. In "auto" mode the engine renders the first thumbnails both
ways, measures the cost per image (process CPU time), and keeps the faster way for the rest of the
engine's life.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

THUMBNAIL_MODES = ("auto", "batched", "single")
SINGLE_MARGIN = 0.85  # single renders must cost < 85 % of a batched image to be chosen


@dataclass
class ThumbnailStrategy:
    """The chosen way (None while undecided in auto mode) and the probe's numbers."""

    mode: str = "auto"
    chosen: str | None = None
    probe_batched_ms: float | None = None  # per image
    probe_single_ms: float | None = None  # per image

    def __post_init__(self) -> None:
        if self.mode not in THUMBNAIL_MODES:
            raise ValueError(f"thumbnail mode must be one of {', '.join(THUMBNAIL_MODES)}, got {self.mode!r}")
        if self.mode != "auto":
            self.chosen = self.mode

    def decide(self, batched_ms_per_image: float, single_ms_per_image: float) -> str:
        """Record a probe and keep the faster way."""
        self.probe_batched_ms = batched_ms_per_image
        self.probe_single_ms = single_ms_per_image
        # Batches win on GPUs and, with the scaled modulated convolution, usually on CPUs too; leave
        # them only when single renders are clearly cheaper, not on a noisy near-tie.
        self.chosen = "single" if single_ms_per_image < SINGLE_MARGIN * batched_ms_per_image else "batched"
        log.info(
            "thumbnails: batched %.1f ms/image, single %.1f ms/image -> %s",
            batched_ms_per_image,
            single_ms_per_image,
            self.chosen,
        )
        return self.chosen

    def reset(self) -> None:
        """Forget a probe (network or device changed)."""
        self.chosen = None if self.mode == "auto" else self.mode
        self.probe_batched_ms = self.probe_single_ms = None
