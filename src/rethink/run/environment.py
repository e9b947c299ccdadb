"""What a run ran on: backend, versions, device, host (for env.json).

`describe_environment()` imports the active backend's framework behind an explicit
backend check, only to name the device; call it after Keras is imported.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np

import rethink

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


def device_name(backend: str) -> str:
    """The accelerator training uses, e.g. 'NVIDIA H100 80GB HBM3', or 'CPU'."""
    try:
        if backend == "jax":
            import jax

            dev = jax.devices()[0]
            return "CPU" if dev.platform == "cpu" else str(dev.device_kind)
        if backend == "torch":
            import torch

            if torch.cuda.is_available():
                return str(torch.cuda.get_device_name(0))
            return "CPU"
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return str(details.get("device_name", gpus[0].name))
            return "CPU"
    except Exception as e:  # a device query must never fail a run
        return f"unknown ({type(e).__name__})"
    return "CPU"


def describe_environment(backend: str) -> dict[str, Any]:
    """Versions, device and host of this process, for env.json."""
    return {
        "backend": backend,
        "keras_version": _version("keras"),
        "backend_version": _version(*_DISTRIBUTIONS.get(backend, (backend,))),
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "rethink_version": rethink.__version__,
        "rethink_commit": source_commit(),
        "device": device_name(backend),
        "cuda": cuda_versions(backend),
        "host": socket.gethostname(),
        "platform": platform.platform(),
    }


def _output(
    argv: list[str], timeout_s: float, env: dict[str, str] | None = None
) -> list[str] | None:
    """The non-empty lines a command prints, or None if it cannot run, times out or fails."""
    try:
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, env=env, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def _nvidia_smi(*args: str) -> list[str] | None:
    """What `nvidia-smi ARGS` prints, or None without a working one (no NVIDIA driver)."""
    tool = shutil.which("nvidia-smi")
    return None if tool is None else _output([tool, *args], timeout_s=20)


def source_commit() -> str | None:
    """The git commit of the rethink checkout running (an editable install), with
    "+dirty" when it has uncommitted changes; None for an installed package."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(rethink.__file__))))
    git = shutil.which("git")
    if git is None or not os.path.isdir(os.path.join(root, ".git")):
        return None
    head = _output([git, "-C", root, "rev-parse", "HEAD"], timeout_s=10)
    if not head:
        return None
    dirty = _output([git, "-C", root, "status", "--porcelain", "--untracked-files=no"], 10)
    return head[0] + ("+dirty" if dirty else "")


def nvidia_driver() -> str | None:
    """The NVIDIA driver version (`nvidia-smi`), or None without one."""
    lines = _nvidia_smi("--query-gpu=driver_version", "--format=csv,noheader")
    return lines[0] if lines else None


def cuda_versions(backend: str) -> dict[str, str | None] | None:
    """The driver, CUDA and cuDNN versions the backend runs with; None on a machine
    without an NVIDIA driver. A framework that cannot say gives None for that field."""
    driver = nvidia_driver()
    if driver is None:
        return None
    cuda = cudnn = None
    try:
        if backend == "torch":
            import torch

            cuda = torch.version.cuda
            version = torch.backends.cudnn.version()
            cudnn = None if version is None else str(version)
        elif backend == "tensorflow":
            import tensorflow as tf

            info = tf.sysconfig.get_build_info()
            cuda, cudnn = info.get("cuda_version"), info.get("cudnn_version")
        elif backend == "jax":
            import jax

            dev = jax.devices()[0]
            cuda = str(getattr(dev.client, "platform_version", "")) or None
    except Exception:  # versions are information: never fail a run for them
        pass
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
    "jax": f"{rethink.install_hint('jax-cuda12')} (or [jax-cuda13])",
    "tensorflow": rethink.install_hint("tensorflow-cuda"),
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
        "import keras; from rethink.run.environment import device_name; "
        "print(device_name(keras.backend.backend()))"
    )
    lines = _output(
        [sys.executable, "-c", code], timeout_s, env=dict(os.environ, KERAS_BACKEND=backend)
    )
    return lines[-1] if lines else None
