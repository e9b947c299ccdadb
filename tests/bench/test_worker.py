"""The worker: synthetic data of CIFAR-10's shape, the timed span, consistent numbers.

Never asserts a speed: only that the numbers exist and agree with each other.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

import rethink.bench.worker as worker
from rethink.bench import BenchSpec
from rethink.models import MODELS
from rethink.spec.datasets import KNOWN

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def test_synthetic_data_have_cifar10s_input_and_classes() -> None:
    data = worker.synthetic_data(BenchSpec.tiny(backends=(BACKEND,)))
    cifar10 = KNOWN["cifar10"]
    assert data.x_train.shape == (256, *cifar10.input_shape()) == (256, 28, 28, 3)
    assert data.x_train.dtype == np.float32 and data.num_classes == cifar10.num_classes
    assert set(np.unique(data.y_train)) <= set(range(10)) and len(data.y_test) == 32


def test_the_run_is_warmup_plus_steps_with_a_row_at_the_warmups_end() -> None:
    settings = BenchSpec.tiny(backends=(BACKEND,), warmup=3, steps=9, images=320)
    spec = worker.run_spec(settings, "mlp_3x512", "float32")
    assert (spec.model, spec.steps, spec.batch_size, spec.log_every) == ("mlp_3x512", 12, 32, 3)


def test_the_timed_span_starts_at_the_first_callback_after_warmup() -> None:
    stamps = [(2, 1.0), (4, 2.0), (6, 3.5), (8, 4.0)]
    assert worker.timed_span(stamps, warmup=3) == (4, 2.0)
    assert worker.timed_span(stamps, warmup=4) == (4, 2.0)
    with pytest.raises(RuntimeError, match="too few timed steps"):
        worker.timed_span(stamps, warmup=7)


@pytest.mark.parametrize("loop", ["keras", "native"])
def test_worker_on_this_backend_gives_consistent_numbers(loop: str) -> None:
    # 320 images at batch 32: 10 steps per epoch; rows every 2 steps (the warm-up).
    settings = BenchSpec.tiny(
        backends=(BACKEND,), warmup=2, steps=10, images=320, steps_per_execution=2, loop=loop
    )
    [row] = worker.measure(settings)
    assert row["error"] is None, row["error"]
    assert row["backend"] == BACKEND and row["model"] == "mlp_1x512"
    native = loop == "native" and BACKEND != "tensorflow"
    assert row["loop"] == ("native" if native else "keras")
    # Keras's torch trainer runs one step per dispatch; the others honour 2.
    assert row["steps_per_execution"] == (1 if BACKEND == "torch" and not native else 2)
    assert row["timed_steps"] == 10  # an epoch end at step 10 lies inside the span
    assert row["images_per_s"] > 0 and row["ms_per_step"] > 0 and row["compile_s"] >= 0
    assert row["images_per_s"] == pytest.approx(32 * 1000 / row["ms_per_step"])
    assert row["paper_run_s"] == pytest.approx(25_000 * row["ms_per_step"] / 1000)
    assert row["paper_grid_s"] == pytest.approx(5 * row["paper_run_s"])
    assert sorted(row["paper_grid_missing"]) == sorted(set(MODELS) - {"mlp_1x512"})
    assert row["peak_memory_bytes"] is None or row["peak_memory_bytes"] > 0


def test_a_failing_model_becomes_an_error_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> dict[str, Any]:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(worker, "measure_one", broken)
    settings = BenchSpec.tiny(backends=(BACKEND,), models=("mlp_1x512", "mlp_3x512"))
    rows = worker.measure(settings)
    assert [r["model"] for r in rows] == ["mlp_1x512", "mlp_3x512"]
    assert all(r["error"] == "RuntimeError: out of memory" for r in rows)
    assert all(r["paper_grid_s"] is None for r in rows)


def test_a_packed_row_counts_every_run_of_the_pack() -> None:
    settings = BenchSpec.tiny(backends=(BACKEND,), warmup=2, steps=10, images=320, pack=3)
    [row] = worker.measure(settings)
    if BACKEND not in ("jax", "torch"):  # TensorFlow does not pack: a row naming why
        assert row["error"] is not None and "jax or torch" in row["error"]
        return
    assert row["error"] is None, row["error"]
    assert row["pack"] == 3 and row["loop"] == "native x3"
    # Three runs' images per packed step; each run's share of a paper-length pack.
    assert row["images_per_s"] == pytest.approx(3 * 32 * 1000 / row["ms_per_step"])
    assert row["paper_run_s"] == pytest.approx(25_000 * row["ms_per_step"] / 1000 / 3)


def test_pack_must_be_positive() -> None:
    from rethink.bench import BenchError

    with pytest.raises(BenchError, match="pack must be positive"):
        BenchSpec.tiny(backends=(BACKEND,), pack=0)
