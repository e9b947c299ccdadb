"""rethink: the randomization tests of Zhang et al. (ICLR 2017) on any Keras 3 backend.

    from rethink import randomize
    from rethink.data import load_cifar10, preprocess
    from rethink.models import build

Importing `rethink` does not import Keras: the backend is chosen first
(`KERAS_BACKEND` or `rethink --backend`), Keras after.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
# The name on the package index (`rethink` there is an unrelated project);
# the import package and the command are `rethink`.
DISTRIBUTION = "rethink-generalization"
__all__ = ["DISTRIBUTION", "__version__", "install_hint", "randomize"]


def install_hint(extra: str) -> str:
    """The pip command that installs rethink with `extra` (a backend, ray)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def randomize(*args: Any, **kwargs: Any) -> Any:
    """See `rethink.data.randomization.randomize` (pure NumPy; no Keras import)."""
    from rethink.data.randomization import randomize as _randomize

    return _randomize(*args, **kwargs)
