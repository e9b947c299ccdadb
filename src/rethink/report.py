"""A grid folder as numbers: one summary per run, slowdowns, Table 1, the paper's claims.

    grid = load_grid(Path("output_3"))          # run folders -> Run (summary + loss curve)
    report = build_report([r.summary for r in grid.runs], folder="output_3")
    render_markdown(report)                      # report.md
    report_dict(report)                          # --format json
    render_rich(report)                          # the same tables on the terminal

Reads only the run folders (spec.json, metrics.csv, result.json, env.json), so
finished, partial (no result.json: status "incomplete"), diverged and crashed
runs, and runs from other machines, all summarize. Building the data is pure
Python/NumPy; rendering (markdown, JSON, Rich) is separate. No Keras.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich import box
from rich.table import Table

from rethink import paper
from rethink.rundir import COMPLETED, SPEC, RunDir, find_runs
from rethink.spec import CORRUPTIONS, RunSpec

INCOMPLETE = "incomplete"  # no result.json: still running, or killed without one
CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes
START_LOSS = 0.9 * CHANCE_LOSS  # "the loss has started to drop": first row below this
TEST_ERROR_SLACK = 0.02  # test error may dip this much between levels and still "rise"
CHANCE_SLACK = 0.05  # test error at level 1 within this of 90% counts as "reaches 90%"

SUPPORTED, NOT_SUPPORTED, NOT_ENOUGH = "supported", "not supported", "not enough data"


@dataclass(frozen=True)
class RunSummary:
    """One run's settings and outcome; numbers are None where unknown (never NaN)."""

    run_id: str
    path: str
    model: str
    corruption: str
    level: float | None  # label-corruption level: 0 true, 1 random, p partial; None for pixels
    seed: int
    weight_decay: float
    augment: bool
    status: str  # result.json status, or "incomplete"
    step: int | None  # last step logged
    total_steps: int | None
    train_loss: float | None
    train_acc: float | None
    test_acc: float | None  # last evaluation
    steps_to_fit: int | None
    steps_to_loss: int | None
    first_drop_step: int | None  # first row with training loss below START_LOSS
    fit_threshold: float
    loss_threshold: float
    diverged_at_step: int | None
    wall_seconds: float | None
    images_per_s: float | None
    backend: str | None
    device: str | None
    error: str | None

    @property
    def randomization(self) -> str:
        return randomization_label(self.corruption, self.level)

    @property
    def plain(self) -> bool:
        """The randomization-test setting: no weight decay, no augmentation."""
        return self.weight_decay == 0 and not self.augment


@dataclass(frozen=True, eq=False)
class Run:
    """A run folder read: its summary and its training-loss curve (finite rows only)."""

    summary: RunSummary
    steps: np.ndarray
    train_loss: np.ndarray


@dataclass(frozen=True)
class Grid:
    path: Path
    runs: tuple[Run, ...]
    skipped: tuple[str, ...]  # run folders whose spec.json could not be read


def randomization_label(corruption: str, level: float | None = None) -> str:
    if corruption == "partial_labels":
        return f"partial labels p={level:g}" if level is not None else "partial labels"
    return corruption.replace("_", " ")


def label_level(spec: RunSpec) -> float | None:
    """The label-corruption level of Figure 1b/1c; None for pixel corruptions."""
    if spec.corruption == "true_labels":
        return 0.0
    if spec.corruption == "random_labels":
        return 1.0
    if spec.corruption == "partial_labels":
        return spec.level
    return None


def run_dirs(path: Path) -> list[RunDir]:
    """A run folder itself, the runs of a grid folder, or those of a folder of grids."""
    if (path / SPEC).is_file():
        return [RunDir(path)]
    runs = find_runs(path)
    if not runs and path.is_dir():
        for sub in sorted(p for p in path.iterdir() if p.is_dir()):
            runs += find_runs(sub)
    return runs


def load_grid(path: Path) -> Grid:
    runs, skipped = [], []
    for rd in run_dirs(path):
        spec = rd.spec()
        if spec is None:
            skipped.append(str(rd.path))
            continue
        rows = rd.metrics_rows()
        summary = summarize(rd, spec, rows)
        pairs = [(r["step"], r["train_loss"]) for r in rows if _finite(r.get("train_loss"))]
        pairs = [(s, v) for s, v in pairs if s is not None]
        steps = np.array([p[0] for p in pairs], dtype=float)
        losses = np.array([p[1] for p in pairs], dtype=float)
        runs.append(Run(summary, steps, losses))
    return Grid(path, tuple(runs), tuple(skipped))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _num(x: Any) -> float | None:
    return float(x) if _finite(x) else None


