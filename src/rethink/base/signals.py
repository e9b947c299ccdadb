"""Ctrl-C and SIGTERM as a request to stop, for a run and for a grid.

    with stop_signals() as stop:          # a StopFlag: training polls stop()
        train(..., should_stop=stop)
    with on_stop_signals(handler):        # any handler(signum, frame), e.g. a grid's
        executor_loop()

SIGTERM is what a scheduler, `kill` or a cancelled Ray task sends; it stops as
Ctrl-C does. Handlers are installed in the main thread only (elsewhere Python
refuses them and they are left alone) and the previous ones are restored on exit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Handler = Callable[[int, FrameType | None], Any]


class StopFlag:
    """Set by the first Ctrl-C or SIGTERM; training polls it after every dispatch.

    A handler that raises KeyboardInterrupt can fire inside Keras, which may
    swallow it; a flag cannot be lost. A second signal raises at once.
    """

    def __init__(self) -> None:
        self.set = False

    def __call__(self) -> bool:
        return self.set

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.set:
            raise KeyboardInterrupt
        self.set = True


@contextlib.contextmanager
def on_stop_signals(handler: Handler) -> Iterator[None]:
    """`handler` for SIGINT and SIGTERM inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def stop_signals() -> Iterator[StopFlag]:
    """A StopFlag that the first Ctrl-C or SIGTERM inside the block sets."""
    flag = StopFlag()
    with on_stop_signals(flag.handle):
        yield flag
