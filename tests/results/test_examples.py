"""Memorization, example by example, read back: the report's stats, the figures, old folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rethink.base.atomic import write_atomically
from rethink.results.examples import forgetting_curve, load_examples, memorization_stats
from rethink.results.loading import load_grid
from rethink.results.render import render_markdown
from rethink.results.report import build_report
from rethink.run.folder import EXAMPLES
from rethink.train.examples import ExampleHistory
from tests.helpers.run_folders import level_sweep


def _history(n: int = 400, spe: int = 10, seed: int = 0) -> ExampleHistory:
    """Kept examples learned from the first epoch on, changed ones only from the third;
    every example forgotten now and then."""
    rng = np.random.default_rng(seed)
    original = rng.integers(0, 10, n)
    replaced = rng.random(n) < 0.5
    trained = np.where(replaced, rng.integers(0, 10, n), original)
    changed = trained != original
    history = ExampleHistory(trained, spe, 6, original, replaced)
    batch = n // spe
    for epoch in range(6):
        order = rng.permutation(n).reshape(spe, batch)
        step = epoch * spe + 1
        learned = np.where(changed[order], epoch >= 2, True) & (rng.random(order.shape) < 0.8)
        preds = np.where(learned, trained[order], (trained[order] + 1) % 10)
        history.record(step, order, preds)
    return history


@pytest.fixture()
def sweep(tmp_path: Path) -> Path:
    return level_sweep(tmp_path / "sweep", ("mlp_1x512",), levels=(0.0, 0.5, 1.0))


def _write(run: Path, history: ExampleHistory) -> None:
    state = history.state()
    write_atomically(run / EXAMPLES, lambda f: np.savez(f, **state))  # type: ignore[arg-type]


def test_stats_say_whether_clean_examples_were_learned_first(sweep: Path) -> None:
    grid = load_grid(sweep)
    half = next(r for r in grid.runs if r.summary.level == 0.5)
    history = _history()
    _write(Path(half.summary.path), history)
    stats = {s.run_id: s for s in memorization_stats([r.summary for r in grid.runs])}
    assert set(stats) == {r.summary.run_id for r in grid.runs if r.summary.level}  # not p = 0
    mine = stats[half.summary.run_id]
    changed = np.asarray(history.changed)
    first = history.first_learned
    assert mine.changed == changed.sum() and mine.examples == len(changed)
    assert mine.median_first_kept == np.median(first[~changed & (first >= 0)])
    assert mine.clean_first is True
    assert mine.forgotten_changed == pytest.approx(history.forgotten[changed].mean())
    assert mine.best_test_acc == half.summary.best_test_acc
    # A run made before rethink recorded examples: a row that says so, no verdict.
    old = next(s for k, s in stats.items() if k != half.summary.run_id)
    assert old.clean_first is None and "nothing judged" in old.note
    text = render_markdown(build_report([r.summary for r in grid.runs], str(sweep)))
    assert "Memorization, example by example" in text and "nothing judged" in text


def test_a_torn_examples_file_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / EXAMPLES).write_bytes(b"PK\x03\x04 torn")
    assert load_examples(tmp_path) is None
    assert load_examples(tmp_path / "nowhere") is None


def test_forgetting_curve_divides_the_counts_of_the_epochs_asked() -> None:
    arrays = _history().state()
    gaps, acc, kept = forgetting_curve(arrays, 1, 6)
    visits = arrays["gap_visits"][1:6].sum(axis=0)
    seen = visits > 0
    assert np.allclose(acc[seen], arrays["gap_correct"][1:6].sum(axis=0)[seen] / visits[seen])
    assert np.all(np.isnan(acc[~seen]))
    assert np.all((kept[seen] >= 0) & (kept[seen] <= 1))
    assert gaps[10] == pytest.approx(1.05)  # the bin of gaps from 1 to 1.1 epochs


def test_figures_draw_runs_with_the_data_and_skip_old_folders(sweep: Path, tmp_path: Path) -> None:
    from rethink.results.figures import (
        figure_clean_changed,
        figure_first_learned,
        figure_forgetting,
        write_figures,
    )

    old = load_grid(sweep).runs
    assert figure_first_learned(old) is None and figure_forgetting(old) is None
    assert figure_clean_changed(old) is None  # no clean/changed columns in metrics.csv
    _, skipped = write_figures(old, tmp_path / "figures")
    assert not any("memorization" in s for s in skipped)  # old folders: as before
    half = next(r for r in old if r.summary.level == 0.5)
    _write(Path(half.summary.path), _history())
    runs = load_grid(sweep).runs
    fig = figure_first_learned(runs)
    assert fig is not None and len(fig.axes) == 1
    assert figure_forgetting(runs) is not None
    written, skipped = write_figures(runs, tmp_path / "new", formats=("png",))
    names = {p.name for p in written}
    assert {"memorization_first_learned.png", "memorization_forgetting.png"} <= names
    assert [s.split(":")[0] for s in skipped if "memorization" in s] == [
        "memorization_clean_changed"
    ]
