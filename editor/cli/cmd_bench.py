"""`bench`: print render timings and ratios (speed claims live here, never in tests)."""

from __future__ import annotations

import argparse
import importlib
import json
from typing import Any

from renderer.errors import CastmakerError


def _step_list(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"step counts must be integers like 50,200,1000, got {text!r}") from None
    if not steps or steps[0] < 1:
        raise argparse.ArgumentTypeError("step counts must be positive integers like 50,200,1000")
    return steps


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure mapping, synthesis, incremental and thumbnail timings")
    p.add_argument("--network", default="cast-portrait", help="network file, cast-portrait / cast-sprite, or demo-face / demo-sprite")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median is reported)")
    p.add_argument(
        "--contended",
        type=int,
        default=None,
        metavar="K",
        help="run the measurements idle, then while K busy-looping processes compete; print both and the ratios",
    )
    p.add_argument("--ui", action="store_true", help="measure frames/s delivered by the editor's render worker")
    p.add_argument("--projection", action="store_true", help="measure projection quality (PSNR) and steps/s")
    p.add_argument("--quick", action="store_true", help="--projection: one target, 50 and 200 steps (CPU-friendly)")
    p.add_argument(
        "--projection-steps",
        type=_step_list,
        default=None,
        metavar="50,200,1000",
        help="--projection: step counts at which PSNR is reported",
    )
    p.add_argument("--targets", type=int, default=None, help="--projection: number of random targets")
    p.add_argument("--loss", choices=["auto", "pixel", "ssim", "disc", "lpips"], default=None, help="--projection: loss")
    p.add_argument("--vgg", default=None, help="--projection: local VGG16 weights for LPIPS")
    p.add_argument(
        "--cast",
        action="store_true",
        help="cast networks: fidelity and band purity against the procedural cast (both bundled networks by default)",
    )
    p.add_argument("--count", type=int, default=256, help="--cast: held-out characters")
    p.add_argument(
        "--directions",
        action="store_true",
        help="directions and variations: click-to-4x4-children-grid time in the editor, and the quality table on the cast networks",
    )
    p.add_argument("--official", default=None, metavar="DIR", help="NVlabs/stylegan3 checkout for a side-by-side CPU timing")
    p.add_argument("--fp32", action="store_true", help="CUDA: run fp16 layers in float32 too")
    p.add_argument("--channels-last", action="store_true", help="CUDA: channels-last weights")
    p.add_argument("--compile", action="store_true", help="torch.compile the synthesis steps")
    p.add_argument("--cuda-graphs", action="store_true", help="CUDA: compile with CUDA graphs (reduce-overhead)")


# --ui / --projection belong to other parts of Castmaker: (module, function) imported only when asked.
_DELEGATES = {
    "ui": ("editor.ui.ui_bench", "run_ui_bench"),
    "projection": ("renderer.projector.bench", "run_projection_bench"),
    "directions": ("editor.ui.variations_bench", "run_directions_bench"),
}


def _delegate(which: str, args: argparse.Namespace) -> int:
    module_name, func_name = _DELEGATES[which]
    try:
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise CastmakerError(
            f"bench --{which} is not available in this build ({module_name}.{func_name} cannot be loaded: {exc})"
        ) from None
    return int(func(args) or 0)


def format_table(r: dict[str, Any]) -> str:
    """Human-readable report of run_engine_bench's dict (plus the official comparison if present)."""
    lines = [
        f"network   {r['network']} ({r['kind']}, {r['resolution']}px, {r['num_ws']} rows, {r['num_steps']} steps)",
        f"device    {r['device']}, fp16 {'on' if r['fp16'] else 'off'}, channels-last {'on' if r['channels_last'] else 'off'}, "
        f"compile {'on' if r['compile'] else 'off'}, CUDA graphs {'on' if r['cuda_graphs'] else 'off'}, median of {r['repeats']}, "
        f"{r['threads']} CPU thread(s)",
        f"mapping                      {r['mapping_ms']:10.2f} ms",
        f"full synthesis (no cache)    {r['full_ms']:10.2f} ms",
        f"full synthesis (cache miss)  {r['full_cache_miss_ms']:10.2f} ms",
    ]
    for k, ms in r["incremental_ms"].items():
        share = r["incremental_work_share"].get(k)
        work = f", {share:.0%} of the FLOPs" if share is not None else ""
        lines.append(
            f"rows >= {k:<3} changed          {ms:10.2f} ms   x{r['incremental_ratio'][k]:.3f} of full (paired)"
            f"   x{r['incremental_ratio_vs_miss'][k]:.3f} of cache miss   (resumes at step {r['incremental_start_step'][k]}{work})"
        )
    lines += [
        f"thumbnail, single            {r['thumb_single_ms']:10.2f} ms/image",
        f"thumbnail, batch of {r['thumb_batch']:<2}       {r['thumb_ms']:10.2f} ms/image   x{r['thumb_ratio']:.3f} of single"
        f"   (auto picks: {r['thumb_auto_choice']})",
        f"peak RSS                     {r['peak_rss_mb']:10.1f} MiB",
    ]
    cpu = r["cpu_ms"]
    lines.append(
        "process CPU time (steadier on a busy machine): full "
        f"{cpu['full']:.1f} ms, "
        + ", ".join(f"rows >= {k} x{r['cpu_ratios'][f'rows>={k}/full']:.3f}" for k in r["incremental_ms"])
        + f", thumb/single x{r['cpu_ratios']['thumb/single']:.3f}"
    )
    if "peak_cuda_mb" in r:
        lines.append(f"peak CUDA memory             {r['peak_cuda_mb']:10.1f} MiB")
    off = r.get("official")
    if off:
        lines += [
            f"official synthesis (CPU)     {off['official_ms']:10.2f} ms   ({off['official_dir']})",
            f"ours synthesis (CPU)         {off['ours_ms']:10.2f} ms   official/ours = x{off['speedup']:.2f}"
            f"   (process CPU time: x{off['cpu_speedup']:.2f})",
            f"outputs agree                {'yes' if off['agree'] else 'NO'} (max |diff| {off['max_abs_diff']:.2e}, "
            f"tolerance {off['tolerance']:.0e}, {off['threads']} threads)",
        ]
    return "\n".join(lines)


