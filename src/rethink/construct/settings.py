"""Every setting of one construction, checked once, with the defaults of `rethink construct`.

    settings = ConstructSettings(corruption="random_labels", train_subset=2000)
    settings.data_spec()        # DataSpec: the data a training run with these settings sees
    run_construct(settings)     # rethink.construct.experiment: the numbers construct.json holds

A frozen dataclass, pure Python. The data settings (corruption, level, seed,
subsets, source, data set, crop) mean what they mean for a training run and
are checked by `rethink.spec.DataSpec`; the seed also draws the projection
direction (its own stream). ConstructionError, one line, for anything wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from rethink.construct.measurement import OUTPUTS
from rethink.construct.network import DEFAULT_DRAWS, ConstructionError
from rethink.spec import DataSpec, SpecError


@dataclass(frozen=True)
class ConstructSettings:
    """Every setting of `rethink construct` (the README's "Finite-sample expressivity")."""

    corruption: str = "true_labels"
    level: float | None = None
    seed: int = 0  # the corruption's and the projection direction's
    train_subset: int | None = None
    test_subset: int | None = None
    data: str | None = None
    dataset: str | None = None  # a named data set (DataSpec.dataset)
    crop: int | None = None  # the centre crop (DataSpec.crop)
    outputs: str = "onehot"  # OUTPUTS: one output per class, or one fitted to the label
    position: float = 0.5  # where each bias sits between consecutive projections
    on_backend: bool = True  # also evaluate the float32 Keras model on the backend
    draws: int = DEFAULT_DRAWS  # directions drawn at most until projections are distinct

    def __post_init__(self) -> None:
        if self.outputs not in OUTPUTS:
            raise ConstructionError(
                f"unknown outputs {self.outputs!r}; choose from {', '.join(OUTPUTS)}"
            )
        if not 0.0 < self.position < 1.0:
            raise ConstructionError(
                f"the bias position must be between 0 and 1 (exclusive), got {self.position}"
            )
        if self.draws < 1:
            raise ConstructionError(f"draws must be at least 1, got {self.draws}")
        self.data_spec()  # the data settings, checked by DataSpec

    def data_spec(self) -> DataSpec:
        """The data part: what a training run with these settings sees."""
        try:
            return DataSpec(
                corruption=self.corruption,
                level=self.level,
                seed=self.seed,
                train_subset=self.train_subset,
                test_subset=self.test_subset,
                data=self.data,
                dataset=self.dataset,
                crop=self.crop,
            )
        except SpecError as e:
            raise ConstructionError(str(e)) from None
