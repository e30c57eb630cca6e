"""Writing cast network files without training: `train --remap` (a trained synthesis with the fitted mapping)
and `--bundle` (install files as Castmaker's bundled networks and re-derive their presets)."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

# Options that only training reads, with their defaults: --remap refuses any given another value.
_TRAINING_ONLY = {
    "kimg": None, "minutes": None, "resume": None, "init": None, "seed": 0, "batch": None, "lr": None,
    "lr_decay": None, "edge_weight": None, "mse_weight": None, "draw_workers": None, "device": "auto",
    "eval_every": 180.0, "grid_every": 600.0,
}


def remap(args: argparse.Namespace) -> int:
    """`train NETWORK --remap FILE`: FILE's synthesis with the fitted mapping, as a new network file (or, for
    `train all --remap bundled`, both bundled networks with one mapping)."""
    from editor.cli.cmd_train import NETWORKS, mapping_cache
    from renderer.training.configs import TrainingError, get_config
    from renderer.training.finalize import read_mapping_cache, remap_network

    clash = ["--" + k.replace("_", "-") for k, default in _TRAINING_ONLY.items() if getattr(args, k) != default]
    if clash:
        raise TrainingError(f"--remap trains nothing: drop {', '.join(clash)}")
    names = list(NETWORKS) if args.network == "all" else [args.network]
    if len(names) > 1 and args.remap != "bundled":
        raise TrainingError("'train all --remap' rewrites both bundled networks: give --remap bundled, or one network's file")
    if len(names) > 1 and args.export:
        raise TrainingError("--export names one network's file: remap one network at a time with it")
    mapping = mapping_cache(args, Path(args.outdir))
    read_mapping_cache(get_config(names[0]), mapping, args.mapping_steps)  # a stale cache fails before any fit
    command = "python main.py " + shlex.join(getattr(args, "argv", sys.argv[1:]))
    files = {}
    for name in names:
        config = get_config(name)
        source = name if args.remap == "bundled" else args.remap
        default = Path(args.outdir) / config.name / f"{config.name}-remapped.safetensors"
        out = Path(args.export) if args.export else default
        network = remap_network(source, config, out, mapping, command, args.mapping_steps)
        fit = network.extra["cast"]["mapping_fit"]["relative_mse"]["all"]
        print(f"wrote {out} (fingerprint {network.fingerprint[:12]}; mapping relative MSE {fit:.5f})")
        files[name] = out
    if args.bundle:
        bundle(files)
    return 0


def bundle(files: dict[str, Path]) -> None:
    """Copy network files into resources/networks/ and re-derive the bundled cast presets (old set kept on failure).

    Both bundled networks must share one mapping (a seed is one character in both): a file whose mapping differs
    from the other bundled network's is refused before anything is copied.
    """
    from editor.pipeline.make_cast_presets import rebuild_bundled_presets
    from renderer.loading import BUNDLED_DIR, BUNDLED_NETWORKS

    files = {name: f for name, f in files.items() if name in BUNDLED_NETWORKS}
    check_shared_mapping(files, {name: BUNDLED_DIR / f for name, f in BUNDLED_NETWORKS.items()})
    for name, f in files.items():
        target = BUNDLED_DIR / BUNDLED_NETWORKS[name]
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(f, tmp)
        tmp.replace(target)
        print(f"bundled {target}")
    for path in rebuild_bundled_presets():
        print(path)


def check_shared_mapping(files: dict[str, Path], bundled: dict[str, Path]) -> None:
    """TrainingError unless every network of the bundle-to-be (`files` over `bundled`) has the same mapping weights."""
    import torch

    from renderer import load_network
    from renderer.training.configs import TrainingError

    chosen = {**{n: p for n, p in bundled.items() if p.is_file()}, **files}
    mappings = {}
    for name, path in chosen.items():
        state = load_network(str(path)).G.mapping.state_dict()
        mappings[name] = {k: v for k, v in state.items() if k.startswith("fc")}  # the fitted layers (w_avg may differ)
    first, *rest = mappings
    for name in rest:
        a, b = mappings[first], mappings[name]
        if a.keys() != b.keys() or not all(torch.equal(a[k], b[k]) for k in a):
            new, old = (name, first) if name in files else (first, name)
            raise TrainingError(
                f"{chosen[new]} has another mapping network than the bundled {old}, so a seed would be a different "
                f"character in each; nothing was bundled. Write {old} with the same fitted mapping first "
                f"(python main.py train {old} --remap bundled --mapping <the same mapping.pt>), or bundle both "
                "(python main.py train all --remap bundled --mapping FILE --bundle)"
            )