def _int(x: Any) -> int | None:
    return int(x) if _finite(x) else None


def _first_step(rows: Sequence[dict[str, float | None]], test: Any) -> int | None:
    for r in rows:
        if r.get("step") is not None and test(r):
            return _int(r["step"])
    return None


def _from_metrics(rows: Sequence[dict[str, float | None]], spec: RunSpec) -> dict[str, Any]:
    """The result.json numbers recomputed from metrics.csv (for runs without one)."""
    rows = [r for r in rows if r.get("step") is not None]
    last = rows[-1] if rows else {}
    tests = [r["test_acc"] for r in rows if _finite(r.get("test_acc"))]
    speeds = [v for v in (_num(r.get("images_per_s")) for r in rows) if v is not None]

    def acc_ok(r: dict[str, Any]) -> bool:
        return _finite(r.get("train_acc")) and r["train_acc"] >= spec.fit_threshold

    def loss_ok(r: dict[str, Any]) -> bool:
        return _finite(r.get("train_loss")) and r["train_loss"] <= spec.loss_threshold

    def bad(r: dict[str, Any]) -> bool:
        return r.get("train_loss") is not None and not _finite(r["train_loss"])

    return {
        "step": _int(last.get("step")),
        "train_loss": last.get("train_loss"),
        "train_acc": last.get("train_acc"),
        "test_acc": tests[-1] if tests else None,
        "steps_to_fit": _first_step(rows, acc_ok),
        "steps_to_loss": _first_step(rows, loss_ok),
        "diverged_at_step": _first_step(rows, bad),
        "wall_seconds": last.get("seconds"),
        "images_per_s": float(np.median(speeds)) if speeds else None,
    }


def _device_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name") or value.get("kind") or value.get("type") or value
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def summarize(
    rd: RunDir, spec: RunSpec, rows: Sequence[dict[str, float | None]] | None = None
) -> RunSummary:
    """One run's summary: result.json where it has a number, metrics.csv otherwise."""
    rows = rd.metrics_rows() if rows is None else rows
    result = rd.result() or {}
    env = rd.env() or {}
    derived = _from_metrics(rows, spec)

    def pick(key: str) -> Any:
        value = result.get(key)
        return value if value is not None else derived[key]

    try:
        total: int | None = spec.total_steps(spec.train_subset or 50_000)
    except AssertionError:
        total = None
    return RunSummary(
        run_id=spec.run_id,
        path=str(rd.path),
        model=spec.model,
        corruption=spec.corruption,
        level=label_level(spec),
        seed=spec.seed,
        weight_decay=spec.weight_decay,
        augment=spec.augment,
        status=str(result.get("status") or INCOMPLETE),
        step=_int(pick("step")),
        total_steps=total,
        train_loss=_num(pick("train_loss")),
        train_acc=_num(pick("train_acc")),
        test_acc=_num(pick("test_acc")),
        steps_to_fit=_int(pick("steps_to_fit")),
        steps_to_loss=_int(pick("steps_to_loss")),
        first_drop_step=_first_step(
            rows, lambda r: _finite(r.get("train_loss")) and r["train_loss"] <= START_LOSS
        ),
        fit_threshold=float(result.get("fit_threshold") or spec.fit_threshold),
        loss_threshold=float(result.get("loss_threshold") or spec.loss_threshold),
        diverged_at_step=_int(pick("diverged_at_step")),
        wall_seconds=_num(pick("wall_seconds")),
        images_per_s=_num(pick("images_per_s")),
        backend=env.get("backend"),
        device=_device_name(env.get("device")),
        error=result.get("error"),
    )


# --- the measured comparisons ------------------------------------------------


@dataclass(frozen=True)
class Slowdown:
    """Steps a randomization needed against true labels, same model: the paper's factor."""

    model: str
    randomization: str
    corruption: str
    level: float | None
    measure: str | None  # "steps_to_fit", "steps_to_loss", or None when neither was reached
    steps: float | None  # mean over the randomization's runs (seeds)
    baseline_steps: float | None  # mean over the true-labels runs
    ratio: float | None
    runs: int
    baseline_runs: int


