"""The Engine owns a network on a device and turns recipes / w arrays into uint8 images.

Thread use: one Engine per worker thread (the editor's RenderWorker owns one); methods are not re-entrant.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from renderer.engine.device import describe_device, pick_device
from renderer.engine.images import to_uint8
from renderer.errors import LatentError
from renderer.latents.recipe import Recipe, SeedSource, Source, WSource, evaluate_recipe
from renderer.latents.seeds import z_from_seed
from renderer.network import Network


@dataclass
class RenderResult:
    """One rendered frame: the image, the w+ it came from, and how it was made."""

    image: np.ndarray  # uint8 H x W x C
    ws: np.ndarray  # float32 [num_ws, w_dim]
    ms: float  # wall-clock time of the synthesis (and mapping) in milliseconds
    start_step: int = 0  # first synthesis step actually run (> 0 when a cached prefix served)
    cache_hit: bool = False


class Engine:
    """Renders a Network's recipes; `device="auto"` picks CUDA > MPS > CPU."""

    def __init__(self, network: Network, device: str = "auto", seed_cache_size: int = 256) -> None:
        self.network = network
        self.device = pick_device(device)
        self.G = network.G.to(self.device).eval().requires_grad_(False)
        self._seed_ws: OrderedDict[SeedSource, np.ndarray] = OrderedDict()
        self._seed_cache_size = seed_cache_size

    # ----- identity
    @property
    def device_name(self) -> str:
        return describe_device(self.device)

    @property
    def num_ws(self) -> int:
        return self.network.num_ws

    # ----- latents
    def class_vector(self, class_idx: int | None, batch: int = 1) -> torch.Tensor | None:
        """One-hot label for conditional networks (None for unconditional ones)."""
        c_dim = self.network.c_dim
        if c_dim == 0:
            if class_idx is not None:
                raise LatentError("this network is unconditional: leave out --class")
            return None
        if class_idx is None:
            raise LatentError(f"this network is conditional ({c_dim} classes): give a class with --class K")
        if not 0 <= class_idx < c_dim:
            raise LatentError(f"class {class_idx} is out of range: this network has classes 0-{c_dim - 1}")
        c = torch.zeros([batch, c_dim], device=self.device)
        c[:, class_idx] = 1
        return c

    @torch.no_grad()
    def map_z(self, z: np.ndarray, psi: float = 1.0, cutoff: int | None = None, class_idx: int | None = None) -> np.ndarray:
        """z [N, z_dim] -> w [N, num_ws, w_dim] with truncation."""
        zt = torch.from_numpy(np.asarray(z)).to(self.device)
        c = self.class_vector(class_idx, batch=zt.shape[0])
        ws = self.G.mapping(zt, c, truncation_psi=psi, truncation_cutoff=cutoff)
        return ws.to(torch.float32).cpu().numpy()

    def map_seed(self, seed: int, psi: float = 1.0, cutoff: int | None = None, class_idx: int | None = None) -> np.ndarray:
        """The w [num_ws, w_dim] of a seed, exactly as the official tools compute it."""
        return self.resolve(SeedSource(seed=seed, psi=psi, cutoff=cutoff, class_idx=class_idx))

    def resolve(self, source: Source) -> np.ndarray:
        """Source -> its w [num_ws, w_dim] (seeds are memoised)."""
        if isinstance(source, WSource):
            if source.w.shape != (self.network.num_ws, self.network.w_dim):
                raise LatentError(
                    f"{source.label}: w has shape {list(source.w.shape)} but this network needs "
                    f"[{self.network.num_ws}, {self.network.w_dim}]"
                )
            return source.w
        cached = self._seed_ws.get(source)
        if cached is None:
            z = z_from_seed(source.seed, self.network.z_dim)
            cached = self.map_z(z, source.psi, source.cutoff, source.class_idx)[0]
            cached.setflags(write=False)
            self._seed_ws[source] = cached
            while len(self._seed_ws) > self._seed_cache_size:
                self._seed_ws.popitem(last=False)
        else:
            self._seed_ws.move_to_end(source)
        return cached

    def evaluate(self, recipe: Recipe) -> np.ndarray:
        """Recipe -> w+ [num_ws, w_dim]."""
        if recipe.num_ws != self.network.num_ws:
            raise LatentError(f"recipe has {recipe.num_ws} rows but the network has {self.network.num_ws}")
        return evaluate_recipe(recipe, self.resolve)

    # ----- synthesis
    def synthesize(self, ws: torch.Tensor, **kwargs: object) -> torch.Tensor:
        """Differentiable synthesis of ws [N, num_ws, w_dim] on this device (projection uses it)."""
        return self.G.synthesis(ws, noise_mode="const", **kwargs)

    @torch.no_grad()
    def render_ws(self, ws: np.ndarray) -> RenderResult:
        """w+ [num_ws, w_dim] -> RenderResult."""
        ws = np.asarray(ws, dtype=np.float32)
        t0 = time.perf_counter()
        x = torch.from_numpy(ws[None]).to(self.device)
        img = to_uint8(self.synthesize(x))[0]
        ms = (time.perf_counter() - t0) * 1000
        return RenderResult(image=img, ws=ws, ms=ms)

    def render(self, recipe: Recipe) -> RenderResult:
        """Recipe -> RenderResult (time includes mapping of any new seeds)."""
        t0 = time.perf_counter()
        ws = self.evaluate(recipe)
        result = self.render_ws(ws)
        result.ms = (time.perf_counter() - t0) * 1000
        return result

    @torch.no_grad()
    def render_thumbnails(self, sources: Sequence[Source | np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
        """Render what each source looks like alone, batched; returns uint8 H x W x C per source."""
        ws_list = [np.asarray(s, np.float32) if isinstance(s, np.ndarray) else self.resolve(s) for s in sources]
        out: list[np.ndarray] = []
        for i in range(0, len(ws_list), batch_size):
            chunk = torch.from_numpy(np.stack(ws_list[i : i + batch_size])).to(self.device)
            out.extend(to_uint8(self.synthesize(chunk)))
        return out
