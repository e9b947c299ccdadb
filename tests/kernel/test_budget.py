"""The memory a kernel problem needs: its parts, and a one-line refusal naming them."""

from __future__ import annotations

import pytest

from rethink.kernel import KernelError
from rethink.kernel.budget import GIB, Budget


def test_the_full_problem_needs_what_the_readme_says() -> None:
    full = Budget.of(50_000, 10_000, 28 * 28 * 3, "float32", 4096)
    assert 10 < full.gram / GIB < 11  # "50,000 points need a 10 GB float32 Gram matrix"
    assert round(full.total / GIB, 1) == 12.7  # the README's 12.7 GiB in float32
    double = Budget.of(50_000, 10_000, 28 * 28 * 3, "float64", 4096)
    assert round(double.total / GIB, 1) == 25.4


def test_features_add_one_chunk_for_every_image() -> None:
    pixels = Budget.of(1000, 500, 2352, "float64", 4096)
    features = Budget.of(1000, 500, 2352, "float64", 4096, feature_chunk=1024)
    assert pixels.features == 0
    assert features.features == 1500 * 1024 * (4 + 2 * 8)
    assert features.images == 1500 * 2352 * 4  # float32 images for the convolutions


def test_too_large_is_refused_naming_the_sizes() -> None:
    need = Budget.of(300, 200, 2352, "float32", 4096)
    need.check(need.total, "host")  # exactly enough
    with pytest.raises(KernelError, match=r"too large: 300 training and 200 test points need "):
        need.check(need.total - 1, "GPU")
