"""The torch step as one CUDA graph against the eager step, and its launches per step.

    KERAS_BACKEND=torch python examples/torch_graph_check.py OUT_DIR \
        [--models inception,alexnet,mlp_3x512] [--steps 100] [--profile-steps 10]

For each model, built as a run builds it (`rethink.train.loop.build_model`, the
paper's optimizer and decay schedule), on the same random CIFAR-sized images:

1. `--steps` steps with `--torch-compile graph` (warm-up, one capture, replays) and
   the same steps with `--torch-compile off` (eager, the reference), from the same
   initial weights: the largest loss and weight differences, and whether they are
   equal to float rounding (losses within rtol 2e-3, weights within 2e-2 + 2e-3);
   the wall time of the graph's first chunk (warm-up and capture) and of the eager one;
2. `--profile-steps` more graph steps under `torch.profiler`: CUDA graph launches
   (`cudaGraphLaunch`) and kernel launches (`cudaLaunchKernel` and friends) per
   step, which is one and zero on a GPU when the whole step is one graph (on a CPU
   there is no capture: it counts the step's operators instead).

Writes OUT_DIR/torch-graph-check.json (one row per model) and a Chrome trace per
model (trace-MODEL-graph.json.gz); prints the rows. Exit 1 if a model's graph
and eager steps differ beyond rounding or a step launched more than one graph.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

LAUNCHES = ("cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx")


def train(name: str, mode: str, x: Any, y: Any, batch: int, steps: int) -> dict[str, Any]:
    """`steps` steps of `name` with `--torch-compile mode`; losses, weights, stepper."""
    import numpy as np

    from rethink.spec import RunSpec
    from rethink.train.loop import build_model
    from rethink.train.steppers.torch_stepper import TorchStepper

    spe = len(y) // batch
    spec = RunSpec(model=name, batch_size=batch).resolved(len(y))
    model = build_model(spec, tuple(x.shape[1:]), spe)
    messages: list[str] = []
    stepper = TorchStepper(model, x, y, batch, compile=mode, log=messages.append)
    losses, first_chunk, done, epoch = [], 0.0, 0, 0
    while done < steps:
        stepper.begin_epoch(np.random.default_rng(epoch).permutation(len(y)))
        count = min(spe, steps - done)
        start = time.perf_counter()
        losses.append(stepper.run(0, count, lambda: False)[0])  # reads the device: synced
        if epoch == 0:
            first_chunk = time.perf_counter() - start
        done, epoch = done + count, epoch + 1
    weights = [v.value.detach().cpu().numpy() for v in model.weights]
    return {
        "losses": np.concatenate(losses),
        "weights": weights,
        "stepper": stepper,
        "first_chunk_s": first_chunk,
        "messages": messages,
    }


def launches(stepper: Any, steps: int, trace: Path) -> dict[str, float]:
    """Per-step counts of graph launches, kernel launches and operators, profiled."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        stepper.run(0, steps, lambda: False)
    raw = trace.with_suffix("")
    prof.export_chrome_trace(str(raw))
    with open(raw, "rb") as src, gzip.open(trace, "wb") as dst:
        shutil.copyfileobj(src, dst)
    raw.unlink()
    names = [e.name for e in prof.events()]
    return {
        "graph_launches_per_step": sum(n == "cudaGraphLaunch" for n in names) / steps,
        "kernel_launches_per_step": sum(n in LAUNCHES for n in names) / steps,
        "aten_ops_per_step": sum(n.startswith("aten::") for n in names) / steps,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", default="inception,inception_no_bn,alexnet,mlp_1x512,mlp_3x512")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--profile-steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--images", type=int, default=128 * 40)
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import torch

    if keras.backend.backend() != "torch":
        print("KERAS_BACKEND must be torch", file=sys.stderr)
        return 2
    from rethink.base.frameworks import float32_precision

    precision = float32_precision("torch")  # as a run sets it (env.json)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.images, 28, 28, 3), dtype=np.float32)
    y = rng.integers(0, 10, size=args.images).astype(np.int32)
    rows, ok = [], True
    for name in args.models.split(","):
        graph = train(name, "graph", x, y, args.batch_size, args.steps)
        eager = train(name, "off", x, y, args.batch_size, args.steps)
        loss_diff = float(np.max(np.abs(graph["losses"] - eager["losses"])))
        weight_diff = max(
            float(np.max(np.abs(a - b)))
            for a, b in zip(graph["weights"], eager["weights"], strict=True)
        )
        equal = bool(
            np.allclose(graph["losses"], eager["losses"], rtol=2e-3, atol=2e-4)
            and all(
                np.allclose(a, b, rtol=2e-2, atol=2e-3)
                for a, b in zip(graph["weights"], eager["weights"], strict=True)
            )
        )
        stepper = graph["stepper"]
        stepper.begin_epoch(np.random.default_rng(99).permutation(len(y)))
        counts = launches(stepper, args.profile_steps, args.out / f"trace-{name}-graph.json.gz")
        captured = stepper.graph is not None and stepper.graph.graph is not None
        row = {
            "model": name,
            "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU",
            "float32_precision": precision,
            "steps": args.steps,
            "equal_to_rounding": equal,
            "max_loss_diff": loss_diff,
            "max_weight_diff": weight_diff,
            "captured": captured,
            "graph_first_chunk_s": round(graph["first_chunk_s"], 3),
            "eager_first_chunk_s": round(eager["first_chunk_s"], 3),
            "messages": graph["messages"] + eager["messages"],
            **counts,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        ok = ok and equal and (not captured or counts["graph_launches_per_step"] <= 1)
        keras.backend.clear_session()
    (args.out / "torch-graph-check.json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
