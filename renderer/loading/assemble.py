"""Build Castmaker's generator from an arch record and official-named weights, with clear mismatch errors."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from renderer.errors import NetworkLoadError
from renderer.fingerprint import weights_fingerprint
from renderer.loading.architecture import kind_of
from renderer.nets import build_generator
from renderer.network import DiscriminatorRecord, Network

log = logging.getLogger(__name__)


def _check_weights(expected: Mapping[str, torch.Tensor], given: Mapping[str, np.ndarray]) -> None:
    missing = [k for k in expected if k not in given]
    extra = [k for k in given if k not in expected]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise NetworkLoadError(
            f"incompatible weights: the file lacks {missing[0]!r}{more}, which the generator built from its "
            "own configuration needs; the file is incomplete or from an unsupported code version"
        )
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise NetworkLoadError(
            f"incompatible weights: the file has {extra[0]!r}{more}, which the generator built from its "
            "configuration does not have; the file is from an unsupported code version"
        )
    for key, ref in expected.items():
        shape = tuple(np.shape(given[key]))
        if shape != tuple(ref.shape):
            raise NetworkLoadError(
                f"incompatible weights: {key!r} has shape {list(shape)} in the file but the generator built "
                f"from its configuration expects {list(ref.shape)}"
            )


def build_network(
    arch: dict[str, Any],
    state: Mapping[str, np.ndarray],
    *,
    name: str,
    source: str | Path,
    discriminator: DiscriminatorRecord | None = None,
    extra: dict[str, Any] | None = None,
    device: str | torch.device | None = None,
) -> Network:
    """Construct the generator, load `state` strictly, fingerprint it and wrap it in a Network."""
    try:
        G = build_generator(arch["arch"], dict(arch["init_kwargs"]))
    except (TypeError, ValueError, KeyError, AssertionError) as exc:
        raise NetworkLoadError(
            f"cannot build a {arch.get('arch')} generator from the file's configuration ({exc}); "
            "the file uses options Castmaker does not support"
        ) from exc
    expected = G.state_dict()
    _check_weights(expected, state)
    with warnings.catch_warnings():
        # arrays may be read-only views of the file's bytes; load_state_dict only copies from them
        warnings.filterwarnings("ignore", message=".*not writable.*", category=UserWarning)
        tensors = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}
        G.load_state_dict(tensors, strict=True)
    G.eval().requires_grad_(False)
    if device is not None:
        G.to(device)
    fingerprint = weights_fingerprint(G.state_dict())
    log.info("built %s generator %s (fingerprint %s)", arch["arch"], name, fingerprint[:12])
    return Network(
        G=G,
        kind=kind_of(arch),
        arch=arch,
        fingerprint=fingerprint,
        name=name,
        source=str(source),
        discriminator=discriminator,
        extra=dict(extra or {}),
    )
