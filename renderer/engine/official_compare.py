"""Side-by-side CPU timing of our synthesis against the official NVlabs code in a user's checkout.

Why: the speed claim "faster than the official code" must be a measured number on the same weights,
threads and settings. The official code is user-provided and imported at run time only, from the
folder given on the command line; nothing of it is part of Castmaker. The official network is built
with the network's recorded init kwargs and given our generator's state_dict, so both compute the
same function; the outputs are compared before any timing is trusted.
"""

from __future__ import annotations

import copy
import importlib
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from renderer.errors import RenderError
from renderer.loading.architecture import ADA_FP16_OPTION
from renderer.network import Network

log = logging.getLogger(__name__)

AGREE_TOL = 1e-4


def _official_module_name(arch: str, root: Path) -> str:
    if arch == "stylegan3":
        return "training.networks_stylegan3"
    if (root / "training" / "networks_stylegan2.py").is_file():  # the stylegan3 checkout
        return "training.networks_stylegan2"
    return "training.networks"  # a stylegan2-ada-pytorch checkout


def _official_kwargs(init_kwargs: dict[str, Any], module_name: str) -> dict[str, Any]:
    kwargs = copy.deepcopy(init_kwargs)
    # Castmaker's own option (float16 blocks on the CPU, as stylegan2-ada-pytorch runs them): the
    # official constructors do not take it; the ada code base behaves that way by itself
    if kwargs.pop(ADA_FP16_OPTION, False) and module_name != "training.networks":
        raise RenderError(
            "this network comes from stylegan2-ada-pytorch, whose float16 blocks run in float16 on the CPU too; "
            "the stylegan3 checkout's StyleGAN2 runs them in float32, so compare against a "
            "stylegan2-ada-pytorch checkout (--official DIR)"
        )
    # stylegan2-ada records synthesis kwargs as one dict; the stylegan3 checkout's copy of that
    # generator takes them as keywords.
    if module_name == "training.networks_stylegan2" and isinstance(kwargs.get("synthesis_kwargs"), dict):
        kwargs.update(kwargs.pop("synthesis_kwargs"))
    return kwargs


def build_official_generator(network: Network, official_dir: str | Path) -> nn.Module:
    """Import the official Generator from `official_dir`, build it like `network` and load our weights."""
    root = Path(official_dir).expanduser().resolve()
    if not (root / "training").is_dir() or not (root / "torch_utils").is_dir():
        raise RenderError(
            f"{root} is not an NVlabs stylegan3 / stylegan2-ada-pytorch checkout (no training/ and torch_utils/ folders)"
        )
    arch = network.arch.get("arch")
    init_kwargs = network.arch.get("init_kwargs")
    if arch not in ("stylegan3", "stylegan2") or not isinstance(init_kwargs, dict):
        raise RenderError(f"{network.name} has no official architecture record: --official needs a network file, not {arch!r}")
    module_name = _official_module_name(arch, root)
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RenderError(f"cannot import the official {module_name} from {root}: {exc} (install what it needs)") from None
    finally:
        sys.path.remove(str(root))
    G = module.Generator(**_official_kwargs(init_kwargs, module_name)).eval().requires_grad_(False)
    ours = {k: v.detach().cpu() for k, v in network.G.state_dict().items()}
    missing, unexpected = G.load_state_dict(ours, strict=False)
    if missing or unexpected:
        raise RenderError(
            f"our weights do not fit the official {module_name}.Generator: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )
    return G


def compare_with_official(network: Network, official_dir: str | Path, repeats: int = 5, seed: int = 0) -> dict[str, Any]:
    """Time official and our G.synthesis alternately on the CPU (float32, const noise); median ms and agreement."""
    official = build_official_generator(network, official_dir)
    ours = network.G
    if next(ours.parameters()).device.type != "cpu":
        ours = copy.deepcopy(ours).cpu()
    z = torch.from_numpy(np.random.RandomState(seed).randn(1, network.z_dim).astype(np.float32))
    c = torch.zeros([1, network.c_dim]) if network.c_dim else None
    kw = dict(noise_mode="const", force_fp32=True)
    with torch.no_grad():
        ws = ours.mapping(z, c, truncation_psi=0.7)
        ref = official.synthesis(ws, **kw)
        got = ours.synthesis(ws, **kw)
        max_diff = float((ref.float() - got.float()).abs().max())
        off_times: list[float] = []
        our_times: list[float] = []
        off_cpu: list[float] = []
        our_cpu: list[float] = []
        for _ in range(repeats):
            for fn, times, cpu in ((official.synthesis, off_times, off_cpu), (ours.synthesis, our_times, our_cpu)):
                c0, t0 = time.process_time(), time.perf_counter()
                fn(ws, **kw)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
    off_ms, our_ms = statistics.median(off_times), statistics.median(our_times)
    off_cpu_ms, our_cpu_ms = statistics.median(off_cpu), statistics.median(our_cpu)
    return {
        "official_ms": round(off_ms, 3),
        "ours_ms": round(our_ms, 3),
        "speedup": round(off_ms / our_ms, 3) if our_ms > 0 else float("nan"),
        "official_cpu_ms": round(off_cpu_ms, 3),
        "ours_cpu_ms": round(our_cpu_ms, 3),
        "cpu_speedup": round(off_cpu_ms / our_cpu_ms, 3) if our_cpu_ms > 0 else float("nan"),
        "max_abs_diff": max_diff,
        "agree": max_diff <= AGREE_TOL,
        "tolerance": AGREE_TOL,
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        "official_dir": str(Path(official_dir).expanduser().resolve()),
    }
