"""How well directions work on a trained cast network, judged against the cast's ground truth (issue 14).

The cast networks draw the character a w encodes (`renderer.cast.description`): each row group reads the
factors of its rows' w, so `w_to_character` of a row's w is the ground truth of what the network was
trained to draw there. Two measurements:

1. Which factors do the top SeFa / PCA directions of each band move? For held-out characters, move the
   band's rows by ±`alpha` σ along a direction; per row group in the band, decode the moved w and count,
   per factor, the share of characters whose class changed (discrete factors) or the mean change of the
   encoded value in [-1, 1] units (continuous ones, max over their entries). Through the network: the
   moved w is rendered and compared (PSNR) with the cast's drawing of the decoded moved character; if that
   PSNR stays near the held-out PSNR, the decode is what the network draws.
2. Label a few: the first `per_side` mapped seeds (ψ = 1) whose decoded expression is `target` and the
   first `per_side` whose expression is neutral are the 2·per_side labelled samples (an artist ticking
   thumbnails); a Fisher boundary in W on the chosen rows is the slider. Held-out: the next `heldout`
   neutral seeds (seeds from 100 000 on). At α σ, a character "turns" when (a) the decode of the moved
   w on the expression rows gives `target`, and (b) through the network: the render of the moved w is
   nearest (MSE over the pixels where the drawings of the 5 expressions differ) to the cast's drawing of
   the character with `target` among the 5 expressions, and (c) through the network only: the render is
   nearest (MSE) to the network's own render of the same w with the expression entries of the rows set to
   `target`'s one-hot (among the 5 expressions). (b) and (c) are checked on the unmoved characters.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from renderer.cast.description import (
    CLASSES,
    EXPRESSIONS,
    FACTOR_DIMS,
    FACTOR_SLICES,
    W_GAIN,
    Character,
    encode,
    w_to_character,
)
from renderer.latents.directions import labelled_from_ws, mapped_ws, pca, sefa
from renderer.nets.contract import BANDS, band_rows
from renderer.network import Network
from renderer.training.batches import compose, drawing_function, heldout_batch
from renderer.training.configs import CastNetworkConfig, get_config
from renderer.training.trainer import psnr, render_batch


def drawn_character(config: CastNetworkConfig, ws: np.ndarray) -> Character:
    """The character a cast network is trained to draw from w+ [num_ws, W_DIM]: each group's factors from its rows."""
    factors = [np.asarray(ws[g.rows[0], :FACTOR_DIMS], np.float64) / W_GAIN for g in config.groups]
    return compose(config, factors)[1]


def factor_changes(config: CastNetworkConfig, before: list[Character], after: list[Character]) -> dict[str, float]:
    """Per factor: share of characters whose class changed (discrete) or mean |Δ| of its encoding (continuous)."""
    out = {}
    enc_b = np.stack([encode(c) for c in before])
    enc_a = np.stack([encode(c) for c in after])
    for name, sl in FACTOR_SLICES.items():
        if name in CLASSES:
            out[name] = float(np.mean([getattr(x, name) != getattr(y, name) for x, y in zip(before, after, strict=True)]))
        else:
            out[name] = float(np.mean(np.abs(enc_a[:, sl] - enc_b[:, sl]).max(axis=1)))
    return out


