"""Choosing the Keras backend before Keras is imported.

Keras fixes its backend at import time, so the CLI calls `select()` first:

    name = backend.select("torch")   # sets KERAS_BACKEND, checks it is installed
    import keras                      # now on torch

Order of precedence: the explicit argument (`--backend`), then the
`KERAS_BACKEND` environment variable, then the first installed of jax,
torch, tensorflow (the order of GPU throughput in the pre-rethink baseline;
on CPUs tensorflow measured fastest, see docs/benchmarks.md).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from rethink.base import frameworks
from rethink.base.distribution import install_hint
from rethink.base.platform import cache_root

BACKENDS = ("tensorflow", "torch", "jax")
_PREFERENCE = ("jax", "torch", "tensorflow")


class BackendError(RuntimeError):
    """The requested backend cannot be used in this process."""


def installed(name: str) -> bool:
    """Whether the framework behind a backend can be imported (without importing it)."""
    return importlib.util.find_spec(name) is not None


def select(requested: str | None = None, in_process: bool = True) -> tuple[str, str]:
    """Set KERAS_BACKEND for this process; return (backend, how it was chosen).

    Raises BackendError for an unknown or uninstalled backend, or, when this
    process will use Keras itself (`in_process`), when Keras was already
    imported with a different one (a backend cannot change in-process).
    Commands that only start workers (the grid) pass `in_process=False`.
    """
    if requested:
        name, how = requested, "--backend"
    elif os.environ.get("KERAS_BACKEND"):
        name, how = os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    else:
        found = [b for b in _PREFERENCE if installed(b)]
        if not found:
            raise BackendError(
                f"no Keras backend is installed; install one with {install_hint('jax')} "
                "(or [torch], [tensorflow])"
            )
        name, how = found[0], "first installed"
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
    if not installed(name):
        raise BackendError(
            f"backend {name!r} is not installed; install it with {install_hint(name)}"
        )
    keras = sys.modules.get("keras") if in_process else None
    if keras is not None:
        current = keras.backend.backend()
        if current != name:
            raise BackendError(
                f"Keras was already imported with backend {current!r}; "
                f"start a new process to use {name!r}"
            )
    os.environ["KERAS_BACKEND"] = name
    return name, how


def enable_compilation_cache(name: str) -> Path | None:
    """Keep compiled programs across processes, where the backend allows it.

    JAX: a persistent compilation cache in `<rethink cache>/jax`
    (`rethink.base.platform.cache_root`), so a model compiles once per machine,
    not once per run of a grid. `RETHINK_COMPILATION_CACHE=0` turns it off.
    Other backends: nothing to do (returns None). Call before training.
    """
    if os.environ.get("RETHINK_COMPILATION_CACHE", "1") == "0":
        return None
    return frameworks.enable_compilation_cache(name, cache_root())
