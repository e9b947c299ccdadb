"""Your own model: a builder of yours, found, checked and built like the paper's five.

    register("tiny", tiny, learning_rate=0.05)         # in this process, by name
    build_custom("nets.py:resnet20", (28, 28, 3), 10)   # a reference: imported, called, checked
    builder_of("mypkg.nets:resnet20")                   # the callable (ModelError if none)
    provenance("nets.py:resnet20")                      # how to rebuild it: import path, file, sha256

A builder takes the input shape and the class count and returns a
`keras.Model` whose output is (batch, classes): logits, or probabilities
(`output="probabilities"`: a softmax at the end; rethink appends the log, so
it trains on logits either way). A model is named by a registered name or by
a reference, "module.path:builder" or "path/to/file.py:builder" (the file is
imported as a module of its own, under a name made of its digest). Every
problem is a `ModelError` of one line naming it. Importing this module imports
no Keras; building does.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from rethink.spec.architectures import (
    CUSTOM,
    DEFAULT_LEARNING_RATE,
    MODEL_OUTPUTS,
    ModelInfo,
    ModelRef,
    check_name,
    parse_reference,
)

# A run folder's copy of the file a model of yours was built from (`rethink.run.model`).
SOURCE_COPY = "model.py"


class ModelError(ValueError):
    """A model of yours that cannot be used: one line naming the problem (exit code 2)."""


def register(
    name: str,
    builder: Callable[..., Any] | str,
    *,
    learning_rate: float | None = None,
    output: str = "logits",
    batch_norm: bool = False,
) -> None:
    """Add model `name` to this process's registry: `builder(input_shape, num_classes)`
    (a callable, or a "module:builder" / "file.py:builder" reference) returns a keras.Model.

    `learning_rate`: its initial rate where --lr is not given (default
    DEFAULT_LEARNING_RATE, 0.01); `output`: "logits" or "probabilities";
    `batch_norm`: whether it has BatchNorm (the live table marks inference-mode
    numbers before its moving statistics settle). Registering a name again
    replaces it. ValueError for a bad name, rate or output, or a builder that is
    neither callable nor a reference.
    """
    check_name(name)
    if isinstance(builder, str):
        if parse_reference(builder) is None:
            raise ValueError(f"builder {builder!r} is not a module:builder or file.py:builder")
    elif not callable(builder):
        raise ValueError(f"builder of {name!r} is not callable: {type(builder).__name__}")
    _put(name, builder, learning_rate, output, batch_norm)


def configure(
    name: str,
    *,
    builder: str | None = None,
    source: Path | None = None,
    output: str = "logits",
    learning_rate: float | None = None,
    batch_norm: bool = False,
) -> None:
    """Say more of model `name` (a reference, or a registered name: a run folder's
    record, a flag): its `builder` reference (default: the name's registered one, or
    the name itself), what it `output`s and, with `source`, the file to take the
    builder from instead (the run folder's copy of the file it was built from)."""
    info = CUSTOM.get(name)
    found: Any = builder if builder is not None else (info.builder if info else name)
    if source is not None:
        ref = parse_reference(found) if isinstance(found, str) else None
        attr = ref.attr if ref is not None else str(getattr(found, "__qualname__", ""))
        found = f"{Path(source).resolve().as_posix()}:{attr}"
    if learning_rate is None and info is not None:
        learning_rate = info.learning_rate
    _put(name, found, learning_rate, output, batch_norm)


def _put(
    name: str, builder: Any, learning_rate: float | None, output: str, batch_norm: bool
) -> None:
    if output not in MODEL_OUTPUTS:
        raise ValueError(f"unknown model output {output!r}; choose from {', '.join(MODEL_OUTPUTS)}")
    if learning_rate is not None and not learning_rate > 0:
        raise ValueError(f"learning rate must be positive, got {learning_rate}")
    CUSTOM[name] = ModelInfo(
        name,
        builder,
        DEFAULT_LEARNING_RATE if learning_rate is None else float(learning_rate),
        None,
        {"batch_norm": batch_norm},
        output=output,
    )


def unregister(name: str) -> None:
    """Forget a model registered (or configured) in this process."""
    CUSTOM.pop(name, None)


def output_of(name: str) -> str:
    """What model `name`'s builder outputs: "logits" unless registered otherwise."""
    info = CUSTOM.get(name)
    return info.output if info is not None else "logits"


def _reference(name: str) -> tuple[Any, ModelRef | None]:
    """(the builder or its reference text, the parsed reference) of model `name`."""
    info = CUSTOM.get(name)
    builder: Any = info.builder if info is not None else name
    if callable(builder):
        return builder, None
    ref = parse_reference(builder)
    if ref is None:
        raise ModelError(f"unknown model {name!r}")
    return builder, ref


def file_module(path: Path) -> ModuleType:
    """The Python file at `path`, imported as a module named after its content's digest
    (the same file twice is one module); ModelError if it cannot be read or run."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror or e}") from None
    name = f"rethink_model_{hashlib.sha256(data).hexdigest()[:16]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelError(f"cannot import model file {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:  # its code raised: one line, not a traceback
        del sys.modules[name]
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ModelError(f"cannot import model file {path}: {_one_line(e)}") from None
    return module


def builder_of(name: str) -> Callable[..., Any]:
    """The builder of model `name` (registered or a reference), imported; ModelError
    when its module or file does not import or the name is missing or not callable."""
    builder, ref = _reference(name)
    if ref is None:
        return builder
    if ref.kind == "file":
        path = Path(ref.where)
        if not path.is_file():
            raise ModelError(f"model file {ref.where} not found (model {name})")
        module = file_module(path)
    else:
        try:
            module = importlib.import_module(ref.where)
        except Exception as e:
            raise ModelError(
                f"cannot import module {ref.where} (model {name}): {_one_line(e)}"
            ) from None
    found: Any = module
    for part in ref.attr.split("."):
        if not hasattr(found, part):
            raise ModelError(f"{ref.where} has no {ref.attr} (model {name})")
        found = getattr(found, part)
    if not callable(found):
        raise ModelError(f"{ref.where}:{ref.attr} is not callable: {type(found).__name__}")
    return found


def build_custom(name: str, input_shape: tuple[int, ...], num_classes: int) -> Any:
    """Model `name` of yours, built for `input_shape` and `num_classes` and checked: a
    keras.Model whose output is (batch, num_classes), as logits (a probabilities model
    gains a log at the end). ModelError for anything else, or a builder that raised."""
    import keras
    import numpy as np

    builder = builder_of(name)
    try:
        model = builder(tuple(input_shape), int(num_classes))
    except Exception as e:
        raise ModelError(f"the builder of {name} raised {_one_line(e)}") from None
    if not isinstance(model, keras.Model):
        raise ModelError(
            f"the builder of {name} returned {type(model).__name__}, not a keras.Model"
        )
    try:
        out = model(np.zeros((2, *input_shape), "float32"), training=False)
        shape = tuple(int(d) for d in keras.ops.shape(out))
    except Exception as e:
        raise ModelError(
            f"{name} does not take images of shape {tuple(input_shape)}: {_one_line(e)}"
        ) from None
    if shape != (2, num_classes):
        raise ModelError(
            f"{name} outputs shape {('batch', *shape[1:])}; it must be (batch, {num_classes}): "
            f"one {'probability' if output_of(name) == 'probabilities' else 'logit'} per class"
        )
    if output_of(name) == "probabilities":
        from rethink.models.logits import ProbabilityLogits

        inputs = keras.Input(shape=tuple(input_shape), name="images")
        model = keras.Model(
            inputs, ProbabilityLogits(name="logits")(model(inputs)), name=model.name
        )
    return model


def provenance(name: str) -> dict[str, Any]:
    """How to rebuild model `name` elsewhere (run folders' model.json): `kind`
    ("registered", "module" or "file"), `builder` (an import path "module:name", or
    "file.py:name"), `file` (the file the builder is in, or None) and its `sha256`,
    `output`, `learning_rate`, `batch_norm`. ModelError if the builder is not found."""
    builder, ref = _reference(name)
    info = CUSTOM.get(name)
    if ref is not None and ref.kind == "file":
        path: Path | None = Path(ref.where)
        text = ref.text
    elif ref is not None:  # found, not imported (a grid's own process imports no Keras)
        try:
            found = importlib.util.find_spec(ref.where)
        except (ImportError, ValueError):
            found = None
        origin = found.origin if found is not None else None
        path = Path(origin) if origin and origin.endswith(".py") else None
        text = ref.text
    else:
        path = _source_file(inspect.getmodule(builder))
        text = f"{builder.__module__}:{builder.__qualname__}"
    kind = (
        "registered"
        if name in CUSTOM and parse_reference(name) is None
        else (ref.kind if ref is not None else "module")
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else None
    return {
        "model": name,
        "kind": kind,
        "builder": text,
        "file": None if path is None else str(path.resolve()),
        "sha256": digest,
        "output": output_of(name),
        "learning_rate": info.learning_rate if info is not None else DEFAULT_LEARNING_RATE,
        "batch_norm": bool(info and info.batch_norm),
    }


def _source_file(module: ModuleType | None) -> Path | None:
    path = getattr(module, "__file__", None)
    return Path(path) if path and str(path).endswith(".py") else None


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
