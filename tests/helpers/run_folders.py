"""Test helper: realistic fake run folders, written with rethink.run.folder's own writers.

    spec = RunSpec(model="mlp_1x512", corruption="random_labels", steps=2000, log_every=100)
    write_run(tmp_path, spec, plateau=600, fit_step=1500, test_acc=0.1)

The training loss sits at ln 10 until `plateau`, then decays exponentially to
0.005 at `fit_step`, where training accuracy reaches 1.0. Rows come as the
trainer writes them (format 2): training columns over full `log_every`
windows at multiples of it (and a short one at the last step), test
columns at epoch ends and the last step, the training-split evaluation at
the end. `stop_at` leaves a partial run (no
result.json); `diverge_at` makes the loss NaN from that step on (status
"diverged"). result.json is derived from the rows exactly as the trainer's
contract says (first logged step at the thresholds), so tests can compare.

`spec_for` makes a small run (2,560 images, 2,400 steps); `paper_spec` the
same run on the paper's protocol (`PAPER`: all images, 25,000 steps), and
`SMOKE` the smoke preset's settings (off the protocol). `randomization_grid`
and `level_sweep` write whole grids; `summaries(root)` reads them back.

`dataset` (a `rethink.spec.datasets.Dataset`) records the data set as runs do:
env.json's "dataset" (`Dataset.to_dict()`) and, for a known one, spec.json's
"dataset" name; the loss then starts at ln(classes) and the accuracy at
1/classes. Without it a folder records none, as folders written before runs
did (read as CIFAR-10).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rethink.results.loading import load_grid
from rethink.results.summary import RunSummary
from rethink.run.folder import MetricsWriter, RunDir, write_json
from rethink.spec import RunSpec
from rethink.spec.datasets import DEFAULT, KNOWN, Dataset
from rethink.train.outcome import RESULT_KEYS, Status

CHANCE = math.log(10)
SECONDS_PER_STEP = 0.01
ENV = {
    "backend": "jax",
    "device": "cpu",
    "keras_version": "3.0.0",
    "python": "3.11",
    "host": "test",
}

# Steps to fit per randomization in the fake grids (multiples of the 100-step log).
FIT_STEPS = {
    "true_labels": 600,
    "shuffled_pixels": 800,
    "gaussian": 1000,
    "random_pixels": 1200,
    "random_labels": 1600,
}
PLATEAUS = {
    "true_labels": 0,
    "shuffled_pixels": 100,
    "gaussian": 200,
    "random_pixels": 300,
    "random_labels": 700,
}
MODEL_FACTOR = {"mlp_1x512": 1.0, "alexnet": 1.2, "inception": 1.0}
# The paper's protocol (spec_for's defaults are a 2,560-image, 2,400-step subset).
PAPER: dict[str, Any] = {"train_subset": None, "steps": 25_000, "learning_rate": None}
# The smoke preset's settings: not the paper's protocol.
SMOKE: dict[str, Any] = {
    "train_subset": 500,
    "test_subset": 250,
    "steps": 40,
    "batch_size": 16,
    "log_every": 10,
}
# An image folder's data set: 3 classes (chance: 2/3 test error), no paper numbers.
THREE = Dataset("my_images", ("cat", "dog", "fox"), (20, 20, 1))


def spec_for(model: str, corruption: str, seed: int = 0, **kw: Any) -> RunSpec:
    kw.setdefault("steps", 2400)
    kw.setdefault("log_every", 100)
    kw.setdefault("train_subset", 2560)  # 20 steps per epoch at batch 128
    kw.setdefault("learning_rate", 0.01)
    return RunSpec(model=model, corruption=corruption, seed=seed, **kw)


def paper_spec(model: str, corruption: str, seed: int = 0, **kw: Any) -> RunSpec:
    """`spec_for` on the paper's protocol (`PAPER`), with `kw` on top."""
    return spec_for(model, corruption, seed, **{**PAPER, **kw})


def summaries(root: Path) -> list[RunSummary]:
    """The runs under `root`, summarized (`rethink.results.loading.load_grid`)."""
    return [r.summary for r in load_grid(root).runs]


def curve(step: int, plateau: int, fit_step: int | None, classes: int = 10) -> tuple[float, float]:
    """(training loss, training accuracy) at `step`, from chance over `classes` classes."""
    chance, guess = math.log(classes), 1 / classes
    if fit_step is None:  # never fits: decays to a floor (30% accuracy for 10 classes)
        floor = 1.2 * chance / CHANCE
        loss = (
            chance
            if step <= plateau
            else floor + (chance - floor) * math.exp(-(step - plateau) / 300)
        )
        return loss, guess + 0.2 * (chance - loss) / (chance - floor)
    if step <= plateau:
        return chance, guess
    k = math.log(chance / 0.005) / (fit_step - plateau)
    loss = chance * math.exp(-k * (step - plateau))
    acc = 1.0 if step >= fit_step else min(0.999, guess + (1 - guess) * (1 - loss / chance))
    return loss, acc


