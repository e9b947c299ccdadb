"""The folders of runs that `rethink plot` and `rethink report` read, named on the command line.

    folders = expand([Path("results/*")])     # a quoted glob, expanded here on every OS
    grid = load(folders, prefer=None)          # one set of runs (one-line errors, exit 2)
    where = out_folder(folders, out)           # --out, else the one folder

Grid folders, run folders and folders of grids are read as one set
(`rethink.results.loading.load_grids`); their outputs go to --out, which
several folders require. The same run in two folders is an error unless
--prefer newer or --prefer first says which copy to keep. Reads only the run
folders: no Keras, no matplotlib.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rethink.cli import err_console, fail
from rethink.results.loading import DuplicateRunError, Grid, load_grids, run_dirs


class Prefer(StrEnum):
    newer = "newer"
    first = "first"


FoldersArg = Annotated[
    list[Path],
    typer.Argument(
        help="Grid folders (run folders below them), run folders or folders of grids, read "
        "as one set; a quoted glob ('results/*') is expanded.",
        show_default=False,
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Write here instead of the grid folder (required for several folders).",
        show_default=False,
    ),
]
PreferOption = Annotated[
    Prefer | None,
    typer.Option(
        "--prefer",
        help="The same run in two folders: keep the newer copy (a finished run first, "
        "then the later start) or the one in the folder given first. Default: an error.",
        show_default=False,
    ),
]
GLOB_CHARS = "*?["


def expand(args: Sequence[Path]) -> list[Path]:
    """The folders named: an argument with a glob character that is no existing path is
    expanded (sorted; the folders it matches); the same folder named twice counts once.
    One-line error for a missing folder or a pattern that matches none."""
    folders: dict[Path, Path] = {}
    for arg in args:
        text = str(arg)
        if not arg.exists() and any(c in text for c in GLOB_CHARS):
            matches = [Path(m) for m in sorted(glob.glob(text)) if Path(m).is_dir()]
            if not matches:
                fail(f"{text}: no folder matches")
        elif not arg.is_dir():
            fail(f"{arg}: {'not a folder' if arg.exists() else 'no such folder'}")
        else:
            matches = [arg]
        for m in matches:
            folders.setdefault(m.resolve(), m)
    return list(folders.values())


def folders_text(folders: Sequence[Path]) -> str:
    """'output_3', or '3 folders: a, b, c'."""
    if len(folders) == 1:
        return str(folders[0])
    return f"{len(folders)} folders: " + ", ".join(map(str, folders))


def out_folder(folders: Sequence[Path], out: Path | None) -> Path:
    """Where outputs go: --out, else the one folder; several folders need --out."""
    if out is not None:
        return out
    if len(folders) > 1:
        fail("several folders: say where to write with --out DIR")
    return folders[0]


def load(folders: Sequence[Path], prefer: Prefer | None) -> Grid:
    """The runs of `folders` as one set; what was skipped or dropped is said on stderr."""
    try:
        grid = load_grids(folders, None if prefer is None else prefer.value)
    except DuplicateRunError as e:
        fail(str(e))
    if not grid.runs:
        why = f" ({len(grid.skipped)} with an unreadable spec.json)" if grid.skipped else ""
        fail(f"{folders_text(folders)}: no run folders (folders holding a spec.json){why}")
    for path in grid.skipped:
        err_console.print(f"skipped {path}: unreadable spec.json", highlight=False)
    if len(folders) > 1:  # one folder without runs among several: say so, go on
        for folder in grid.sources:
            if not run_dirs(Path(folder)):
                err_console.print(f"no run folders in {folder}", highlight=False, soft_wrap=True)
    for d in grid.dropped:
        err_console.print(
            f"dropped {d.path}: the same run as {d.kept} (--prefer {d.prefer})",
            highlight=False,
            soft_wrap=True,
        )
    return grid
