"""The parent: a worker process per backend; a failing one is an error row, not a crash."""

from __future__ import annotations

import os

from rethink.bench import BenchSpec, run_backend
from rethink.bench.runner import failed_backends

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def test_a_backend_whose_process_fails_is_an_error_row_not_a_crash() -> None:
    settings = BenchSpec.tiny(backends=(BACKEND,))
    out = run_backend(settings, "no_such_backend")  # the worker refuses it
    assert out["environment"] is None
    [row] = out["results"]
    assert row["backend"] == "no_such_backend"
    assert "exited with code" in row["error"] and "no_such_backend" in row["error"]
    assert out["error"] == row["error"]


def test_failed_backends_are_named_once_and_sorted() -> None:
    doc = {
        "results": [
            {"backend": "torch", "error": "boom"},
            {"backend": "jax", "error": None},
            {"backend": "torch", "error": "again"},
            {"backend": "tensorflow", "error": "x"},
        ]
    }
    assert failed_backends(doc) == ["tensorflow", "torch"]
