"""Bench settings: one-line errors, the tiny preset, the JSON round trip, missing backends."""

from __future__ import annotations

import json
import os

import pytest

from rethink.bench import BenchError, BenchSpec

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def test_settings_reject_unknown_names_and_bad_sizes() -> None:
    with pytest.raises(BenchError, match="unknown model 'resnet'"):
        BenchSpec(models=("resnet",), backends=(BACKEND,))
    with pytest.raises(BenchError, match="unknown backend 'theano'"):
        BenchSpec(backends=("theano",))
    with pytest.raises(BenchError, match="unknown precision"):
        BenchSpec(precisions=("float8",), backends=(BACKEND,))
    with pytest.raises(BenchError, match="no models selected"):
        BenchSpec(models=(), backends=(BACKEND,))
    with pytest.raises(BenchError, match="steps must be positive"):
        BenchSpec(steps=0, backends=(BACKEND,))
    with pytest.raises(BenchError, match="warmup must be at least 1"):
        BenchSpec(warmup=0, backends=(BACKEND,))
    with pytest.raises(BenchError, match="one batch"):
        BenchSpec(images=10, batch_size=32, backends=(BACKEND,))
    spec = BenchSpec.tiny(backends=(BACKEND,), steps=7)
    assert BenchSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_execution_settings_are_checked() -> None:
    with pytest.raises(BenchError, match="unknown loop"):
        BenchSpec.tiny(loop="fast")
    with pytest.raises(BenchError, match="steps per execution must be positive"):
        BenchSpec.tiny(steps_per_execution=0)


def test_the_default_backends_are_the_installed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rethink.base.backend.installed", lambda name: name == BACKEND)
    assert BenchSpec().backends == (BACKEND,)
    asked = BenchSpec(backends=("jax", "torch", "tensorflow"))
    assert asked.missing_backends() == [b for b in ("jax", "torch", "tensorflow") if b != BACKEND]
