"""Atomic, all-or-nothing file writes: a game folder or output folder is never left half-written.

`write_atomic` replaces one file (temp file in the same folder, fsync, os.replace). `FileTransaction`
stages several files, then swaps them all in; if any step fails, every file it already replaced is put
back and every file it created is removed, so the folder looks exactly as before.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from renderer.fileio import create_temp_beside

log = logging.getLogger(__name__)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (best effort: some file systems refuse to open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_temp_beside(path: Path, data: bytes) -> Path:
    """Write `data` to a fresh hidden temp file in `path`'s folder, fsync'ed; return the temp path.

    The temp file gets the permissions of the file it will replace, or the umask's default for a new one
    (renderer.fileio.create_temp_beside), so a game's images stay readable by the web server or the
    other users that read them before.
    """
    fd, tmp = create_temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Replace `path` with `data` atomically (readers see the old file or the new one, never a mix)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp_beside(p, data)
    try:
        os.replace(tmp, p)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    _fsync_dir(p.parent)
    return p


def _restore(target: Path, data: bytes) -> None:
    """Put old bytes back: atomically if possible, else by rewriting the file in place."""
    try:
        tmp = write_temp_beside(target, data)
        try:
            os.replace(tmp, target)
            return
        except OSError:
            tmp.unlink()
    except OSError:
        pass
    with open(target, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@dataclass
class _Staged:
    target: Path
    data: bytes
    temp: Path | None = None
    backup: Path | None = None  # copy of the previous file, when the target existed
    existed: bool = False
    replaced: bool = False


@dataclass
class FileTransaction:
    """Stage files with `add`, then `commit` them all or none.

    Existing targets are copied into `backup_dir` (mirroring their path relative to `root`) before they
    are replaced; those copies are the backups the user keeps. Folders the transaction had to create are
    removed again on rollback.
    """

    root: Path
    backup_dir: Path | None = None
    _staged: list[_Staged] = field(default_factory=list)
    _made_dirs: list[Path] = field(default_factory=list)

    def add(self, target: str | os.PathLike, data: bytes) -> None:
        self._staged.append(_Staged(Path(target), bytes(data)))

    @property
    def targets(self) -> list[Path]:
        return [s.target for s in self._staged]

    def _mkdirs(self, folder: Path) -> None:
        missing: list[Path] = []
        p = folder
        while not p.exists():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            d.mkdir()
            self._made_dirs.append(d)

    def commit(self) -> list[Path]:
        """Write every staged file; on any failure undo everything and re-raise. Returns backup paths."""
        try:
            for s in self._staged:  # 1. every new file's bytes on disk first (disk full fails here)
                self._mkdirs(s.target.parent)
                s.temp = write_temp_beside(s.target, s.data)
            for s in self._staged:  # 2. keep copies of what will be replaced
                if s.target.exists():
                    s.existed = True
                    if self.backup_dir is not None:
                        rel = s.target.resolve().relative_to(self.root.resolve())
                        backup = self.backup_dir / rel
                        self._mkdirs(backup.parent)
                        shutil.copy2(s.target, backup)
                        s.backup = backup
            for s in self._staged:  # 3. swap them in, in the order given
                assert s.temp is not None
                if s.existed and s.backup is None:
                    # no backup folder: keep the old bytes beside it so a rollback can restore them
                    s.backup = write_temp_beside(s.target, s.target.read_bytes())
                os.replace(s.temp, s.target)
                s.temp = None
                s.replaced = True
            for folder in {s.target.parent for s in self._staged}:
                _fsync_dir(folder)
        except BaseException:
            self._rollback()
            raise
        backups = []
        for s in self._staged:
            if s.backup is not None and self.backup_dir is None:
                s.backup.unlink()  # it was only a rollback copy
            elif s.backup is not None:
                backups.append(s.backup)
        return backups

    def _rollback(self) -> None:
        for s in reversed(self._staged):
            try:
                if s.replaced:
                    if s.existed and s.backup is not None:
                        _restore(s.target, s.backup.read_bytes())
                    elif not s.existed:
                        s.target.unlink()
                if s.temp is not None and s.temp.exists():
                    s.temp.unlink()
                if s.backup is not None and s.backup.exists():
                    s.backup.unlink()
            except OSError:
                log.exception("rollback could not restore %s", s.target)
        for d in reversed(self._made_dirs):
            try:
                d.rmdir()
            except OSError:
                log.warning("rollback left folder %s (not empty)", d)
