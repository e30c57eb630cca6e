"""The None reference-count guard keeps long sessions alive on PySide6 builds that leak None."""

from __future__ import annotations

import sys

import editor.ui  # noqa: F401 - importing the package applies the guard
from editor.ui.pyside_workarounds import none_refcount_leak_per_call


def test_many_void_calls_cannot_exhaust_none():
    from PySide6.QtCore import QObject

    obj = QObject()
    for _ in range(20000):
        obj.setObjectName("x")
    leak = none_refcount_leak_per_call()
    # on a build that leaks, the guard must leave None far from zero; on a correct one nothing leaks
    assert leak == 0 or sys.getrefcount(None) > 10**12
