"""The grid's view: a pure `render(state)` for Rich Live, plain lines without a terminal.

    reporter = reporter_for(console)          # LiveReporter on a terminal, else PlainReporter
    Executor(..., reporter=reporter).run()    # it calls start/update/run_started/...
    print_table(console, summary(state))      # rethink.base.console

`render(state, now)` and `summary(state)` only read a `GridState` (see
`rethink.grid.state`) and return Rich renderables, so they are tested through a
captured `Console(width=..., record=True)`. Without a terminal (CI, `> log`;
`rethink.base.console.interactive` decides) `PlainReporter` prints one plain
line when a run starts or ends and a status line at most every `every_s`
seconds, with each running run's step, latest training loss and accuracy.

Two kinds of numbers, named apart everywhere: "loss" and "train acc" are
training-mode means of the batches as trained (the last full window once a run
ended, the running mean while it trains: Figure 1a's curve); "eval loss",
"eval acc" and "test acc" are the model in inference mode (the whole training
split at the end: Table 1's train accuracy; the test split). A BatchNorm model
that trained fewer than `BATCH_NORM_SETTLED_STEPS` steps gets its
inference-mode numbers marked with `UNSETTLED`: its moving statistics still
hold much of their initial values.
"""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from rethink.base.console import Throttle, interactive, say
from rethink.base.text import duration
from rethink.grid.executor import Reporter
from rethink.grid.state import GridState, RunState
from rethink.spec.architectures import BATCH_NORM_SETTLED_STEPS, batch_norm_settled
from rethink.train.outcome import Status

STYLES = {
    Status.QUEUED: "dim",
    Status.RUNNING: "cyan",
    Status.COMPLETED: "green",
    Status.DIVERGED: "yellow",
    Status.FAILED: "bold red",
    Status.STOPPED: "magenta",
}


def _num(value: Any, fmt: str) -> str:
    if value is None:
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    return "nan" if not math.isfinite(x) else format(x, fmt)


UNSETTLED = "*"  # after an inference-mode number of a BatchNorm model trained too few steps
NUMBERS_NOTE = (
    "loss, train acc: training mode, the batches as trained (the last --log-every steps; "
    "Figure 1a's curve). eval loss, eval acc: the final model on the whole training split "
    "in inference mode (Table 1's train accuracy). test acc: inference mode."
)


def settled(run: RunState) -> bool:
    """Whether the run's inference-mode numbers come from settled BatchNorm statistics."""
    return batch_norm_settled(run.spec.model, run.step)


def _inference(run: RunState, value: Any, fmt: str) -> str:
    """An inference-mode number, marked if it comes from unsettled BatchNorm statistics."""
    text = _num(value, fmt)
    return text + UNSETTLED if text and not settled(run) else text


def _marked(run: RunState) -> bool:
    """Whether the run shows an inference-mode number marked `UNSETTLED`."""
    shown = (run.value("test_acc"), run.eval_value("train_loss"), run.eval_value("train_acc"))
    return not settled(run) and any(_num(x, "g") for x in shown)


def unsettled_note(runs: list[RunState]) -> str | None:
    """The caption line for `UNSETTLED` marks among `runs` (None if there are none)."""
    steps = sorted({r.step for r in runs if _marked(r)})
    if not steps:
        return None
    after = f"{steps[0]} steps" if len(steps) == 1 else f"{steps[0]} to {steps[-1]} steps"
    return (
        f"{UNSETTLED} BatchNorm moving statistics not settled after {after}: inference-mode "
        f"numbers unreliable (settled from {BATCH_NORM_SETTLED_STEPS} steps)"
    )


def title(state: GridState) -> str:
    device = state.device or "device not yet known"
    if state.gpus:
        device += f" (GPUs {','.join(state.gpus)})"
    data = f" · {state.dataset}" if state.dataset else ""
    return f"rethink grid {state.grid_dir}{data} · backend {state.backend} · {device}"


def grid_line(state: GridState, now: float | None) -> str:
    """'7/25 done · 2 running · 1 failed · 15 queued · elapsed 12:03 · ETA 1:02:00'.

    Without `now`, the counts only.
    """
    n = len(state.runs)
    parts = [f"{state.count(Status.COMPLETED)}/{n} done"]
    for status in (Status.RUNNING, Status.DIVERGED, Status.FAILED, Status.STOPPED, Status.QUEUED):
        if state.count(status):
            parts.append(f"{state.count(status)} {status}")
    if now is None:
        return " · ".join(parts)
    parts.append(f"elapsed {duration(now - state.started, missing='')}")
    unfinished = state.count(Status.RUNNING, Status.QUEUED)
    if unfinished:
        eta = state.eta()
        parts.append(f"ETA {duration(eta, missing='')}" if eta is not None else "ETA unknown")
    if state.interrupted and state.count(Status.RUNNING):
        parts.append("stopping (Ctrl-C again to kill the running runs)")
    return " · ".join(parts)