@dataclass(frozen=True)
class Table1Comparison:
    """Mean final accuracies (%) of completed runs beside the paper's Table 1 row."""

    model: str
    corruption: str
    random_crop: bool
    weight_decay: bool
    runs: int  # completed runs averaged
    train: float | None
    test: float | None
    paper_train: float | None
    paper_test: float | None
    train_diff: float | None  # ours - paper, percentage points
    test_diff: float | None


@dataclass(frozen=True)
class LossComparison:
    """Steps to training loss 0.01 beside the independent Figure 1a reproduction."""

    model: str
    corruption: str
    runs: int
    reached: int
    steps: float | None  # mean over the runs that reached the loss
    slowdown: float | None  # against our true labels
    paper_steps: int
    paper_slowdown: float  # against the reproduction's true labels


@dataclass(frozen=True)
class Claim:
    claim: str
    verdict: str  # SUPPORTED, NOT_SUPPORTED or NOT_ENOUGH
    evidence: str


@dataclass(frozen=True)
class Report:
    folder: str
    runs: tuple[RunSummary, ...]
    slowdowns: tuple[Slowdown, ...]
    table1: tuple[Table1Comparison, ...]
    figure1a: tuple[LossComparison, ...]
    claims: tuple[Claim, ...]
    notes: tuple[str, ...]


def _order(s: RunSummary) -> tuple[Any, ...]:
    return (s.model, CORRUPTIONS.index(s.corruption), s.level or 0.0, s.weight_decay, s.augment)


