"""rethink: the randomization tests of Zhang et al. (ICLR 2017) on any Keras 3 backend.

    from rethink import randomize
    from rethink.data import load_cifar10, preprocess
    from rethink.models import build

Importing `rethink` does not import Keras: the backend is chosen first
(`KERAS_BACKEND` or `rethink --backend`), Keras after.
"""

from __future__ import annotations

from typing import Any

from rethink.base.distribution import DISTRIBUTION, __version__, install_hint

__all__ = ["DISTRIBUTION", "__version__", "install_hint", "randomize"]


def randomize(*args: Any, **kwargs: Any) -> Any:
    """See `rethink.data.randomization.randomize` (pure NumPy; no Keras import)."""
    from rethink.data.randomization import randomize as _randomize

    return _randomize(*args, **kwargs)
