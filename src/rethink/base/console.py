"""Printing for people and for logs: Rich on a terminal, plain lines otherwise.

    if interactive(console): ...live view...  else: say(console, "step 100/2000 loss 2.30")
    print_table(console, table)           # never squeezed to 80 columns in a log
    every = Throttle(30.0); if every.due(): say(...)

Every display of rethink (a run's progress, the grid's live table, the report,
the bench) takes the same decision the same way: a terminal gets Rich's live
and coloured output; anything else (CI, `nohup`, `> log`, a cluster's log) gets
plain lines, with markup and highlighting off so a path or a number is printed
as it is, and tables at a fixed width instead of the 80 columns Rich assumes.
"""

from __future__ import annotations

import time

from rich.console import Console, RenderableType

LOG_WIDTH = 160  # the width of tables printed off a terminal


def interactive(console: Console) -> bool:
    """Whether `console` is a terminal (live views, colour), not a pipe or file."""
    return console.is_terminal


def say(console: Console, text: str) -> None:
    """One plain line: no markup, no highlighting, never wrapped by Rich."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def print_table(console: Console, renderable: RenderableType) -> None:
    """A table (or any renderable): as Rich draws it on a terminal, at LOG_WIDTH off one."""
    target = console if interactive(console) else Console(file=console.file, width=LOG_WIDTH)
    target.print(renderable)


class Throttle:
    """`due()` is True at most once every `every_s` seconds (the first call: True)."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._last: float | None = None

    def due(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or self._last is None or now - self._last >= self.every_s:
            self._last = now
            return True
        return False
