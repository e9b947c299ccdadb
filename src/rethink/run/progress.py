"""Showing one run's progress: a Rich bar on a terminal, plain lines anywhere else.

    with display_for(console, spec.run_id) as display:     # a training Observer
        execute(spec, Path("runs"), backend="jax", display=display)

On a terminal (`rethink.base.console.interactive`) a Rich bar shows the step,
the latest training loss and accuracy, the last test accuracy and the speed.
Anywhere else (a batch job, `nohup`, a cluster's log) a plain line says the
same (`progress_line`): about every 10 s, at each epoch end (where the test
split is evaluated) and at the end. Training and accuracy come from training's
progress after every dispatch, so every line carries the latest ones, and so
does the total: the run's resolved step count, right for `--epochs` too. Both
displays only print.
"""

from __future__ import annotations

from collections.abc import Mapping
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

from rethink.base.console import Throttle, interactive, say
from rethink.base.text import number
from rethink.train.observer import Observer

LINE_EVERY_S = 10.0  # a plain line at most this often between epoch ends

Numbers = Mapping[str, float | None]


def progress_line(title: str, progress: Numbers, total: int | None, test_acc: float | None) -> str:
    """One plain line: step of total, epoch, the latest training loss and accuracy, the last
    test accuracy and images per second ("-" for what is not known yet)."""
    step = progress.get("step")
    return (
        f"{title} step {number(step)}/{number(total)}"
        f" epoch {number(progress.get('epoch'), 2)}"
        f" loss {number(progress.get('train_loss'), 4)} acc {number(progress.get('train_acc'), 4)}"
        f" test_acc {number(test_acc, 4)}"
        f" img/s {number(progress.get('images_per_s'))}"
    )


class LineDisplay(Observer):
    """Plain lines (`progress_line`): at most every `every_s` seconds, at every evaluation
    of the test split (epoch ends and the last step), and when the display closes."""

    def __init__(
        self, console: Console, title: str, total: int | None = None, every_s: float = LINE_EVERY_S
    ) -> None:
        self.console = console
        self.title = title
        self.total = total
        self.throttle = Throttle(every_s)
        self.progress: dict[str, float | None] = {}
        self.test_acc: float | None = None
        self._shown_step: float | None = None

    def __enter__(self) -> LineDisplay:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress and self.progress.get("step") != self._shown_step:
            self._say()  # a run that stopped between two lines: where it stopped

    def on_progress(self, progress: dict[str, float | None]) -> None:
        self.progress = dict(progress)
        self.total = int(progress.get("total_steps") or self.total or 0) or None
        if self.throttle.due():
            self._say()

    def on_row(self, row: dict[str, float | None]) -> None:
        if row.get("test_acc") is None:  # only evaluations: epoch ends and the end
            return
        self.test_acc = row["test_acc"]
        self.progress.update(step=row["step"], epoch=row["epoch"])
        self.throttle.due(force=True)  # the next timed line counts from here
        self._say()

    def _say(self) -> None:
        self._shown_step = self.progress.get("step")
        say(self.console, progress_line(self.title, self.progress, self.total, self.test_acc))


class BarDisplay(Observer):
    """A Rich progress bar: step, loss, accuracy, test accuracy, images/s (redrawn by Rich)."""

    def __init__(self, console: Console, title: str, total: int | None = None) -> None:
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
        self.task = self.progress.add_task(title, total=total, loss="-", acc="-", test="-", ips="-")

    def __enter__(self) -> BarDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def on_row(self, row: dict[str, float | None]) -> None:
        if row.get("test_acc") is not None:
            self.progress.update(self.task, test=number(row["test_acc"], 3))

    def on_progress(self, p: dict[str, float | None]) -> None:
        self.progress.update(
            self.task,
            total=p.get("total_steps") or self.progress.tasks[0].total,
            completed=p["step"],
            loss=number(p.get("train_loss"), 4),
            acc=number(p.get("train_acc"), 3),
            ips=number(p.get("images_per_s")),
        )


def display_for(console: Console, title: str, total: int | None = None) -> BarDisplay | LineDisplay:
    """The display for `console`: a bar on a terminal, else plain lines. `total` is the
    step count if known before training (None with --epochs: training says it)."""
    if interactive(console):
        return BarDisplay(console, title, total)
    return LineDisplay(console, title, total)
