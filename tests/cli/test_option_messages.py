"""No message names an option its command lacks.

A command's own module may name its own options (or the global ones); library code, which several
commands and the editor reach, may name an option only as `command --option` of a command that has it.
Options are taken from the string constants in the source (f-string parts included), so every message
text is checked, not just the ones a test happens to trigger.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from editor.cli import COMMANDS, build_parser

REPO = Path(__file__).resolve().parents[2]
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
QUALIFIED = re.compile(r"`(?:python main\.py |castmaker )?([a-z]+) ([^`]*)`")


def _parsers() -> tuple[set[str], dict[str, set[str]]]:
    root = build_parser()
    top = {o for a in root._actions for o in a.option_strings}
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    per = {name: {o for a in p._actions for o in a.option_strings} for name, p in sub.choices.items()}
    return top, per


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant that is not a docstring; an f-string comes whole, `{}` for each field."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                skip.add(id(v))
                parts.append(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}")
            out.append((node.lineno, "".join(parts)))
        elif isinstance(node, ast.FormattedValue) and isinstance(node.format_spec, ast.JoinedStr):
            skip.update(id(v) for v in node.format_spec.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            out.append((node.lineno, node.value))
    return out


def _qualified_ok(text: str, per: dict[str, set[str]]) -> tuple[str, list[str]]:
    """Drop `command --option ...` spans whose options the command has; return the rest and the bad ones."""
    bad = []
    for m in QUALIFIED.finditer(text):
        command, rest = m.group(1), m.group(2)
        if command in per:
            bad += [f"`{command} {o}`" for o in OPTION.findall(rest) if o not in per[command]]
    return QUALIFIED.sub(lambda m: "" if m.group(1) in per else m.group(0), text), bad


def _problems(files: list[Path], allowed: set[str], per: dict[str, set[str]]) -> list[str]:
    problems = []
    for f in files:
        for line, text in _strings(f):
            if "add_argument" in text:
                continue
            rest, bad = _qualified_ok(text, per)
            bad += [o for o in OPTION.findall(rest) if o not in allowed]
            problems += [f"{f.relative_to(REPO)}:{line}: {o} in {text!r}" for o in bad]
    return problems


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_names_only_its_own_options(command: str) -> None:
    top, per = _parsers()
    module = REPO / (COMMANDS[command].replace(".", "/") + ".py")
    assert _problems([module], per[command] | top, per) == []


# Library modules that only some commands reach, and those commands; every other module outside
# editor/cli is reached by the editor and by several commands, so it may name options only qualified.
REACHED_BY = {
    "renderer/engine/official_compare.py": ("bench",),
    "renderer/training/quality.py": ("bench",),
    "renderer/training/": ("train",),
    "editor/ui/ui_bench.py": ("bench",),
    "editor/pipeline/": ("generate",),
    "editor/motion": ("animate",),
    "renderer/loading/safe_unpickler.py": (),  # names the options of NVlabs' own converter (legacy.py)
}


def _reached_by(rel: str) -> tuple[str, ...] | None:
    for prefix, commands in REACHED_BY.items():
        if rel.startswith(prefix):
            return commands
    return None


def test_shared_code_names_an_option_only_with_the_command_that_has_it() -> None:
    top, per = _parsers()
    problems = []
    for p in sorted((REPO / "renderer").rglob("*.py")) + sorted((REPO / "editor").rglob("*.py")):
        rel = p.relative_to(REPO).as_posix()
        if rel.startswith("editor/cli/") or p.name in ("make_demo_presets.py", "make_cast_presets.py", "compare_spaces.py"):
            continue  # commands are checked above; these are `python -m` scripts with their own argparse
        commands = _reached_by(rel)
        if commands == ():
            continue
        if commands is None:
            allowed = top
        else:
            present = [per[c] for c in commands if c in per]
            allowed = top | (set.intersection(*present) if present else set())
        problems += _problems([p], allowed, per)
    assert problems == []


def test_the_engine_names_no_class_option_and_every_class_command_has_one() -> None:
    top, per = _parsers()
    for command in ("render", "project", "generate", "view"):
        assert "--class" in per[command], command
    assert "--class" not in (REPO / "renderer" / "engine" / "engine.py").read_text(encoding="utf-8").split("# ")[0]
