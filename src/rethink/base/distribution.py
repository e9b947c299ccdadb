"""rethink as a distribution: its name on the package index, its version, its extras.

The name on the index is `rethink-generalization` (`rethink` there is an
unrelated project); the import package and the command are `rethink`.
"""

from __future__ import annotations

__version__ = "0.1.0"
DISTRIBUTION = "rethink-generalization"


def install_hint(extra: str) -> str:
    """The pip command that installs rethink with `extra` (a backend, ray)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
