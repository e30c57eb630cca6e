"""Export and sprite-cleanup code must not depend on torch or Qt: they take uint8 arrays and write files."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_THIRD_PARTY = {"numpy", "PIL", "platformdirs"}  # platformdirs: where backups go (outside the game)
ALLOWED_PROJECT = ("editor.rpgmaker", "editor.sprites", "renderer.errors", "renderer.fileio")


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


def test_importing_export_and_cleanup_does_not_load_torch_or_qt() -> None:
    """The static check above misses transitive imports; a fresh interpreter shows what really loads."""
    import subprocess
    import sys

    code = (
        "import sys, editor.rpgmaker.export, editor.sprites.cleanup, editor.rpgmaker.actors;"
        "bad = sorted(m for m in ('torch', 'PySide6') if m in sys.modules); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"export code loaded {out.stdout.strip()}"
