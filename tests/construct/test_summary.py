"""A construction's numbers as text: title, rows with and without the Keras model, verdict."""

from __future__ import annotations

from typing import Any

from rethink.construct.summary import COLUMNS, rows, title, verdict


def _result(**changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "corruption": "partial_labels", "level": 0.4, "seed": 1,
        "dataset": {"name": "cifar10"}, "n": 50_000, "d": 2352, "outputs": 10,
        "weights": 552_352, "weights_2n_plus_d": 102_352, "min_gap": 1.234e-9,
        "max_abs_weight": 5.5e8, "max_error": 2e-7, "recovered": 50_000, "train_acc": 1.0,
        "test_acc": 0.1012, "n_test": 10_000, "total_s": 60.0, "load_s": 30.0,
        "construct_s": 1.0, "float64_s": 2.0,
    }  # fmt: skip
    return {**result, **changes}


def test_without_the_keras_model_its_column_is_a_dash() -> None:
    result = _result()
    assert title(result) == "Theorem 1 network on cifar10, partial_labels p=0.4, seed 1"
    table = rows(result)
    assert len(COLUMNS) == 3 and all(len(row) == 3 for row in table)
    named = {row[0]: row for row in table}
    assert named["weights"] == ("weights", "552,352 = d + n + 10n", "-")
    assert named["labels recovered"] == ("labels recovered", "50,000 / 50,000", "-")
    assert named["test accuracy (10,000)"][1:] == ("10.12%", "-")
    assert named["training points n"][2] == ""  # shared with float64: nothing to say
    assert verdict(result) == "float64: every training label recovered (50,000 of 50,000)"


def test_the_keras_column_and_a_single_output() -> None:
    result = _result(
        corruption="random_labels", level=None, outputs=1, weights=102_352, recovered=49_999,
        keras_weights=102_352, keras_max_error=3.5, keras_recovered=5_012,
        keras_train_acc=0.10024, keras_test_acc=0.0998, keras_s=9.0,
    )  # fmt: skip
    assert title(result) == "Theorem 1 network on cifar10, random_labels, seed 1"
    named = {row[0]: row for row in rows(result)}
    assert named["weights"] == ("weights", "102,352 = 2n + d", "102,352")
    assert named["largest |error| (train)"][2] == "3.5"
    assert named["labels recovered"][2] == "5,012 / 50,000"
    assert named["train accuracy"][2] == "10.02%"
    assert named["wall time"] == (
        "wall time", "60.0 s (data 30.0, solve 1.0, check 2.0)", "9.0 s",
    )  # fmt: skip
    assert verdict(result).startswith("float64: not every training label recovered (49,999 of")
