"""One run from spec to finished run folder: the edge where files are written.

    result, code = execute(spec, Path("runs"), backend="jax", resume=False)

Checks everything it can before any work (settings, data, the folder), then
trains with `rethink.train.loop.train`, writing metrics rows as they come,
progress.json every ~2 s, a checkpoint at each epoch end and result.json
last. Exit codes: 0 completed, 1 diverged or failed, 130 stopped (Ctrl-C or
SIGTERM), 2 bad input (raised as RunError before anything is written).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rethink.base.atomic import write_atomically
from rethink.base.lock import FolderLock, LockError
from rethink.base.signals import stop_signals
from rethink.models.custom import ModelError
from rethink.run.folder import MODEL_FILE, MetricsWriter, RunDir, read_json, write_json
from rethink.run.model import adopt_model, describe_model, record_model, summarize
from rethink.spec import RunSpec, SpecError
from rethink.spec.architectures import is_custom
from rethink.train.checkpoint import Checkpoint
from rethink.train.observer import Observer
from rethink.train.outcome import Outcome, Status
from rethink.train.steppers import Execution

if TYPE_CHECKING:
    from rethink.data import Loaded
    from rethink.data.pipeline import RunData

EXIT_CODES: dict[str, int] = {
    Status.COMPLETED: 0,
    Status.DIVERGED: 1,
    Status.FAILED: 1,
    Status.STOPPED: 130,
}
PROGRESS_EVERY_S = 2.0


class RunError(ValueError):
    """Bad input found before any work: one line, exit code 2, nothing written."""


class FolderObserver(Observer):
    """Writes rows, progress, checkpoints and the trained model (`save_model`) into the
    run folder; forwards to `display`."""

    def __init__(
        self,
        run: RunDir,
        metrics: MetricsWriter,
        display: Observer | None,
        save_model: bool = True,
    ) -> None:
        self.run = run
        self.metrics = metrics
        self.display = display
        self.save_model = save_model
        self._last_progress = 0.0
        self._host = socket.gethostname()

    def on_row(self, row: dict[str, float | None]) -> None:
        self.metrics.write(row)
        if self.display:
            self.display.on_row(row)

    def on_progress(self, progress: dict[str, float | None]) -> None:
        now = time.time()
        if now - self._last_progress >= PROGRESS_EVERY_S:
            self._last_progress = now
            write_json(
                self.run.progress_path,
                {**progress, "updated": now, "pid": os.getpid(), "host": self._host},
            )
        if self.display:
            self.display.on_progress(progress)

    def on_built(self, model: Any) -> None:
        """env.json gains the model's parameter counts and one-line summary, from the
        model training built (no second build)."""
        env = read_json(self.run.env_path) or {}
        write_json(self.run.env_path, {**env, **summarize(model)})
        if self.display:
            self.display.on_built(model)

    def on_checkpoint(self, checkpoint: Checkpoint) -> None:
        checkpoint.save(self.run.checkpoint_path)
        if self.display:
            self.display.on_checkpoint(checkpoint)

    def on_examples(self, arrays: dict[str, np.ndarray]) -> None:
        """examples.npz, replaced whole (as checkpoint.npz, whose history it equals)."""
        write_atomically(self.run.examples_path, lambda f: np.savez_compressed(f, **arrays))  # type: ignore[arg-type]

    def on_model(self, model: Any) -> None:
        """model.keras, written whole or not at all (`keras.saving.load_model` reads it;
        the LRN layer is registered serializable)."""
        if not self.save_model:
            return
        target = self.run.path / MODEL_FILE
        partial = self.run.path / f".partial-{os.getpid()}-{MODEL_FILE}"
        try:
            model.save(partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


def check_out_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise RunError(f"output folder {out} is a file")


def prepare_folder(spec: RunSpec, out: Path, resume: bool) -> tuple[RunDir, dict[str, Any] | None]:
    """The run folder and, when resuming a finished run, its final result."""
    check_out_folder(out)
    run = RunDir(out / spec.run_id)
    if run.path.exists() and not run.path.is_dir():
        raise RunError(f"run folder {run.path} is a file")
    if run.spec_path.exists() and not resume:
        raise RunError(f"run folder {run.path} already exists; add --resume to continue it")
    result = run.result()
    if (
        resume
        and result is not None
        and result.get("status") in (Status.COMPLETED, Status.DIVERGED)
    ):
        return run, result
    return run, None


def load_data(spec: RunSpec) -> Loaded:
    """The run's data set, loaded and checked against the spec (crop, subset sizes)."""
    from rethink.data import DataError, load

    try:
        loaded = load(spec.data, spec.dataset)  # None: $RETHINK_DATA, else Keras's download
    except DataError as e:
        raise RunError(str(e)) from None
    return check_data(spec, loaded)


