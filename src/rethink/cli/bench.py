"""`rethink bench`: training throughput per backend, model and precision (docs/benchmarks.md)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from rethink import install_hint
from rethink.base.text import number
from rethink.cli import (
    GivenLoopOption,
    GivenTorchCompileOption,
    StepsOption,
    app,
    console,
    err_console,
    fail,
)


def _names(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """Repeated options and comma-separated lists alike: ["a,b", "c"] -> (a, b, c)."""
    if values is None:
        return None
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def format_seconds(seconds: float | None) -> str:
    """23.4 s, 12.5 min, 3.1 h; '-' when unknown."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    if n < 1 << 30:
        return f"{n / (1 << 20):.0f} MiB"
    return f"{n / (1 << 30):.2f} GiB"


def render(rows: Sequence[dict[str, Any]]) -> Table:
    """The results as a Rich table; failed rows show their error."""
    table = Table(
        title="rethink bench: steady state; paper run = 25,000 steps, compile excluded",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name in ("backend", "model", "precision", "loop"):
        table.add_column(name, no_wrap=True)
    for name in ("images/s", "ms/step", "compile s", "peak mem", "paper run", "paper grid"):
        table.add_column(name, justify="right", no_wrap=True)
    partial: set[str] = set()
    notes: list[str] = []
    for r in rows:
        head = [
            str(r.get("backend")),
            str(r.get("model") or "-"),
            str(r.get("precision") or "-"),
            str(r.get("loop") or "-"),
        ]
        if r.get("error"):
            notes.append(f"({len(notes) + 1}) {' '.join(head[:2])}: {r['error']}")
            table.add_row(*head, f"[red]error ({len(notes)})[/]", *["-"] * 5)
            continue
        grid = format_seconds(r.get("paper_grid_s"))
        missing = r.get("paper_grid_missing") or []
        if missing and r.get("paper_grid_s") is not None:
            grid = f">={grid}*"
            partial.update(missing)
        table.add_row(
            *head,
            number(r.get("images_per_s")),
            number(r.get("ms_per_step"), 2),
            number(r.get("compile_s"), 1),
            format_bytes(r.get("peak_memory_bytes")),
            format_seconds(r.get("paper_run_s")),
            grid,
        )
    if partial:
        notes.append(f"* without the runs of {', '.join(sorted(partial))} (not benchmarked)")
    if notes:
        table.caption = "\n".join(notes)
        table.caption_justify = "left"
    return table


@app.command("bench")
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
    steps_per_execution: StepsOption = None,
    loop: GivenLoopOption = None,
    torch_compile: GivenTorchCompileOption = None,
    images: Annotated[
        int | None,
        typer.Option(
            help="Images in the synthetic training set (default: 50000, the paper's epoch).",
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
) -> None:
    """Measure training throughput of the real training loop on synthetic data.

    Each backend runs in its own process; prints a table and writes JSON with
    the device, versions, settings, host and date. Speeds are steady state
    after --warmup steps; a paper run is 25,000 steps, the paper grid its 25 runs.
    Exit code 0, 1 when a backend or model failed (its row says why), 2 bad settings.
    """
    from rethink.base.backend import installed
    from rethink.bench import BenchError, BenchSpec, run

    given: dict[str, Any] = {
        "models": _names(models),
        "backends": _names(backends),
        "precisions": _names(precisions),
        "batch_size": batch_size,
        "steps": steps,
        "warmup": warmup,
        "steps_per_execution": steps_per_execution,
        "images": images,
        "loop": loop,
        "torch_compile": torch_compile,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    try:
        settings = BenchSpec.tiny(**changes) if tiny else BenchSpec(**changes)
    except BenchError as e:
        fail(str(e))
    # Without --backends the default holds the installed ones only.
    for name in settings.backends:
        if not installed(name):
            fail(f"backend {name!r} is not installed; install it with {install_hint(name)}")
    target = json_path if json_path is not None else out / "bench.json"
    try:  # before minutes of measuring, not after
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        fail(f"cannot create {target.parent}: {e.strerror}")

    from rethink.run.folder import write_json

    doc = run(
        settings,
        argv=["rethink", *sys.argv[1:]],
        on_backend=lambda name: err_console.print(f"bench: {name} ...", highlight=False),
    )
    # Piped or captured output is not cut at 80 columns: the table stays readable.
    wide = console if console.is_terminal else Console(file=console.file, width=120)
    wide.print(render(doc["results"]))
    write_json(target, doc)
    console.print(f"results: {target}", highlight=False, soft_wrap=True)
    failed = sorted({str(r["backend"]) for r in doc["results"] if r.get("error")})
    if failed:
        err_console.print(f"errors on {', '.join(failed)}: see the error rows", highlight=False)
        raise typer.Exit(1)
