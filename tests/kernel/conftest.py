"""Shared fixtures of the kernel tests: the real CIFAR-10 arrays, loaded once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def raw(cifar_archive: Path) -> Any:
    from rethink.data import load_cifar10

    return load_cifar10(cifar_archive)
