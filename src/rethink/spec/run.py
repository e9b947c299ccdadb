"""What one training run is: a frozen `RunSpec`, the data part and the training part in one.

    spec = RunSpec(model="inception", corruption="random_labels")
    spec.run_id            # 'inception-random_labels-s0'
    spec.resolved(50_000)  # learning rate and step count filled in
    isinstance(spec, DataSpec) and isinstance(spec, TrainingSpec)   # True

A RunSpec has every field of `DataSpec` and `TrainingSpec`, flat, as spec.json
stores them (the file format is the fields by name), and validates both parts.
Pure Python, importable without Keras.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from rethink.spec.architectures import model_slug
from rethink.spec.data import DATA_CHOICES, DataSpec, validate_data
from rethink.spec.errors import SpecError, plain_strs
from rethink.spec.training import TrainingSpec, normalize_training, validate_training


@dataclass(frozen=True, kw_only=True)
class RunSpec(TrainingSpec, DataSpec):
    """Every setting of one training run; `resolved()` fills in the defaults."""

    def __post_init__(self) -> None:
        plain_strs(self, DATA_CHOICES)
        normalize_training(self)
        validate(self)

    @property
    def run_id(self) -> str:
        """Folder name derived from the settings that distinguish runs of a grid (a model
        of yours by a safe name and a digest: 'resnet20-1a2b3c4d-random_labels-s0')."""
        parts = [model_slug(self.model), self.corruption]
        if self.corruption == "partial_labels" and self.level is not None:
            parts.append(f"p{self.level:g}")
        if self.weight_decay:
            parts.append(f"wd{self.weight_decay:g}")
            if self.weight_decay_layers == "hidden_dense":
                parts.append("hd")
        if self.augment:
            parts.append("aug")
        if self.precision != "float32":
            parts.append(self.precision.replace("mixed_", ""))
        parts.append(f"s{self.seed}")
        return "-".join(parts)

    @property
    def variant(self) -> str:
        """What the run adds to the plain protocol, in words: 'wd0.0005 hd crop bfloat16'
        ('' for a plain run): weight decay (on the hidden dense layers only: hd),
        random crop, precision."""
        parts = []
        if self.weight_decay:
            parts.append(f"wd{self.weight_decay:g}")
            if self.weight_decay_layers == "hidden_dense":
                parts.append("hd")
        if self.augment:
            parts.append("crop")
        if self.precision != "float32":
            parts.append(self.precision.replace("mixed_", ""))
        return " ".join(parts)

    @property
    def label(self) -> str:
        """The run among a grid's, in words: 'partial labels p=0.4 wd0.0005 crop s1'."""
        return " ".join(p for p in (self.randomization, self.variant, f"s{self.seed}") if p)

    def continuing(self, stored: RunSpec) -> RunSpec:
        """This spec as it applies to a run folder whose spec.json is `stored`.

        A run started under an older spec version keeps its meaning (penalty,
        crop) when resumed: the version-dependent fields are taken from it.
        """
        if stored.spec_version >= self.spec_version:
            return self
        return dataclasses.replace(
            self, spec_version=stored.spec_version, augment_crop=stored.augment_crop
        )

    def resolved(self, n_train: int) -> RunSpec:
        """A copy with the learning rate and step count made explicit."""
        return dataclasses.replace(
            self, learning_rate=self.lr, steps=self.total_steps(n_train), epochs=None
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise SpecError(f"unknown spec field(s): {', '.join(unknown)}")
        d = dict(d)
        if "spec_version" not in d:  # written before versions: version 1
            d["spec_version"] = 1
            d.setdefault("augment_crop", "padded")
        return cls(**d)


def validate(spec: RunSpec) -> None:
    """Raise SpecError naming the first setting that is wrong: the training part's
    (the model first), then the data part's."""
    validate_training(spec)
    validate_data(spec)
