"""What only the backend framework itself can say or do: its device, CUDA, memory, seeds.

    device_name("jax")             # 'NVIDIA H100 80GB HBM3' or 'CPU'
    framework_cuda("torch")        # (CUDA, cuDNN) versions the framework was built with
    free_device_memory("torch")    # free bytes of the GPU, or None on a CPU
    reset_peak_memory("torch"); peak_memory("torch")   # a benchmark's peak
    seed_framework("torch", 0)     # the framework's own generator
    float32_precision("torch")     # 'tf32' on a GPU: float32 matmuls/convolutions as JAX's
    enable_compilation_cache("jax", root)              # JAX's persistent cache

This module and the two native steppers (`rethink.train.steppers.jax_stepper`,
`torch_stepper`) are the only places that import torch, tensorflow or jax
(the import contract in pyproject.toml checks it). Each function imports the
framework of the backend it is asked about, behind an explicit check, and only
when called: importing this module imports none of them. A query never fails
its caller: where the framework cannot say, the answer is None or "unknown".
"""

from __future__ import annotations

import sys
from pathlib import Path


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


def on_cpu(backend: str) -> bool:
    """Whether `backend` computes on the CPU in this process."""
    return device_name(backend) == "CPU"


def framework_cuda(backend: str) -> tuple[str | None, str | None]:
    """(CUDA, cuDNN) versions the framework runs with; None where it cannot say."""
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
    return cuda, cudnn


def free_device_memory(backend: str) -> int | None:
    """Free bytes of the GPU the backend computes on, or None (a CPU, TensorFlow, unknown)."""
    if on_cpu(backend):
        return None
    try:
        if backend == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            if "bytes_limit" in stats:
                return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
        if backend == "torch":
            import torch

            free, _ = torch.cuda.mem_get_info()
            return int(free)
    except Exception:  # a query that fails only loses the check
        return None
    return None


def reset_peak_memory(backend: str) -> None:
    """Start a new peak where the framework allows it (torch, TensorFlow on a GPU)."""
    if on_cpu(backend):
        return
    try:
        if backend == "torch":
            import torch

            torch.cuda.reset_peak_memory_stats()
        elif backend == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.reset_memory_stats("GPU:0")
    except Exception:  # a memory query must never fail a benchmark
        pass


def peak_memory(backend: str) -> tuple[int | None, str]:
    """(bytes, what was measured); bytes is None where the framework cannot say."""
    if on_cpu(backend):
        import resource  # Unix only: imported where used

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return rss * (1 if sys.platform == "darwin" else 1024), "process peak RSS"
    try:
        if backend == "torch":
            import torch

            return int(torch.cuda.max_memory_allocated()), "torch max_memory_allocated"
        if backend == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            peak = stats.get("peak_bytes_in_use")
            return (None if peak is None else int(peak)), "jax peak_bytes_in_use (process)"
        if backend == "tensorflow":
            import tensorflow as tf

            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"]), "tf GPU peak"
    except Exception:
        pass
    return None, "unavailable"


def seed_framework(backend: str, seed: int) -> None:
    """Seed the framework's own generator where Keras's initializers do not reach it
    (torch); the others draw from Python's and NumPy's, seeded by the caller."""
    if backend == "torch":
        import torch

        torch.manual_seed(seed)


def float32_precision(backend: str, apply: bool = False) -> str:
    """How float32 matmuls and convolutions compute; `apply`: first make them compute
    as JAX's default does (what training does before it builds a model).

    JAX (XLA) and TensorFlow use TensorFloat-32 for both on GPUs that have it;
    torch's own defaults differ (matmuls in full float32, convolutions in TF32),
    so on a CUDA GPU `apply` sets torch to TF32 for both. Returns "tf32", "ieee"
    (full float32), "cpu" (a CPU: float32) or, where the two differ, both; for env.json.
    """
    try:
        if on_cpu(backend):
            return "cpu"
        if backend == "torch":
            import torch

            cuda, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
            if hasattr(cudnn, "conv"):  # torch >= 2.9; never mix it with allow_tf32
                if apply:
                    cuda.fp32_precision = cudnn.conv.fp32_precision = "tf32"
                matmul, conv = str(cuda.fp32_precision), str(cudnn.conv.fp32_precision)
            else:
                if apply:
                    cuda.allow_tf32 = cudnn.allow_tf32 = True
                matmul = "tf32" if cuda.allow_tf32 else "ieee"
                conv = "tf32" if cudnn.allow_tf32 else "ieee"
            return matmul if matmul == conv else f"matmul {matmul}, convolution {conv}"
        if backend == "jax":
            import jax

            chosen = getattr(jax.config, "jax_default_matmul_precision", None)
            return "tf32" if chosen in (None, "default", "tensorfloat32") else str(chosen)
        if backend == "tensorflow":
            import tensorflow as tf

            return "tf32" if tf.config.experimental.tensor_float_32_execution_enabled() else "ieee"
    except Exception as e:  # information (and a speed setting): never fail a run
        return f"unknown ({type(e).__name__})"
    return "unknown"


def enable_compilation_cache(backend: str, root: Path) -> Path | None:
    """Keep compiled programs in `root/jax` across processes (JAX; others: None).

    A model then compiles once per machine, not once per run of a grid
    (measured on a 2-core CPU: a small Inception smoke run from 27 s to 17 s).
    """
    if backend != "jax":
        return None
    import jax

    path = root / "jax"
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
