"""The paper's section 5 numbers on CIFAR-10 (Zhang et al., ICLR 2017), as data.

    PAPER_TEST_ERROR[("gaussian", False)]   # 0.46: Gaussian kernel on pixels, no regularization

Keys are (kernel, regularized): rethink's kernel names, and whether an l2
regularization (lambda > 0) was used. Every setting interpolates its
training set when unregularized (train error 0). The paper gives no
numbers for the other combinations; they are reported without a paper value.
Pure Python.
"""

from __future__ import annotations

PAPER_TEST_ERROR: dict[tuple[str, bool], float] = {
    ("gaussian", False): 0.46,  # "a Gaussian kernel on pixels ... 46% test error"
    ("features", False): 0.17,  # "32,000 random filters ... 17% test error"
    ("features", True): 0.15,  # "adding l2 regularization ... 15%"
}
PAPER_FILTERS = 32_000  # random filters of the paper's convolutional features


def paper_test_error(kernel: str, regularized: bool) -> float | None:
    """The paper's CIFAR-10 test error (fraction) for this kernel, or None."""
    return PAPER_TEST_ERROR.get((kernel, regularized))
