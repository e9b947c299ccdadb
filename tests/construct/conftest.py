"""Shared fixtures of the construction tests: the real CIFAR-10 arrays, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from rethink.data import Arrays, load_cifar10


@pytest.fixture(scope="module")
def raw(cifar_archive: Path) -> Arrays:
    return load_cifar10(cifar_archive)
