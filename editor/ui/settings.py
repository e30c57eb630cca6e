"""Where the editor remembers things (recent networks, game folder, window layout).

Why a factory: tests and portable installs must never touch the user's real settings. With
CASTMAKER_DATA_DIR set, settings live in an INI file inside that folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "Castmaker"
APPLICATION = "Castmaker"
MAX_RECENT = 8


def make_settings() -> QSettings:
    """The user's settings, or an INI file under $CASTMAKER_DATA_DIR when that is set."""
    override = os.environ.get("CASTMAKER_DATA_DIR")
    if override:
        Path(override).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(override) / "castmaker-settings.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANISATION, APPLICATION)


def read_list(settings: QSettings, key: str) -> list[str]:
    value = settings.value(key, [])
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def remember_recent(settings: QSettings, key: str, item: str) -> list[str]:
    """Move `item` to the front of the list under `key` (at most MAX_RECENT entries)."""
    items = [i for i in read_list(settings, key) if i != item]
    items.insert(0, item)
    items = items[:MAX_RECENT]
    settings.setValue(key, items)
    settings.sync()
    return items


THREADS_KEY = "cpu/threads"


def read_threads(settings: QSettings) -> int | None:
    """The "CPU threads" setting: a count >= 1, or None for automatic (unset, 0, or not a number)."""
    value = settings.value(THREADS_KEY, 0)
    try:
        count = int(value)
    except (TypeError, ValueError):
        return None
    return count if count >= 1 else None


def write_threads(settings: QSettings, count: int | None) -> None:
    """Save the "CPU threads" setting (None or 0: automatic) and flush it to disk."""
    settings.setValue(THREADS_KEY, int(count or 0))
    settings.sync()
