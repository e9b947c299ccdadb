"""Construction settings: one-line errors and the data part of a run."""

from __future__ import annotations

from typing import Any

import pytest

from rethink.construct import ConstructionError, ConstructSettings
from rethink.spec import DataSpec


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outputs": "softmax"}, "unknown outputs 'softmax'; choose from onehot, label"),
        ({"position": 1.0}, "between 0 and 1"),
        ({"position": 0.0}, "between 0 and 1"),
        ({"draws": 0}, "draws must be at least 1"),
        ({"corruption": "noise"}, "unknown corruption 'noise'"),
        ({"corruption": "partial_labels"}, "needs a corruption level"),
        ({"seed": -1}, "seed must be >= 0"),
    ],
)
def test_bad_settings_are_one_line_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConstructionError, match=message) as caught:
        ConstructSettings(**change)
    assert "\n" not in str(caught.value)


def test_the_data_part_is_a_runs() -> None:
    settings = ConstructSettings(
        corruption="partial_labels", level=0.2, seed=4, train_subset=10, test_subset=5, crop=24
    )
    assert settings.data_spec() == DataSpec(
        corruption="partial_labels", level=0.2, seed=4, train_subset=10, test_subset=5, crop=24
    )
