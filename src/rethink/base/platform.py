"""The machine a process runs on: versions, host, GPUs, memory, rethink's cache folder.

    describe_environment("jax")   # env.json's backend, versions, device, CUDA, host
    visible_gpus()                # ('0', '1'): what CUDA_VISIBLE_DEVICES or nvidia-smi show
    probe_device("torch")         # the device a new torch process trains on (a subprocess)
    host_memory(); host_info()    # bytes available now; CPU model, count, platform
    cache_root()                  # $RETHINK_CACHE, else ~/.cache/rethink

No framework is imported here; what only the framework can say (the device's
name, its CUDA build, GPU memory) comes from `rethink.base.frameworks`, which
`describe_environment` calls: call it after Keras is imported.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rethink.base.distribution import __version__, install_hint
from rethink.base.frameworks import device_name, float32_precision, framework_cuda
from rethink.base.process import lines, python_lines

_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "torch": ("torch",),
    "jax": ("jax",),
}


def _version(*names: str) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def describe_environment(backend: str) -> dict[str, Any]:
    """Versions, device and host of this process, for env.json."""
    return {
        "backend": backend,
        "keras_version": _version("keras"),
        "backend_version": _version(*_DISTRIBUTIONS.get(backend, (backend,))),
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "rethink_version": __version__,
        "rethink_commit": source_commit(),
        "device": device_name(backend),
        # As training computes (rethink.train.loop.train sets torch's to JAX's).
        "float32_precision": float32_precision(backend),
        "cuda": cuda_versions(backend),
        "host": socket.gethostname(),
        "platform": platform.platform(),
    }


def _nvidia_smi(*args: str) -> list[str] | None:
    """What `nvidia-smi ARGS` prints, or None without a working one (no NVIDIA driver)."""
    tool = shutil.which("nvidia-smi")
    return None if tool is None else lines([tool, *args], timeout_s=20)


def source_commit() -> str | None:
    """The git commit of the rethink checkout running (an editable install), with
    "+dirty" when it has uncommitted changes; None for an installed package."""
    root = str(Path(__file__).resolve().parents[3])  # src/rethink/base/platform.py
    git = shutil.which("git")
    if git is None or not os.path.isdir(os.path.join(root, ".git")):
        return None
    head = lines([git, "-C", root, "rev-parse", "HEAD"], timeout_s=10)
    if not head:
        return None
    dirty = lines([git, "-C", root, "status", "--porcelain", "--untracked-files=no"], 10)
    return head[0] + ("+dirty" if dirty else "")


def nvidia_driver() -> str | None:
    """The NVIDIA driver version (`nvidia-smi`), or None without one."""
    found = _nvidia_smi("--query-gpu=driver_version", "--format=csv,noheader")
    return found[0] if found else None


def cuda_versions(backend: str) -> dict[str, str | None] | None:
    """The driver, CUDA and cuDNN versions the backend runs with; None on a machine
    without an NVIDIA driver. A framework that cannot say gives None for that field."""
    driver = nvidia_driver()
    if driver is None:
        return None
    cuda, cudnn = framework_cuda(backend)
    return {"driver": driver, "cuda": cuda, "cudnn": cudnn}


def visible_gpus() -> tuple[str, ...]:
    """The NVIDIA GPUs a worker could use, as CUDA_VISIBLE_DEVICES entries; () if none.

    CUDA_VISIBLE_DEVICES, when set, is the answer; otherwise `nvidia-smi -L`
    counts them. No framework is imported (the grid process trains nothing).
    """
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        entries = tuple(g.strip() for g in given.split(",") if g.strip())
        return () if entries in ((), ("-1",)) else entries
    n = sum(1 for line in _nvidia_smi("-L") or [] if line.startswith("GPU "))
    return tuple(str(i) for i in range(n))


# How to get each backend's CUDA build (README, "Install").
CUDA_INSTALL = {
    "jax": f"{install_hint('jax-cuda12')} (or [jax-cuda13])",
    "tensorflow": install_hint("tensorflow-cuda"),
    "torch": "torch's CUDA wheels from its own index (README, Install)",
}


def gpu_unseen_warning(backend: str, device: str | None, gpus: Sequence[str]) -> str | None:
    """One line when NVIDIA GPUs are visible but `backend` trains on the CPU, else None."""
    if not gpus or device != "CPU":
        return None
    return (
        f"warning: {len(gpus)} NVIDIA GPU(s) visible (nvidia-smi), but the {backend} backend "
        f"sees none and trains on the CPU; install its CUDA build: {CUDA_INSTALL[backend]}"
    )


def probe_device(backend: str, timeout_s: float = 120.0) -> str | None:
    """The device a new process of `backend` trains on (`device_name`), or None if the
    probe fails; a subprocess, so this process imports no framework."""
    code = (
        "import keras; from rethink.base.frameworks import device_name; "
        "print(device_name(keras.backend.backend()))"
    )
    found = python_lines(code, backend, timeout_s)
    return found[-1] if found else None


def host_memory() -> int:
    """Bytes of host memory available now (MemAvailable, else the free physical pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def host_info() -> dict[str, Any]:
    """The machine: name, CPU model and count, platform, Python."""
    return {
        "hostname": socket.gethostname(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of rethink's caches (decoded data, compiled programs): `cache_dir`,
    else $RETHINK_CACHE, else $XDG_CACHE_HOME/rethink, else ~/.cache/rethink."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("RETHINK_CACHE"):
        return Path(os.environ["RETHINK_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "rethink"
    return Path.home() / ".cache" / "rethink"
