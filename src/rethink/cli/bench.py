"""`rethink bench`: training throughput per backend, model and precision (docs/benchmarks.md).

    rethink bench --models inception,mlp_3x512 --backends jax,torch,tensorflow
    rethink bench --tiny                          # seconds: what CI runs

Parses the options into `rethink.bench.BenchSpec` (whose defaults apply to
what is not given), runs `rethink.bench.run` (a worker process per backend),
prints its table (`rethink.bench.table`) and writes the JSON document.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from rethink import install_hint
from rethink.base.console import print_table, say
from rethink.cli import app, console, err_console, fail
from rethink.cli.options import EXECUTION
from rethink.cli.settings import Settings, with_settings


def _names(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """Repeated options and comma-separated lists alike: ["a,b", "c"] -> (a, b, c)."""
    if values is None:
        return None
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@app.command("bench")
@with_settings(kind=EXECUTION)  # --loop, --steps-per-execution, --torch-compile as `rethink run`
def bench_command(
    models: Annotated[
        list[str] | None,
        typer.Option(help="Models, comma-separated or repeated (default: inception,mlp_3x512)."),
    ] = None,
    backends: Annotated[
        list[str] | None,
        typer.Option(help="Backends, each in its own process (default: all installed)."),
    ] = None,
    precisions: Annotated[
        list[str] | None,
        typer.Option(help="float32, mixed_bfloat16, mixed_float16 (default: float32)."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Images per step (default: 128).", show_default=False)
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Timed steps (default: 300).", show_default=False)
    ] = None,
    warmup: Annotated[
        int | None,
        typer.Option(help="Steps before timing starts (default: 50).", show_default=False),
    ] = None,
    images: Annotated[
        int | None,
        typer.Option(
            help="Images in the synthetic training set (default: 50000, the paper's epoch).",
            show_default=False,
        ),
    ] = None,
    pack: Annotated[
        int | None,
        typer.Option(
            help="Train this many runs as one pack (jax, torch) and report their aggregate "
            "images/s, as `rethink grid --pack` trains them (default: 1, unpacked).",
            show_default=False,
        ),
    ] = None,
    tiny: Annotated[
        bool, typer.Option(help="mlp_1x512, batch 32, 2 + 5 steps: seconds, for CI.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Folder for the JSON file.")] = Path("."),
    json_path: Annotated[
        Path | None,
        typer.Option(
            "--json", help="JSON file to write (default: OUT/bench.json).", show_default=False
        ),
    ] = None,
    *,
    settings: Settings,
) -> None:
    """Measure training throughput of the real training loop on synthetic data.

    Each backend runs in its own process; prints a table and writes JSON with
    the device, versions, settings, host and date. Speeds are steady state
    after --warmup steps; a paper run is 25,000 steps, the paper grid its 25 runs.
    Exit code 0, 1 when a backend or model failed (its row says why), 2 bad settings.
    """
    from rethink.bench import BenchError, BenchSpec, run
    from rethink.bench.runner import failed_backends
    from rethink.bench.table import render

    given: dict[str, Any] = {
        "models": _names(models),
        "backends": _names(backends),
        "precisions": _names(precisions),
        "batch_size": batch_size,
        "steps": steps,
        "warmup": warmup,
        "images": images,
        "pack": pack,
        **settings.execution(),  # what is not given: BenchSpec's defaults
    }
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        spec = BenchSpec.tiny(**changes) if tiny else BenchSpec(**changes)
    except BenchError as e:
        fail(str(e))
    for name in spec.missing_backends():  # only a --backends name can be missing
        fail(f"backend {name!r} is not installed; install it with {install_hint(name)}")
    target = json_path if json_path is not None else out / "bench.json"
    try:  # before minutes of measuring, not after
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"cannot create {target.parent}: {e.strerror}")

    from rethink.run.folder import write_json

    doc = run(
        spec,
        argv=["rethink", *sys.argv[1:]],
        on_backend=lambda name: say(err_console, f"bench: {name} ..."),
    )
    print_table(console, render(doc["results"]))
    write_json(target, doc)
    say(console, f"results: {target}")
    failed = failed_backends(doc)
    if failed:
        say(err_console, f"errors on {', '.join(failed)}: see the error rows")
        raise typer.Exit(1)
