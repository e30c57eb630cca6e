"""Cast network files for `train`: where a run finds its mapping and --init weights, `--remap` (a trained synthesis
written again with the fitted mapping) and `--bundle` (install files as Castmaker's bundled networks and re-derive
their presets)."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

NETWORKS = ("cast-sprite", "cast-portrait")


def command_line(args: argparse.Namespace) -> str:
    """The command as typed, for a network's training record."""
    return "python main.py " + shlex.join(getattr(args, "argv", sys.argv[1:]))


@contextmanager
def mapping_fit_bar(cache: Path | str | None) -> Iterator[Callable[[int, int], None]]:
    """A progress callback for `fitted_mapping`: a bar opens at the fit's first report (a cached or bundled mapping
    shows none), so minutes of fitting are never silent."""
    from tqdm import tqdm

    bar = None

    def show(step: int, steps: int) -> None:
        nonlocal bar
        if bar is None:
            where = f", kept in {cache} for later runs" if isinstance(cache, Path) else ""
            print(f"fitting the mapping network z -> w to the cast's seed rule ({steps} steps{where})")
            bar = tqdm(total=steps, desc="mapping fit", unit="step", dynamic_ncols=True)
        bar.n = step
        bar.refresh()

    try:
        yield show
        if bar is not None:
            bar.n = bar.total  # the fit reports every 100 steps: show its end once it returned
    finally:
        if bar is not None:
            bar.close()  # an interrupted fit stays at the step it reached


def named_source(name: str, given: str) -> str:
    """A network source for `name`: 'bundled' is its own bundled network (TrainingError for cast-tiny, which has
    none), anything else a file or network name as given."""
    from renderer.loading import BUNDLED_NETWORKS
    from renderer.training.configs import TrainingError

    if given != "bundled":
        return given
    if name not in BUNDLED_NETWORKS:
        raise TrainingError(f"{name} has no bundled network: give a network file instead of 'bundled'")
    return name


def mapping_cache(args: argparse.Namespace, runs: Path) -> Path | str:
    """Where the fitted mapping comes from: --mapping (a file, or 'bundled': the bundled networks' own); else, for
    one network trained or remapped with --bundle, the bundled networks' mapping (so the file can sit beside the other
    bundled network); else mapping.pt in the folder that holds the run folders."""
    from renderer.training.finalize import BUNDLED_MAPPING

    if args.mapping:
        return BUNDLED_MAPPING if args.mapping == BUNDLED_MAPPING else Path(args.mapping)
    if args.bundle and args.network in NETWORKS:
        return BUNDLED_MAPPING
    return runs / "mapping.pt"


def check_output_options(args: argparse.Namespace) -> None:
    """Refuse an --export path or a --bundle that cannot work, before any training or fitting."""
    from renderer.training.configs import TrainingError

    if args.export is not None:
        export = Path(args.export)
        if export.suffix.lower() != ".safetensors":
            raise TrainingError(f"--export {export}: a network file ends in .safetensors")
        if export.is_dir():
            raise TrainingError(f"--export {export} is a folder: give a file name ending in .safetensors")
    if args.bundle and args.network not in (*NETWORKS, "all"):
        raise TrainingError(f"{args.network} is a test network and is never bundled: drop --bundle")


# Options that only training reads, with their defaults: --remap refuses any given another value. Every other
# option of `train` is one --remap reads (REMAP_OPTIONS); a test keeps the two lists complete.
_TRAINING_ONLY = {
    "kimg": None, "minutes": None, "resume": None, "init": None, "seed": 0, "batch": None, "lr": None,
    "lr_decay": None, "edge_weight": None, "mse_weight": None, "draw_workers": None, "device": "auto",
    "eval_every": 180.0, "grid_every": 600.0,
}
REMAP_OPTIONS = ("network", "remap", "export", "mapping", "mapping_steps", "bundle", "outdir")


def remap(args: argparse.Namespace) -> int:
    """`train NETWORK --remap FILE`: FILE's synthesis with the fitted mapping, as a new network file (or, for
    `train all --remap bundled`, both bundled networks with one mapping)."""
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
    command = command_line(args)
    files = {}
    for name in names:
        config = get_config(name)
        source = named_source(name, args.remap)
        default = Path(args.outdir) / config.name / f"{config.name}-remapped.safetensors"
        out = Path(args.export) if args.export else default
        with mapping_fit_bar(mapping) as fit_progress:
            network = remap_network(source, config, out, mapping, command, args.mapping_steps, fit_progress)
        fit = network.cast_record["mapping_fit"]["relative_mse"]["all"]
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
    from renderer import load_network
    from renderer.training.configs import TrainingError
    from renderer.training.finalize import same_mapping

    chosen = {**{n: p for n, p in bundled.items() if p.is_file()}, **files}
    networks = {name: load_network(str(path)) for name, path in chosen.items()}
    if len(networks) < 2:
        return
    first, *rest = networks
    for name in rest:
        if not same_mapping(networks[first], networks[name]):
            new, old = (name, first) if name in files else (first, name)
            raise TrainingError(
                f"{chosen[new]} has another mapping network than the bundled {old}, so a seed would be a different "
                f"character in each; nothing was bundled. Write it again with the bundled networks' mapping and "
                f"bundle that: python main.py train {new} --remap {shlex.quote(str(chosen[new]))} --mapping bundled --bundle"
            )