def _row(run: RunState, now: float) -> list[RenderableType]:
    total = max(1, run.total_steps)
    step = total if run.status == Status.COMPLETED else min(run.step, total)
    return [
        str(run.index),
        run.spec.model,
        run.spec.label,
        Text(run.status, style=STYLES.get(run.status, "")),
        ProgressBar(total=total, completed=step, width=16),
        f"{step}/{total}",
        _num(run.window_value("train_loss"), ".4f"),
        _num(run.window_value("train_acc"), ".3f"),
        _inference(run, run.value("test_acc"), ".3f"),
        _num(run.value("images_per_s"), ".0f"),
        duration(run.elapsed(now), missing=""),
        duration(run.remaining(), missing=""),
    ]


def visible(runs: list[RunState], max_rows: int | None) -> list[RunState]:
    """At most `max_rows` runs, in grid order: running, then failed, then queued, then done."""
    if max_rows is None or len(runs) <= max_rows:
        return runs
    order = (Status.RUNNING, Status.FAILED, Status.DIVERGED, Status.STOPPED, Status.QUEUED)
    ranked = [r for status in order for r in runs if r.status == status]
    ranked += [r for r in reversed(runs) if r.status not in order]  # latest done first
    keep = {r.index for r in ranked[: max(1, max_rows - 1)]}  # one row says how many more
    return [r for r in runs if r.index in keep]


