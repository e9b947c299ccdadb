"""The Keras backend of this test process (KERAS_BACKEND fixes it per process)."""

from __future__ import annotations

import os


def current_backend() -> str:
    return os.environ.get("KERAS_BACKEND", "tensorflow")
