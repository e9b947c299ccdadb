"""A grid folder's metrics as TensorBoard event files (`rethink export DIR --to tensorboard`).

    from rethink.results.tensorboard import export
    export("output_3", "output_3/tensorboard")   # one event file per run; then
    # tensorboard --logdir output_3/tensorboard

Reads only the run folders (`rethink.results.loading.load_grid`), so grids
trained elsewhere, or still training, export the same. Writes with the
`tensorboard` package (pip install 'rethink-generalization[tensorboard]'),
imported here only: no TensorFlow is needed. Scalars, by step: the windowed
training loss and accuracy, the test loss and accuracy, the training-split
evaluation, the learning rate and the speed; wall times from the run's own
clock (env.json's start plus metrics.csv's seconds).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rethink.results.loading import Grid, load_grid
from rethink.run.folder import RunDir

# metrics.csv column -> TensorBoard tag.
TAGS = {
    "train_loss": "train/loss",
    "train_acc": "train/accuracy",
    "test_loss": "test/loss",
    "test_acc": "test/accuracy",
    "eval_train_loss": "train_split/loss",
    "eval_train_acc": "train_split/accuracy",
    "lr": "learning_rate",
    "images_per_s": "images_per_second",
}


class ExportError(RuntimeError):
    """The export cannot run (the tensorboard package missing, an unwritable folder)."""


def export(source: str | Path | Grid, out: str | Path) -> list[Path]:
    """Write `out/<run id>/events.out.tfevents.*` for every run; the run folders written.

    A run's earlier export is replaced, so exporting again never duplicates points.
    """
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ExportError(
            "TensorBoard export needs the tensorboard package: "
            "pip install 'rethink-generalization[tensorboard]'"
        ) from None
    grid = source if isinstance(source, Grid) else load_grid(Path(source))
    out = Path(out)
    written = []
    for run in grid.runs:
        target = out / run.summary.run_id
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True, exist_ok=True)
        env = RunDir(Path(run.summary.path)).env() or {}
        start = float(env.get("started") or 0.0)
        writer = EventFileWriter(str(target))
        try:
            for row in run.rows:
                step = row.get("step")
                if step is None:
                    continue
                values = [
                    summary_pb2.Summary.Value(tag=tag, simple_value=float(value))
                    for column, tag in TAGS.items()
                    if (value := row.get(column)) is not None
                ]
                if values:
                    event = event_pb2.Event(
                        step=int(step),
                        wall_time=start + float(row.get("seconds") or 0.0),
                        summary=summary_pb2.Summary(value=values),
                    )
                    writer.add_event(event)
        finally:
            writer.close()
        written.append(target)
    return written


__all__ = ["TAGS", "ExportError", "export"]
