"""The models a run can name: the paper's five networks as facts, without Keras, and yours.

    REGISTRY["alexnet"].learning_rate        # 0.01 (Appendix A)
    REGISTRY["alexnet"].paper_parameters     # 1,387,786 (Table 1)
    MODELS                                    # the names, in the paper's order
    parse_reference("./nets.py:resnet20")    # ModelRef(kind="file", ...): your own model
    learning_rate_of("nets.mine:build")      # 0.01: DEFAULT_LEARNING_RATE
    model_slug("./nets.py:resnet20")         # 'resnet20-1a2b3c4d': its part of a run id

`REGISTRY` is the one table of models: name -> where its builder is (a
"module:function" under `rethink.models`, imported only by `rethink.models.build`),
its learning rate and the paper's parameter count, and what the model is made
of where other stages need to know it (hidden dense layers for weight decay,
BatchNorm for the grid's view). Pure Python: the run spec validates names and
takes its default learning rate from here; the builders live in `rethink.models`.

Beyond the paper's five, a run may name your own model: a reference
"module.path:builder" or "path/to/file.py:builder" (a builder takes the input
shape and the class count and returns a keras.Model), or a name registered in
this process (`rethink.models.register`, kept in CUSTOM). Such a model has no
paper numbers; its learning rate is the one registered, or DEFAULT_LEARNING_RATE.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Which layers weight decay applies to (RunSpec.weight_decay_layers): "all" decays
# every conv and dense kernel; "hidden_dense" only the dense layers before the
# output layer, as the TensorFlow CIFAR-10 tutorial (the paper's AlexNet) does.
# Biases and BatchNorm are never decayed.
WEIGHT_DECAY_LAYERS = ("all", "hidden_dense")

# Keras BatchNormalization's moving averages (momentum 0.99, which the Inception
# uses) keep 0.99**n of their initial values (mean 0, variance 1) after n
# training steps: more than 1% before 459 steps. Until then, inference-mode
# numbers of a BatchNorm model (test split, training-split evaluation) come from
# statistics that have not settled.
BATCH_NORM_MOMENTUM = 0.99
BATCH_NORM_SETTLED_STEPS = math.ceil(math.log(0.01) / math.log(BATCH_NORM_MOMENTUM))  # 459


@dataclass(frozen=True)
class ModelInfo:
    """One model of the paper: how to build it and the paper's numbers for it."""

    name: str
    # "module:function" under rethink.models, called (shape, classes, regularizers); for a
    # registered model of yours, its builder (a callable or a reference), called (shape, classes)
    builder: Any
    learning_rate: float  # Appendix A: 0.1 for the Inceptions, 0.01 for AlexNet and the MLPs
    paper_parameters: int | None  # trainable parameters in Table 1; None: not the paper's
    options: Mapping[str, Any] = field(default_factory=dict)
    hidden_dense: int = 0  # dense layers before the output layer (weight_decay_layers)
    output: str = "logits"  # what the builder's model outputs: MODEL_OUTPUTS

    @property
    def batch_norm(self) -> bool:
        """Whether the model has BatchNorm layers (moving statistics in inference mode)."""
        return bool(self.options.get("batch_norm", False))


REGISTRY: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo("inception", "inception:inception", 0.1, 1_649_402, {"batch_norm": True}),
        ModelInfo("inception_no_bn", "inception:inception", 0.1, 1_649_402, {"batch_norm": False}),
        ModelInfo("alexnet", "alexnet:alexnet", 0.01, 1_387_786, hidden_dense=2),
        ModelInfo("mlp_1x512", "mlp:mlp", 0.01, 1_209_866, {"depth": 1}, hidden_dense=1),
        ModelInfo("mlp_3x512", "mlp:mlp", 0.01, 1_735_178, {"depth": 3}, hidden_dense=3),
    )
}
MODELS: tuple[str, ...] = tuple(REGISTRY)  # the paper's order

# Models of yours, registered in this process (`rethink.models.register`) by name, or
# by reference where a run folder or a flag said more of it (its output, its copy).
CUSTOM: dict[str, ModelInfo] = {}

# The learning rate of a model the paper does not define, unless --lr or `register`
# says otherwise: the paper's rate for its models without BatchNorm (AlexNet, the
# MLPs), the one of its two that SGD with momentum 0.9 keeps stable without
# normalization; a BatchNorm network may prefer 0.1 (the Inception's).
DEFAULT_LEARNING_RATE = 0.01
# What a builder's model outputs: logits (trained with from_logits), or probabilities
# (a softmax at the end: rethink trains on their logarithm, which are logits).
MODEL_OUTPUTS = ("logits", "probabilities")