def write_run(
    root: Path,
    spec: RunSpec,
    *,
    plateau: int = 0,
    fit_step: int | None = 600,
    test_acc: float = 0.5,
    stop_at: int | None = None,
    diverge_at: int | None = None,
    env: dict[str, Any] | None = ENV,
    train_acc: float | None = None,
    best_test_acc: float | None = None,
    dataset: Dataset | None = None,
) -> RunDir:
    """Write one run folder below `root`; returns it.

    `train_acc` is the final training-split evaluation (result.json's
    train_acc); by default the last window's training accuracy. The test
    accuracy climbs linearly to `test_acc` at the last step; given
    `best_test_acc`, it climbs to that at the epoch end nearest half-way
    instead, then falls linearly to `test_acc` (a run early stopping helps).
    `dataset`: the data set recorded (see the module's docstring); None records none.
    """
    rd = RunDir(root / spec.run_id)
    rd.path.mkdir(parents=True, exist_ok=True)
    spec_dict = spec.to_dict()
    if dataset is not None and dataset.name in KNOWN:
        spec_dict["dataset"] = dataset.name
    write_json(rd.spec_path, spec_dict)
    if env is not None:
        write_json(rd.env_path, env if dataset is None else {**env, "dataset": dataset.to_dict()})
    classes = 10 if dataset is None else dataset.num_classes
    assert spec.steps is not None
    # An epoch: the subset, else the whole split as recorded, else the data set's (CIFAR-10's
    # for an image folder that records none).
    recorded = (env or {}).get("data_images")
    sizes = recorded or (dataset and dataset.split_sizes) or KNOWN[DEFAULT].split_sizes
    assert sizes is not None
    per_epoch = spec.steps_per_epoch(spec.train_subset or sizes[0])
    last = min(spec.steps, stop_at or spec.steps)
    writer = MetricsWriter(rd.metrics_path)
    rows = []
    every = spec.log_every
    peak = per_epoch * max(1, round(last / 2 / per_epoch))

    def test_at(step: int) -> float:
        if best_test_acc is None:
            return test_acc * min(1.0, step / last)
        if step <= peak or last <= peak:
            return best_test_acc * min(1.0, step / peak)
        return best_test_acc + (test_acc - best_test_acc) * (step - peak) / (last - peak)

    steps = sorted({*range(every, last + 1, every), *range(per_epoch, last + 1, per_epoch), last})
    for step in steps:
        windowed = step % every == 0 or step == last
        loss, acc = curve(step, plateau, fit_step, classes)
        if diverge_at is not None and step >= diverge_at:
            loss, acc = float("nan"), 1 / classes
        at_test = step % per_epoch == 0 or step == spec.steps
        at_end = step == spec.steps and diverge_at is None
        final_acc = train_acc if train_acc is not None else acc
        row = {
            "step": step,
            "epoch": step / per_epoch,
            "lr": spec.lr,
            "window": (step - 1) % every + 1 if windowed else None,
            "train_loss": loss if windowed else None,
            "train_acc": acc if windowed else None,
            "test_loss": 2.0 if at_test else None,
            "test_acc": test_at(step) if at_test else None,
            "eval_train_loss": loss if at_end else None,
            "eval_train_acc": final_acc if at_end else None,
            "seconds": step * SECONDS_PER_STEP,
            "images_per_s": spec.batch_size / SECONDS_PER_STEP,
        }
        writer.write(row)
        rows.append(row)
    writer.close()
    if stop_at is not None and diverge_at is None:
        return rd  # partial: no result.json yet

    full = [r for r in rows if r["window"] == every]

    def first(test: Any) -> int | None:
        return next((r["step"] for r in full if test(r)), None)

    tests = [r for r in rows if r["test_acc"] is not None]
    best = max(tests, key=lambda r: r["test_acc"])
    end = rows[-1]
    result = {
        "format": 2,
        "status": Status.DIVERGED if diverge_at is not None else Status.COMPLETED,
        "run_id": spec.run_id,
        "step": end["step"],
        "epoch": end["epoch"],
        "train_loss": end["eval_train_loss"],
        "train_acc": end["eval_train_acc"],
        "window_train_loss": full[-1]["train_loss"] if full else None,
        "window_train_acc": full[-1]["train_acc"] if full else None,
        "test_loss": 2.0,
        "test_acc": tests[-1]["test_acc"],
        "best_test_acc": best["test_acc"],
        "best_test_step": best["step"],
        "steps_to_fit": first(lambda r: r["train_acc"] >= spec.fit_threshold),
        "steps_to_loss": first(
            lambda r: math.isfinite(r["train_loss"]) and r["train_loss"] <= spec.loss_threshold
        ),
        "fit_threshold": spec.fit_threshold,
        "loss_threshold": spec.loss_threshold,
        "diverged_at_step": next(
            (r["step"] for r in rows if r["window"] and not math.isfinite(r["train_loss"])), None
        ),
        "wall_seconds": end["seconds"],
        "images_per_s": spec.batch_size / SECONDS_PER_STEP,
        "error": None,
    }
    assert set(result) == set(RESULT_KEYS)
    write_json(rd.result_path, result)
    return rd