def band_factor_table(
    network: Network, config: CastNetworkConfig, top: int = 3, alpha: float = 2.0, count: int = 200, render: int = 24,
    device: str = "cpu",
) -> list[str]:
    """Measurement 1 as printable lines (see the module docstring)."""
    dev = torch.device(device)
    G = network.G.to(dev).eval()
    batch = heldout_batch(config, count, mixed=False)
    base_chars = [drawn_character(config, w) for w in batch.ws]
    draw = drawing_function(config)
    base_psnr = float(psnr(render_batch(G, batch.ws[:render], dev), batch.images[:render]).mean())
    ws_sigma = mapped_ws(network)
    lines = [
        f"{network.name}: which cast factors each band's top directions move (±{alpha:g}σ on the band's rows, "
        f"{count} held-out characters; discrete: % whose class changes, continuous: mean |Δ| of the encoding in "
        f"[-1, 1] units; render PSNR: network vs the cast's drawing of the decoded moved character, "
        f"{render} characters, held-out baseline {base_psnr:.2f} dB)"
    ]
    rows_of = band_rows(network.num_ws)
    for band in BANDS:
        rows = rows_of[band]
        if not rows:
            continue
        groups = [g for g in config.groups if set(g.rows) & set(rows)]
        read = [f for g in groups for f in g.factors]
        lines.append(f"  {band} rows {rows[0]}-{rows[-1]} (groups: {', '.join(g.name for g in groups)})")
        for method, found in (("sefa", sefa(network, rows, top, ws=ws_sigma)), ("pca", pca(network, rows, top))):
            for d in found:
                changes: dict[str, list[float]] = {}
                psnrs = []
                for sign in (-1.0, 1.0):
                    moved = batch.ws.copy()
                    moved += d.offset(sign * alpha, network.num_ws)[None]
                    chars = [drawn_character(config, w) for w in moved]
                    for k, v in factor_changes(config, base_chars, chars).items():
                        changes.setdefault(k, []).append(v)
                    r = render_batch(G, moved[:render], dev)
                    drawn = np.stack([draw(c) for c in chars[:render]])
                    psnrs.append(float(psnr(r, drawn).mean()))
                mean = {k: float(np.mean(v)) for k, v in changes.items()}
                ranked = sorted(read, key=lambda k: -mean[k])
                moved_text = ", ".join(_fmt(k, mean[k]) for k in ranked if mean[k] >= 0.02) or "nothing (< 2 %)"
                outside = [k for k in mean if k not in read and mean[k] >= 0.02]
                lines.append(
                    f"    {method}-{d.name.split('-')[-1]} (σ {d.sigma:.3f}): moves {moved_text}"
                    + (f"; outside the band's factors: {', '.join(_fmt(k, mean[k]) for k in outside)}" if outside else "")
                    + f"; render PSNR {np.mean(psnrs):.2f} dB"
                )
    return lines


def _fmt(name: str, value: float) -> str:
    return f"{name} {100 * value:.0f} %" if name in CLASSES else f"{name} {value:.2f}"


def _seeds_with_expression(network: Network, expression: int, count: int, start: int, rows: list[int]) -> np.ndarray:
    """w [count, W_DIM] of the first `count` seeds from `start` whose decoded expression (on `rows`) is `expression`."""
    found: list[np.ndarray] = []
    seed = start
    while len(found) < count:
        ws = mapped_ws(network, list(range(seed, seed + 512)))
        for w in ws:
            if w_to_character(w).expression == expression and len(found) < count:
                found.append(w)
        seed += 512
        if seed - start > 200_000:
            raise RuntimeError(f"fewer than {count} seeds draw expression {EXPRESSIONS[expression]}")
    return np.stack(found)


def _nearest_expression(config: CastNetworkConfig, renders: np.ndarray, characters: list[Character]) -> np.ndarray:
    """Per render, the expression whose cast drawing (same character) is nearest, on the pixels the drawings differ."""
    draw = drawing_function(config)
    out = []
    for img, c in zip(renders, characters, strict=True):
        drawings = np.stack([draw(replace(c, expression=e)) for e in range(len(EXPRESSIONS))]).astype(np.float64)
        mask = np.any(drawings != drawings[:1], axis=(0, 3))
        if not mask.any():
            out.append(c.expression)
            continue
        err = [np.mean(np.square(img.astype(np.float64)[mask] - dr[mask])) for dr in drawings]
        out.append(int(np.argmin(err)))
    return np.array(out)


def _network_expression_refs(G, base: np.ndarray, rows: list[int], dev) -> np.ndarray:
    """uint8 [E, N, H, W, 3]: the network's own renders of each character with each expression written into its w.

    Expression e's w+: `base` with the expression entries of `rows` set to the one-hot of e (× W_GAIN), as the
    cast encodes a character drawn with expression e.
    """
    sl = FACTOR_SLICES["expression"]
    refs = []
    for e in range(len(EXPRESSIONS)):
        ws = base.copy()
        one_hot = np.zeros(sl.stop - sl.start, np.float32)
        one_hot[e] = W_GAIN
        ws[:, rows, sl] = one_hot
        refs.append(render_batch(G, ws, dev))
    return np.stack(refs)


