"""A run's model in its folder: how to rebuild a model of yours, and what env.json says of it.

    record_model(run_dir, spec.model)     # model.json, and model.py: a copy of its file
    adopt_model(run_dir)                  # this process builds the run's model as recorded
    describe_model(spec.model, (28, 28, 3), 10)   # env.json's parameter count and summary

A run of a model of yours (`rethink.models.register`, or a reference
"module:builder" / "file.py:builder") keeps in its folder:

    model.json   model (as spec.json names it), kind ("file", "module" or
                 "registered"), builder (the import path "module:name" or
                 "file.py:name"), file (where it was, absolute) and its sha256,
                 source ("model.py" where copied), output, learning_rate, batch_norm
    model.py     a copy of the builder's file (file and registered kinds)

so that --resume, grid workers, Ray nodes (which may not have the file: it
travels with the run's files) and `rethink.models.load` build the model from
the very code the run started with. The paper's models need neither.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from rethink.base.atomic import write_atomically, write_text_atomically
from rethink.models.custom import SOURCE_COPY, ModelError, configure, provenance
from rethink.spec.architectures import CUSTOM, REGISTRY, is_custom, parse_reference

MODEL_RECORD = "model.json"
MODEL_SOURCE = SOURCE_COPY
_COPIED = ("file", "registered")  # kinds whose file the run folder keeps

_described: dict[tuple[str, tuple[int, ...], int], dict[str, Any]] = {}


def record_model(run_dir: Path, name: str) -> None:
    """Write model.json (and model.py, the builder's file) into `run_dir` for model
    `name` of yours, unless the folder has them already (the run's, kept on resume).
    ModelError if the builder's file cannot be found or read."""
    if not is_custom(name) or (run_dir / MODEL_RECORD).exists():
        return
    record = provenance(name)
    record["source"] = None
    if record["kind"] in _COPIED and record["file"]:
        try:
            data = Path(record["file"]).read_bytes()
        except OSError as e:
            raise ModelError(f"cannot read model file {record['file']}: {e.strerror}") from None
        record["sha256"] = hashlib.sha256(data).hexdigest()
        write_atomically(run_dir / MODEL_SOURCE, lambda f: f.write(data))
        record["source"] = MODEL_SOURCE
    write_text_atomically(run_dir / MODEL_RECORD, json.dumps(record, indent=2) + "\n")


def adopt_model(run_dir: Path, if_unknown: bool = False) -> str | None:
    """Have this process build `run_dir`'s model of yours as its model.json says: from
    its copy (model.py), with its output and learning rate. A model registered in this
    process by name keeps its builder. Returns the model's name, or None without a
    record. `if_unknown`: only where this process would not know the name (a spec read
    elsewhere). ModelError if the copy is not the file the record names (its sha256)."""
    try:  # (rethink.run.folder reads specs through here: its read_json is not for us)
        record = json.loads((run_dir / MODEL_RECORD).read_text())
    except (OSError, ValueError):
        record = None
    record = record if isinstance(record, dict) else None
    name = None if record is None else record.get("model")
    if record is None or not isinstance(name, str) or name in REGISTRY:
        return None
    if if_unknown and (name in CUSTOM or parse_reference(name) is not None):
        return name
    mine = CUSTOM.get(name)
    if record.get("kind") == "registered" and mine is not None and callable(mine.builder):
        return name
    source = run_dir / MODEL_SOURCE if record.get("source") else None
    if source is not None:
        try:
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
        except OSError:
            raise ModelError(f"{run_dir} has no {MODEL_SOURCE}, its model's code") from None
        if record.get("sha256") and digest != record["sha256"]:
            raise ModelError(f"{source} is not the file {MODEL_RECORD} records (sha256 differs)")
    configure(
        name,
        builder=str(record.get("builder") or name),
        source=source,
        output=str(record.get("output") or "logits"),
        learning_rate=record.get("learning_rate"),
        batch_norm=bool(record.get("batch_norm")),
    )
    return name


def describe_model(name: str, input_shape: tuple[int, ...], num_classes: int) -> dict[str, Any]:
    """env.json's words on model `name` built for this input: `model_parameters`,
    `model_trainable_parameters` and `model_summary`, one line. Builds the model (once
    per process and input: a model of yours is checked by it; ModelError)."""
    key = (name, tuple(input_shape), int(num_classes))
    if key not in _described:
        from rethink.models import build

        _described[key] = summarize(build(name, tuple(input_shape), int(num_classes)))
    return dict(_described[key])


def summarize(model: Any) -> dict[str, Any]:
    """A built Keras model's parameter counts and a one-line summary:
    'resnet20: 71 layers (Conv2D 21, BatchNormalization 19, ...); 272,474 parameters
    (271,130 trainable); (28, 28, 3) -> (10,)'."""
    total = sum(_size(w.shape) for w in model.weights)
    trainable = sum(_size(w.shape) for w in model.trainable_weights)
    layers = _layers(model)
    kinds = Counter(type(layer).__name__ for layer in layers)
    shown = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common(4))
    more = ", ..." if len(kinds) > 4 else ""
    shape_in = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else "?"
    shape_out = tuple(model.outputs[0].shape[1:]) if getattr(model, "outputs", None) else "?"
    summary = (
        f"{model.name}: {len(layers)} layers ({shown}{more}); {total:,} parameters "
        f"({trainable:,} trainable); {shape_in} -> {shape_out}"
    )
    return {
        "model_parameters": total,
        "model_trainable_parameters": trainable,
        "model_summary": summary,
    }


def _layers(model: Any) -> list[Any]:
    """Every layer inside `model`, nested models opened (their own layers counted)."""
    out = []
    for layer in getattr(model, "layers", []):
        inner = getattr(layer, "layers", None)
        out.extend(_layers(layer) if inner else [layer])
    return out


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


__all__ = ["MODEL_RECORD", "MODEL_SOURCE", "adopt_model", "describe_model", "record_model"]
