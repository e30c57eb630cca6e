"""Export and sprite-cleanup code must not depend on torch or Qt: they take uint8 arrays and write files."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_THIRD_PARTY = {"numpy", "PIL"}
ALLOWED_PROJECT = ("editor.rpgmaker", "editor.sprites", "renderer.errors")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["editor/rpgmaker", "editor/sprites"])
def test_package_imports_only_numpy_pillow_and_stdlib(package: str) -> None:
    import sys

    files = sorted((ROOT / package).glob("*.py"))
    assert files
    for f in files:
        for mod in imported_modules(f):
            top = mod.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__" or top in ALLOWED_THIRD_PARTY:
                continue
            assert mod.startswith(ALLOWED_PROJECT), f"{f.relative_to(ROOT)} imports {mod}"
