"""Directions in W for a set of w rows: discovered from the weights (SeFa) or from mapped samples (PCA).

- SeFa (Shen & Zhou, "Closed-Form Factorization of Latent Semantics in GANs", CVPR 2021): the style affines A_i
  of the layers that read the chosen rows map w to styles; the directions that change those styles most are
  the top eigenvectors of Σ_i A_iᵀA_i (each A_i with its run-time weight gain). Weights only: well under a second.
- PCA in W (GANSpace, Härkönen et al. 2020, applied to w instead of StyleGAN2's intermediate activations): the
  principal axes of mapped seeds.

A direction is a unit vector d [w_dim] plus its rows and its unit σ, the standard deviation of w·d over mapped
seeds, so a slider at α moves the rows by α·σ·d. Saved as `<name>.json` + `<name>.npy` like presets (atomic
writes, refused on a network with another fingerprint).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from renderer.errors import LatentError
from renderer.fileio import write_atomic, write_bytes_atomic
from renderer.latents.recipe import DirectionEdit
from renderer.network import Network

DIRECTION_FORMAT = "castmaker-direction"
SIGMA_SEEDS = 2000  # mapped seeds behind each direction's σ


@dataclass
class Direction:
    """A unit direction in W for some rows of one network."""

    name: str
    rows: list[int]
    vector: np.ndarray  # float32 [w_dim], unit length
    sigma: float  # std of w·vector over mapped seeds (ψ = 1): the unit of a slider
    method: str  # "sefa" | "pca"
    strength: float  # eigenvalue: how much the rows' styles (SeFa) or the seeds (PCA) vary along it
    fingerprint: str
    network_name: str

    def as_edit(self, alpha: float = 0.0) -> DirectionEdit:
        """The recipe entry for this direction at slider position `alpha` (in σ)."""
        return DirectionEdit(
            name=self.name, rows=tuple(self.rows), vector=self.vector, sigma=self.sigma, alpha=alpha, method=self.method
        )

    @staticmethod
    def from_edit(edit: DirectionEdit, fingerprint: str, network_name: str, strength: float = 0.0) -> Direction:
        """A Direction (for saving as a file) from a recipe entry, for the network with `fingerprint`."""
        return Direction(
            name=edit.name,
            rows=list(edit.rows),
            vector=np.array(edit.vector, np.float32),
            sigma=edit.sigma,
            method=edit.method or "recipe",
            strength=float(strength),
            fingerprint=fingerprint,
            network_name=network_name,
        )

    def offset(self, alpha: float, num_ws: int) -> np.ndarray:
        """float32 [num_ws, w_dim]: α σ d on the direction's rows, 0 elsewhere (add it to a w+)."""
        out = np.zeros((num_ws, self.vector.size), np.float32)
        out[self.rows] = np.float32(alpha * self.sigma) * self.vector
        return out


def step_affines(network: Network, rows: list[int]) -> np.ndarray:
    """float64 [Σ styles, w_dim]: the run-time weights of the style affines of every step reading `rows`."""
    syn = network.G.synthesis
    blocks = []
    for step in getattr(syn, "steps", []):
        if step.row not in rows:
            continue
        module = syn
        for part in step.name.split("."):
            module = getattr(module, part)
        affine = getattr(module, "affine", None)
        if affine is None:
            continue
        blocks.append(affine.weight.detach().to("cpu").double().numpy() * float(affine.weight_gain))
    if not blocks:
        raise LatentError(f"no synthesis step of {network.name} reads rows {rows}: pick rows 0-{network.num_ws - 1}")
    return np.concatenate(blocks, axis=0)


def _check_rows(network: Network, rows: list[int]) -> list[int]:
    rows = sorted(set(int(r) for r in rows))
    if not rows or rows[0] < 0 or rows[-1] >= network.num_ws:
        raise LatentError(f"rows {rows} are outside 0-{network.num_ws - 1} of {network.name}")
    return rows


def _sign_fixed(vectors: np.ndarray) -> np.ndarray:
    """Each column's largest-magnitude entry made positive, so a direction's sign is reproducible."""
    idx = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[idx, np.arange(vectors.shape[1])])
    return vectors * np.where(signs == 0, 1.0, signs)


def class_labels(network: Network, count: int, class_idx: int | None = None) -> np.ndarray | None:
    """float32 [count, c_dim] one-hot labels for `count` mapped seeds, or None on an unconditional network.

    `class_idx` None on a conditional network cycles the classes (seed i gets class i mod c_dim), so sampled w
    cover every class evenly; a class index gives that class to all. Raises LatentError for a class out of range.
    """
    if not network.c_dim:
        return None
    if class_idx is not None and not 0 <= class_idx < network.c_dim:
        raise LatentError(f"class {class_idx} is out of range: {network.name} has classes 0-{network.c_dim - 1}")
    labels = np.zeros([count, network.c_dim], np.float32)
    labels[np.arange(count), np.arange(count) % network.c_dim if class_idx is None else class_idx] = 1.0
    return labels


