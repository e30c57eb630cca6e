"""The cast networks: architecture, and which w rows read which factors of the cast.

Row groups follow the editor's coarse / middle / fine thirds (`renderer.nets.contract.band_of_row`): every
factor is read by exactly one group of rows, and every group lies inside one band, so a band (or a single
group, e.g. the expression rows) taken from another character changes only its own factors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from renderer.cast.description import W_DIM
from renderer.errors import CastmakerError
from renderer.nets.contract import band_of_row


class TrainingError(CastmakerError):
    """A training run could not start, resume or finish (bad options, unreadable checkpoint, ...)."""


@dataclass(frozen=True)
class RowGroup:
    """w rows that read the same factors (and so always take them from one character)."""

    name: str
    rows: tuple[int, ...]
    factors: tuple[str, ...]


@dataclass(frozen=True)
class CastNetworkConfig:
    """One trainable cast network: the generator kwargs, its drawing, its row groups and training defaults."""

    name: str
    arch: str  # "stylegan2" | "stylegan3"
    init_kwargs: dict[str, Any]
    drawing: str  # "portrait" | "walk-sheet"
    groups: tuple[RowGroup, ...]
    batch: int = 8
    lr: float = 2e-3
    edge_weight: float = 0.0  # extra loss weight on the target's edges (trainer.edge_weighted_l1)
    mse_weight: float = 0.0  # weight of the squared-error term (trainer.training_loss)
    torgb_init_gain: float = 1.0  # StyleGAN3 only: the last layer (toRGB) starts at this share of its random init
    # StyleGAN3 only: keep updating each layer's input-magnitude EMA while training (as StyleGAN3's own training
    # does); False keeps the values calibrated on the first batch, so each layer's input scale is a fixed constant.
    train_magnitudes: bool = True
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def arch_record(self) -> dict[str, Any]:
        """The architecture a network file and a checkpoint record: {"arch": ..., "init_kwargs": {...}} (a copy)."""
        return {"arch": self.arch, "init_kwargs": dict(self.init_kwargs)}

    @property
    def synthesis_record(self) -> dict[str, Any]:
        """`arch_record` without the mapping's kwargs: what a checkpoint or an --init network must match.

        Training changes only the synthesis network (the mapping is fitted afterwards, `mapping_fit`), so a
        checkpoint or network file whose mapping has another shape still continues or starts a run."""
        return synthesis_part(self.arch_record)

    @property
    def num_ws(self) -> int:
        return 1 + max(r for g in self.groups for r in g.rows)

    def group_of_row(self) -> list[int]:
        """Index into `groups` for every w row."""
        out = [-1] * self.num_ws
        for gi, g in enumerate(self.groups):
            for r in g.rows:
                out[r] = gi
        return out

    def group_of_factor(self, factor: str) -> int | None:
        for gi, g in enumerate(self.groups):
            if factor in g.factors:
                return gi
        return None

    def check(self) -> None:
        """Every row in exactly one group, every group inside one editor band."""
        seen = sorted(r for g in self.groups for r in g.rows)
        if seen != list(range(self.num_ws)):
            raise TrainingError(f"{self.name}: row groups must cover rows 0-{self.num_ws - 1} once each, got {seen}")
        for g in self.groups:
            bands = {band_of_row(r, self.num_ws) for r in g.rows}
            if len(bands) != 1:
                raise TrainingError(f"{self.name}: row group {g.name!r} spans bands {sorted(bands)}")


# The mapping that is fitted to the seed → character rule (mapping_fit). Relative MSE on 2048 held-out z, fitted
# with lr 1.0 (x0.01 lr multiplier), 12000 steps of batch 256: 0.073 with 64 features per layer, 0.020 with 128,
# 0.0039 with 256, 0.0019 with 512; 256 features and 40000 steps: 0.00093. With the 64-wide mapping, the seeds of
# a first-cutoff-6 portrait drew 2 dB worse than the same characters' exact w (class blends near boundaries).
_MAPPING = {"num_layers": 4, "layer_features": 256}


def synthesis_part(arch: Any) -> dict[str, Any]:
    """An architecture record (`arch_record`) without its mapping kwargs; anything not a dict gives {}."""
    if not isinstance(arch, dict):
        return {}
    kwargs = {k: v for k, v in (arch.get("init_kwargs") or {}).items() if k != "mapping_kwargs"}
    return {"arch": arch.get("arch"), "init_kwargs": kwargs}


def _generator_kwargs(resolution: int, **widths: Any) -> dict[str, Any]:
    """Official Generator kwargs of a cast network: z and w are the cast's W_DIM, RGB, unconditional."""
    return {
        "z_dim": W_DIM,
        "c_dim": 0,
        "w_dim": W_DIM,
        "img_resolution": resolution,
        "img_channels": 3,
        "mapping_kwargs": dict(_MAPPING),
        **widths,
    }