def check_data(spec: RunSpec, loaded: Loaded) -> Loaded:
    """`loaded`, once the spec's crop and subsets fit it (RunError otherwise)."""
    from rethink.data import DataError
    from rethink.data.pipeline import check_window_crop

    try:
        side = loaded.dataset.crop(spec.crop)
        check_window_crop(spec, loaded.dataset.shape, side)
    except DataError as e:
        raise RunError(str(e)) from None
    n_train = len(loaded.arrays[0][1])
    if spec.train_subset is not None and spec.train_subset > n_train:
        raise RunError(
            f"--train-subset {spec.train_subset} is larger than the {n_train} training images"
        )
    return loaded


def data_record(loaded: Loaded, spec: RunSpec) -> dict[str, Any]:
    """What env.json says of the data: source, digest, the data set and its input."""
    dataset = loaded.dataset
    (_, y_train), (_, y_test) = loaded.arrays
    return {
        "data_source": loaded.source or f"keras.datasets.{dataset.name}",
        "data_sha256": loaded.digest,
        "dataset": dataset.to_dict(),
        "data_images": [len(y_train), len(y_test)],  # the whole splits, before subsets
        "input_shape": list(dataset.input_shape(spec.crop)),
    }


def _same_run(a: RunSpec, b: RunSpec, n_train: int) -> bool:
    ra, rb = a.resolved(n_train).to_dict(), b.resolved(n_train).to_dict()
    for d in (ra, rb):
        d.pop("data", None)  # the same data may live at another path
        d.pop("extra", None)
    return ra == rb


def execute(
    spec: RunSpec,
    out: Path,
    backend: str,
    resume: bool = False,
    display: Observer | None = None,
    execution: Execution | None = None,
    save_model: bool = True,
    keep_checkpoint: bool = True,
) -> tuple[dict[str, Any], int]:
    """Train `spec` into `out/<run id>/`; return (result.json contents, exit code).

    `save_model`: write the trained model to model.keras when the run completes;
    `keep_checkpoint` False: remove checkpoint.npz once the run completed or diverged
    (it never trains again; a stopped or failed run keeps it to resume)."""
    result, code = _execute(spec, out, backend, resume, display, execution, save_model)
    if not keep_checkpoint and result.get("status") in (Status.COMPLETED, Status.DIVERGED):
        RunDir(out / spec.run_id).checkpoint_path.unlink(missing_ok=True)
    return result, code


def load_spec(path: Path) -> RunSpec:
    """The RunSpec a spec.json holds (`rethink run --spec`), its model of yours built as
    the folder's model.json says; RunError if there is none."""
    data = read_json(path)
    if data is None:
        raise RunError(f"cannot read a spec from {path}")
    try:
        adopt_model(path.parent)
        return RunSpec.from_dict(data)
    except (TypeError, SpecError, ModelError) as e:
        raise RunError(f"{path}: {e}") from None


def _execute(
    spec: RunSpec,
    out: Path,
    backend: str,
    resume: bool,
    display: Observer | None,
    execution: Execution | None,
    save_model: bool,
) -> tuple[dict[str, Any], int]:
    claimed = claim(spec, out, resume)
    if isinstance(claimed, dict):
        return claimed, EXIT_CODES.get(str(claimed.get("status")), 1)
    resolved, loaded, run, lock = claimed
    try:
        return train_in_folder(
            resolved, loaded, run, backend, display, execution or Execution(), save_model
        )
    finally:
        lock.release()


def claim(
    spec: RunSpec, out: Path, resume: bool, loaded: Loaded | None = None
) -> dict[str, Any] | tuple[RunSpec, Loaded, RunDir, FolderLock]:
    """A run's folder, checked and locked, with its resolved spec and data (`loaded`, if
    given, instead of loading it); or, resuming a run that ended, its result.json.
    RunError for bad input or a folder in use, with nothing written."""
    run, finished = prepare_folder(spec, out, resume)
    if finished is not None:
        return finished
    loaded = check_data(spec, loaded) if loaded is not None else load_data(spec)
    n_train = spec.train_subset or len(loaded.arrays[0][1])
    existing = run.spec()
    if existing is not None:
        spec = spec.continuing(existing)  # an older run keeps its penalty and crop
    if existing is not None and not _same_run(existing, spec, n_train):
        raise RunError(f"run folder {run.path} holds a different spec; use another --out")
    resolved = spec.resolved(n_train)
    try:  # a model of yours: as the folder recorded it, and built once (a bad one: exit 2)
        adopt_model(run.path)
        if is_custom(spec.model):
            describe_model(spec.model, *_model_input(spec, loaded))
    except ModelError as e:
        raise RunError(str(e)) from None
    run.path.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(run.path)
    try:
        lock.acquire()
    except LockError:
        raise RunError(f"run folder {run.path} is in use by another rethink process") from None
    try:
        record_model(run.path, spec.model)
    except ModelError as e:
        lock.release()
        raise RunError(str(e)) from None
    return resolved, loaded, run, lock


def _model_input(spec: RunSpec, loaded: Loaded) -> tuple[tuple[int, ...], int]:
    """The input shape and class count the run's model is built for."""
    return loaded.dataset.input_shape(spec.crop), loaded.dataset.num_classes


