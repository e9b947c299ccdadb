"""Shared test setup: the backend in use, backend markers, the real data set.

The backend is fixed per process by KERAS_BACKEND (nox runs one process per
backend); `@pytest.mark.requires_backend("jax")` skips a test elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpeg.tar.gz"


def current_backend() -> str:
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = current_backend()
    for item in items:
        marker = item.get_closest_marker("requires_backend")
        if marker and backend not in marker.args:
            item.add_marker(
                pytest.mark.skip(reason=f"needs backend {marker.args}, running {backend}")
            )


@pytest.fixture(scope="session")
def cifar_archive() -> Path:
    """The real CIFAR-10 archive from ../shared/data (skips when absent)."""
    if not SHARED_ARCHIVE.is_file():
        pytest.skip(f"real CIFAR-10 archive not found at {SHARED_ARCHIVE}")
    return SHARED_ARCHIVE
