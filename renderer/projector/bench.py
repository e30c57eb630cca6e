"""`bench --projection`: how well and how fast projection recovers images the network itself made.

Targets are renderings of random w, so a perfect answer exists and PSNR measures the optimiser, not the
network's reach. Prints PSNR (and LPIPS when VGG16 weights are given) after each step budget, for W and
W+, with steps/s. `quick` (or few step budgets) keeps it tolerable on a 2-core CPU.
This is a command's body: it prints its table (library code elsewhere only logs).
"""

from __future__ import annotations

import argparse
import json
import statistics

import numpy as np
import torch

from renderer.engine import Engine
from renderer.projector.projector import ProjectionConfig, project

FULL_BUDGETS = (50, 200, 1000)
QUICK_BUDGETS = (50, 200)


def _lpips_meter(vgg_path: str | None, device: torch.device):
    if not vgg_path:
        return None
    from renderer.projector.lpips_vgg import VGG16Features, load_vgg_weights

    vgg = VGG16Features(load_vgg_weights(vgg_path)).to(device)

    def measure(a: np.ndarray, b: np.ndarray) -> float:
        def t(x: np.ndarray) -> torch.Tensor:
            return (
                torch.from_numpy(np.ascontiguousarray(x)).permute(2, 0, 1)[None].float().to(device) - 128
            ) / 127.5

        with torch.no_grad():
            return float(vgg.distance(vgg.lpips_features(t(a)), vgg.lpips_features(t(b)))[0])

    return measure


def run_projection_bench(args: argparse.Namespace) -> int:
    """Project renderings of random w and print PSNR / LPIPS per step budget and space, plus steps/s."""
    from renderer import load_network

    quick = bool(getattr(args, "quick", False))
    budgets = tuple(getattr(args, "projection_steps", None) or (QUICK_BUDGETS if quick else FULL_BUDGETS))
    n_targets = int(getattr(args, "targets", None) or (1 if quick else 3))
    loss = getattr(args, "loss", None) or "auto"
    vgg_path = getattr(args, "vgg", None)
    network = load_network(getattr(args, "network", None) or "cast-portrait")
    engine = Engine(network, device=getattr(args, "device", "auto"))
    lpips = _lpips_meter(vgg_path, engine.device)
    rng = np.random.RandomState(2024)
    ws = engine.map_z(rng.randn(n_targets, network.z_dim))
    targets = [engine.render_ws(w).image for w in ws]
    rows = []
    for space in ("w", "wplus"):
        for steps in budgets:
            psnrs, dists, rates, loss_name = [], [], [], ""
            for i, target in enumerate(targets):
                cfg = ProjectionConfig(steps=steps, space=space, loss=loss, vgg_path=vgg_path, seed=i)
                result = project(engine, target, cfg)
                loss_name = result.loss_name
                psnrs.append(result.best_psnr)
                rates.append(steps / max(result.elapsed_s, 1e-9))
                if lpips is not None:
                    dists.append(lpips(result.image, target))
            rows.append(
                {
                    "space": space,
                    "steps": steps,
                    "loss": loss_name,
                    "psnr_mean": statistics.fmean(psnrs),
                    "psnr_min": min(psnrs),
                    "lpips_mean": statistics.fmean(dists) if dists else None,
                    "steps_per_s": statistics.median(rates),
                }
            )
            if not getattr(args, "json", False):
                r = rows[-1]
                extra = f"  LPIPS {r['lpips_mean']:.4f}" if r["lpips_mean"] is not None else ""
                print(
                    f"{network.name:>12} {space:>5} {steps:>5} steps  PSNR mean {r['psnr_mean']:6.2f} dB "
                    f"(min {r['psnr_min']:6.2f}){extra}  {r['steps_per_s']:6.2f} steps/s  loss {r['loss']}",
                    flush=True,
                )
    summary = {
        "network": network.name,
        "kind": network.kind,
        "resolution": network.img_resolution,
        "device": engine.device_name,
        "threads": torch.get_num_threads(),
        "targets": n_targets,
        "quick": quick,
        "rows": rows,
    }
    if getattr(args, "json", False):
        print(json.dumps(summary))
    else:
        print(
            f"{network.name}: {n_targets} target(s) rendered from random w, {engine.device_name}, "
            f"{torch.get_num_threads()} thread(s){' (quick)' if quick else ''}"
        )
    return 0
