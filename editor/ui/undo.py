"""Undo for recipe edits: every change of the recipe is one QUndoCommand holding the before/after values.

Why whole recipes: a recipe is a small immutable value (w arrays are shared, not copied), so storing
both sides is cheap and undo can never drift from what was rendered. A slider drag merges into one
command (same gesture id), so one Ctrl+Z undoes the whole drag.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtGui import QUndoCommand

MERGE_ID = 0x0CA5


class ValueCommand(QUndoCommand):
    """Set a plain value to `after` (redo) or back to `before` (undo) through `apply`; consecutive commands of the
    same class with the same `merge_key` (one slider drag) merge into one undo step."""

    merge_id = MERGE_ID

    def __init__(
        self,
        before: Any,
        after: Any,
        text: str,
        apply: Callable[[Any], None],
        merge_key: Hashable | None = None,
    ) -> None:
        super().__init__(text)
        self.before = before
        self.after = after
        self._apply = apply
        self.merge_key = merge_key

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)

    def id(self) -> int:  # noqa: A003 - Qt API
        return self.merge_id if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt API
        if type(other) is not type(self) or other.merge_key is None or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        self.setText(other.text())
        return True


class RecipeCommand(ValueCommand):
    """A recipe edit (every gesture in the editor is one)."""
