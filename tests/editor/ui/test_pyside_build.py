"""The installed PySide6 must not leak references to None (6.12.0 on CPython 3.11 does; pyproject excludes it).

Why: every void Qt call on such a build lowers None's reference count; a long slider drag then aborts the
interpreter with "deallocating None". This test catches an environment that slipped past the pin.
"""

from __future__ import annotations

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on; the leak is harmless")
def test_void_qt_calls_keep_none_refcount():
    from PySide6.QtCore import QObject

    obj = QObject()
    obj.setObjectName("warm-up")
    before = sys.getrefcount(None)
    for _ in range(1000):
        obj.setObjectName("probe")
    assert before - sys.getrefcount(None) < 10, "this PySide6 build leaks references to None: install another version"
