"""Running another process: its printed lines, or a Python of this rethink on a backend.

    lines(["git", "rev-parse", "HEAD"], timeout_s=10)    # ['3f2a...'] or None
    run_python(["-m", "rethink.bench", a, b], "torch")     # CompletedProcess, text output

Every child that needs a Keras backend gets it here: its own process with
KERAS_BACKEND set (Keras fixes the backend at import, so a process never
switches) and this checkout's `src/` first on PYTHONPATH, so it runs the same
rethink as its parent. Pure Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

SOURCE = str(Path(__file__).resolve().parents[2])  # the folder holding the rethink package


def lines(
    argv: Sequence[str], timeout_s: float | None = None, env: Mapping[str, str] | None = None
) -> list[str] | None:
    """The non-empty lines a command prints, or None if it cannot run, times out or fails."""
    try:
        out = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=None if env is None else dict(env),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def backend_env(backend: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a child on `backend`, running this rethink."""
    env = dict(os.environ, KERAS_BACKEND=backend, **(extra or {}))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SOURCE, env.get("PYTHONPATH")) if p)
    return env


def run_python(
    args: Sequence[str], backend: str, timeout_s: float | None = None
) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in a new process on `backend` (`backend_env`), its output captured.

    Raises subprocess.TimeoutExpired past `timeout_s`, OSError if it cannot start."""
    return subprocess.run(
        [sys.executable, *args],
        env=backend_env(backend),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def python_lines(code: str, backend: str, timeout_s: float | None = None) -> list[str] | None:
    """The lines `python -c CODE` prints on `backend`, or None if it fails (see `lines`)."""
    return lines([sys.executable, "-c", code], timeout_s, env=backend_env(backend))
