"""Shared test setup: the backend in use, backend markers, the real data set, the cache.

The backend is fixed per process by KERAS_BACKEND (nox runs one process per
backend); `@pytest.mark.requires_backend("jax")` skips a test elsewhere.

Every test writes its caches (decoded data sets, JAX's compilation cache)
into one temporary folder, `$RETHINK_CACHE` for the whole session and every
process it starts, never into the user's ~/.cache/rethink.

The test folders mirror the package (tests/data for rethink.data, ...) and
are packages themselves (`tests.data.test_pipeline`), so a test folder never
shadows a library (tests/grid/ray is not `ray`) and basenames may repeat.
Helpers shared by several test modules live in tests/helpers/, imported as
`tests.helpers.<module>`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.backend import current_backend

# The real CIFAR-10 the slow tests read: $RETHINK_TEST_DATA (any source rethink reads:
# .ci/run sets it to the shared JPEG archive, GitHub Actions to Keras's cached
# download), else ../shared/data/cifar10-jpeg.tar.gz beside the checkout.
SHARED_ARCHIVE = Path(
    os.environ.get("RETHINK_TEST_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-jpeg.tar.gz"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = current_backend()
    for item in items:
        marker = item.get_closest_marker("requires_backend")
        if marker and backend not in marker.args:
            item.add_marker(
                pytest.mark.skip(reason=f"needs backend {marker.args}, running {backend}")
            )


@pytest.fixture(scope="session", autouse=True)
def rethink_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh `$RETHINK_CACHE` for the whole session, inherited by every subprocess."""
    path = tmp_path_factory.mktemp("rethink-cache")
    previous = os.environ.get("RETHINK_CACHE")
    os.environ["RETHINK_CACHE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("RETHINK_CACHE", None)
    else:
        os.environ["RETHINK_CACHE"] = previous


@pytest.fixture(scope="session")
def cifar_archive() -> Path:
    """The real CIFAR-10 archive from ../shared/data (skips when absent)."""
    if not SHARED_ARCHIVE.exists():
        pytest.skip(f"real CIFAR-10 not found at {SHARED_ARCHIVE} (set RETHINK_TEST_DATA)")
    return SHARED_ARCHIVE