CAST_PORTRAIT = CastNetworkConfig(
    name="cast-portrait",
    arch="stylegan3",
    init_kwargs=_generator_kwargs(128, channel_base=1024, channel_max=64, magnitude_ema_beta=0.999, first_cutoff=6),
    drawing="portrait",
    groups=(
        RowGroup("pose and build", (0, 1, 2), ("head_turn", "head_shape", "body_build")),
        RowGroup("hair style", (3, 4, 5), ("hair_style",)),
        RowGroup("expression", (6, 7, 8), ("expression",)),
        RowGroup("eye shape", (9, 10), ("eye_shape",)),
        RowGroup("colours", (11, 12, 13, 14, 15), ("hair", "skin", "eyes", "outfit", "background")),
    ),
    batch=2,  # per-image cost is the same at batch 2 and 8 on a CPU, and 4x the steps learn faster
    lr=4e-3,  # 150-step trials at batch 2: 5e-3 reached loss 0.69, 2.5e-3 0.71, 1.25e-3 0.72
    edge_weight=6.0,  # side by side from 54.9 kimg: held-out 18.49 dB at 59.1 kimg, 18.35 dB without (+0.14 dB)
    # first_cutoff (above), torgb_init_gain and train_magnitudes, measured fitting ONE held-out cast portrait from
    # scratch (batch 1, lr 4e-3, edge weight 6, mse weight 5; PSNR after 400 steps, one thread). The earlier set-up
    # (first_cutoff 2, toRGB at 5 % of its init, magnitudes trained): 14.5 dB, a blur with no face. Frozen
    # magnitudes with toRGB at full gain: 18.3 dB at first_cutoff 2, 21.1 dB at 4 (eyes and an open mouth drawn),
    # 23.1 dB at 6, at 0.75x the earlier CPU time per step (8 collapsed to a flat image); trained magnitudes with
    # full gain: 18.0 dB at 4 and at 6. On the band-mixed cast from scratch (seed 0, lr 4e-3, mse weight 5),
    # first_cutoff 4, full gain: 16.0 dB held-out at 4.7 kimg with frozen magnitudes, 14.9 dB with trained ones;
    # then side by side, first_cutoff 6 against 4 (both frozen): 20.94 dB at 16.5 kimg against 20.77 dB at 20.1
    # kimg. The earlier set-up had needed 142 kimg for 20.76 dB and never drew an eye (the bundled portrait before
    # this one used it: first_cutoff 2, torgb_init_gain 0.05, train_magnitudes True).
    mse_weight=5.0,  # the set-up measured above (and how the bundled portrait was trained)
    torgb_init_gain=1.0,
    train_magnitudes=False,
    description="JRPG bust portraits of the procedural cast (StyleGAN3-T, 128 px, 16 w rows)",
)

CAST_SPRITE = CastNetworkConfig(
    name="cast-sprite",
    arch="stylegan2",
    init_kwargs=_generator_kwargs(128, channel_base=2048, channel_max=64, num_fp16_res=0, conv_clamp=256),
    drawing="walk-sheet",
    groups=(
        RowGroup("build", (0, 1), ("body_build", "head_shape")),
        RowGroup("hair style", (2, 3), ("hair_style",)),
        RowGroup("outfit", (4, 5, 6, 7), ("outfit_style",)),
        RowGroup("colours", (8, 9, 10, 11), ("hair", "skin", "eyes", "outfit", "background")),
    ),
    batch=4,  # per-image cost is the same at batch 4 and 16 on a CPU, and 4x the steps learn faster
    lr=1e-3,
    # Side by side from 345.7 kimg: held-out 22.68 dB at 355.0 kimg, 22.64 dB at 356.4 kimg without: a small gain,
    # near the noise of a 32-character score (not measured from scratch); the shipped sprite continued with it.
    edge_weight=6.0,
    description="3x4 walk sheets of the procedural cast, 24-px frames (StyleGAN2, 128 px, 12 w rows)",
)

# A tiny configuration for tests and for checking the GPU script on a CPU.
CAST_TINY = CastNetworkConfig(
    name="cast-tiny",
    arch="stylegan2",
    init_kwargs=_generator_kwargs(32, channel_base=256, channel_max=16, num_fp16_res=0, conv_clamp=256),
    drawing="portrait",
    groups=(
        RowGroup("pose and build", (0, 1, 2), ("head_turn", "head_shape", "body_build", "hair_style")),
        RowGroup("middle", (3, 4, 5), ("expression", "eye_shape")),
        RowGroup("colours", (6, 7), ("hair", "skin", "eyes", "outfit", "background")),
    ),
    batch=4,
    lr=2e-3,
    description="a 32-px test network",
)

CONFIGS: dict[str, CastNetworkConfig] = {c.name: c for c in (CAST_PORTRAIT, CAST_SPRITE, CAST_TINY)}


def get_config(name: str) -> CastNetworkConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise TrainingError(
            f"unknown cast network {name!r}: choose one of {', '.join(n for n in CONFIGS if n != 'cast-tiny')}"
        ) from None