CONTENDED_TARGET = 2.5  # issue 13: each figure within 2.5x its idle value with one busy process per core


def format_contended(r: dict[str, Any]) -> str:
    """Both tables of run_contended_bench's dict, then contended / idle per figure."""
    from renderer.engine.bench import contended_figures

    idle, busy = contended_figures(r["idle"]), contended_figures(r["contended"])
    lines = [
        "== idle",
        format_table(r["idle"]),
        "",
        f"== contended: {r['busy_processes']} busy-looping process(es) on {r['cores']} core(s)",
        format_table(r["contended"]),
        "",
        f"== contended / idle ({r['threads']} CPU thread(s) idle, {r.get('threads_contended', r['threads'])} contended;"
        f" target <= {CONTENDED_TARGET} with one busy process per core)",
        f"{'figure':<30}{'idle ms':>11}{'contended ms':>14}{'ratio':>9}{'CPU-time ratio':>16}",
    ]
    for label in idle:  # the measuring order (a JSON round trip sorts the ratio keys)
        ratio = r["ratios"][label]
        flag = "" if ratio <= CONTENDED_TARGET else "   over target"
        lines.append(f"{label:<30}{idle[label]:11.2f}{busy[label]:14.2f}{ratio:9.2f}{r['cpu_ratios'][label]:16.2f}{flag}")
    lines.append(
        "(threads: torch's thread team, which Castmaker shrinks to the cores other programs leave free;"
        " the wall ratio is the share of the CPU the run got)"
    )
    return "\n".join(lines)


def _cast_bench(args: argparse.Namespace) -> int:
    from renderer import load_network
    from renderer.engine.device import pick_device
    from renderer.training.quality import run_cast_bench

    if args.count < 1:
        raise CastmakerError(f"--count {args.count} must be 1 or more")
    names = [args.network] if args.network_given else ["cast-portrait", "cast-sprite"]
    device = str(pick_device(args.device))
    for name in names:
        for line in run_cast_bench(load_network(name), args.count, device):
            print(line, flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.contended is not None and (args.cast or args.ui or args.projection or args.official):
        raise CastmakerError(
            "--contended measures the engine figures (mapping, synthesis, edits, thumbnails): run it without "
            "--cast / --ui / --projection / --official"
        )
    if args.cast:
        return _cast_bench(args)
    if args.ui:
        return _delegate("ui", args)
    if args.projection:
        return _delegate("projection", args)
    if args.directions:
        return _delegate("directions", args)
    if args.repeats < 1:
        raise CastmakerError(f"--repeats {args.repeats} must be 1 or more")
    if args.contended is not None and args.contended < 1:
        raise CastmakerError(f"--contended {args.contended}: give the number of busy processes, 1 or more")

    from renderer import load_network
    from renderer.engine import Engine
    from renderer.engine.bench import run_contended_bench, run_engine_bench

    network = load_network(args.network)
    engine = Engine(
        network,
        device=args.device,
        fp16=False if args.fp32 else None,
        channels_last=args.channels_last,
        compile=args.compile,
        cuda_graphs=args.cuda_graphs,
    )
    if args.contended is not None:
        contended = run_contended_bench(engine, args.contended, repeats=args.repeats)
        print(json.dumps(contended, sort_keys=True) if args.json else format_contended(contended))
        return 0
    result = run_engine_bench(engine, repeats=args.repeats)
    if args.official:
        from renderer.engine.official_compare import compare_with_official

        result["official"] = compare_with_official(network, args.official, repeats=args.repeats)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(format_table(result))
    if args.official and not result["official"]["agree"]:
        print(f"warning: official and our outputs differ by {result['official']['max_abs_diff']:.2e}")
        return 1
    return 0
