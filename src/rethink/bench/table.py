"""A benchmark's rows as a Rich table: speeds, compile time, memory, paper estimates.

    print_table(console, render(doc["results"]))   # rethink.base.console.print_table

A failed row shows "error (k)" and its message as note (k) under the table;
a paper-grid estimate without every model's runs is shown as a lower bound
(">=") and the missing models are named.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table

from rethink.base.text import number
from rethink.bench.estimates import PAPER_STEPS


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
    """512 MiB, 3.00 GiB; '-' when unknown."""
    if n is None:
        return "-"
    if n < 1 << 30:
        return f"{n / (1 << 20):.0f} MiB"
    return f"{n / (1 << 30):.2f} GiB"


def render(rows: Sequence[dict[str, Any]]) -> Table:
    """The results as a Rich table; failed rows show their error."""
    table = Table(
        title=f"rethink bench: steady state; paper run = {number(PAPER_STEPS)} steps, "
        "compile excluded",
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