def mapped_ws(network: Network, seeds: int | list[int] = SIGMA_SEEDS, class_idx: int | None = None) -> np.ndarray:
    """float64 [N, w_dim]: w at ψ = 1 of seeds 0..seeds-1 (an int) or of the listed seeds, as the official tools map them.

    On a class-conditional network each seed gets a one-hot class (see `class_labels`).
    """
    import torch

    from renderer.latents.seeds import z_from_seed

    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    z = np.concatenate([z_from_seed(s, network.z_dim) for s in seed_list])
    G = network.G
    device = next(G.parameters()).device
    with torch.no_grad():
        labels = class_labels(network, len(seed_list), class_idx)
        c = None if labels is None else torch.from_numpy(labels).to(device)
        w = G.mapping(torch.from_numpy(z).to(device, torch.float32), c, truncation_psi=1.0)[:, 0]
    return w.double().cpu().numpy()


def _directions(network, rows, vectors, strengths, method, ws) -> list[Direction]:
    sigmas = (ws @ vectors).std(axis=0)
    return [
        Direction(
            name=f"{method}-{i}",
            rows=list(rows),
            vector=vectors[:, i].astype(np.float32),
            sigma=float(sigmas[i]),
            method=method,
            strength=float(strengths[i]),
            fingerprint=network.fingerprint,
            network_name=network.name,
        )
        for i in range(vectors.shape[1])
    ]


def sefa(network: Network, rows: list[int], top: int = 8, ws: np.ndarray | None = None) -> list[Direction]:
    """The `top` SeFa directions of `rows`, strongest first (unit, orthogonal; eigenvalues in `strength`)."""
    rows = _check_rows(network, rows)
    A = step_affines(network, rows)
    values, vectors = np.linalg.eigh(A.T @ A)
    order = np.argsort(values)[::-1][: max(1, int(top))]
    vectors = _sign_fixed(vectors[:, order])
    return _directions(network, rows, vectors, values[order], "sefa", mapped_ws(network) if ws is None else ws)


