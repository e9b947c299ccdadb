"""A located copy of a data set (`Layout`), and the forms a copy can take.

    layout = locate(Path("mnist.npz"))    # Layout("npz", Path("mnist.npz"))
    layout.kind, layout.files             # what it is; a folder copy's data files
    layout.label                          # "mnist": the name its path gives it

`FORMATS_HINT` lists, for messages, every form rethink reads; `TREE_HINT` the
one any data set can take (an image-folder tree).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["FORMATS_HINT", "TREE_HINT", "Kind", "Layout"]

TREE_HINT = (
    "an image-folder tree train/<class>/*.jpg|png + test/<class>/* (a folder or a .tar.gz of one)"
)
FORMATS_HINT = (
    "cifar-10-python.tar.gz, cifar-100-python.tar.gz or their extracted folders, mnist.npz, "
    f"the MNIST IDX files (a folder or a tar of them), or {TREE_HINT}"
)
# Stripped from a file's name to name what it holds: "my_set.tar.gz" -> "my_set".
_NAME_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".gz", ".npz")

Kind = Literal["archive", "npz", "cifar10", "cifar100", "idx", "images"]


@dataclass(frozen=True)
class Layout:
    """A local copy of a data set: what kind it is and where its data files are.

    An archive's contents are only known once it is read (`decode`), so for
    `kind == "archive"` (and a single `"npz"` file) `files` is empty; for
    folders it lists the data files relative to `root` (POSIX separators), in
    the order they are decoded.
    """

    kind: Kind
    root: Path
    files: tuple[str, ...] = ()

    @property
    def is_file(self) -> bool:
        """Whether the copy is one file (read whole), not a folder of data files."""
        return self.kind in ("archive", "npz")

    @property
    def label(self) -> str:
        """The name the path gives the copy: a folder's name, or a file's name
        without .tar/.tar.gz/.tgz/.gz/.npz (what an image tree is named after)."""
        name = Path(os.path.abspath(self.root)).name
        if self.is_file:
            lower = name.lower()
            for suffix in _NAME_SUFFIXES:
                if lower.endswith(suffix) and len(name) > len(suffix):
                    return name[: -len(suffix)]
        return name or str(self.root)
