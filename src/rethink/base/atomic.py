"""Atomic file writes: readers see the old file or the new one, never half of one.

    write_atomically(path, lambda f: np.savez(f, **arrays))
    write_text_atomically(path, text)

The content goes to a temporary file beside `path`, is flushed to disk, and
replaces `path` with one `os.replace`; on any error (Ctrl-C included) the
temporary file is removed and `path` is untouched. This is what makes a
finished run, a checkpoint or a data cache impossible to half-write.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: Path, write: Callable[[IO[bytes]], object], mode: int = 0o644) -> None:
    """Call `write(file)` on a temporary file, then move it onto `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes files private; run folders and caches are shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    write_atomically(path, lambda f: f.write(text.encode()))
