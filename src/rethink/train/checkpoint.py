"""A run's checkpoint: model and optimizer state at an epoch end, plus its bookkeeping.

    checkpoint = snapshot(model, step, epoch, meta)   # Keras variables -> NumPy
    checkpoint.save(run.checkpoint_path)             # atomic .npz
    restore(model, Checkpoint.load(path))            # into a freshly built model

The arrays are the Keras model's and optimizer's variables in order, so a
checkpoint written by either training loop (keras or native) resumes in the
other; `meta` holds what the metrics need to continue exactly (windows,
times to fit, best test accuracy), `examples` the per-example history
(`rethink.train.examples`; empty in checkpoints written before it existed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rethink.base.atomic import write_atomically

EXAMPLES = "examples."  # the prefix of the example history's arrays in the .npz


@dataclass
class Checkpoint:
    """Model and optimizer state at an epoch end, plus the run's bookkeeping."""

    step: int
    epoch: int  # epochs completed
    weights: list[np.ndarray]
    optimizer: list[np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, np.ndarray] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        """Write atomically: the previous checkpoint stays valid until replaced."""
        arrays = {f"w{i}": a for i, a in enumerate(self.weights)}
        arrays.update({f"o{i}": a for i, a in enumerate(self.optimizer)})
        arrays.update({f"{EXAMPLES}{k}": a for k, a in self.examples.items()})
        header = {"step": self.step, "epoch": self.epoch, "meta": self.meta}
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        write_atomically(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        with np.load(path) as z:
            header = json.loads(bytes(z["header"]).decode())
            n_w = sum(1 for k in z.files if k.startswith("w"))
            n_o = sum(1 for k in z.files if k.startswith("o"))
            weights = [z[f"w{i}"] for i in range(n_w)]
            optimizer = [z[f"o{i}"] for i in range(n_o)]
            examples = {k[len(EXAMPLES) :]: z[k] for k in z.files if k.startswith(EXAMPLES)}
        return cls(header["step"], header["epoch"], weights, optimizer, header["meta"], examples)


def snapshot(
    model: Any,
    step: int,
    epoch: int,
    meta: dict[str, Any],
    examples: dict[str, np.ndarray] | None = None,
) -> Checkpoint:
    import keras

    weights = [keras.ops.convert_to_numpy(v.value) for v in model.variables]
    opt = [keras.ops.convert_to_numpy(v.value) for v in model.optimizer.variables]
    return Checkpoint(step, epoch, weights, opt, meta, dict(examples or {}))


def restore(model: Any, checkpoint: Checkpoint) -> None:
    """Load a checkpoint's arrays into a freshly built model; ValueError if it does not fit."""
    if len(checkpoint.weights) != len(model.variables) or len(checkpoint.optimizer) != len(
        model.optimizer.variables
    ):
        raise ValueError("checkpoint does not match this model and optimizer")
    pairs = [
        *zip(model.variables, checkpoint.weights, strict=True),
        *zip(model.optimizer.variables, checkpoint.optimizer, strict=True),
    ]
    for var, arr in pairs:
        if tuple(var.shape) != tuple(arr.shape):
            raise ValueError(f"checkpoint shape {arr.shape} does not match {var.path} {var.shape}")
        var.assign(arr)
