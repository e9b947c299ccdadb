"""Where a report's runs came from: one `Source` per folder read, and where the set
disagrees with itself.

    sources_of(runs, ["part1", "part3"], grid.dropped)   # per folder: runs, machines, dates
    set_flags(runs, ["part1", "part3"])                  # different data, data sets, protocols
    dropped_notes(grid.dropped)                          # the duplicates left out, per pair

A report may cover several folders (`rethink.results.loading.load_grids`:
results made in parts on different machines); judging is the same as for
one. Each `Source` says how many runs a folder holds, on which machines,
started when, with which rethink commits, and how many were dropped as
duplicates; the flags say where the set disagrees with itself: the same
data set with different data digests, several data sets, protocols that
differ across folders. Pure Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rethink.results.loading import Dropped
from rethink.results.protocol import run_deviations
from rethink.results.summary import RunSummary, datasets_of


@dataclass(frozen=True)
class Source:
    """One folder of a report's set: its runs, the machines and code that made them."""

    folder: str  # as given
    runs: int  # runs of the set found under it (duplicates dropped not counted)
    machines: tuple[str, ...]  # "host / device / backend", distinct, "?" where unknown
    started: tuple[float, float] | None  # earliest and latest env.json "started" (unix time)
    commits: tuple[str, ...]  # rethink commits, short ("+dirty" kept); none where unrecorded
    dropped: int  # copies found under it left out as duplicates of another folder's

    @property
    def dates(self) -> str:
        """The UTC dates its runs started: '2026-03-01', '2026-03-01 to 2026-03-04' or '-'."""
        if self.started is None:
            return "-"
        first, last = (utc_date(t) for t in self.started)
        return first if first == last else f"{first} to {last}"


def utc_date(t: float) -> str:
    """A unix time's UTC date, '2026-03-01'."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def short_commit(commit: str) -> str:
    """A git commit's first 7 hex digits, '+dirty' kept."""
    dirty = commit.endswith("+dirty")
    return commit.removesuffix("+dirty")[:7] + ("+dirty" if dirty else "")


def folders_of(folder: str | Sequence[str]) -> tuple[str, ...]:
    """A folder, or several, as a tuple of distinct folders ('' for none)."""
    if isinstance(folder, str):
        return (folder,) if folder else ()
    return tuple(dict.fromkeys(folder))


def run_source(r: RunSummary, folders: Sequence[str]) -> str:
    """The folder a run belongs to: the only one, else the one it was found under."""
    if len(folders) == 1:
        return folders[0]
    return r.source or "-"


def sources_of(
    runs: Sequence[RunSummary], folders: Sequence[str], dropped: Sequence[Dropped] = ()
) -> list[Source]:
    """One `Source` per folder given (then any other a run names), in that order."""
    keys = list(dict.fromkeys([*folders, *(run_source(r, folders) for r in runs)]))
    out = []
    for key in keys:
        mine = [r for r in runs if run_source(r, folders) == key]
        times = [r.started for r in mine if r.started is not None]
        machines = (f"{r.host or '?'} / {r.device or '?'} / {r.backend or '?'}" for r in mine)
        out.append(
            Source(
                folder=key,
                runs=len(mine),
                machines=tuple(dict.fromkeys(machines)),
                started=(min(times), max(times)) if times else None,
                commits=tuple(
                    dict.fromkeys(short_commit(r.rethink_commit) for r in mine if r.rethink_commit)
                ),
                dropped=sum(1 for d in dropped if (d.source if len(folders) > 1 else key) == key),
            )
        )
    return out


def _in(folders: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(folders))


def set_flags(runs: Sequence[RunSummary], folders: Sequence[str] = ()) -> list[str]:
    """Where the runs disagree: the same data set with different data (env.json
    "data_sha256"), and across several folders: several data sets, or different
    protocols (`run_deviations`)."""
    flags = []
    for dataset in datasets_of(runs):
        digests: dict[str, list[RunSummary]] = {}
        for r in runs:
            if r.dataset.name == dataset.name and r.data_sha256:
                digests.setdefault(r.data_sha256, []).append(r)
        if len(digests) < 2:
            continue
        parts = []
        for digest, group in digests.items():
            origin = _in(r.data_source for r in group if r.data_source)
            where = _in(run_source(r, folders) for r in group)
            parts.append(
                f"sha256 {digest[:12]}" + (f" ({origin})" if origin else "") + f" in {where}"
            )
        flags.append(
            f"{dataset.name}: runs on different copies of the data (e.g. a JPEG re-encoding "
            "against the official pixels), their numbers not strictly comparable: "
            + "; ".join(parts)
        )
    if len(folders) < 2:
        return flags
    datasets = datasets_of(runs)
    if len(datasets) > 1:
        flags.append(
            f"runs of {len(datasets)} data sets, each judged apart: "
            + "; ".join(
                f"{d.name} in {_in(run_source(r, folders) for r in runs if r.dataset == d)}"
                for d in datasets
            )
        )
    by_folder: dict[str, list[RunSummary]] = {}
    for r in runs:
        by_folder.setdefault(run_source(r, folders), []).append(r)
    protocols = {k: frozenset(map(run_deviations, rs)) for k, rs in by_folder.items()}
    if len(set(protocols.values())) > 1:
        parts = []
        for key, group in by_folder.items():
            off = [r for r in group if run_deviations(r)]
            if not off:
                parts.append(f"{key}: all {len(group)} on the paper's protocol")
                continue
            settings = "; ".join(dict.fromkeys(", ".join(run_deviations(r)) for r in off))
            parts.append(f"{key}: {len(off)} of {len(group)} off the paper's protocol ({settings})")
        flags.append("protocols differ across folders: " + "; ".join(parts))
    return flags


def dropped_notes(dropped: Sequence[Dropped]) -> list[str]:
    """One note per pair of folders: the copies left out, and which folder's were kept."""
    pairs: dict[tuple[str, str, str], list[str]] = {}
    for d in dropped:
        pairs.setdefault((d.source, d.kept_source, d.prefer), []).append(d.run_id)
    return [
        f"dropped as duplicates (prefer {prefer}): {len(ids)} run(s) of {source}, the copies "
        f"in {kept} kept: " + ", ".join(ids)
        for (source, kept, prefer), ids in pairs.items()
    ]
