"""How well a cast network draws the cast: fidelity and band purity against the procedural drawings.

- fidelity: mean PSNR (dB) of the network's render against the cast's own drawing, on held-out characters,
  plain and band-mixed (coarse / middle / fine rows from three characters);
- fine-row purity: swap only the fine (colour) rows for another character's. An edge map (Sobel magnitude
  of luminance > EDGE_THRESHOLD) also reacts to colour contrast, so the drawings' own edge maps change on a
  few % of pixels (a light hair on a light background loses an edge); on the pixels whose edge status the
  drawings keep, the share where the network's edge map changes is the outline leak;
- middle-row purity: swap only the middle rows; on the pixels the drawings say stay the same (for the
  portrait: everything but the face; for the sprite: everything but the outfit), the network's fidelity
  before and after the swap (the drop is the leak), and the PSNR between its two renders there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from renderer.engine.bench import _sync
from renderer.nets.contract import band_of_row
from renderer.network import Network
from renderer.training.batches import Batch, compose, drawing_function, heldout_batch
from renderer.training.configs import CastNetworkConfig, get_config
from renderer.training.trainer import psnr, render_batch

EDGE_THRESHOLD = 48.0  # Sobel magnitude of 0-255 luminance that counts as an edge


@dataclass
class CastScores:
    network: str
    count: int
    psnr_plain: float
    psnr_mixed: float
    fine_edge_change_net: float  # share of the pixels whose edge status the drawings keep where the network's changed
    fine_edge_change_drawn: float  # share of all pixels whose edge status the drawings change (colour contrast)
    middle_kept_psnr_before: float  # network vs drawing on the unchanged pixels, before the middle swap
    middle_kept_psnr_after: float  # ... and after
    middle_kept_psnr_between: float  # network before vs network after, on the unchanged pixels
    synthesis_ms: float

    def lines(self) -> list[str]:
        return [
            f"{self.network}: held-out PSNR {self.psnr_plain:.2f} dB, band-mixed {self.psnr_mixed:.2f} dB "
            f"({self.count} characters, network against the cast's drawing)",
            f"{self.network}: fine rows swapped: the network's edge map changes on {100 * self.fine_edge_change_net:.2f} % "
            f"of the pixels whose edges the drawings keep (target <= 2 %; the drawings' own edges change on "
            f"{100 * self.fine_edge_change_drawn:.2f} % of pixels, by colour contrast)",
            f"{self.network}: middle rows swapped: unchanged pixels {self.middle_kept_psnr_before:.2f} dB -> "
            f"{self.middle_kept_psnr_after:.2f} dB against the drawing (a {_change(self.middle_kept_psnr_after - self.middle_kept_psnr_before)}; "
            f"target: a drop under 2 dB), {self.middle_kept_psnr_between:.2f} dB between the two renders",
            f"{self.network}: synthesis {self.synthesis_ms:.1f} ms per image (batch 1, this device)",
        ]


def _change(db: float) -> str:
    return f"drop of {-db:.2f} dB" if db < 0 else f"gain of {db:.2f} dB"


def luminance(images: np.ndarray) -> np.ndarray:
    return images[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def edge_map(images: np.ndarray) -> np.ndarray:
    """bool [N, H, W]: Sobel gradient magnitude of luminance above EDGE_THRESHOLD."""
    lum = np.pad(luminance(images), ((0, 0), (1, 1), (1, 1)), mode="edge")
    gx = (lum[:, :-2, 2:] + 2 * lum[:, 1:-1, 2:] + lum[:, 2:, 2:]) - (lum[:, :-2, :-2] + 2 * lum[:, 1:-1, :-2] + lum[:, 2:, :-2])
    gy = (lum[:, 2:, :-2] + 2 * lum[:, 2:, 1:-1] + lum[:, 2:, 2:]) - (lum[:, :-2, :-2] + 2 * lum[:, :-2, 1:-1] + lum[:, :-2, 2:])
    return np.hypot(gx, gy) / 4.0 > EDGE_THRESHOLD


def masked_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB) over the masked pixels of all images together."""
    diff = (a.astype(np.float64) - b.astype(np.float64))[mask]
    return float(10 * np.log10(255.0**2 / max(np.mean(np.square(diff)), 1e-10)))


def swap_band(config: CastNetworkConfig, plain: Batch, other: Batch, band: str) -> Batch:
    """`plain` with the row groups of `band` taken from `other` (same index), redrawn."""
    from renderer.cast.description import encode

    draw = drawing_function(config)
    ws, images, chars = [], [], []
    for a, b in zip(plain.characters, other.characters, strict=True):
        fa, fb = encode(a).astype(np.float64), encode(b).astype(np.float64)
        factors = [fb if band_of_row(g.rows[0], config.num_ws) == band else fa for g in config.groups]
        w, c = compose(config, factors)
        ws.append(w)
        images.append(draw(c))
        chars.append(c)
    return Batch(np.stack(ws), np.stack(images), chars)


def cast_scores(network: Network, config: CastNetworkConfig, count: int = 256, device: str = "cpu") -> CastScores:
    """All the measurements above for `network` (a cast network built from `config`)."""
    dev = torch.device(device)
    G = network.G.to(dev).eval()
    plain = heldout_batch(config, count, mixed=False)
    mixed = heldout_batch(config, count, mixed=True)
    r_plain = render_batch(G, plain.ws, dev)
    r_mixed = render_batch(G, mixed.ws, dev)
    n_purity = min(count, 64)
    sub = Batch(plain.ws[:n_purity], plain.images[:n_purity], plain.characters[:n_purity])
    others = heldout_batch(config, n_purity, mixed=False, seed=900_777)
    fine = swap_band(config, sub, others, "fine")
    r_fine = render_batch(G, fine.ws, dev)
    drawn_changed = edge_map(sub.images) ^ edge_map(fine.images)
    net_changed = edge_map(r_plain[:n_purity]) ^ edge_map(r_fine)
    edge_net = float(net_changed[~drawn_changed].mean())
    edge_drawn = float(drawn_changed.mean())
    middle = swap_band(config, sub, others, "middle")
    r_middle = render_batch(G, middle.ws, dev)
    kept = np.all(sub.images == middle.images, axis=-1)[..., None].repeat(3, axis=-1)
    one = torch.from_numpy(plain.ws[:1]).to(dev)
    with torch.no_grad():
        G.synthesis(one, noise_mode="const")
        _sync(dev)
        start = time.perf_counter()
        for _ in range(5):
            G.synthesis(one, noise_mode="const")
        _sync(dev)
        ms = (time.perf_counter() - start) / 5 * 1000
    return CastScores(
        network=network.name,
        count=count,
        psnr_plain=float(psnr(r_plain, plain.images).mean()),
        psnr_mixed=float(psnr(r_mixed, mixed.images).mean()),
        fine_edge_change_net=edge_net,
        fine_edge_change_drawn=edge_drawn,
        middle_kept_psnr_before=masked_psnr(r_plain[:n_purity], sub.images, kept),
        middle_kept_psnr_after=masked_psnr(r_middle, middle.images, kept),
        middle_kept_psnr_between=masked_psnr(r_plain[:n_purity], r_middle, kept),
        synthesis_ms=ms,
    )


def run_cast_bench(network: Network, count: int = 256, device: str = "cpu") -> list[str]:
    """`bench --cast`: the lines for one cast network."""
    record = network.cast_record
    if not record:
        from renderer.errors import CastmakerError

        raise CastmakerError(
            f"bench --cast measures Castmaker's cast networks (cast-portrait, cast-sprite); {network.name} is not one"
        )
    return cast_scores(network, get_config(record["network"]), count, device).lines()
