"""What the backend's device offers the solve: float64, a GPU, and free memory.

    enable_float64("jax", "float64")       # before JAX starts: its x64 on
    dtype, note = solve_dtype("float64")   # ("float32", "JAX without x64 ...") on plain JAX
    accelerated()                          # True on a GPU
    available_memory()                     # (bytes, "GPU" or "host")

Keras itself truncates float64 to float32 on JAX unless JAX started with
x64 enabled (`JAX_ENABLE_X64=1` before jax is imported: `enable_float64`,
which `rethink kernel` calls), so the dtype is probed, not assumed. The GPU
and its memory are asked of the framework behind an explicit backend check
(JAX: the first device's memory_stats; torch: cuda.mem_get_info; TensorFlow:
no portable query, so the host's memory is used and the GPU's is not checked).
Host memory is MemAvailable of /proc/meminfo, else the physical pages.
"""

from __future__ import annotations

import os
import sys
import warnings

from rethink.base.frameworks import free_device_memory, on_cpu
from rethink.base.platform import host_memory


def enable_float64(backend: str, dtype: str) -> None:
    """Turn on JAX's float64 for a float64 solve, if JAX has not started yet.

    JAX reads JAX_ENABLE_X64 once, when it is imported; a value already set is kept.
    """
    if backend == "jax" and dtype == "float64" and "jax" not in sys.modules:
        os.environ.setdefault("JAX_ENABLE_X64", "1")


def solve_dtype(requested: str) -> tuple[str, str | None]:
    """The dtype the solve will really use, and why it differs from `requested`."""
    if requested not in ("float64", "float32"):
        raise ValueError(f"unknown dtype {requested!r}; choose float64 or float32")
    if requested == "float32":
        return "float32", None
    import keras
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = keras.ops.convert_to_tensor(np.zeros(1), dtype="float64")
    if keras.backend.standardize_dtype(probe.dtype) == "float64":
        return "float64", None
    return "float32", (
        f"{keras.backend.backend()} gives no float64 in this process "
        "(JAX: set JAX_ENABLE_X64=1 before it starts); solving in float32"
    )


def _backend() -> str:
    import keras

    return str(keras.backend.backend())


def accelerated() -> bool:
    """Whether the backend computes on a GPU (or another accelerator)."""
    return not on_cpu(_backend())


def available_memory() -> tuple[int, str]:
    """(bytes, where): the GPU's free memory when known, else the host's."""
    gpu = free_device_memory(_backend())
    if gpu is not None:
        return gpu, "GPU"
    return host_memory(), "host"
