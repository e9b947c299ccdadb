"""The paper's published numbers, as data (from docs/paper.md).

Zhang et al. (ICLR 2017), Table 1 (train / test accuracy in %, CIFAR-10), an
independent reproduction of Figure 1a (small Inception, batch 128, 25k
steps, one seed): the steps each randomization took to reach training loss
0.01, and section 5's kernel test errors on CIFAR-10. `rethink report` and
`rethink kernel` put these beside the measured numbers.

    row = table1_row("alexnet", "true_labels", random_crop=False, weight_decay=True)
    row.test  # 77.36

Pure Python; no Keras.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table1Row:
    """One row of the paper's Table 1; accuracies in percent."""

    model: str  # rethink model name (rethink.models.MODELS)
    corruption: str  # "true_labels" or "random_labels"
    random_crop: bool  # the "random crop" column (rethink: spec.augment)
    weight_decay: bool  # the "weight decay" column (rethink: spec.weight_decay > 0)
    train: float
    test: float


def _row(
    model: str, crop: bool, wd: bool, train: float, test: float, random: bool = False
) -> Table1Row:
    corruption = "random_labels" if random else "true_labels"
    return Table1Row(model, corruption, crop, wd, train, test)


TABLE1: tuple[Table1Row, ...] = (
    _row("inception", True, True, 100.0, 89.05),
    _row("inception", True, False, 100.0, 89.31),
    _row("inception", False, True, 100.0, 86.03),
    _row("inception", False, False, 100.0, 85.75),
    _row("inception", False, False, 100.0, 9.78, random=True),
    _row("inception_no_bn", False, True, 100.0, 83.00),
    _row("inception_no_bn", False, False, 100.0, 82.00),
    _row("inception_no_bn", False, False, 100.0, 10.12, random=True),
    _row("alexnet", True, True, 99.90, 81.22),
    _row("alexnet", True, False, 99.82, 79.66),
    _row("alexnet", False, True, 100.0, 77.36),
    _row("alexnet", False, False, 100.0, 76.07),
    _row("alexnet", False, False, 99.82, 9.86, random=True),
    _row("mlp_3x512", False, True, 100.0, 53.35),
    _row("mlp_3x512", False, False, 100.0, 52.39),
    _row("mlp_3x512", False, False, 100.0, 10.48, random=True),
    _row("mlp_1x512", False, True, 99.80, 50.39),
    _row("mlp_1x512", False, False, 100.0, 50.51),
    _row("mlp_1x512", False, False, 99.34, 10.61, random=True),
)

# The independent Figure 1a reproduction (docs/paper.md): small Inception,
# batch 128, 25k steps, one seed; training steps to reach loss 0.01.
FIGURE1A_MODEL = "inception"
FIGURE1A_LOSS_THRESHOLD = 0.01
FIGURE1A_STEPS_TO_LOSS: dict[str, int] = {
    "true_labels": 5_700,
    "shuffled_pixels": 6_700,
    "gaussian": 9_900,
    "random_pixels": 13_000,
    "random_labels": 17_700,
}
FIGURE1A_TRUE_LABELS_TEST_ACC = 0.867


def table1_row(
    model: str, corruption: str, random_crop: bool, weight_decay: bool
) -> Table1Row | None:
    """The Table 1 row for these settings, or None when the paper has none."""
    for row in TABLE1:
        key = (row.model, row.corruption, row.random_crop, row.weight_decay)
        if key == (model, corruption, random_crop, weight_decay):
            return row
    return None


# Section 5, CIFAR-10, no augmentation: test error (fraction) of the minimum-norm
# kernel solution, by (rethink kernel name, l2-regularized). Unregularized, every
# setting interpolates (train error 0); no numbers for the other combinations.
KERNEL_TEST_ERROR: dict[tuple[str, bool], float] = {
    ("gaussian", False): 0.46,  # "a Gaussian kernel on pixels ... 46% test error"
    ("features", False): 0.17,  # "32,000 random filters ... 17% test error"
    ("features", True): 0.15,  # "adding l2 regularization ... 15%"
}
KERNEL_FILTERS = 32_000  # random filters of the paper's convolutional features


def kernel_test_error(kernel: str, regularized: bool) -> float | None:
    """The paper's CIFAR-10 test error (fraction) for this kernel, or None."""
    return KERNEL_TEST_ERROR.get((kernel, regularized))
