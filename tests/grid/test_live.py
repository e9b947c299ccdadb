"""The grid's live table and plain-line output, through captured Rich consoles."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from rethink.grid.live import (
    LiveReporter,
    PlainReporter,
    finished_line,
    render,
    reporter_for,
    status_line,
    summary,
)
from rethink.grid.state import GridState, RunState
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

    reporter.status_every.every_s = 0.0
    reporter.update(state)
    status = out.getvalue().splitlines()[-1]
    assert status.startswith("grid: 1/5 done")
    # Each running run's step and latest training loss and accuracy.
    assert "inception-random_labels-s0 512/1000 loss 2.2871 train acc 0.123" in status


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


def a_smoke_grid() -> GridState:
    """The smoke grid's end (40 steps): an Inception whose inference-mode numbers come
    from unsettled BatchNorm statistics, an MLP (no BatchNorm), and a long Inception."""
    specs = [
        RunSpec(model="inception", corruption="random_labels", steps=40),
        RunSpec(model="mlp_1x512", corruption="random_labels", steps=40),
        RunSpec(model="inception", corruption="true_labels", steps=1000),
    ]
    runs = [RunState(spec=s, index=i + 1, status=Status.COMPLETED) for i, s in enumerate(specs)]
    for run, step, evaluated in zip(
        runs, (40, 40, 1000), (14876.1234, 2.2871, 0.0313), strict=True
    ):
        run.result = {
            "status": "completed",
            "format": 2,
            "step": step,
            "train_loss": evaluated,
            "train_acc": 0.0981,
            "window_train_loss": 2.6012,
            "window_train_acc": 0.1234,
            "test_acc": 0.1011,
            "wall_seconds": 12.0,
        }
    return GridState(grid_dir=Path("output_1"), runs=runs, backend="jax", started=NOW - 60)


def test_summary_shows_the_window_and_the_evaluation_in_their_own_named_columns() -> None:
    text = text_of(summary(a_smoke_grid()), width=220)
    header = next(line for line in text.splitlines() if "model" in line)
    names = ["loss", "train acc", "eval loss", "eval acc", "test acc"]
    assert all(name in header for name in names)
    assert [header.index(f" {n} ") for n in names] == sorted(header.index(f" {n} ") for n in names)
    mlp = next(line for line in text.splitlines() if "mlp_1x512" in line)
    # The window (training mode) under "loss", the evaluation under "eval loss".
    assert mlp.index("2.6012") < mlp.index("0.123") < mlp.index("2.2871") < mlp.index("0.098")
    assert "*" not in mlp  # no BatchNorm: nothing to mark
    assert "training mode" in text and "inference mode" in text  # the caption says which is which


def test_inference_numbers_of_unsettled_batchnorm_are_marked_and_explained() -> None:
    text = text_of(summary(a_smoke_grid()), width=220)
    short, long = (line for line in text.splitlines() if "inception" in line)
    assert "14876.1234*" in short and "0.098*" in short and "0.101*" in short
    assert "2.6012 " in short  # the training-mode window is not marked
    assert "0.0313" in long and "*" not in long  # 1000 steps: settled
    assert "* BatchNorm moving statistics not settled after 40 steps" in text
    assert "inference-mode numbers unreliable" in text

    settled = a_smoke_grid()
    settled.runs = settled.runs[1:]
    assert "BatchNorm" not in text_of(summary(settled), width=220)


def test_the_live_table_marks_them_too_while_running() -> None:
    state = a_smoke_grid()
    running = state.runs[0]
    running.status, running.result = Status.RUNNING, None
    running.progress = {"step": 31, "total_steps": 40, "train_loss": 2.5, "test_acc": 0.11}
    text = text_of(render(state, now=NOW), width=200)
    row = next(line for line in text.splitlines() if "31/40" in line)
    assert "2.5000" in row and "0.110*" in row
    assert "not settled after 31 steps" in text
    assert state.runs[2].result is not None
    state.runs[2].result["step"] = 40  # two unsettled runs: the range
    assert "not settled after 31 to 40 steps" in text_of(render(state, now=NOW), width=200)
    state.runs = state.runs[1:2]  # the MLP alone: no BatchNorm
    assert "BatchNorm" not in text_of(render(state, now=NOW), width=200)
    queued = a_smoke_grid().runs[0]  # an Inception not started: nothing shown, nothing said
    queued.status, queued.result = Status.QUEUED, None
    state.runs = [queued]
    assert "BatchNorm" not in text_of(render(state, now=NOW), width=200)
    assert "BatchNorm" not in text_of(summary(state), width=200)


def test_plain_lines_give_the_tables_numbers_with_the_same_marks() -> None:
    state = a_smoke_grid()
    short = finished_line(state, state.runs[0])
    assert "loss 2.6012, train acc 0.123" in short
    assert "eval loss 14876.1234*, eval acc 0.098*, test acc 0.101*" in short
    assert short.endswith("(* BatchNorm moving statistics not settled after 40 steps: "
                          "inference-mode numbers unreliable (settled from 459 steps))")  # fmt: skip
    mlp = finished_line(state, state.runs[1])
    assert "loss 2.6012, train acc 0.123, eval loss 2.2871, eval acc 0.098, test acc 0.101" in mlp
    assert "*" not in mlp
    running = state.runs[1]
    running.status, running.result = Status.RUNNING, None
    running.progress = {"step": 20, "total_steps": 40, "train_loss": 2.4}
    assert "mlp_1x512-random_labels-s0 20/40 loss 2.4000 train acc ?" in status_line(state, NOW)


def test_a_result_of_rethink_0_1_shows_its_window_as_loss_and_no_evaluation() -> None:
    state = a_smoke_grid()
    old = state.runs[1]
    old.result = {"status": "completed", "step": 40, "train_loss": 2.3, "train_acc": 0.2}
    assert old.window_value("train_loss") == 2.3 and old.eval_value("train_loss") is None
    assert "loss 2.3000, train acc 0.200, test acc" in finished_line(state, old)
