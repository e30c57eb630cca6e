"""Make the bundled presets of the trained cast networks (latent_presets/cast-portrait/, cast-sprite/).

Each preset is derived from the cast's factors, never picked by hand: it is the mean w of the seeds
(0..SEEDS-1, mapped by the network) whose character has the named factor value(s), applied on the rows of
the row group(s) that read those factors. Those rows read nothing else, so the preset changes only its
band. The mean of many seeds keeps the named class (each seed's w is nearly one-hot there) and averages
the factors that vary, which the networks draw as the typical value. Run after every retraining:

    python -m editor.pipeline.make_cast_presets [--out latent_presets]

Deterministic: the same networks give the same files (the "created" stamp is fixed for that reason).
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from editor.presets import BUNDLED_ROOT, Preset, PresetError, PresetLibrary
from renderer import load_network
from renderer.cast.description import CHROMA_MAX, Character, w_to_character
from renderer.engine import Engine
from renderer.latents import Recipe, RowEdit, SeedSource, WSource
from renderer.network import Network

log = logging.getLogger(__name__)

SEEDS = 6000
REFERENCE_SEED = 4  # the thumbnail shows the preset applied to this seed
CREATED = "2026-12-01T00:00:00+00:00"
Predicate = Callable[[Character], bool]


def _hue(a: float, b: float) -> float:
    """OKLab hue angle in degrees, 0-360."""
    return math.degrees(math.atan2(b, a)) % 360.0


def _chroma(a: float, b: float) -> float:
    return math.hypot(a, b) / CHROMA_MAX


def dusk(c: Character) -> bool:
    """Cool, dark: blue-violet background and outfit, dark hair."""
    return 230 <= _hue(*c.background) <= 320 and 220 <= _hue(*c.outfit[1:]) <= 320 and c.hair[0] < 0.55


def autumn(c: Character) -> bool:
    """Warm: orange-red hair, warm background, warm outfit."""
    return 20 <= _hue(*c.hair[1:]) <= 80 and 20 <= _hue(*c.background) <= 100 and 0 <= _hue(*c.outfit[1:]) <= 110


def pastel(c: Character) -> bool:
    """Light and soft: light hair and outfit, gentle chroma."""
    return c.hair[0] > 0.7 and c.outfit[0] > 0.62 and _chroma(*c.outfit[1:]) < 0.7


@dataclass(frozen=True)
class PresetSpec:
    name: str
    groups: tuple[str, ...]  # row groups (by name) whose rows the preset sets
    predicate: Predicate
    why: str


def _is(**values: object) -> Predicate:
    return lambda c: all(getattr(c, k) == v for k, v in values.items())


PORTRAIT_SPECS = [
    *(
        PresetSpec(name, ("expression",), _is(expression=i), f"{name} expression (middle rows)")
        for i, name in enumerate(("neutral", "happy", "worried", "angry", "surprised"))
    ),
    PresetSpec("front", ("pose and build",), _is(head_turn=0), "head facing the viewer (coarse rows)"),
    PresetSpec("three-quarter", ("pose and build",), _is(head_turn=1), "head in three-quarter view (coarse rows)"),
    PresetSpec("side", ("pose and build",), _is(head_turn=2), "head in profile (coarse rows)"),
    PresetSpec("dusk", ("colours",), dusk, "cool dusk colours (fine rows)"),
    PresetSpec("autumn", ("colours",), autumn, "warm autumn colours (fine rows)"),
    PresetSpec("pastel", ("colours",), pastel, "light pastel colours (fine rows)"),
    # Archetypes set the face a face set starts from: facing the viewer, neutral, their hair and eyes.
    PresetSpec(
        "heroine",
        ("pose and build", "hair style", "expression", "eye shape"),
        lambda c: c.hair_style == 1 and c.eye_shape == 0 and c.head_turn == 0 and c.expression == 0,
        "long hair, round eyes, facing the viewer, neutral",
    ),
    PresetSpec(
        "villain",
        ("pose and build", "hair style", "expression", "eye shape"),
        lambda c: c.hair_style == 3 and c.eye_shape == 1 and c.head_turn == 0 and c.expression == 0,
        "spiky hair, sharp eyes, facing the viewer, neutral",
    ),
]
SPRITE_SPECS = [
    PresetSpec(
        "heroine",
        ("build", "hair style", "outfit"),
        lambda c: c.hair_style == 1 and c.outfit_style == 2 and c.body_build < 0.35,
        "long hair, a dress, a slight build",
    ),
    PresetSpec(
        "villain",
        ("build", "hair style", "outfit"),
        lambda c: c.hair_style == 3 and c.outfit_style == 3 and c.body_build > 0.65,
        "spiky hair, armour, a broad build",
    ),
    *(
        PresetSpec(name, ("outfit",), _is(outfit_style=i), f"a {name} (middle rows)")
        for i, name in enumerate(("tunic", "robe", "dress", "armour"))
    ),
    PresetSpec("dusk", ("colours",), dusk, "cool dusk colours (fine rows)"),
    PresetSpec("autumn", ("colours",), autumn, "warm autumn colours (fine rows)"),
    PresetSpec("pastel", ("colours",), pastel, "light pastel colours (fine rows)"),
]


def group_rows(network: Network) -> dict[str, list[int]]:
    """Row group name → rows, from the network file's cast record."""
    record = network.cast_record
    if not record:
        raise PresetError(f"{network.name} is not a Castmaker cast network (no cast record in its file)")
    return {g["name"]: list(g["rows"]) for g in record["row_groups"]}