def render(
    state: GridState, now: float | None = None, max_rows: int | None = None
) -> RenderableType:
    """The live view: the grid's progress line above one row per run.

    With `max_rows` (a terminal too short for the grid) only that many rows
    are shown, the running and failed ones first, and a last row counts the rest.
    """
    now = time.time() if now is None else now
    table = Table(title=title(state))
    for name, justify in (
        ("#", "right"),
        ("model", "left"),
        ("randomization", "left"),
        ("status", "left"),
        ("progress", "left"),
        ("step", "right"),
        ("loss", "right"),
        ("train acc", "right"),
        ("test acc", "right"),
        ("img/s", "right"),
        ("elapsed", "right"),
        ("left", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    shown = visible(state.runs, max_rows)
    for run in shown:
        table.add_row(*_row(run, now))
    if len(shown) < len(state.runs):
        table.add_row("", f"... {len(state.runs) - len(shown)} more runs not shown")
    note = unsettled_note(shown)
    if note:
        table.caption, table.caption_justify = note, "left"
    done, total = state.steps_done()
    bar = ProgressBar(total=max(1, total), completed=done, width=30)
    line = Table.grid(padding=(0, 1))
    line.add_row(bar, Text(grid_line(state, now)))
    return Group(line, table)


def summary(state: GridState) -> Table:
    """The end-of-grid table: final numbers of every run, what they are, and errors of
    failed runs (in the caption)."""
    data = f" · {state.dataset}" if state.dataset else ""
    table = Table(title=f"rethink grid {state.grid_dir}{data}: {grid_line(state, None)}")
    for name in (
        "model",
        "randomization",
        "status",
        "steps",
        "loss",
        "train acc",
        "eval loss",
        "eval acc",
        "test acc",
        "steps to fit",
        "time",
    ):
        table.add_column(
            name, justify="left" if name in ("model", "randomization", "status") else "right"
        )
    for run in state.runs:
        table.add_row(
            run.spec.model,
            run.spec.label,
            Text(run.status, style=STYLES.get(run.status, "")),
            str(run.step) if run.status != Status.QUEUED else "",
            _num(run.window_value("train_loss"), ".4f"),
            _num(run.window_value("train_acc"), ".3f"),
            _inference(run, run.eval_value("train_loss"), ".4f"),
            _inference(run, run.eval_value("train_acc"), ".3f"),
            _inference(run, run.value("test_acc"), ".3f"),
            str(run.result.get("steps_to_fit") or "") if run.result else "",
            duration(run.elapsed(time.time()), missing="") if run.status != Status.QUEUED else "",
        )
    lines = [NUMBERS_NOTE]
    note = unsettled_note(state.runs)
    if note:
        lines.append(note)
    lines += [
        f"{r.run_id}: {r.result['error']}" for r in state.runs if r.result and r.result.get("error")
    ]
    table.caption, table.caption_justify = "\n".join(lines), "left"
    return table


def finished_line(state: GridState, run: RunState) -> str:
    """'[3/25] completed mlp_1x512-true_labels-s0: step 1000, loss 0.0123, train acc 0.998,
    eval loss 0.0101, eval acc 0.999, test acc 0.512 in 1:02', the summary table's
    numbers; inference-mode ones of unsettled BatchNorm marked, and the mark explained."""
    head = f"[{run.index}/{len(state.runs)}] {run.status} {run.run_id}"
    if run.status in (Status.FAILED, Status.STOPPED) and run.result and run.result.get("error"):
        return f"{head}: {run.result['error']}"
    numbers = [
        f"step {run.step}",
        f"loss {_num(run.window_value('train_loss'), '.4f') or '?'}",
        f"train acc {_num(run.window_value('train_acc'), '.3f') or '?'}",
    ]
    if run.eval_value("train_acc") is not None:
        numbers += [
            f"eval loss {_inference(run, run.eval_value('train_loss'), '.4f') or '?'}",
            f"eval acc {_inference(run, run.eval_value('train_acc'), '.3f')}",
        ]
    numbers.append(f"test acc {_inference(run, run.value('test_acc'), '.3f') or '?'}")
    line = (
        f"{head}: {', '.join(numbers)} in {duration(run.elapsed(time.time()), missing='') or '?'}"
    )
    note = unsettled_note([run])
    return f"{line} ({note})" if note else line


def status_line(state: GridState, now: float) -> str:
    """The periodic plain status: grid counts and each running run's step and latest
    training loss and accuracy (the live table's "loss" and "train acc")."""
    running = [
        f"{r.run_id} {r.step}/{r.total_steps} "
        f"loss {_num(r.window_value('train_loss'), '.4f') or '?'} "
        f"train acc {_num(r.window_value('train_acc'), '.3f') or '?'}"
        for r in state.runs
        if r.status == Status.RUNNING
    ]
    text = f"grid: {grid_line(state, now)}"
    return f"{text} | {'; '.join(running)}" if running else text


class PlainReporter(Reporter):
    """Plain lines for logs: a line per run start and end, status every `every_s` s."""

    def __init__(self, console: Console, every_s: float = 30.0) -> None:
        self.console = console
        self.status_every = Throttle(every_s)
        self._told_stop = False

    def _print(self, line: str) -> None:
        say(self.console, line)

    def start(self, state: GridState) -> None:
        before = state.count(Status.COMPLETED, Status.DIVERGED)
        todo = len(state.runs) - before
        data = f"; data {state.dataset}" if state.dataset else ""
        self._print(
            f"grid {state.grid_dir}: {len(state.runs)} runs, {before} finished before, "
            f"{todo} to train; backend {state.backend}, {state.jobs} at a time{data}"
        )
        self.status_every.due(force=True)  # the first status line: `every_s` from now

    def update(self, state: GridState) -> None:
        if state.interrupted and not self._told_stop:
            self._told_stop = True
            self._print(
                f"stopping: asking {state.count(Status.RUNNING)} running run(s) to stop at their "
                "next step (Ctrl-C again to kill them)"
            )
        if self.status_every.due():
            self._print(status_line(state, time.time()))

    def run_started(self, state: GridState, run: RunState) -> None:
        where = f" on GPU {run.gpu}" if run.gpu is not None else ""
        self._print(f"[{run.index}/{len(state.runs)}] start {run.run_id}{where}")

    def run_finished(self, state: GridState, run: RunState) -> None:
        self._print(finished_line(state, run))


class LiveReporter(Reporter):
    """The Rich live table on a terminal, redrawn at each update (~2 Hz)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Live | None = None

    def start(self, state: GridState) -> None:
        # auto_refresh off: no refresh thread; the executor's updates drive it.
        # Transient: at the end the summary table replaces the live one.
        self._live = Live(
            self._render(state), console=self.console, auto_refresh=False, transient=True
        )
        self._live.start(refresh=True)

    def _render(self, state: GridState) -> RenderableType:
        # Title, grid line, header, borders and a caption take about 9 lines.
        return render(state, max_rows=max(3, self.console.height - 10))

    def update(self, state: GridState) -> None:
        if self._live is not None:
            self._live.update(self._render(state), refresh=True)

    def run_started(self, state: GridState, run: RunState) -> None:
        self.update(state)

    def run_finished(self, state: GridState, run: RunState) -> None:
        self.update(state)

    def stop(self, state: GridState) -> None:
        if self._live is not None:
            self._live.update(self._render(state), refresh=True)
            self._live.stop()
            self._live = None


def reporter_for(console: Console) -> LiveReporter | PlainReporter:
    """The live table on a terminal, plain lines otherwise."""
    return LiveReporter(console) if interactive(console) else PlainReporter(console)