def principal_axes(samples: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    """(variances [top], axes [dim, top]) of samples [N, dim], largest variance first, signs fixed."""
    x = np.asarray(samples, np.float64)
    x = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    k = max(1, int(top))
    return (s[:k] ** 2) / max(len(x) - 1, 1), _sign_fixed(vt[:k].T)


def pca(
    network: Network, rows: list[int], top: int = 8, samples: int = 5000, class_idx: int | None = None
) -> list[Direction]:
    """The `top` principal axes of `samples` mapped seeds (the same w feeds every row, so rows only scope them).

    `class_idx`: on a class-conditional network, the class of every sample (None: every class in turn).
    """
    rows = _check_rows(network, rows)
    ws = mapped_ws(network, samples, class_idx)
    variances, axes = principal_axes(ws, top)
    return _directions(network, rows, axes, variances, "pca", ws)


def boundary_axis(positive: np.ndarray, negative: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Unit normal [dim] of a linear boundary between two labelled sets of w [N, dim] (Fisher's discriminant).

    d ∝ (Σ + λ·tr(Σ)/dim·I)⁻¹ (μ₊ − μ₋), Σ the pooled within-class covariance: the closed-form linear
    boundary of two Gaussian classes (InterFaceGAN fits a linear SVM for the same purpose). The ridge keeps
    it defined with fewer samples than dimensions, as when an artist ticks a dozen thumbnails.
    """
    pos, neg = np.asarray(positive, np.float64), np.asarray(negative, np.float64)
    if len(pos) < 2 or len(neg) < 2:
        raise LatentError(f"label at least 2 samples on each side, got {len(pos)} with and {len(neg)} without")
    centred = np.concatenate([pos - pos.mean(axis=0), neg - neg.mean(axis=0)])
    cov = centred.T @ centred / max(len(centred) - 2, 1)
    dim = cov.shape[0]
    cov += (ridge * max(np.trace(cov), 1e-12) / dim + 1e-12) * np.eye(dim)
    d = np.linalg.solve(cov, pos.mean(axis=0) - neg.mean(axis=0))
    norm = np.linalg.norm(d)
    if not np.isfinite(norm) or norm == 0:
        raise LatentError("the two labelled sets have the same mean w: label samples that differ")
    return d / norm


def labelled(
    network: Network,
    rows: list[int],
    positive_seeds: list[int],
    negative_seeds: list[int],
    name: str = "labelled",
    class_idx: int | None = None,
) -> Direction:
    """The direction from seeds labelled "has it" (positive) and "lacks it" (negative), on `rows`.

    `class_idx`: on a class-conditional network, the class the seeds were looked at in (None: class 0).
    """
    rows = _check_rows(network, rows)
    if set(positive_seeds) & set(negative_seeds):
        raise LatentError(f"seeds {sorted(set(positive_seeds) & set(negative_seeds))} are labelled both ways")
    if len(positive_seeds) < 2 or len(negative_seeds) < 2:
        raise LatentError(
            f"label at least 2 seeds on each side, got {len(positive_seeds)} with and {len(negative_seeds)} without"
        )
    cls = class_idx if class_idx is not None or not network.c_dim else 0
    pos_ws = mapped_ws(network, list(positive_seeds), cls)
    neg_ws = mapped_ws(network, list(negative_seeds), cls)
    return labelled_from_ws(network, rows, pos_ws, neg_ws, name)


def labelled_from_ws(
    network: Network, rows: list[int], positive: np.ndarray, negative: np.ndarray, name: str = "labelled"
) -> Direction:
    """The direction from w samples [N, w_dim] labelled "has it" (positive) and "lacks it" (negative), on `rows`."""
    rows = _check_rows(network, rows)
    axis = boundary_axis(positive, negative)
    pos, neg = np.asarray(positive, np.float64) @ axis, np.asarray(negative, np.float64) @ axis
    d = _directions(network, rows, axis[:, None], np.array([float(pos.mean() - neg.mean())]), "labels", mapped_ws(network))[0]
    d.name = name
    return d


# ----------------------------------------------------------------------------- files


def direction_slug(name: str) -> str:
    """The file stem of a direction named `name`: lower-case letters and digits joined by '-', at most 64 chars.

    `<slug>.json` + `<slug>.npy` are its files, so two names with one slug ("Smile", "smile!") share them.
    Raises LatentError for a name with no letters or digits.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64]
    if not slug:
        raise LatentError(f"direction name {name!r} has no letters or digits to make a file name from")
    return slug


def save_direction(d: Direction, folder: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write `<slug>.npy` then `<slug>.json` (each atomic); refuses to replace a file unless `overwrite`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    slug = direction_slug(d.name)
    json_path, npy_path = folder / f"{slug}.json", folder / f"{slug}.npy"
    if not overwrite and (json_path.exists() or npy_path.exists()):
        raise LatentError(f"{json_path} exists: choose another name or allow overwriting")
    write_atomic(npy_path, lambda f: np.save(f, d.vector.astype(np.float32)))
    meta = {
        "format": DIRECTION_FORMAT,
        "version": 1,
        "name": d.name,
        "rows": d.rows,
        "sigma": d.sigma,
        "method": d.method,
        "strength": d.strength,
        "network": {"fingerprint": d.fingerprint, "name": d.network_name},
        "vector": npy_path.name,
    }
    write_bytes_atomic(json_path, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    return json_path


def load_direction(path: str | os.PathLike, network: Network | None = None) -> Direction:
    """Read a direction; LatentError if unreadable, malformed, or made for another network than `network`."""
    path = Path(path)
    if not path.is_file():
        raise LatentError(f"direction file not found: {path}: give a .json written by `python main.py directions`")
    if path.suffix.lower() == ".npy":
        raise LatentError(f"{path} is a direction's vector: give its .json ({path.with_suffix('.json').name}), "
                          "which names the rows and σ")  # fmt: skip
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LatentError(f"{path} is not a direction file: give a .json written by `python main.py directions`") from None
    except OSError as exc:
        raise LatentError(f"{path} is not a readable direction file ({exc})") from None
    try:
        if not isinstance(meta, dict) or meta.get("format") != DIRECTION_FORMAT:
            raise ValueError("not a Castmaker direction file")
        vector = np.load(path.with_name(meta["vector"]), allow_pickle=False).astype(np.float32).reshape(-1)
        d = Direction(
            name=str(meta["name"]),
            rows=[int(r) for r in meta["rows"]],
            vector=vector,
            sigma=float(meta["sigma"]),
            method=str(meta["method"]),
            strength=float(meta["strength"]),
            fingerprint=str(meta["network"]["fingerprint"]),
            network_name=str(meta["network"]["name"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LatentError(f"{path} is not a readable direction file ({exc})") from None
    if network is not None:
        if d.fingerprint != network.fingerprint:
            raise LatentError(
                f"{path} was made for {d.network_name} ({d.fingerprint[:12]}), not {network.name} "
                f"({network.fingerprint[:12]}): discover directions on this network instead"
            )
        if d.vector.size != network.w_dim or max(d.rows) >= network.num_ws:
            raise LatentError(f"{path} does not fit {network.name}'s w ({network.num_ws} x {network.w_dim})")
    return d
