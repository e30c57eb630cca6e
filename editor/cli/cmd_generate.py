"""`generate ARCHETYPE PSI`: the character pipeline, sprite sheet to face set, optionally into a game."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from editor.cli.class_option import add_class_argument, check_class_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="make a game-ready character (sprite sheet + face set)")
    p.add_argument("archetype", help="an archetype the config defines, e.g. heroine or villain")
    p.add_argument("psi", help="truncation psi, e.g. 0.6")
    p.add_argument("--seed", type=int, default=0, help="seed of the (first) character (default 0)")
    p.add_argument("--count", type=int, default=1, help="make K characters from seeds N..N+K-1")
    p.add_argument("--config", default=None, help="pipeline config JSON (default: resources/pipeline/default.json, the cast networks)")
    p.add_argument("--name", default=None, help="character name (default: archetype + seed)")
    p.add_argument("--export", default=None, metavar="GAME_DIR", help="write into an RPG Maker MV/MZ project")
    p.add_argument("--overwrite", action="store_true", help="replace existing files in the game (a backup is kept)")
    p.add_argument(
        "--battler", default=None, metavar="NAME",
        help="side-view battler for the new actor: an existing file img/sv_actors/NAME.png of the game "
        "(Castmaker does not make side-view battlers yet)",
    )
    p.add_argument(
        "--copy-actor", type=int, default=None, metavar="ID",
        help="start the new actor with actor ID's class and equipment (default: RPG Maker's new-actor values, "
        "class 1 and nothing equipped)",
    )
    p.add_argument("--outdir", default="out/characters", help="where each character gets its folder (default out/characters)")
    p.add_argument(
        "--replace", action="store_true",
        help="overwrite OUTDIR/<Name>/ if it already holds a character (default: keep it, write OUTDIR/<Name>-2/)",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    add_class_argument(p, "a network of the pipeline")


def _names(args: argparse.Namespace, seeds: list[int]) -> list[str | None]:
    if args.name is None:
        return [None] * len(seeds)  # the pipeline's default: Archetype + seed
    if len(seeds) == 1:
        return [args.name]
    return [f"{args.name}_{seed}" for seed in seeds]


def _check_class(class_idx: int | None, *networks: object) -> None:
    """`--class` against both networks: needed by any conditional one, in range for each, refused if none is."""
    from editor.pipeline import PipelineError

    conditional = [n for n in networks if n.c_dim > 0]  # type: ignore[attr-defined]
    if class_idx is not None and not conditional:
        raise PipelineError("neither network of the pipeline is class-conditional: leave out --class")
    for net in conditional:
        check_class_option(class_idx, net.c_dim, net.name)  # type: ignore[attr-defined]


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from editor.pipeline import (
        CharacterPipeline,
        PipelineError,
        StageTimes,
        check_psi,
        default_name,
        load_config,
    )
    from editor.rpgmaker import (
        check_character_name,
        detect_project,
        export_character,
        plain_sheet,
        plan_export,
    )
    from editor.rpgmaker.files import write_atomic
    from editor.rpgmaker.png import encode_png

    psi = check_psi(args.psi)
    if args.count < 1:
        raise PipelineError(f"--count must be at least 1, got {args.count}")
    if not 0 <= args.seed or args.seed + args.count > 2**32:
        raise PipelineError(f"seeds {args.seed}..{args.seed + args.count - 1} are outside 0..{2**32 - 1}")
    for given, option in ((args.overwrite, "--overwrite"), (args.battler, "--battler"), (args.copy_actor is not None, "--copy-actor")):
        if given and not args.export:
            raise PipelineError(f"{option} only applies with --export GAME_DIR")
    seeds = list(range(args.seed, args.seed + args.count))
    names = _names(args, seeds)
    for name in names:
        if name is not None:
            check_character_name(name)
    config = load_config(args.config)
    config.archetype(args.archetype)  # unknown archetype: fail before loading networks
    project = detect_project(args.export) if args.export else None  # a wrong game folder fails early too
    if project is not None:  # a missing battler or actor fails before any rendering too
        plan_export(project, names[0] or default_name(args.archetype, seeds[0]), args.overwrite, args.battler, args.copy_actor)
    if args.class_idx is not None and args.class_idx < 0:
        raise PipelineError(f"--class {args.class_idx} must be 0 or more")
    pipeline = CharacterPipeline(config, device=args.device, class_idx=args.class_idx)
    _check_class(args.class_idx, pipeline.sprite_net, pipeline.portrait_net)
    pipeline.presets_for(args.archetype)  # a missing or foreign preset fails before any rendering
    times = StageTimes()
    made = []
    with tqdm(total=len(seeds), unit="character", desc="generate", dynamic_ncols=True) as bar:
        for seed, name in zip(seeds, names, strict=True):
            projects = config.portrait_base == "projection"  # shared-latent portraits need no projection
            steps = tqdm(
                total=pipeline.projection_config.steps, desc=f"project seed {seed}", unit="step", leave=False,
                disable=not projects,
            )

            def on_progress(p, steps=steps):  # noqa: ANN001
                steps.n = p.step
                steps.set_postfix(loss=f"{p.loss:.4f}", refresh=False)
                steps.refresh()

            try:
                ch = pipeline.make(
                    args.archetype, psi, seed, name, times=times,
                    on_stage=lambda s, seed=seed: bar.set_postfix(seed=seed, stage=s), projection_progress=on_progress,
                )
            finally:
                steps.close()
            with times.stage("write"):
                folder = pipeline.write(ch, args.outdir, replace=args.replace)
            line = f"{ch.name}: {folder}"
            if folder.name != ch.name:
                line += f" ({Path(args.outdir) / ch.name} already holds a character: kept it; --replace overwrites it)"
            if project is not None:
                with times.stage("export"):
                    report = export_character(
                        project, ch.name, ch.sheet, ch.faceset, overwrite=args.overwrite,
                        battler=args.battler, copy_actor=args.copy_actor,
                    )
                line += f" -> {report.project.kind} actor {report.actor_id}"
                if report.renamed_to:
                    line += f" as '{report.renamed_to}' ('{ch.name}' was taken)"
                if report.backup_dir is not None:
                    line += f", backups in {report.backup_dir}"
                for warning in report.warnings:
                    tqdm.write(f"castmaker: warning: {warning} (option --battler NAME)", file=sys.stderr)
            tqdm.write(line)
            made.append(ch)
            bar.update(1)
    if config.sheet.plain_sheet:
        with times.stage("write"):
            for i in range(0, len(made), 8):
                group = made[i : i + 8]
                stem = default_name(args.archetype, 0)[:-1]
                path = Path(args.outdir) / f"{stem}_{group[0].seed}-{group[-1].seed}.png"
                write_atomic(path, encode_png(plain_sheet([c.sheet for c in group])))
                print(f"plain sheet ({len(group)} characters): {path}")
    print(f"device: {pipeline.sprite_engine.device_name}")
    print("stage times: " + times.summary())
    return 0
