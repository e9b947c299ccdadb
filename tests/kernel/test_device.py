"""The device: JAX's float64 turned on only before JAX starts; the dtype really used."""

from __future__ import annotations

import os
import sys

import pytest

from rethink.kernel.device import enable_float64, solve_dtype


def test_float64_is_enabled_for_jax_only_before_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAX_ENABLE_X64", raising=False)
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    enable_float64("torch", "float64")
    enable_float64("jax", "float32")
    assert "JAX_ENABLE_X64" not in os.environ
    enable_float64("jax", "float64")
    assert os.environ["JAX_ENABLE_X64"] == "1"


def test_a_started_jax_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAX_ENABLE_X64", raising=False)
    monkeypatch.setitem(sys.modules, "jax", sys)  # any module: "jax was imported"
    enable_float64("jax", "float64")
    assert "JAX_ENABLE_X64" not in os.environ


def test_float64_or_a_stated_fallback() -> None:
    dtype, note = solve_dtype("float64")
    assert (dtype == "float64") == (note is None)
    assert solve_dtype("float32") == ("float32", None)
    with pytest.raises(ValueError, match="unknown dtype"):
        solve_dtype("float16")
