"""A torch profiler trace of rethink's native torch training step, for reading offline.

    KERAS_BACKEND=torch python examples/profile_torch_step.py OUT_DIR \
        [--model inception] [--compile auto] [--warmup 30] [--steps 20]

Builds the model and optimizer exactly as a run does (`rethink.train.loop.build_model`),
puts random CIFAR-sized images on the device in a `TorchStepper` (the native loop's
step, compiled as `--torch-compile` would), runs `--warmup` steps (compilation, CUDA
graph capture, cuDNN autotuning), then records `--steps` steps with
`torch.profiler` (CPU and, on a GPU, CUDA activity). Writes to OUT_DIR:

- trace-MODEL-COMPILE.json.gz: the Chrome trace (open in https://ui.perfetto.dev);
- ops-MODEL-COMPILE.txt: the operator table sorted by device time (or CPU time on a
  CPU), with the wall time per step measured around the profiled steps.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="inception")
    parser.add_argument("--compile", default="auto", help="as rethink run --torch-compile")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import torch
    from torch.profiler import ProfilerActivity, profile

    if keras.backend.backend() != "torch":
        print("KERAS_BACKEND must be torch", file=sys.stderr)
        return 2
    from rethink.spec import RunSpec
    from rethink.train.loop import build_model
    from rethink.train.steppers.torch_stepper import TorchStepper

    bs, total = args.batch_size, args.warmup + args.steps
    n = bs * total
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 28, 28, 3), dtype=np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int32)
    spec = RunSpec(model=args.model, batch_size=bs).resolved(n)
    model = build_model(spec, (28, 28, 3), spe=total)
    messages: list[str] = []
    stepper = TorchStepper(model, x, y, bs, compile=args.compile, log=messages.append)
    stepper.begin_epoch(np.arange(n))
    cuda = torch.cuda.is_available()

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    stepper.run(0, args.warmup, lambda: False)
    sync()
    warm_s = time.perf_counter() - t0
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        t1 = time.perf_counter()
        stepper.run(args.warmup, args.steps, lambda: False)
        sync()
        profiled_s = time.perf_counter() - t1
    # The same steps again without the profiler: its own overhead is not the step's.
    stepper.begin_epoch(np.arange(n))
    t2 = time.perf_counter()
    stepper.run(args.warmup, args.steps, lambda: False)
    sync()
    plain_s = time.perf_counter() - t2

    args.out.mkdir(parents=True, exist_ok=True)
    name = f"{args.model}-{args.compile}"
    raw = args.out / f"trace-{name}.json"
    prof.export_chrome_trace(str(raw))
    with raw.open("rb") as src, gzip.open(str(raw) + ".gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    raw.unlink()
    sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    device = torch.cuda.get_device_name() if cuda else "CPU"
    header = [
        f"model {args.model}, batch {bs}, torch.compile {args.compile} "
        f"(ran: {stepper.compile_mode}), {device}, torch {torch.__version__}",
        f"warm-up: {args.warmup} steps in {warm_s:.2f} s (compilation included)",
        f"profiled: {args.steps} steps in {profiled_s:.3f} s "
        f"({1000 * profiled_s / args.steps:.2f} ms/step under the profiler)",
        f"unprofiled: {args.steps} steps in {plain_s:.3f} s "
        f"({1000 * plain_s / args.steps:.2f} ms/step, {bs * args.steps / plain_s:,.0f} images/s)",
        *messages,
        "",
    ]
    table = prof.key_averages().table(sort_by=sort, row_limit=60, max_name_column_width=70)
    text = "\n".join(header) + table + "\n"
    (args.out / f"ops-{name}.txt").write_text(text)
    print("\n".join(header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
