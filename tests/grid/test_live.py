"""The grid's live table and plain-line output, through captured Rich consoles."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from rethink.grid.executor import GridState, RunState
from rethink.grid.live import (
    LiveReporter,
    PlainReporter,
    render,
    reporter_for,
    summary,
)
from rethink.spec import RunSpec
from rethink.train.outcome import Status

NOW = 1_000_000.0


def text_of(renderable: object, width: int = 200) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def a_grid() -> GridState:
    """Five runs, one in each state the table shows."""
    specs = [
        RunSpec(model="inception", corruption="true_labels", steps=1000),
        RunSpec(model="inception", corruption="random_labels", steps=1000),
        RunSpec(model="alexnet", corruption="partial_labels", level=0.4, seed=1, steps=1000),
        RunSpec(model="mlp_1x512", corruption="gaussian", steps=1000),
        RunSpec(model="mlp_3x512", corruption="shuffled_pixels", steps=1000),
    ]
    runs = [RunState(spec=s, index=i + 1) for i, s in enumerate(specs)]
    done, running, failed, diverged, _queued = runs
    done.status = Status.COMPLETED
    done.result = {
        "status": "completed",
        "step": 1000,
        "train_loss": 0.0042,
        "train_acc": 1.0,
        "test_acc": 0.8671,
        "wall_seconds": 125.0,
        "images_per_s": 2048.0,
    }
    running.status, running.started = Status.RUNNING, NOW - 70
    running.progress = {
        "step": 512,
        "total_steps": 1000,
        "train_loss": 2.2871,
        "train_acc": 0.1234,
        "test_acc": None,
        "images_per_s": 1536.0,
        "seconds": 64.0,
    }
    failed.status = Status.FAILED
    failed.result = {
        "status": "failed",
        "step": 300,
        "error": "worker killed by SIGKILL (out of memory?)",
    }
    diverged.status = Status.DIVERGED
    diverged.result = {"status": "diverged", "step": 77, "train_loss": None, "diverged_at_step": 77}
    return GridState(
        grid_dir=Path("output_3"),
        runs=runs,
        backend="torch",
        device="NVIDIA H100",
        started=NOW - 300,
    )


def test_render_shows_every_run_with_its_status_and_numbers() -> None:
    text = text_of(render(a_grid(), now=NOW))
    assert "backend torch" in text and "NVIDIA H100" in text and "output_3" in text
    lines = text.splitlines()
    row = {
        word: next(line for line in lines if word in line)
        for word in ("true labels", "random labels", "p=0.4", "gaussian", "shuffled")
    }
    assert "completed" in row["true labels"]
    assert "1000/1000" in row["true labels"] and "0.0042" in row["true labels"]
    assert (
        "0.867" in row["true labels"]
        and "2048" in row["true labels"]
        and "2:05" in row["true labels"]
    )
    assert "running" in row["random labels"]
    assert "512/1000" in row["random labels"] and "2.2871" in row["random labels"]
    assert "0.123" in row["random labels"] and "1536" in row["random labels"]
    assert "1:04" in row["random labels"]  # elapsed: training seconds so far
    assert "1:01" in row["random labels"]  # left: 488 steps at 0.125 s/step
    assert "failed" in row["p=0.4"] and "s1" in row["p=0.4"]
    assert "diverged" in row["gaussian"]
    assert "queued" in row["shuffled"]


def test_grid_line_counts_runs_and_gives_an_eta() -> None:
    text = text_of(render(a_grid(), now=NOW))
    assert "1/5 done" in text and "1 running" in text and "1 failed" in text
    assert "1 diverged" in text and "1 queued" in text
    assert "elapsed 5:00" in text
    # ETA: the running run's 61 s, plus 1000 queued steps at the mean 0.125 s/step seen.
    assert "ETA 3:06" in text


def test_eta_is_unknown_before_any_speed_is_seen() -> None:
    state = a_grid()
    for run in state.runs:
        run.status, run.result, run.progress = Status.QUEUED, None, None
    assert "ETA unknown" in text_of(render(state, now=NOW))


def test_a_long_grid_keeps_running_and_failed_rows_in_a_short_terminal() -> None:
    state = a_grid()
    text = text_of(render(state, now=NOW, max_rows=3))
    assert "running" in text and "failed" in text
    assert "more runs not shown" in text
    assert "3 more" in text


def test_summary_keeps_final_numbers_and_shows_errors() -> None:
    text = text_of(summary(a_grid()))
    assert "0.0042" in text and "0.867" in text
    assert "SIGKILL (out of memory?)" in text
    assert "inception-true_labels-s0" not in text.split("SIGKILL")[0].splitlines()[-1]


def test_plain_output_is_one_line_per_event_and_a_rate_limited_status() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100)
    assert not console.is_terminal
    reporter = reporter_for(console)
    assert isinstance(reporter, PlainReporter)
    state = a_grid()
    reporter.start(state)
    reporter.run_started(state, state.runs[1])
    reporter.update(state)  # within 30 s of the start: nothing
    reporter.run_finished(state, state.runs[0])
    reporter.run_finished(state, state.runs[2])
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert "5 runs" in lines[0] and "backend torch" in lines[0]
    assert lines[1] == "[2/5] start inception-random_labels-s0"
    assert (
        lines[2].startswith("[1/5] completed inception-true_labels-s0:")
        and "test acc 0.867" in lines[2]
    )
    assert lines[3].startswith(
        "[3/5] failed alexnet-partial_labels-p0.4-s1: worker killed by SIGKILL"
    )
    assert "\x1b[" not in out.getvalue()  # no terminal codes in logs

    reporter.every_s = 0.0
    reporter.update(state)
    status = out.getvalue().splitlines()[-1]
    assert status.startswith("grid: 1/5 done") and "inception-random_labels-s0 512/1000" in status


def test_live_reporter_draws_the_table_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, height=40, force_terminal=True, color_system=None)
    reporter = reporter_for(console)
    assert isinstance(reporter, LiveReporter)
    state = a_grid()
    reporter.start(state)
    reporter.update(state)
    reporter.stop(state)
    text = out.getvalue()
    assert "random labels" in text and "512/1000" in text and "NVIDIA H100" in text


def test_the_live_title_the_plain_start_line_and_the_summary_name_the_data_set() -> None:
    state = a_grid()
    assert "shapes" not in text_of(render(state, NOW))  # none known: nothing claimed
    state.dataset = "shapes: 3 classes of 20x20x1 images"
    assert "· shapes: 3 classes of 20x20x1 images ·" in text_of(render(state, NOW), width=300)
    assert "shapes: 3 classes of 20x20x1 images" in text_of(summary(state), width=300)
    out = io.StringIO()
    PlainReporter(Console(file=out, width=300)).start(state)
    assert out.getvalue().rstrip().endswith("data shapes: 3 classes of 20x20x1 images")
