"""Kernel settings: one-line errors, the data of each labelling, filters per device."""

from __future__ import annotations

from typing import Any

import pytest

from rethink.kernel import KernelError, KernelSettings
from rethink.kernel.settings import CPU_BATCH, CPU_FILTERS, GPU_BATCH, GPU_FILTERS
from rethink.paper import KERNEL_FILTERS
from rethink.spec import DataSpec


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kernel": "laplace"}, "unknown kernel"),
        ({"bandwidth": -1.0}, "bandwidth must be a positive"),
        ({"bandwidth": float("nan")}, "bandwidth must be a positive"),
        ({"lam": -1.0}, "lambda must be >= 0"),
        ({"dtype": "float16"}, "unknown dtype"),
        ({"filters": 0}, "filters must be positive"),
        ({"filter_chunk": -1}, "filter-chunk must be positive"),
        ({"max_memory": 0}, "max-memory must be positive"),
        ({"levels": ()}, "at least one level"),
        ({"levels": (0.0, 2.0)}, "levels must be in"),
        ({"levels": (0.5,), "corruption": "random_pixels"}, "partial_labels sweep"),
        ({"levels": (0.5,), "corruption": "partial_labels", "level": 0.5}, "partial_labels sweep"),
        ({"corruption": "partial_labels"}, "needs a corruption level"),
        ({"train_subset": 0}, "train_subset"),
    ],
)
def test_bad_settings_are_one_line_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(KernelError, match=message) as caught:
        KernelSettings(**change)
    assert "\n" not in str(caught.value)


def test_each_labelling_is_the_data_part_of_a_run() -> None:
    settings = KernelSettings(levels=(0.0, 0.5), seed=3, train_subset=100, crop=24)
    specs = settings.data_specs()
    assert specs == [
        DataSpec(corruption="partial_labels", level=p, seed=3, train_subset=100, crop=24)
        for p in (0.0, 0.5)
    ]
    single = KernelSettings(corruption="random_labels").data_specs()
    assert [(s.corruption, s.level) for s in single] == [("random_labels", None)]


def test_filters_default_per_device_and_stay_when_given() -> None:
    assert GPU_FILTERS == KERNEL_FILTERS == 32_000
    assert KernelSettings().filters is None
    assert KernelSettings().with_filters(accelerated=True).filters == GPU_FILTERS
    assert KernelSettings().with_filters(accelerated=False).filters == CPU_FILTERS
    assert KernelSettings(filters=77).with_filters(accelerated=True).filters == 77
    # The convolution batch too: large on a GPU, small on a CPU (eager temporaries).
    assert KernelSettings().with_filters(accelerated=True).batch == GPU_BATCH
    assert KernelSettings().with_filters(accelerated=False).batch == CPU_BATCH
    assert KernelSettings(batch=5).with_filters(accelerated=False).batch == 5


def test_regularized_is_a_positive_lambda() -> None:
    assert not KernelSettings().regularized
    assert KernelSettings(lam=1e-3).regularized
