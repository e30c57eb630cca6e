"""The Engine owns a network on a device and turns recipes / w arrays into uint8 images.

Single renders go step by step through the synthesis contract (renderer/nets/contract.py) and keep
every intermediate state in a byte-bounded prefix cache, so an edit of rows >= k only re-runs the
steps from the first one reading row k. Thumbnails of many sources go through one batched pass (or
single passes where those measure faster, see thumbnail_strategy.py).

Thread use: one Engine per worker thread (the editor's RenderWorker owns one); methods are not re-entrant.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from renderer import cpu_share
from renderer.engine.device import describe_device, pick_device
from renderer.engine.images import to_uint8
from renderer.engine.options import DEFAULT_CACHE_BYTES, EngineOptions, resolve_options
from renderer.engine.prefix_cache import PrefixCache, prefix_digests
from renderer.engine.threads import share_cpu
from renderer.engine.thumbnail_strategy import ThumbnailStrategy
from renderer.errors import LatentError, RenderError
from renderer.latents.recipe import Recipe, SeedSource, Source, WSource, evaluate_recipe
from renderer.latents.seeds import z_from_seed
from renderer.network import Network

log = logging.getLogger(__name__)


@dataclass
class RenderResult:
    """One rendered frame: the image, the w+ it came from, and how it was made."""

    image: np.ndarray  # uint8 H x W x C
    ws: np.ndarray  # float32 [num_ws, w_dim]
    ms: float  # wall-clock time of the synthesis (and mapping) in milliseconds
    start_step: int = 0  # first synthesis step actually run (> 0 when a cached prefix served)
    cache_hit: bool = False


def _map_state(state: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """`fn` applied to every tensor of a synthesis state (a tensor, or tuples / lists of them)."""
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, tuple):
        return tuple(_map_state(s, fn) for s in state)
    if isinstance(state, list):
        return [_map_state(s, fn) for s in state]
    return state


def _clone_state(state: Any) -> Any:
    return _map_state(state, torch.Tensor.clone)


def _repeat_state(state: Any, n: int) -> Any:
    """A batch-1 synthesis state repeated to batch n (new memory: the cached state is never aliased)."""
    return _map_state(state, lambda t: t.expand(n, *t.shape[1:]).contiguous())


class Engine:
    """Renders a Network's recipes; `device="auto"` picks CUDA > MPS > CPU.

    Keyword options (all part of the prefix cache's context, so changing them drops the cache):
      cache_bytes: byte budget of the prefix cache (0 disables it).
      fp16: run use_fp16 layers in float16; None = on for CUDA, off elsewhere.
      channels_last, compile, cuda_graphs: CUDA accelerations, off unless measured faster (`bench`).
      thumbnails: "auto" (probe batched vs single once), "batched" or "single".
    """

    def __init__(
        self,
        network: Network,
        device: str = "auto",
        seed_cache_size: int = 256,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        fp16: bool | None = None,
        channels_last: bool = False,
        compile: bool = False,
        cuda_graphs: bool = False,
        thumbnails: str = "auto",
        thumb_batch_size: int = 8,
    ) -> None:
        self.device = pick_device(device)
        if self.device.type == "cpu":
            cpu_share.monitor()  # start measuring other programs' load now, before the first render needs it
        self._wishes = dict(fp16=fp16, channels_last=channels_last, compile=compile, cuda_graphs=cuda_graphs)
        self.options: EngineOptions = resolve_options(self.device, **self._wishes)
        self.cache = PrefixCache(cache_bytes)
        self.thumbnail_strategy = ThumbnailStrategy(thumbnails)
        if thumb_batch_size < 1:
            raise ValueError(f"thumb_batch_size must be >= 1, got {thumb_batch_size}")
        self.thumb_batch_size = int(thumb_batch_size)
        self.last_thumbnail_ms = 0.0  # wall-clock ms per image of the last render_thumbnails call
        self._seed_ws: OrderedDict[SeedSource, np.ndarray] = OrderedDict()
        self._seed_cache_size = seed_cache_size
        self._install(network)

    # ----- set-up and invalidation
    def _install(self, network: Network) -> None:
        """Put `network` on the device with the current options; drop everything derived from the old one."""
        self.network = network
        G = network.G.to(self.device).eval().requires_grad_(False)
        if self.options.channels_last:
            G = G.to(memory_format=torch.channels_last)
        self.G = G
        synth = G.synthesis
        self._stepwise = all(hasattr(synth, a) for a in ("steps", "run_steps", "state_to_image"))
        if self._stepwise:
            self._steps = list(synth.steps)
            # _dep_rows[s]: the state after steps[:s] depends on ws[:_dep_rows[s]] only.
            self._dep_rows = [0]
            for step in self._steps:
                self._dep_rows.append(max(self._dep_rows[-1], int(step.row) + 1))
            runner: Callable[..., Any] = synth.run_steps
        else:
            log.warning("%s has no stepwise synthesis: prefix cache disabled", network.name)
            self._steps, self._dep_rows = [], [0]
            runner = synth.forward
        if self.options.compile:
            # One graph per (step, batch size): _run feeds compiled code one step at a time, so cached and
            # uncached renders go through the same graphs and stay bit-identical. Dynamo's default
            # recompile limit (8) is below the number of steps; raise it rather than fall back to eager.
            limit = 4 * max(len(self._steps), 1) + 8
            for name in ("recompile_limit", "cache_size_limit"):
                if hasattr(torch._dynamo.config, name) and getattr(torch._dynamo.config, name) < limit:
                    setattr(torch._dynamo.config, name, limit)
            mode = "reduce-overhead" if self.options.cuda_graphs else "default"
            runner = torch.compile(runner, mode=mode, dynamic=False)
        self._runner = runner
        self._context = (network.fingerprint, str(self.device), self.options)
        self._tensors = list(G.parameters()) + list(G.buffers())
        self._weights_version = self._current_weights_version()
        self.cache.clear()
        self._seed_ws.clear()
        self.thumbnail_strategy.reset()

    def set_network(self, network: Network) -> None:
        """Render another network from now on (prefix cache, seed memo and thumbnail probe are dropped)."""
        self._install(network)

    def set_device(self, device: str) -> None:
        """Move to another device; options are re-resolved for it and the cache is dropped."""
        self.device = pick_device(device)
        self.options = resolve_options(self.device, **self._wishes)
        self._install(self.network)

    def set_fp16(self, enabled: bool | None) -> None:
        """Switch float16 layers on/off (None = device default); the cache is dropped."""
        self._wishes["fp16"] = enabled
        self.options = resolve_options(self.device, **self._wishes)
        self._install(self.network)

    def clear_cache(self) -> None:
        """Drop cached prefixes (done automatically when weights or buffers are changed in place)."""
        self.cache.clear()

    def _current_weights_version(self) -> int:
        # Every in-place write to a tensor (copy_, a projection's fine-tuning step, the input transform
        # of gen_images' --translate) bumps its version counter, so the sum changes whenever the
        # function the network computes may have changed.
        return sum(t._version for t in self._tensors)

    def _check_weights_unchanged(self) -> None:
        version = self._current_weights_version()
        if version != self._weights_version:
            log.debug("network weights changed in place: prefix cache dropped")
            self.cache.clear()
            self._weights_version = version

    # ----- identity
    @property
    def device_name(self) -> str:
        return describe_device(self.device)

    @property
    def num_ws(self) -> int:
        return self.network.num_ws

    @property
    def num_steps(self) -> int:
        return len(self._steps)

    @property
    def steps(self) -> list:
        """The synthesis steps (name, row, size, channels) in execution order."""
        return list(self._steps)

    def w_avg(self) -> np.ndarray | None:
        """The mapping's tracked average w, float32 [w_dim] (a copy), or None for a generator without one.

        The centre truncation pulls towards and spherical interpolation turns about.
        """
        w_avg = getattr(getattr(self.G, "mapping", None), "w_avg", None)
        if w_avg is None:
            return None
        return w_avg.detach().to("cpu", torch.float32).numpy().copy()

    def first_step_for_row(self, row: int) -> int:
        """First step whose state depends on `row` or a later row: where an edit of rows >= row resumes."""
        for s in range(len(self._steps) + 1):
            if self._dep_rows[s] > row:
                return s - 1
        return len(self._steps)

    # ----- latents
    def class_vector(self, class_idx: int | None, batch: int = 1) -> torch.Tensor | None:
        """One-hot label [batch, c_dim] float32 for conditional networks (None for unconditional ones).

        Raises LatentError for a missing class on a conditional network, a class on an unconditional one,
        or a class outside 0..c_dim-1.
        """
        c_dim = self.network.c_dim
        if c_dim == 0:
            if class_idx is not None:
                raise LatentError(f"this network is unconditional: it takes no class (got class {class_idx})")
            return None
        if class_idx is None:
            # No option named here: the engine serves commands with and without `--class` and the editor.
            raise LatentError(f"this network is class-conditional ({c_dim} classes): choose a class 0-{c_dim - 1}")
        if not 0 <= class_idx < c_dim:
            raise LatentError(f"class {class_idx} is out of range: this network has classes 0-{c_dim - 1}")
        c = torch.zeros([batch, c_dim], device=self.device)
        c[:, class_idx] = 1
        return c

    @torch.no_grad()
    def map_z(self, z: np.ndarray, psi: float = 1.0, cutoff: int | None = None, class_idx: int | None = None) -> np.ndarray:
        """z [N, z_dim] -> w [N, num_ws, w_dim] with truncation."""
        if not np.isfinite(psi):
            raise LatentError(f"truncation psi must be a finite number, got {psi}")
        if cutoff is not None and not 0 <= cutoff <= self.network.num_ws:
            raise LatentError(f"truncation cutoff {cutoff} is out of range: use 0-{self.network.num_ws}")
        # float64 z (as the official tools draw it) becomes float32 on the CPU: MPS has no float64, and the
        # mapping network casts to float32 first anyway, so the numbers are the same.
        zt = torch.from_numpy(np.asarray(z, dtype=np.float32)).to(self.device)
        c = self.class_vector(class_idx, batch=zt.shape[0])
        self._share_cpu()
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

    def _check_ws(self, ws: np.ndarray) -> np.ndarray:
        arr = np.ascontiguousarray(ws, dtype=np.float32)
        if not arr.flags.writeable:
            arr = arr.copy()  # torch.from_numpy wants writable memory; w rows are small
        want = (self.network.num_ws, self.network.w_dim)
        if arr.shape != want:
            raise LatentError(f"w has shape {list(arr.shape)} but this network needs {list(want)}")
        return arr

    # ----- synthesis
    def synthesize(self, ws: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        """Differentiable synthesis of ws [N, num_ws, w_dim] on this device (projection uses it)."""
        kwargs.setdefault("noise_mode", "const")
        kwargs.setdefault("force_fp32", self.options.force_fp32)
        self._share_cpu()
        return self.G.synthesis(ws, **kwargs)

    def _share_cpu(self) -> None:
        """On the CPU, size torch's thread team to the cores other programs leave free (threads.share_cpu)."""
        if self.device.type == "cpu":
            share_cpu()

    def _run(self, x: torch.Tensor, state: Any, start: int, stop: int) -> Any:
        self._share_cpu()
        if not self.options.compile:
            return self._runner(x, state, start, stop, force_fp32=self.options.force_fp32, noise_mode="const")
        for s in range(start, stop):
            state = self._runner(x, state, s, s + 1, force_fp32=self.options.force_fp32, noise_mode="const")
        return state

    def _full_image(self, x: torch.Tensor) -> torch.Tensor:
        """Uncached synthesis of a batch [N, num_ws, w_dim] -> [N, C, H, W]."""
        self._share_cpu()
        if not self._stepwise:
            return self._runner(x, force_fp32=self.options.force_fp32, noise_mode="const")
        synth = self.G.synthesis
        return synth.state_to_image(self._run(x, None, 0, len(self._steps)))

    def _advance(self, ws: np.ndarray, stop: int, use_cache: bool) -> tuple[Any, int]:
        """State after steps[:stop] for one w, resuming from the longest cached prefix; returns (state, start)."""
        use_cache = use_cache and self.cache.budget_bytes > 0
        if use_cache:
            self._check_weights_unchanged()
        start, state = 0, None
        digests = prefix_digests(ws) if use_cache else []
        if use_cache:
            for s in range(stop, 0, -1):
                found = self.cache.get((self._context, s, digests[self._dep_rows[s]]))
                if found is not None:
                    start, state = s, found
                    break
            if start:
                self.cache.stats.hits += 1
            else:
                self.cache.stats.misses += 1
        x = torch.from_numpy(ws[None]).to(self.device)
        if not use_cache:
            return self._run(x, None, 0, stop), 0
        new_entries = []
        for s in range(start, stop):
            state = self._run(x, state, s, s + 1)
            stored = _clone_state(state) if self.options.cuda_graphs else state
            new_entries.append(((self._context, s + 1, digests[self._dep_rows[s + 1]]), stored))
        # Latest first, so the earliest states end up most recently used: under a tight budget the cache
        # keeps the prefixes that serve every later edit and drops the late, large, rarely reused ones.
        for key, stored in reversed(new_entries):
            self.cache.put(key, stored)
        return state, start

    @torch.no_grad()
    def render_ws(self, ws: np.ndarray, use_cache: bool = True) -> RenderResult:
        """w+ [num_ws, w_dim] -> RenderResult; `use_cache=False` runs every step and stores nothing."""
        ws = self._check_ws(ws)
        t0 = time.perf_counter()
        if not self._stepwise:
            img = to_uint8(self._full_image(torch.from_numpy(ws[None]).to(self.device)))[0]
            return RenderResult(image=img, ws=ws, ms=(time.perf_counter() - t0) * 1000)
        state, start = self._advance(ws, len(self._steps), use_cache)
        img = to_uint8(self.G.synthesis.state_to_image(state))[0]
        ms = (time.perf_counter() - t0) * 1000
        return RenderResult(image=img, ws=ws, ms=ms, start_step=start, cache_hit=start > 0)

    def render(self, recipe: Recipe, use_cache: bool = True) -> RenderResult:
        """Recipe -> RenderResult (time includes mapping of any new seeds)."""
        t0 = time.perf_counter()
        ws = self.evaluate(recipe)
        result = self.render_ws(ws, use_cache=use_cache)
        result.ms = (time.perf_counter() - t0) * 1000
        return result

    @torch.no_grad()
    def render_float(self, ws: np.ndarray, use_cache: bool = True) -> np.ndarray:
        """The synthesis output [C, H, W] float32 in about [-1, 1] before uint8 conversion (tests, projection)."""
        ws = self._check_ws(ws)
        if not self._stepwise:
            return self._full_image(torch.from_numpy(ws[None]).to(self.device))[0].float().cpu().numpy()
        state, _ = self._advance(ws, len(self._steps), use_cache)
        return self.G.synthesis.state_to_image(state)[0].float().cpu().numpy()

    @torch.no_grad()
    def activations(self, ws: np.ndarray, step_index: int) -> np.ndarray:
        """Feature map after synthesis step `step_index` for the layer inspector: [C, H, W] float32."""
        if not self._stepwise:
            raise RenderError(f"{self.network.name} has no stepwise synthesis: the layer inspector needs one")
        if not 0 <= step_index < len(self._steps):
            raise RenderError(f"step {step_index} is out of range: this network has steps 0-{len(self._steps) - 1}")
        state, _ = self._advance(self._check_ws(ws), step_index + 1, use_cache=True)
        act = self.G.synthesis.state_activation(state)
        return act[0].to(torch.float32).cpu().numpy()

    # ----- thumbnails
    def _thumb_ws(self, sources: Sequence[Source | np.ndarray]) -> list[np.ndarray]:
        return [self._check_ws(s) if isinstance(s, np.ndarray) else self.resolve(s) for s in sources]

    def _render_batch(self, ws_list: Sequence[np.ndarray]) -> list[np.ndarray]:
        x = torch.from_numpy(np.stack(ws_list)).to(self.device)
        return list(to_uint8(self._full_image(x)))

    @torch.no_grad()
    def render_thumbnails(
        self, sources: Sequence[Source | np.ndarray], batch_size: int | None = None, mode: str | None = None
    ) -> list[np.ndarray]:
        """What each source looks like alone, as uint8 H x W x C per source, in input order.

        `mode` overrides the engine's thumbnail strategy for this call ("batched" or "single"); in
        "auto" the first call with enough sources times both ways and keeps the faster one.
        """
        t_start = time.perf_counter()
        ws_list = self._thumb_ws(sources)
        bs = self.thumb_batch_size if batch_size is None else int(batch_size)
        if bs < 1:
            raise ValueError(f"batch_size must be >= 1, got {bs}")
        chosen = mode or self.thumbnail_strategy.chosen
        if chosen is None and self.device.type != "cpu":
            chosen = "batched"  # GPUs: a batch is never slower than its images one by one
        out: list[np.ndarray] = []
        i = 0
        if chosen is None:
            if len(ws_list) < 6 or bs < 2:
                chosen = "batched"  # too few to probe (decide on a later, larger call); a batch of 1 is a single
            else:
                # Chunk 1 warms the batch shape up (first calls of a new shape pay one-off kernel set-up),
                # chunk 2 is timed batched, chunk 3 timed one by one. Process CPU time, not wall time:
                # other programs' load swings wall time far more than the difference being measured.
                nb = min(bs, len(ws_list) // 3)
                out.extend(self._render_batch(ws_list[:nb]))
                t0 = time.process_time()
                out.extend(self._render_batch(ws_list[nb : 2 * nb]))
                t1 = time.process_time()
                out.extend(self._render_batch([w])[0] for w in ws_list[2 * nb : 3 * nb])
                t2 = time.process_time()
                i = 3 * nb
                chosen = self.thumbnail_strategy.decide((t1 - t0) * 1000 / nb, (t2 - t1) * 1000 / nb)
        if chosen == "single":
            out.extend(self._render_batch([w])[0] for w in ws_list[i:])
        elif chosen == "batched":
            for j in range(i, len(ws_list), bs):
                out.extend(self._render_batch(ws_list[j : j + bs]))
        else:
            raise ValueError(f"thumbnail mode must be 'batched' or 'single', got {chosen!r}")
        self.last_thumbnail_ms = (time.perf_counter() - t_start) * 1000 / max(len(ws_list), 1)
        return out

    # ----- batches of related w+ (motion clips)
    @torch.no_grad()
    def render_batch_shared_prefix(self, ws_list: Sequence[np.ndarray], use_cache: bool = True) -> list[np.ndarray]:
        """Several w+ [num_ws, w_dim] in one batched pass that runs their common prefix once.

        Rows equal in every w of the batch feed identical synthesis steps: the state after the last step
        that reads only such rows is computed once for the first w (resumed from the prefix cache when it
        holds it), repeated along the batch, and only the remaining steps run batched. A clip that moves
        rows 6-8 of 16 so skips the early steps for every frame. Returns uint8 H x W x C per w, in order;
        the same batch gives the same pixels (batched passes may differ from single renders in the last
        bit on CPU).
        """
        arrs = [self._check_ws(w) for w in ws_list]
        if not arrs:
            return []
        stack = np.stack(arrs)
        differs = np.any(stack != stack[0], axis=(0, 2))  # [num_ws]: rows that are not shared
        start = self.first_step_for_row(int(np.argmax(differs))) if differs.any() else len(self._steps)
        if not self._stepwise or start <= 0:
            return self._render_batch(arrs)
        state, _ = self._advance(arrs[0], start, use_cache)
        x = torch.from_numpy(stack).to(self.device)
        state = self._run(x, _repeat_state(state, len(arrs)), start, len(self._steps))
        return list(to_uint8(self.G.synthesis.state_to_image(state)))