@dataclass
class OpenRun:
    """A run folder set up to train: its spec (resolved), data, checkpoint and observer."""

    spec: RunSpec
    loaded: Loaded
    run: RunDir
    checkpoint: Checkpoint | None
    metrics: MetricsWriter
    observer: FolderObserver


def read_checkpoint(run: RunDir) -> Checkpoint | None:
    """The run's checkpoint (None: a fresh run); RunError for an unreadable one."""
    if not run.checkpoint_path.exists():
        return None
    try:
        return Checkpoint.load(run.checkpoint_path)
    except (OSError, ValueError, KeyError) as e:
        raise RunError(
            f"checkpoint {run.checkpoint_path} is unreadable ({e}); delete it to restart the run"
        ) from None


def open_run(
    spec: RunSpec,
    loaded: Loaded,
    run: RunDir,
    checkpoint: Checkpoint | None,
    backend: str,
    display: Observer | None,
    execution: Execution,
    save_model: bool,
) -> OpenRun:
    """Write spec.json and env.json and open metrics.csv for a run resuming from
    `checkpoint` (`read_checkpoint`; None: fresh)."""
    from rethink.base.backend import enable_compilation_cache
    from rethink.base.frameworks import float32_precision
    from rethink.base.platform import describe_environment, gpu_unseen_warning, visible_gpus

    write_json(run.spec_path, spec.to_dict())
    float32_precision(backend, apply=True)  # as training will: env.json says what it uses
    env = describe_environment(backend)
    env.update(
        {
            **data_record(loaded, spec),
            "started": time.time(),
            "engine": asdict(execution),  # env.json key since 0.1
            "loop": execution.loop_for(backend, spec.precision),
        }
    )
    cache = enable_compilation_cache(backend)
    env["compilation_cache"] = None if cache is None else str(cache)
    if os.environ.get("RETHINK_NODE"):  # set by cluster executors (Ray node id)
        env["node"] = os.environ["RETHINK_NODE"]
    if checkpoint is not None:
        env["resumed_from_step"] = checkpoint.step
    write_json(run.env_path, env)
    warning = gpu_unseen_warning(backend, str(env["device"]), visible_gpus())
    if warning:
        print(warning, file=sys.stderr)
    run.result_path.unlink(missing_ok=True)  # a stopped/failed run is running again
    metrics = MetricsWriter(run.metrics_path, keep_until_step=checkpoint.step if checkpoint else 0)
    observer = FolderObserver(run, metrics, display, save_model)
    return OpenRun(spec, loaded, run, checkpoint, metrics, observer)


def ended(opened: OpenRun, outcome: Outcome | BaseException) -> Outcome:
    """The outcome of a training that ended (or raised: stopped, or failed with its error)."""
    if isinstance(outcome, Outcome):
        return outcome
    if isinstance(outcome, KeyboardInterrupt):
        return Outcome.from_checkpoint(opened.spec, Status.STOPPED, opened.checkpoint)
    traceback.print_exception(outcome)
    error = f"{type(outcome).__name__}: {outcome}".splitlines()[0]
    return Outcome.from_checkpoint(opened.spec, Status.FAILED, opened.checkpoint, error)


def close_run(opened: OpenRun, outcome: Outcome) -> tuple[dict[str, Any], int]:
    """result.json last (progress.json removed); (its contents, the exit code)."""
    opened.metrics.close()
    run = opened.run
    result = {"run_id": opened.spec.run_id, **outcome.to_dict()}
    write_json(run.result_path, result)
    run.progress_path.unlink(missing_ok=True)
    return result, EXIT_CODES[outcome.status]


def train_in_folder(
    spec: RunSpec,
    loaded: Loaded,
    run: RunDir,
    backend: str,
    display: Observer | None,
    execution: Execution,
    save_model: bool,
    data: RunData | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[dict[str, Any], int]:
    """Train a claimed run (`claim`) in its folder: (result.json contents, exit code).
    `data`: its prepared data (default: prepared here); `checkpoint`: its checkpoint
    as `read_checkpoint` read it (default: read here, before anything is written)."""
    from rethink.data.pipeline import prepare
    from rethink.train.loop import train

    if checkpoint is None:
        checkpoint = read_checkpoint(run)  # before anything is written
    opened = open_run(spec, loaded, run, checkpoint, backend, display, execution, save_model)
    outcome: Outcome | BaseException
    try:
        with stop_signals() as stop:
            try:
                if data is None:
                    data = prepare(spec, loaded.arrays, loaded.dataset)
                outcome = train(
                    spec,
                    data,
                    opened.observer,
                    resume=opened.checkpoint,
                    execution=execution,
                    should_stop=stop,
                )
            except (KeyboardInterrupt, Exception) as e:
                outcome = e
    finally:
        opened.metrics.close()
    return close_run(opened, ended(opened, outcome))


__all__ = [
    "EXIT_CODES",
    "FolderObserver",
    "OpenRun",
    "RunError",
    "claim",
    "close_run",
    "ended",
    "execute",
    "load_data",
    "load_spec",
    "open_run",
    "read_checkpoint",
    "train_in_folder",
]
