"""The options only `rethink grid` has, in the panels of its --help, and how they are read.

    preset: PresetOption = None        # in `rethink.cli.grid`'s signature
    names(["mlp_1x512,alexnet", "inception"])    # ['mlp_1x512', 'alexnet', 'inception']
    seeds("1,3-4")                                # (1, 3, 4); seeds("3") -> 3 (seeds 0..2)

Which runs (preset, models, corruptions, levels, seeds, plain), the folder
(out, resume, dry run; the data options are `rethink.cli.options`' settings),
how runs train here (jobs, gpus, saved models, compact) and on a Ray cluster.
The training settings every run takes are `rethink.cli.options`, declared
once with `rethink run`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import typer

from rethink.cli import fail
from rethink.cli.options import FOLDER_PANEL as FOLDER
from rethink.cli.options import choices
from rethink.grid import PRESET_HELP, PRESETS

SELECTION = "Selection: which runs"
EXECUTION = "Execution: how runs train here"
CLUSTER = "Ray cluster (--executor ray)"

if TYPE_CHECKING:
    Preset: TypeAlias = str
else:
    Preset = choices("Preset", tuple(PRESETS))


class ExecutorName(StrEnum):
    local = "local"
    ray = "ray"


def _listed(flag: str, metavar: str, text: str, short: str | None = None) -> Any:
    flags = [flag, short] if short else [flag]
    return typer.Option(
        *flags, metavar=metavar, help=text, show_default=False, rich_help_panel=SELECTION
    )


def _unset(text: str, panel: str, envvar: str | None = None) -> Any:
    return typer.Option(help=text, show_default=False, rich_help_panel=panel, envvar=envvar)


_PRESETS = "; ".join(f"{k}: {v}" for k, v in PRESET_HELP.items())
PresetOption = Annotated[
    Preset | None,
    typer.Option(help=f"Which grid (default: paper). {_PRESETS}.", rich_help_panel=SELECTION),
]
ModelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--models", "--model", "-m", metavar="NAMES", show_default=False,
        rich_help_panel=SELECTION,
        help="Models to train (repeat or comma list): the paper's, or your own as "
        "module.path:builder or path/to/file.py:builder.",
    ),
]  # fmt: skip
CorruptionsOption = Annotated[
    list[str] | None,
    _listed("--corruptions", "NAMES", "Randomizations to train (repeat or comma list).", "-c"),
]
LevelsOption = Annotated[
    list[str] | None,
    _listed(
        "--levels", "P,P,...", "Add partial-label runs at these levels, e.g. 0,0.2,0.4,0.6,0.8,1."
    ),
]
SeedsOption = Annotated[
    str | None,
    _listed(
        "--seeds",
        "N|S,S-S",
        "Repeat every run with seeds 0..N-1, or with the seeds given: 1,2 or 3-5 "
        "(2-2: seed 2 alone).",
    ),
]
PlainOption = Annotated[
    bool | None,
    typer.Option(
        "--plain/--no-plain",
        help="--no-plain: leave out the runs without weight decay and random crop (e.g. "
        "Table 1's regularized rows beside a paper grid that holds the plain ones).",
        show_default=False,
        rich_help_panel=SELECTION,
    ),
]
OutOption = Annotated[
    Path | None, _unset("Grid folder (default: the next free output_N/ here).", FOLDER)
]
ResumeOption = Annotated[
    Path | None,
    _unset("Continue the grid in this folder, with the settings in its grid.json.", FOLDER),
]
DryRunOption = Annotated[
    bool, typer.Option(help="List the runs and exit; create nothing.", rich_help_panel=FOLDER)
]
JobsOption = Annotated[
    str | None,
    _unset(
        "Runs at once: a number, or auto (the default: 4 per GPU, sharing it; on a CPU 2, "
        "or 1 on one core). With --executor ray: runs handed to the cluster at once "
        "(default: all).",
        EXECUTION,
    ),
]
PackOption = Annotated[
    str | None,
    _unset(
        "Runs of one model and protocol trained as one pack: on a GPU one compiled step "
        "for all (jax, torch), on a CPU one worker training them one after another. off, "
        "a number, or auto (the default: 5; on a CPU fewer where that leaves a job idle).",
        EXECUTION,
    ),
]
GpusOption = Annotated[
    str | None,
    _unset("GPUs to spread runs over, e.g. 0,1 (sets CUDA_VISIBLE_DEVICES per run).", EXECUTION),
]
SaveModelOption = Annotated[
    bool,
    typer.Option(
        envvar="RETHINK_SAVE_MODEL",
        help="Each completed run saves its trained model as model.keras.",
        rich_help_panel=EXECUTION,
    ),
]
CompactOption = Annotated[
    bool,
    typer.Option(
        "--compact",
        help="Remove each finished (completed or diverged) run's checkpoint.npz and "
        "model.keras at once, keeping spec, env, metrics, result and log: a small folder "
        "to bring back (implies --no-save-model). Stored in grid.json: --resume keeps it.",
        rich_help_panel=EXECUTION,
    ),
]
ExecutorOption = Annotated[
    ExecutorName,
    typer.Option(
        help="Where runs train: worker processes here, or tasks on a Ray cluster.",
        rich_help_panel=CLUSTER,
    ),
]
AddressOption = Annotated[
    str | None,
    _unset(
        "Ray cluster: HOST:PORT or ray://HOST:PORT (default: the cluster on this machine).",
        CLUSTER,
        envvar="RAY_ADDRESS",
    ),
]
GpusPerRunOption = Annotated[
    float | None,
    _unset(
        "GPUs each run asks of the Ray cluster; fractions share a GPU, e.g. 0.25 "
        "(default: 1 if the cluster has GPUs, else 0).",
        CLUSTER,
    ),
]
CpusPerRunOption = Annotated[
    float | None, _unset("CPUs each run asks of the Ray cluster (default: 1).", CLUSTER)
]


def names(values: list[str] | None) -> list[str] | None:
    """--models or --corruptions, repeated or comma lists, as one list."""
    if values is None:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def seeds(value: str | None) -> int | tuple[int, ...] | None:
    """--seeds: a count N (seeds 0..N-1), or seeds listed and ranged: 1,2 or 3-5 or 2-2."""
    if value is None:
        return None
    text = value.strip()
    try:
        if "," not in text and "-" not in text:
            return int(text)
        listed: list[int] = []
        for part in (p.strip() for p in text.split(",") if p.strip()):
            first, _, last = part.partition("-")
            listed += range(int(first), int(last or first) + 1)
        return tuple(listed)
    except ValueError:
        fail(
            "--seeds takes a count or the seeds, e.g. 3 (seeds 0-2), 1,2 or 2-2 (seed 2 alone); "
            f"got {value!r}"
        )
