"""A folder lock, so that only one `rethink grid` works on a grid folder at a time.

    with FolderLock(grid_dir):      # LockError naming the holder if in use
        ...

`fcntl.flock` on `<folder>/.lock` (on Windows `msvcrt.locking` of its first
byte; both imported only when a lock is taken, so importing rethink works
everywhere): the operating system drops the lock when
the holding process ends in any way (kill -9 included), so a crash never
leaves a folder locked. The file also holds the holder's pid, host and start
time, for the message only. The descriptor is not inheritable, so worker
subprocesses never hold the lock. (flock is advisory and local: it does not
protect a folder shared over NFS by two machines.)
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

LOCK_FILE = ".lock"


class LockError(RuntimeError):
    """The folder is locked by another process."""


def _lock(fd: int) -> None:
    """Lock `fd` exclusively without waiting; OSError if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class FolderLock:
    """An exclusive, non-blocking lock on a folder (which must exist)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise LockError saying who holds it."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # non-inheritable
        try:
            _lock(fd)
        except OSError:
            os.close(fd)
            raise LockError(
                f"{self.folder} is in use by another rethink grid ({holder_text(holder(self.folder))}); "
                "wait for it to finish or stop it first"
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (json.dumps(info) + "\n").encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # the info describes a holder only while one holds it
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def holder(folder: Path) -> dict[str, Any] | None:
    """The pid/host/started written by the lock's holder, if readable."""
    try:
        data = json.loads((Path(folder) / LOCK_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def holder_text(info: dict[str, Any] | None) -> str:
    if not info:
        return "holder unknown"
    return f"pid {info.get('pid')} on {info.get('host')}, since {info.get('started')}"