def fit_step(model: str, corruption: str, seed: int) -> int:
    """The fake grid's steps to fit: per randomization, scaled per model, +100 per seed."""
    return int(FIT_STEPS[corruption] * MODEL_FACTOR[model]) // 100 * 100 + 100 * seed


def randomization_grid(
    root: Path,
    models: tuple[str, ...] = ("mlp_1x512", "alexnet"),
    seeds: tuple[int, ...] = (0, 1),
    dataset: Dataset | None = None,
    test_acc: tuple[float, float] = (0.5, 0.1),
    **settings: Any,
) -> Path:
    """The five randomizations of Figure 1a for each model and seed, all completed, at
    test accuracy `test_acc` (true labels, the others); `dataset` recorded in each (None:
    none, read as CIFAR-10); `settings` on top of `spec_for`'s (e.g. **PAPER)."""
    for model in models:
        for corruption in FIT_STEPS:
            for seed in seeds:
                test = test_acc[0] if corruption == "true_labels" else test_acc[1]
                write_run(
                    root,
                    spec_for(model, corruption, seed, **settings),
                    plateau=PLATEAUS[corruption],
                    fit_step=fit_step(model, corruption, seed),
                    test_acc=test,
                    dataset=dataset,
                )
    return root


def error_at_level(level: float) -> float:
    """The level sweep's test error: 50% on true labels rising linearly to 90%."""
    return 0.5 + 0.4 * level


def level_sweep(
    root: Path,
    models: tuple[str, ...] = ("mlp_1x512", "alexnet"),
    levels: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
    seeds: tuple[int, ...] = (0,),
    dataset: Dataset | None = None,
    error: Callable[[float], float] = error_at_level,
    partial_zero: bool = False,
    **settings: Any,
) -> Path:
    """Label corruption at several levels (0 true labels, 1 random labels), test error
    `error(level)`; `dataset` recorded in each (None: none, read as CIFAR-10);
    `partial_zero`: every level as partial_labels (the fig1b preset), so level 0 is
    partial labels at p = 0; `settings` on top of `spec_for`'s (e.g. **PAPER)."""
    for model in models:
        for p in levels:
            for seed in seeds:
                if p == 0.0 and not partial_zero:
                    spec = spec_for(model, "true_labels", seed, **settings)
                elif p == 1.0 and not partial_zero:
                    spec = spec_for(model, "random_labels", seed, **settings)
                else:
                    spec = spec_for(model, "partial_labels", seed, level=p, **settings)
                write_run(
                    root,
                    spec,
                    plateau=int(700 * p) // 100 * 100,
                    fit_step=600 + int(1000 * p) // 100 * 100 + 100 * seed,
                    test_acc=1 - error(p),
                    dataset=dataset,
                )
    return root


# A day in seconds, and a start time (2026-03-01 00:00 UTC) for machine_env's runs.
DAY = 86_400.0
T0 = 1_772_323_200.0
DIGEST = "16477fc71efcb96494b98f349c57dfb5ea75f3faac453a417a34520b68460db0"


def machine_env(
    host: str,
    started: float = T0,
    *,
    device: str = "NVIDIA H200",
    backend: str = "jax",
    commit: str | None = "0123456789abcdef0123456789abcdef01234567",
    data_sha256: str | None = DIGEST,
    data_source: str | None = "/data/cifar10-jpeg.tar.gz",
) -> dict[str, Any]:
    """env.json of a run on another machine: its host, device, backend, start time
    (unix), rethink commit and data digest, as `rethink run` records them."""
    env = {**ENV, "host": host, "device": device, "backend": backend, "started": started}
    extra = {"rethink_commit": commit, "data_sha256": data_sha256, "data_source": data_source}
    return {**env, **{k: v for k, v in extra.items() if v is not None}}


def machine_part(root: Path, model: str, host: str, started: float = T0, **env: Any) -> Path:
    """A grid folder of one model's true- and random-label runs, made on `host`
    (`env`: more of `machine_env`'s settings)."""
    for corruption in ("true_labels", "random_labels"):
        write_run(root, spec_for(model, corruption), env=machine_env(host, started, **env))
    return root


def two_copies(root: Path, a_started: float, b_started: float, b_finished: bool = True) -> None:
    """The same run in root/A (on gpu-a) and root/B (on gpu-b), started at these times;
    B's copy unfinished unless `b_finished`."""
    spec = spec_for("alexnet", "random_labels")
    write_run(root / "A", spec, env=machine_env("gpu-a", a_started), test_acc=0.11)
    stop = None if b_finished else 700
    write_run(root / "B", spec, env=machine_env("gpu-b", b_started), test_acc=0.12, stop_at=stop)
