"""The data many runs will train on, checked once before any of them starts.

    found = identify(specs, backend="jax")      # DataError: one line naming the problem
    found.dataset.describe(), found.n_train     # n_train None where not read here
    spec_data = absolute_source("cifar10.tar.gz")   # for workers that run elsewhere

A grid's runs share their data (`rethink grid`). A local copy (a spec's `data`,
else $RETHINK_DATA) is read once here, which also fills the decoded cache that
every worker then reads. Without one, Keras's download is fetched once
(`download_once`: in a process of its own on the workers' backend, since the
caller imports no Keras) so that the workers read Keras's copy instead of each
downloading it. Every spec's crop and random crop must fit the images.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rethink.base.process import run_python
from rethink.data import load, sources
from rethink.data.pipeline import check_window_crop
from rethink.spec import DataSpec
from rethink.spec.datasets import DEFAULT, DataError, Dataset, known

Log = Callable[[str], None]

# The child of `download_once`: Keras's download, its error as the last line of stderr.
_FETCH = "import sys; from rethink.data.probe import fetch; sys.exit(fetch(sys.argv[1]))"


@dataclass(frozen=True)
class Identified:
    """The data set the runs train on, and its training images where they were read here
    (None for Keras's download, which is not read in this process)."""

    dataset: Dataset
    n_train: int | None


def identify(
    specs: Sequence[DataSpec], backend: str, download: bool = True, log: Log | None = None
) -> Identified | None:
    """The runs' data set, read (a local copy) or fetched once (`download`; False where
    each machine fetches its own), with every spec's crop checked; None without specs.
    `log` hears what takes time (a download). Raises DataError."""
    if not specs:
        return None
    first = specs[0]
    if sources.resolve(first.data) is not None:
        loaded = load(first.data, first.dataset)  # data None: $RETHINK_DATA
        found = Identified(loaded.dataset, len(loaded.arrays[0][1]))
        del loaded  # the workers load it again, from the cache this filled
    else:
        found = Identified(known(first.dataset or DEFAULT), None)
        if download:
            download_once(found.dataset.name, backend, log)
    for spec in specs:
        check_window_crop(spec, found.dataset.shape, found.dataset.crop(spec.crop))
    return found


def download_once(dataset: str, backend: str, log: Log | None = None) -> None:
    """Keras's download of `dataset` into Keras's cache, in a new process on `backend`;
    DataError with its reason (offline: how to point at a local copy) if it fails."""
    if log is not None:
        log(f"data: no --data or RETHINK_DATA; getting {dataset} through Keras once")
    try:
        proc = run_python(["-c", _FETCH, dataset], backend)
    except OSError as e:
        raise DataError(f"could not get {dataset}: {e}") from None
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise DataError(
            lines[-1] if lines else f"could not get {dataset} (exit code {proc.returncode})"
        )


def fetch(dataset: str) -> int:
    """Keras's download of `dataset` in this process (`download_once`'s child): 0, or 2
    with the reason on stderr."""
    try:
        sources.download(dataset)
    except DataError as e:
        print(e, file=sys.stderr)
        return 2
    return 0


def absolute_source(path: str | os.PathLike[str]) -> str:
    """`path` made absolute, for workers and resumed grids that run elsewhere; DataError
    if nothing is there."""
    source = Path(path).expanduser()
    if not source.exists():
        raise DataError(f"data not found: {path}")
    return str(source.resolve())
