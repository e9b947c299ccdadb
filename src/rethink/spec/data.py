"""The data part of a run: which images and labels it trains and tests on.

    part = DataSpec(corruption="random_labels", train_subset=5000)
    prepare(part, raw, dataset)   # rethink.data.pipeline: the run's arrays

Everything that decides the arrays a run sees: the randomization (and its
level), the seed it is drawn from, the subsets, the data source and data set,
the centre crop, and the random crop of augmentation. A `RunSpec` is a
`DataSpec` and a `TrainingSpec` in one, so anything taking a `DataSpec` takes a
run's spec; sections 4 and 5 (`rethink construct`, `rethink kernel`) prepare
data from a `DataSpec` alone, with no model. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from rethink.spec.datasets import NAMES as DATASETS
from rethink.spec.errors import SpecError, plain_strs, positive

CORRUPTIONS = (
    "true_labels",
    "partial_labels",
    "random_labels",
    "shuffled_pixels",
    "random_pixels",
    "gaussian",
)
# Random crop: "window" takes a random 28x28 window of the 32x32 image (the
# paper's pipeline); "padded" pads the centre 28x28 crop by 4 and crops 28x28.
AUGMENT_CROPS = ("window", "padded")


@dataclass(frozen=True, kw_only=True)
class DataSpec:
    """The settings that decide a run's arrays; validated on creation (SpecError)."""

    corruption: str = "true_labels"
    level: float | None = None  # label-corruption probability, partial_labels only
    seed: int = 0  # corruption, subset, init and data order all derive from it
    augment: bool = False  # random crop + horizontal flip (Table 1)
    augment_crop: str = "window"  # AUGMENT_CROPS: random 28x28 of 32x32, or pad 4
    train_subset: int | None = None  # seeded class-balanced subset, for CPUs
    test_subset: int | None = None  # first-N-by-seed subset of the test split
    subset_seed: int = 0  # the same subset for every run of a grid
    data: str | None = None  # data source (path); None: RETHINK_DATA or Keras download
    dataset: str | None = None  # a KNOWN data set's name, checked against the data; None: any
    crop: int | None = None  # side of the centre crop; None: 28 for CIFAR, else whole images

    def __post_init__(self) -> None:
        plain_strs(self, DATA_CHOICES)
        validate_data(self)

    @property
    def randomization(self) -> str:
        """The randomization in words: 'random labels', 'partial labels p=0.4'."""
        return randomization_label(self.corruption, self.level)


def randomization_label(corruption: str, level: float | None = None) -> str:
    """A randomization in words: 'random labels', 'partial labels p=0.4' (the one
    spelling of tables, figures, reports and the live view)."""
    if corruption == "partial_labels":
        return f"partial labels p={level:g}" if level is not None else "partial labels"
    return corruption.replace("_", " ")


DATA_CHOICES = ("corruption", "augment_crop", "dataset")


def validate_data(spec: DataSpec) -> None:
    """Raise SpecError naming the first data setting that is wrong."""
    if spec.corruption not in CORRUPTIONS:
        raise SpecError(
            f"unknown corruption {spec.corruption!r}; choose from {', '.join(CORRUPTIONS)}"
        )
    if spec.corruption == "partial_labels":
        if spec.level is None:
            raise SpecError("partial_labels needs a corruption level (--level p, 0 <= p <= 1)")
        if not (isinstance(spec.level, int | float) and 0.0 <= spec.level <= 1.0):
            raise SpecError(f"corruption level must be in [0, 1], got {spec.level}")
    elif spec.level is not None:
        raise SpecError(f"a corruption level applies to partial_labels only, not {spec.corruption}")
    positive("train_subset", spec.train_subset)
    positive("test_subset", spec.test_subset)
    if spec.seed < 0:
        raise SpecError(f"seed must be >= 0, got {spec.seed}")
    if spec.augment_crop not in AUGMENT_CROPS:
        raise SpecError(
            f"unknown random crop {spec.augment_crop!r}; choose from {', '.join(AUGMENT_CROPS)}"
        )
    if spec.dataset is not None and spec.dataset not in DATASETS:
        raise SpecError(f"unknown data set {spec.dataset!r}; choose from {', '.join(DATASETS)}")
    if spec.crop is not None and not (isinstance(spec.crop, int) and spec.crop > 0):
        raise SpecError(f"crop must be a positive number of pixels, got {spec.crop}")