def _nearest_render(renders: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Per render [N, H, W, 3], the index of the nearest (MSE) of refs [E, N, H, W, 3]."""
    err = np.mean(np.square(refs.astype(np.float64) - renders.astype(np.float64)[None]), axis=(2, 3, 4))
    return np.argmin(err, axis=0)


def label_a_few(
    network: Network,
    config: CastNetworkConfig,
    target: str = "happy",
    per_side: int = 10,
    heldout: int = 50,
    alphas: tuple[float, ...] = (1.0, 2.0, 3.0),
    rows: list[int] | None = None,
    device: str = "cpu",
) -> list[str]:
    """Measurement 2 as printable lines (see the module docstring)."""
    dev = torch.device(device)
    G = network.G.to(dev).eval()
    t = EXPRESSIONS.index(target)
    group = config.groups[config.group_of_factor("expression")]
    if rows is None:
        rows = list(group.rows)
    pos = _seeds_with_expression(network, t, per_side, 0, rows)
    neg = _seeds_with_expression(network, 0, per_side, 0, rows)
    d = labelled_from_ws(network, rows, pos, neg, name=target)
    held = _seeds_with_expression(network, 0, heldout, 100_000, rows)
    base = np.repeat(held[:, None, :], network.num_ws, axis=1).astype(np.float32)
    base_chars = [drawn_character(config, w) for w in base]
    base_renders = render_batch(G, base, dev)
    base_pred = _nearest_expression(config, base_renders, base_chars)
    refs = _network_expression_refs(G, base, rows, dev)
    base_pred_net = _nearest_render(base_renders, refs)
    lines = [
        f"{network.name}: label a few: {per_side} seeds drawn {target} + {per_side} drawn neutral (first such seeds "
        f"from 0, judged by the decode of their mapped w) -> Fisher boundary on rows {rows[0]}-{rows[-1]} "
        f"(σ {d.sigma:.3f}); {heldout} held-out neutral seeds (from 100 000)",
        f"  pixel judge check: unmoved held-out renders nearest the neutral drawing: "
        f"{100 * np.mean(base_pred == 0):.0f} %; nearest the network's own neutral render "
        f"{100 * np.mean(base_pred_net == 0):.0f} %",
    ]
    for a in alphas:
        moved = base + d.offset(a, network.num_ws)[None]
        chars = [drawn_character(config, w) for w in moved]
        by_decode = np.mean([c.expression == t for c in chars])
        renders = render_batch(G, moved, dev)
        by_pixels = np.mean(_nearest_expression(config, renders, chars) == t)
        by_net = np.mean(_nearest_render(renders, refs) == t)
        eyes = np.mean([c.eye_shape != b.eye_shape for c, b in zip(chars, base_chars, strict=True)])
        lines.append(
            f"  α {a:+.1f}σ: {target} by the decode of the moved w {100 * by_decode:.0f} %; by the render, nearest "
            f"the network's own {target} render {100 * by_net:.0f} % "
            f"({'meets' if by_net >= 0.8 else 'below'} the 80 % target), nearest the cast's {target} drawing "
            f"{100 * by_pixels:.0f} %; eye shape changed {100 * eyes:.0f} %"
        )
    return lines


def run_direction_quality(network: Network, device: str = "cpu", top: int = 3, count: int = 200) -> list[str]:
    """`bench --directions` quality lines for one cast network (CastmakerError for a non-cast network)."""
    record = network.cast_record
    if not record:
        from renderer.errors import CastmakerError

        raise CastmakerError(
            f"the direction quality table needs a cast network (cast-portrait, cast-sprite); {network.name} is not one"
        )
    config = get_config(record["network"])
    t0 = time.perf_counter()
    lines = band_factor_table(network, config, top=top, count=count, device=device)
    if config.group_of_factor("expression") is not None:
        lines += label_a_few(network, config, device=device)  # on the expression rows
        middle = band_rows(network.num_ws)["middle"]
        band = label_a_few(network, config, rows=middle, device=device)  # on the whole middle band
        lines += [band[0], *band[2:]]
    lines.append(f"{network.name}: direction quality measured in {time.perf_counter() - t0:.0f} s on {device}")
    return lines