def _mean(values: Iterable[float | int | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _mean_if_all(values: Sequence[float | int | None]) -> float | None:
    return _mean(values) if values and all(v is not None for v in values) else None


def slowdowns(runs: Sequence[RunSummary]) -> list[Slowdown]:
    """Per model, each randomization's steps over true labels' (plain runs only).

    Steps to fit when every run of both reached it, else steps to the loss
    threshold when every run reached that, else no ratio.
    """
    plain = sorted((r for r in runs if r.plain), key=_order)
    out = []
    for model in dict.fromkeys(r.model for r in plain):
        base = [r for r in plain if r.model == model and r.corruption == "true_labels"]
        if not base:
            continue
        groups: dict[tuple[str, float | None], list[RunSummary]] = {}
        for r in plain:
            if r.model == model:
                groups.setdefault((r.corruption, r.level), []).append(r)
        for (corruption, level), group in groups.items():
            measure, steps, baseline = None, None, None
            for key in ("steps_to_fit", "steps_to_loss"):
                steps = _mean_if_all([getattr(r, key) for r in group])
                baseline = _mean_if_all([getattr(r, key) for r in base])
                if steps is not None and baseline is not None:
                    measure = key
                    break
            ratio = steps / baseline if measure and steps and baseline else None
            out.append(
                Slowdown(
                    model=model,
                    randomization=randomization_label(corruption, level),
                    corruption=corruption,
                    level=level,
                    measure=measure,
                    steps=steps if measure else None,
                    baseline_steps=baseline if measure else None,
                    ratio=ratio,
                    runs=len(group),
                    baseline_runs=len(base),
                )
            )
    return out


def table1(runs: Sequence[RunSummary]) -> list[Table1Comparison]:
    """Table 1 rows for the true/random-label settings present, with the paper's numbers."""
    groups: dict[tuple[str, str, bool, bool], list[RunSummary]] = {}
    for r in sorted(runs, key=_order):
        if r.corruption in ("true_labels", "random_labels"):
            key = (r.model, r.corruption, r.augment, r.weight_decay > 0)
            groups.setdefault(key, []).append(r)
    out = []
    for (model, corruption, crop, wd), group in groups.items():
        done = [r for r in group if r.status == COMPLETED]
        train = _mean(100 * r.train_acc for r in done if r.train_acc is not None)
        test = _mean(100 * r.test_acc for r in done if r.test_acc is not None)
        row = paper.table1_row(model, corruption, crop, wd)
        out.append(
            Table1Comparison(
                model=model,
                corruption=corruption,
                random_crop=crop,
                weight_decay=wd,
                runs=len(done),
                train=train,
                test=test,
                paper_train=row.train if row else None,
                paper_test=row.test if row else None,
                train_diff=train - row.train if row and train is not None else None,
                test_diff=test - row.test if row and test is not None else None,
            )
        )
    return out


def figure1a_comparison(
    runs: Sequence[RunSummary], model: str = paper.FIGURE1A_MODEL
) -> list[LossComparison]:
    """Our steps to loss 0.01 per randomization (plain runs of `model`) beside the paper's."""
    chosen = [
        r
        for r in runs
        if r.plain and r.model == model and r.loss_threshold == paper.FIGURE1A_LOSS_THRESHOLD
    ]
    means = {
        c: _mean(r.steps_to_loss for r in chosen if r.corruption == c)
        for c in paper.FIGURE1A_STEPS_TO_LOSS
    }
    ours_true = means["true_labels"]
    paper_true = paper.FIGURE1A_STEPS_TO_LOSS["true_labels"]
    out = []
    for corruption, paper_steps in paper.FIGURE1A_STEPS_TO_LOSS.items():
        group = [r for r in chosen if r.corruption == corruption]
        if not group:
            continue
        steps = means[corruption]
        out.append(
            LossComparison(
                model=model,
                corruption=corruption,
                runs=len(group),
                reached=sum(r.steps_to_loss is not None for r in group),
                steps=steps,
                slowdown=steps / ours_true if steps is not None and ours_true else None,
                paper_steps=paper_steps,
                paper_slowdown=paper_steps / paper_true,
            )
        )
    return out


def _pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def _steps(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def claim_fitted(runs: Sequence[RunSummary]) -> Claim:
    """Every randomization fits: training accuracy reaches the fit threshold."""
    thresholds = sorted({r.fit_threshold for r in runs})
    what = " / ".join(_pct(t, 0) for t in thresholds) or "100%"
    claim = f"Every randomization fits the training set (training accuracy reaches {what})."
    parts, failed, excluded = [], [], 0
    groups: dict[str, list[RunSummary]] = {}
    for r in sorted(runs, key=_order):
        groups.setdefault(r.randomization, []).append(r)
    for name, group in groups.items():
        fitted = [r for r in group if r.steps_to_fit is not None]
        decided = fitted + [r for r in group if r.steps_to_fit is None and r.status == COMPLETED]
        excluded += len(group) - len(decided)
        if decided:
            parts.append(f"{name} {len(fitted)}/{len(decided)}")
        failed += [r.run_id for r in decided if r.steps_to_fit is None]
    evidence = "runs fitted: " + (", ".join(parts) or "none decided")
    if failed:
        evidence += f"; never fitted: {', '.join(failed)}"
    if excluded:
        evidence += f"; {excluded} run(s) not counted (diverged, failed, stopped or unfinished)"
    verdict = NOT_SUPPORTED if failed else SUPPORTED if parts else NOT_ENOUGH
    return Claim(claim, verdict, evidence)


def claim_slow_start(runs: Sequence[RunSummary]) -> Claim:
    """Random labels start later (first drop of the loss) than true labels, then converge."""
    claim = (
        "Random labels take longer to start (the loss first drops below "
        f"{START_LOSS:.2f} = 0.9 ln 10 later than with true labels), then converge."
    )
    plain = [r for r in runs if r.plain]
    parts, later, converged, counted = [], [], [], 0
    for model in sorted({r.model for r in plain}):
        true = [r for r in plain if r.model == model and r.corruption == "true_labels"]
        rand = [r for r in plain if r.model == model and r.corruption == "random_labels"]
        t_drop = _mean(r.first_drop_step for r in true)
        r_drop = _mean_if_all([r.first_drop_step for r in rand])
        done = [r for r in rand if r.status == COMPLETED or r.steps_to_loss or r.steps_to_fit]
        ok = [r for r in done if r.steps_to_loss is not None or r.steps_to_fit is not None]
        if t_drop is None or r_drop is None:
            continue
        counted += 1
        later.append(r_drop > t_drop)
        converged.append(len(ok) == len(done))
        parts.append(
            f"{model}: first drop at {_steps(t_drop)} (true) vs {_steps(r_drop)} steps "
            f"(random), random labels converged in {len(ok)}/{len(done)} finished run(s)"
        )
    if not counted:
        return Claim(claim, NOT_ENOUGH, "no model with both true- and random-label curves")
    verdict = SUPPORTED if all(later) and all(converged) else NOT_SUPPORTED
    return Claim(claim, verdict, "; ".join(parts))


def claim_test_error(runs: Sequence[RunSummary]) -> Claim:
    """Test error rises with the label-corruption level, to about 90% at level 1."""
    claim = (
        "Test error rises with the label-corruption level, to about 90% (chance) "
        "when every label is random."
    )
    done = [r for r in runs if r.plain and r.level is not None and r.status == COMPLETED]
    parts, rising, at_chance = [], [], []
    for model in sorted({r.model for r in done}):
        by_level: dict[float, list[float]] = {}
        for r in done:
            if r.model == model and r.test_acc is not None:
                by_level.setdefault(float(r.level or 0.0), []).append(1 - r.test_acc)
        if len(by_level) < 2:
            continue
        levels = sorted(by_level)
        errors = [sum(by_level[p]) / len(by_level[p]) for p in levels]
        rising.append(all(b >= a - TEST_ERROR_SLACK for a, b in itertools.pairwise(errors)))
        if levels[-1] == 1.0:
            at_chance.append(errors[-1] >= paper.CHANCE_TEST_ERROR - CHANCE_SLACK)
        steps = " -> ".join(f"{_pct(e, 0)} (p={p:g})" for p, e in zip(levels, errors, strict=True))
        parts.append(f"{model}: {steps}")
    if not parts:
        return Claim(claim, NOT_ENOUGH, "no model with completed runs at two or more levels")
    evidence = "; ".join(parts)
    if not all(rising) or not all(at_chance):
        verdict = NOT_SUPPORTED
    else:
        verdict = SUPPORTED if at_chance else NOT_ENOUGH
        if not at_chance:
            evidence += "; no completed run at level 1 (random labels)"
    return Claim(claim, verdict, evidence)


def build_report(
    runs: Sequence[RunSummary], folder: str = "", skipped: Sequence[str] = ()
) -> Report:
    runs = sorted(runs, key=lambda r: (*_order(r), r.seed))
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    notes = [f"{len(runs)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))]
    notes += [f"unreadable spec.json, skipped: {p}" for p in skipped]
    return Report(
        folder=folder,
        runs=tuple(runs),
        slowdowns=tuple(slowdowns(runs)),
        table1=tuple(table1(runs)),
        figure1a=tuple(figure1a_comparison(runs)),
        claims=(claim_fitted(runs), claim_slow_start(runs), claim_test_error(runs)),
        notes=tuple(notes),
    )


# --- rendering ---------------------------------------------------------------


@dataclass(frozen=True)
class TextTable:
    """A rendered table: markdown and Rich draw the same rows."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data (numbers, not formatted strings)."""
    data = dataclasses.asdict(report)
    data["paper"] = {
        "table1": [dataclasses.asdict(r) for r in paper.TABLE1],
        "figure1a_steps_to_loss": paper.FIGURE1A_STEPS_TO_LOSS,
    }
    return data


def _secs(x: float | None) -> str:
    if x is None:
        return "-"
    if x < 60:
        return f"{x:.1f} s"
    if x < 3600:
        return f"{int(x // 60)}m{int(x % 60):02d}s"
    return f"{int(x // 3600)}h{int(x % 3600 // 60):02d}m"


def _diff(x: float | None) -> str:
    return "-" if x is None else f"{x:+.2f}"


def _num2(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _x(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def _yes(x: bool) -> str:
    return "yes" if x else "no"


def _setting(r: RunSummary) -> str:
    wd = f" wd{r.weight_decay:g}" if r.weight_decay else ""
    return r.randomization + wd + (" aug" if r.augment else "")


def _status(r: RunSummary) -> str:
    if r.status == INCOMPLETE and r.step is not None and r.total_steps:
        return f"{INCOMPLETE} {r.step / r.total_steps:.0%}"
    return r.status


Columns = tuple[tuple[str, Callable[[Any], str]], ...]
RUN_COLUMNS: Columns = (
    ("model", lambda r: r.model),
    ("randomization", _setting),
    ("level", lambda r: "-" if r.level is None else f"{r.level:g}"),
    ("seed", lambda r: str(r.seed)),
    ("status", _status),
    ("train acc", lambda r: _pct(r.train_acc, 2)),
    ("test acc", lambda r: _pct(r.test_acc, 2)),
    ("steps to fit", lambda r: _steps(r.steps_to_fit)),
    ("steps to loss", lambda r: _steps(r.steps_to_loss)),
    ("wall", lambda r: _secs(r.wall_seconds)),
    ("images/s", lambda r: _steps(r.images_per_s)),
    ("backend", lambda r: r.backend or "-"),
    ("device", lambda r: r.device or "-"),
)
SLOWDOWN_COLUMNS: Columns = (
    ("model", lambda s: s.model),
    ("randomization", lambda s: s.randomization),
    ("measured by", lambda s: (s.measure or "not reached").replace("_", " ")),
    ("steps", lambda s: _steps(s.steps)),
    ("true-label steps", lambda s: _steps(s.baseline_steps)),
    ("slowdown", lambda s: _x(s.ratio)),
    ("runs", lambda s: f"{s.runs} / {s.baseline_runs}"),
)
TABLE1_COLUMNS: Columns = (
    ("model", lambda t: t.model),
    ("labels", lambda t: t.corruption.split("_")[0]),
    ("random crop", lambda t: _yes(t.random_crop)),
    ("weight decay", lambda t: _yes(t.weight_decay)),
    ("runs", lambda t: str(t.runs)),
    ("train", lambda t: _num2(t.train)),
    ("paper train", lambda t: _num2(t.paper_train)),
    ("diff", lambda t: _diff(t.train_diff)),
    ("test", lambda t: _num2(t.test)),
    ("paper test", lambda t: _num2(t.paper_test)),
    ("diff", lambda t: _diff(t.test_diff)),
)
FIGURE1A_COLUMNS: Columns = (
    ("model", lambda c: c.model),
    ("randomization", lambda c: randomization_label(c.corruption)),
    ("reached", lambda c: f"{c.reached}/{c.runs}"),
    ("steps", lambda c: _steps(c.steps)),
    ("slowdown", lambda c: _x(c.slowdown)),
    ("reproduction", lambda c: _steps(c.paper_steps)),
    ("its slowdown", lambda c: _x(c.paper_slowdown)),
)
CLAIM_COLUMNS: Columns = (
    ("claim", lambda c: c.claim),
    ("verdict", lambda c: c.verdict),
    ("evidence", lambda c: c.evidence),
)


def _table(title: str, columns: Columns, items: Sequence[Any], note: str = "") -> TextTable:
    rows = tuple(tuple(f(item) for _, f in columns) for item in items)
    return TextTable(title, tuple(name for name, _ in columns), rows, note)


def report_tables(report: Report) -> list[TextTable]:
    """The report's tables as text, for markdown and Rich alike (empty ones left out)."""
    fits = ", ".join(sorted({_pct(r.fit_threshold, 0) for r in report.runs}))
    losses = ", ".join(sorted({f"{r.loss_threshold:g}" for r in report.runs}))
    tables = [
        _table(
            "Runs",
            RUN_COLUMNS,
            report.runs,
            f"fit: training accuracy >= {fits}; loss: training loss <= {losses}; "
            "incomplete: no result.json (running, or stopped without one)",
        ),
        _table(
            "Slowdown against true labels (the paper's 'small constant factor')",
            SLOWDOWN_COLUMNS,
            report.slowdowns,
            "runs without weight decay or augmentation, means over seeds; steps to fit "
            "where every run of both reached it, else steps to the loss threshold",
        ),
        _table(
            "Table 1: accuracy (%) beside the paper",
            TABLE1_COLUMNS,
            report.table1,
            "completed runs only, mean over seeds; diff = ours - paper, percentage points",
        ),
        _table(
            "Figure 1a: steps to training loss 0.01 beside an independent reproduction",
            FIGURE1A_COLUMNS,
            report.figure1a,
            "reproduction: small Inception, batch 128, 25k steps, one seed (docs/paper.md)",
        ),
    ]
    claims = _table("The paper's claims", CLAIM_COLUMNS, report.claims)
    return [t for t in tables if t.rows] + [claims]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    lines = [f"# rethink report: {report.folder}", ""]
    lines += [f"- {n}" for n in report.notes]
    lines.append(
        "- paper: Zhang et al., Understanding deep learning requires rethinking "
        "generalization (ICLR 2017), Figure 1 and Table 1"
    )
    for t in report_tables(report):
        lines += ["", f"## {t.title}", ""]
        lines.append("| " + " | ".join(t.columns) + " |")
        lines.append("|" + "---|" * len(t.columns))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows]
        if t.note:
            lines += ["", f"_{t.note}_"]
    return "\n".join(lines) + "\n"


def render_rich(report: Report) -> list[Table]:
    tables = []
    for t in report_tables(report):
        table = Table(
            title=t.title,
            caption=t.note or None,
            title_justify="left",
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for c in t.columns:
            table.add_column(c, overflow="fold")
        for row in t.rows:
            table.add_row(*row)
        tables.append(table)
    return tables