_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class ModelRef:
    """A model of yours by where its builder is: "module.path:builder" (kind "module")
    or "path/to/file.py:builder" (kind "file"); `text` as a run spec stores it."""

    text: str
    kind: str  # "module" or "file"
    where: str  # the module's dotted path, or the file's path
    attr: str  # the builder's name in it (dotted for an attribute of an attribute)

    @property
    def slug(self) -> str:
        """A filesystem-safe name for run ids: the builder's name and 8 hex digits of the
        reference's sha256 (two references never share one)."""
        safe = re.sub(r"[^a-z0-9_]+", "_", self.attr.rsplit(".", 1)[-1].lower()).strip("_")
        digest = hashlib.sha256(self.text.encode()).hexdigest()[:8]
        return f"{safe[:32] or 'model'}-{digest}"


def parse_reference(text: str) -> ModelRef | None:
    """`text` as a reference to a builder, or None when it is not one: "a.b:f" (module),
    "x.py:f", "./x.py:f", "dir/x.py:f" (file; the path is kept as given, with "/"s)."""
    where, sep, attr = text.rpartition(":")
    if not sep or not where or not _MODULE.fullmatch(attr):
        return None
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = where.replace("\\", "/")
        if path.startswith("./"):
            path = path[2:]
        return ModelRef(f"{path}:{attr}", "file", path, attr)
    if _MODULE.fullmatch(where):
        return ModelRef(text, "module", where, attr)
    return None


def is_custom(name: str) -> bool:
    """Whether `name` is a model of yours (registered, or a reference), not the paper's."""
    return name not in REGISTRY


def model_info(name: str) -> ModelInfo | None:
    """The registry entry of a paper model or a registered one; None for a reference."""
    return REGISTRY.get(name) or CUSTOM.get(name)


def check_model(name: str) -> None:
    """Raise ValueError unless `name` is a paper model, a registered one or a reference."""
    if model_info(name) is None and parse_reference(name) is None:
        named = [n for n in CUSTOM if parse_reference(n) is None]
        mine = f", {', '.join(named)}" if named else ""
        raise ValueError(
            f"unknown model {name!r}; choose from {', '.join(MODELS)}{mine}, or give your own "
            "as module.path:builder or path/to/file.py:builder"
        )


def check_name(name: str) -> None:
    """Raise ValueError unless `name` can name a registered model (run ids use it)."""
    if not _NAME.fullmatch(name) or len(name) > 64:
        raise ValueError(
            f"model name {name!r} must start with a letter and hold only letters, digits, "
            "'_', '.' and '-' (64 at most)"
        )
    if name in REGISTRY:
        raise ValueError(f"{name!r} is one of the paper's models; choose another name")


def learning_rate_of(name: str) -> float:
    """The initial learning rate of model `name` when --lr is not given."""
    info = model_info(name)
    return info.learning_rate if info is not None else DEFAULT_LEARNING_RATE


def model_slug(name: str) -> str:
    """Model `name`'s part of a run id: its name, or a reference's `ModelRef.slug`."""
    ref = None if name in REGISTRY else parse_reference(name)
    return name if ref is None else ref.slug


def check_weight_decay_layers(name: str, weight_decay: float, layers: str) -> None:
    """Raise ValueError if weight decay cannot apply to `layers` of model `name`:
    an unknown choice, or `hidden_dense` with weight decay on a model without
    hidden dense layers (the Inceptions), where it would decay nothing."""
    if layers not in WEIGHT_DECAY_LAYERS:
        raise ValueError(
            f"unknown weight-decay layers {layers!r}; choose from {', '.join(WEIGHT_DECAY_LAYERS)}"
        )
    if weight_decay > 0 and is_custom(name):
        raise ValueError(
            f"weight decay is for the paper's models; {name} is yours: give its layers "
            "kernel_regularizer=keras.regularizers.L2(L / 2) in its builder instead"
        )
    if layers == "hidden_dense" and weight_decay > 0 and not REGISTRY[name].hidden_dense:
        with_dense = ", ".join(m.name for m in REGISTRY.values() if m.hidden_dense)
        raise ValueError(
            f"{name} has no hidden dense layer: weight decay on hidden_dense would decay "
            f"nothing (models with them: {with_dense})"
        )


def batch_norm_settled(name: str, steps: int) -> bool:
    """Whether model `name`'s inference-mode numbers after `steps` training steps come
    from settled statistics: True without BatchNorm, else from
    BATCH_NORM_SETTLED_STEPS steps on."""
    info = model_info(name)
    batch_norm = bool(info.batch_norm) if info is not None else False
    return not batch_norm or steps >= BATCH_NORM_SETTLED_STEPS