def seed_ws(engine: Engine, seeds: int) -> np.ndarray:
    """float32 [seeds, w_dim]: the mapped w (ψ = 1) of seeds 0..seeds-1."""
    return np.stack([engine.map_seed(s, 1.0)[0] for s in range(seeds)])


def derive(ws: np.ndarray, predicate: Predicate) -> tuple[np.ndarray, int]:
    """Mean w of the seeds whose (decoded) character satisfies `predicate`, and how many did."""
    chosen = [w for w in ws if predicate(w_to_character(w))]
    if len(chosen) < 10:
        raise PresetError(f"only {len(chosen)} of {len(ws)} seeds match a preset's factors: use more --seeds")
    return np.mean(chosen, axis=0).astype(np.float32), len(chosen)


def make_presets(network_name: str, specs: list[PresetSpec], out_root: Path, seeds: int = SEEDS) -> list[Path]:
    net = load_network(network_name)
    engine = Engine(net, "cpu")
    groups = group_rows(net)
    ws = seed_ws(engine, seeds)
    library = PresetLibrary(out_root / network_name)
    base = Recipe.plain(SeedSource(REFERENCE_SEED, 0.7), net.num_ws)
    written = []
    for spec in specs:
        w, count = derive(ws, spec.predicate)
        rows = sorted(r for g in spec.groups for r in groups[g])
        full = np.repeat(w[None], net.num_ws, axis=0)
        thumb = engine.render(base.with_rows(rows, RowEdit(WSource(full, spec.name, "preset"), "replace"))).image
        preset = Preset(
            name=spec.name,
            fingerprint=net.fingerprint,
            network_name=network_name,
            rows=rows,
            w=full,
            description=f"{spec.why}: mean w of the {count} of seeds 0-{seeds - 1} that have it",
            created=CREATED,
        )
        saved = library.save(preset, thumbnail=thumb, overwrite=True)
        for suffix in (".json", ".npy", ".png"):  # PresetLibrary writes 0o600 temp files; bundled data is public
            f = saved.path.with_suffix(suffix)
            if f.exists():
                f.chmod(0o644)
        log.info("%s/%s: %d seeds, rows %s", network_name, spec.name, count, rows)
        written.append(saved.path)
    return written


def rebuild_bundled_presets(out: Path = BUNDLED_ROOT, seeds: int = SEEDS) -> list[Path]:
    """Re-derive latent_presets/cast-*/ for the bundled networks; the old sets stay until the new ones are made."""
    staging = Path(tempfile.mkdtemp(prefix=".cast-presets-", dir=out))
    try:
        made = make_presets("cast-sprite", SPRITE_SPECS, staging, seeds)
        made += make_presets("cast-portrait", PORTRAIT_SPECS, staging, seeds)
        for name in ("cast-sprite", "cast-portrait"):
            old = out / name
            if old.exists():
                shutil.rmtree(old)
            (staging / name).chmod(0o755)  # mkdtemp's folders are private; bundled data is public
            (staging / name).replace(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / p.relative_to(staging) for p in made]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(BUNDLED_ROOT), help="root folder (one sub-folder per network)")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds to average over")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for p in rebuild_bundled_presets(Path(args.out), args.seeds):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
