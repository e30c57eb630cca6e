"""Guard against a PySide6 reference-count bug that aborts long editing sessions on Python 3.11.

Why: PySide6-Essentials 6.12.0 on CPython 3.11 returns None from void C++ methods without taking a
reference to it: every `QObject.setObjectName(...)`, `QLabel.setText(...)`, `QSlider.setValue(...)`
lowers `sys.getrefcount(None)` by one. A slider drag makes thousands of such calls; when None's count
reaches zero CPython aborts with "Fatal Python error: none_dealloc: deallocating None" (seen at exit of
`bench --ui` on demo-face). From Python 3.12 on, None is immortal and the bug is harmless.

The guard probes for the bug and, only when it is present, gives None a very large reference count
(None is never freed anyway, so this changes nothing else). The real fix is upstream: a PySide6 without
the bug, or Python >= 3.12.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PROBE_CALLS = 16
_EXTRA_REFS = 1 << 40
_applied = False


def none_refcount_leak_per_call() -> float:
    """How many references to None one void PySide6 call loses (0 on a correct build)."""
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        obj.setObjectName("probe")
    after = sys.getrefcount(None)
    return max(0.0, (before - after) / _PROBE_CALLS)


def protect_none_refcount() -> bool:
    """Apply the guard once if this Python/PySide6 pair loses references to None; True if applied."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if none_refcount_leak_per_call() < 0.5:
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += _EXTRA_REFS
    _applied = True
    import PySide6

    log.info(
        "PySide6 %s drops references to None on Python %d.%d; protected None's reference count",
        PySide6.__version__,
        *sys.version_info[:2],
    )
    return True
