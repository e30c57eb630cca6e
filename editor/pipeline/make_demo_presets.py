"""Make the bundled archetype and expression presets for the demo networks (latent_presets/demo-*/).

The demo networks are untrained, so no seed "means" happy or villainous. Each preset is therefore the
seed (of 8 candidates) that best shows a measurable property when its rows are mixed onto a reference
portrait / sprite: brightest (heroine) and darkest (villain) character, warmest (happy) and coolest
(worried) face, largest sideways shift of the face (sideways), and darkest-blue palette (dusk). Run:

    python -m editor.pipeline.make_demo_presets [--out latent_presets]

Deterministic: the same networks give the same files (the "created" stamp is fixed for that reason).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from editor.presets import BUNDLED_ROOT, Preset, PresetLibrary
from renderer import load_network
from renderer.engine import Engine
from renderer.latents import Recipe, RowEdit, SeedSource

log = logging.getLogger(__name__)

CANDIDATES = range(1, 9)
REFERENCE_SEED = 0
PSI = 0.7
CREATED = "2026-11-24T00:00:00+00:00"


def luminance(img: np.ndarray) -> np.ndarray:
    return img[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def foreground(img: np.ndarray) -> np.ndarray:
    """Pixels that differ from the image's border colour (the character, not the backdrop)."""
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).astype(np.float32)
    bg = np.median(border, axis=0)
    return np.abs(img.astype(np.float32) - bg).sum(-1) > 60


def brightness(img: np.ndarray) -> float:
    m = foreground(img)
    return float(luminance(img)[m].mean()) if m.any() else float(luminance(img).mean())


def warmth(img: np.ndarray) -> float:
    f = img.astype(np.float32)
    return float((f[..., 0] - f[..., 2]).mean())


def dusk(img: np.ndarray) -> float:
    f = img.astype(np.float32)
    return float(f[..., 2].mean() - luminance(img).mean() * 0.8 - f[..., 0].mean() * 0.2)


def horizontal_centre(img: np.ndarray) -> float:
    lum = luminance(img)
    weight = np.abs(lum - np.median(lum))
    xs = np.arange(img.shape[1], dtype=np.float32)
    return float((weight.sum(0) * xs).sum() / max(weight.sum(), 1e-6))


def mixed_renders(engine: Engine, rows: Sequence[int]) -> list[np.ndarray]:
    """What each candidate seed's `rows` look like mixed onto the reference seed (one batched render)."""
    base = Recipe.plain(SeedSource(REFERENCE_SEED, PSI), engine.num_ws)
    ws = [engine.evaluate(base.with_rows(rows, RowEdit(SeedSource(s, PSI), "replace"))) for s in CANDIDATES]
    return engine.render_thumbnails(ws)


def pick(images: list[np.ndarray], score: Callable[[np.ndarray], float], highest: bool) -> tuple[int, np.ndarray, float]:
    """The candidate seed whose mixed render scores highest (or lowest), its image and score."""
    scores = [score(img) for img in images]
    i = int(np.argmax(scores) if highest else np.argmin(scores))
    return list(CANDIDATES)[i], images[i], scores[i]


def make_presets(network_name: str, specs: list[dict], out_root: Path) -> list[Path]:
    net = load_network(network_name)
    engine = Engine(net, "cpu")
    library = PresetLibrary(out_root / network_name)
    written = []
    renders: dict[tuple[int, ...], list[np.ndarray]] = {}  # presets on the same rows share one set of renders
    for spec in specs:
        key = tuple(spec["rows"])
        if key not in renders:
            renders[key] = mixed_renders(engine, key)
        seed, thumb, value = pick(renders[key], spec["score"], spec["highest"])
        w = engine.map_seed(seed, PSI)
        preset = Preset(
            name=spec["name"],
            fingerprint=net.fingerprint,
            network_name=network_name,
            rows=list(spec["rows"]),
            w=w,
            mode=spec.get("mode", "replace"),
            weight=spec.get("weight", 1.0),
            description=f"{spec['why']} (seed {seed} at ψ {PSI}, score {value:.1f}, picked from seeds "
            f"{CANDIDATES.start}-{CANDIDATES.stop - 1})",
            created=CREATED,
        )
        saved = library.save(preset, thumbnail=thumb, overwrite=True)
        log.info("%s/%s: seed %d score %.2f", network_name, spec["name"], seed, value)
        for suffix in (".json", ".npy", ".png"):  # PresetLibrary writes 0o600 temp files; bundled data is public
            f = saved.path.with_suffix(suffix)
            if f.exists():
                f.chmod(0o644)
        written.append(saved.path)
    return written


SPRITE_SPECS = [
    {"name": "heroine", "rows": [5, 6], "score": brightness, "highest": True, "why": "brightest character colours"},
    {"name": "villain", "rows": [5, 6], "score": brightness, "highest": False, "why": "darkest character colours"},
]
FACE_SPECS = [
    {"name": "heroine", "rows": [0, 2, 6, 7, 8], "score": brightness, "highest": True, "why": "brightest portrait"},
    {"name": "villain", "rows": [0, 2, 6, 7, 8], "score": brightness, "highest": False, "why": "darkest portrait"},
    {"name": "happy", "rows": [6], "score": warmth, "highest": True, "why": "warmest face", "mode": "blend", "weight": 0.8},
    {"name": "worried", "rows": [6], "score": warmth, "highest": False, "why": "coolest face", "mode": "blend", "weight": 0.8},
    {"name": "sideways", "rows": [1], "score": horizontal_centre, "highest": True, "why": "face shifted furthest sideways"},
    {"name": "dusk", "rows": list(range(10, 16)), "score": dusk, "highest": True, "why": "darkest, bluest colours"},
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(BUNDLED_ROOT), help="root folder (one sub-folder per demo network)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    paths = make_presets("demo-sprite", SPRITE_SPECS, out) + make_presets("demo-face", FACE_SPECS, out)
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
