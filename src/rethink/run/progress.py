"""Showing one run's progress: a Rich bar on a terminal, plain lines elsewhere.

Both are training observers (`rethink.train.Observer`); they only print.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rethink.train.observer import Observer


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


class BarDisplay(Observer):
    """A Rich progress bar: step, loss, accuracy, images/s (refreshed by Rich, ~10 Hz)."""

    def __init__(self, console: Console, title: str, total: int, start: int = 0) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]} acc {task.fields[acc]} test {task.fields[test]}"),
            TextColumn("{task.fields[ips]} img/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.task = self.progress.add_task(
            title, total=total, completed=start, loss="-", acc="-", test="-", ips="-"
        )

    def __enter__(self) -> BarDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def on_row(self, row: dict[str, float | None]) -> None:
        if row.get("test_acc") is not None:
            self.progress.update(self.task, test=_fmt(row["test_acc"], ".3f"))

    def on_progress(self, p: dict[str, float | None]) -> None:
        self.progress.update(
            self.task,
            completed=p["step"],
            loss=_fmt(p.get("train_loss"), ".4f"),
            acc=_fmt(p.get("train_acc"), ".3f"),
            ips=_fmt(p.get("images_per_s"), ",.0f"),
        )


class LineDisplay(Observer):
    """One plain line per metrics row, at most every `every` seconds (CI, log files)."""

    def __init__(self, console: Console, title: str, total: int, every: float = 10.0) -> None:
        self.console = console
        self.title = title
        self.total = total
        self.every = every
        self._last = 0.0

    def __enter__(self) -> LineDisplay:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def on_row(self, row: dict[str, float | None]) -> None:
        now = time.monotonic()
        final = row["step"] == self.total
        if not (final or row.get("test_acc") is not None or now - self._last >= self.every):
            return
        self._last = now
        self.console.print(
            f"{self.title} step {int(row['step'] or 0)}/{self.total}"
            f" epoch {_fmt(row.get('epoch'), '.2f')}"
            f" loss {_fmt(row.get('train_loss'), '.4f')} acc {_fmt(row.get('train_acc'), '.4f')}"
            f" test_acc {_fmt(row.get('test_acc'), '.4f')}"
            f" img/s {_fmt(row.get('images_per_s'), '.0f')}",
            highlight=False,
            soft_wrap=True,
        )


def display_for(
    console: Console, title: str, total: int, start: int = 0
) -> BarDisplay | LineDisplay:
    if console.is_terminal:
        return BarDisplay(console, title, total, start)
    return LineDisplay(console, title, total)
