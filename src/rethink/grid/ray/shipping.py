"""Run files from the nodes to the driver, without Ray: the board and the shipper.

    board = ProgressBoard()                      # on the driver's node (a Ray actor there)
    shipper = Shipper(run_dir, lambda files: board.put(run_id, files))
    shipper.ship()                               # progress.json, or all files at a checkpoint
    apply_files(driver_run_dir, files)           # the driver writes what arrived, atomically

`rethink.grid.ray.task` (the node's side) and `rethink.grid.ray.launcher` (the
driver's) wire these to Ray; here they are plain Python, testable without a
cluster. A file gone from the node travels as None and is removed on the
driver: so in a compact grid (`rethink grid --compact`), whose workers remove
their checkpoint once finished, the last shipment of a finished run removes
the checkpoint instead of sending it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from rethink.base.atomic import write_atomically
from rethink.grid.launch import WORKER_LOG
from rethink.run.folder import CHECKPOINT, ENV, METRICS, PROGRESS, RESULT, SPEC
from rethink.run.model import MODEL_RECORD, MODEL_SOURCE

# A model of yours travels too: its record and the copy of its file (rethink.run.model).
SHIPPED = (SPEC, ENV, METRICS, CHECKPOINT, PROGRESS, RESULT, WORKER_LOG, MODEL_RECORD, MODEL_SOURCE)

Files = dict[str, bytes | None]
"""Run-folder files by name; None: the file is gone."""


class ProgressBoard:
    """What remote attempts report, for the driver to collect (a Ray actor on its node).

    Per run, the latest copy of each shipped file with the version it came in,
    and the node its latest attempt started on. Plain Python: `put`, `started`
    and `checkout` are the node's side, `changes`, `seed` and `forget` the driver's.
    """

    def __init__(self) -> None:
        self._version = 0
        self._files: dict[str, dict[str, tuple[int, bytes | None]]] = {}
        self._starts: dict[str, tuple[int, dict[str, Any]]] = {}

    def put(self, run_id: str, files: Files) -> int:
        """Files from a node; the driver will write them."""
        self._version += 1
        self._files.setdefault(run_id, {}).update(
            {name: (self._version, data) for name, data in files.items()}
        )
        return self._version

    def seed(self, run_id: str, files: Files) -> None:
        """The driver's own copy, for attempts to start from; not sent back to it."""
        self._files.setdefault(run_id, {}).update({n: (0, d) for n, d in files.items()})

    def started(self, run_id: str, node: dict[str, Any]) -> None:
        self._version += 1
        self._starts[run_id] = (self._version, node)

    def checkout(self, run_id: str) -> dict[str, bytes]:
        """The newest copy of a run's files, for an attempt to start from."""
        return {n: d for n, (_, d) in self._files.get(run_id, {}).items() if d is not None}

    def changes(self, since: int) -> tuple[int, dict[str, Files], dict[str, dict[str, Any]]]:
        """(version now, files put after `since` by run, attempts started after `since`)."""
        files = {
            run: {n: d for n, (v, d) in named.items() if v > since}
            for run, named in self._files.items()
        }
        starts = {run: node for run, (v, node) in self._starts.items() if v > since}
        return self._version, {r: f for r, f in files.items() if f}, starts

    def forget(self, run_id: str) -> None:
        self._files.pop(run_id, None)
        self._starts.pop(run_id, None)


class Board(Protocol):
    """The node's view of the board (the actor through Ray, or a ProgressBoard itself)."""

    def put(self, run_id: str, files: Files) -> int: ...
    def started(self, run_id: str, node: dict[str, Any]) -> None: ...
    def checkout(self, run_id: str) -> dict[str, bytes]: ...


Signature = tuple[int, int, int]  # inode, size, mtime_ns


def signature(path: Path) -> Signature | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class Shipper:
    """Sends a run folder's changed files: progress each time, everything at a checkpoint."""

    def __init__(self, run_dir: Path, send: Callable[[Files], Any]) -> None:
        self.run_dir = run_dir
        self.send = send
        self._sent: dict[str, Signature | None] = {}

    def mark(self) -> None:
        """The files as they are now count as sent (just unpacked from the board)."""
        self._sent = {n: signature(self.run_dir / n) for n in SHIPPED}

    def ship(self, everything: bool = False) -> Files:
        """Send what changed: progress.json, or all of SHIPPED at a new checkpoint (or
        with `everything`); a file remembered as sent only once `send` returned."""
        checkpoint = signature(self.run_dir / CHECKPOINT) != self._sent.get(CHECKPOINT)
        names = SHIPPED if everything or checkpoint else (PROGRESS,)
        files: Files = {}
        seen: dict[str, Signature | None] = {}
        for name in names:
            data, sig = _read(self.run_dir / name)
            if sig != self._sent.get(name):
                files[name], seen[name] = data, sig
        if files:
            self.send(files)
            self._sent.update(seen)
        return files


def _read(path: Path) -> tuple[bytes | None, Signature | None]:
    """A file's bytes with the signature of exactly those bytes (None, None if absent)."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            data = f.read()
    except OSError:
        return None, None
    return data, (st.st_ino, st.st_size, st.st_mtime_ns)


def apply_files(run_dir: Path, files: Mapping[str, bytes | None]) -> None:
    """Write shipped files into a run folder, each atomically; None removes a file."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if name not in SHIPPED:  # never a path from elsewhere
            raise ValueError(f"not a shipped run file: {name!r}")
        path = run_dir / name
        if data is None:
            path.unlink(missing_ok=True)
            continue
        write_atomically(path, lambda f, data=data: f.write(data))  # type: ignore[misc]


def local_files(run_dir: Path) -> Files:
    """The shipped files present in a run folder on this machine."""
    files: Files = {}
    for name in SHIPPED:
        data, _ = _read(run_dir / name)
        if data is not None and name not in (RESULT, PROGRESS):
            files[name] = data
    return files
