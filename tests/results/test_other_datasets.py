"""Runs on other data sets than CIFAR-10: their summaries, reports, frames and figures.

A run records its data set (env.json's "dataset", spec.json's "dataset"
name); its chance level (test error 1 - 1/classes, loss ln(classes)) and
whether the paper's numbers (all CIFAR-10's) stand beside it follow from it.
Folders that record none read as CIFAR-10.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rethink.results.claims import NOT_ENOUGH, NOT_SUPPORTED, SUPPORTED
from rethink.results.claims.figure1 import CHANCE_SLACK, claim_slow_start, claim_test_error
from rethink.results.claims.figure2b import claim_batchnorm, claim_early_stopping
from rethink.results.claims.fitting import FIT_DEFAULT, claim_fitted, required_train_acc
from rethink.results.comparisons import slowdowns, table1
from rethink.results.figures import chance_label, figure_1a, figure_1c, write_figures
from rethink.results.frames import metrics_frame, runs_frame
from rethink.results.loading import load_grid
from rethink.results.protocol import protocol_deviations, run_deviations
from rethink.results.render import render_markdown, report_dict
from rethink.results.report import build_report
from rethink.results.summary import (
    CIFAR10,
    START_LOSS,
    RunSummary,
    run_dataset,
    start_loss,
    summarize,
)
from rethink.run.folder import write_json
from rethink.spec import RunSpec
from rethink.spec.datasets import KNOWN, Dataset
from tests.helpers.run_folders import (
    ENV,
    PAPER,
    THREE,
    level_sweep,
    paper_spec,
    randomization_grid,
    spec_for,
    summaries,
    write_run,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "grid-0.1"
MODELS = ("mlp_1x512", "alexnet")
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


def three_error(level: float) -> float:
    """A 3-class sweep's test error: 30% on true labels rising to 64% on random ones,
    within CHANCE_SLACK of 2/3 but far below CIFAR-10's 90%."""
    return 0.30 + 0.34 * level


def paper_grid(root: Path, dataset: Dataset | None) -> Path:
    """The five randomizations of MODELS, two seeds, on the paper's protocol."""
    return randomization_grid(root, MODELS, (0, 1), dataset, test_acc=(0.7, 1 / 3), **PAPER)


def paper_sweep(root: Path, dataset: Dataset | None, error: Any = three_error) -> Path:
    return level_sweep(root, MODELS, LEVELS, dataset=dataset, error=error, **PAPER)


@pytest.fixture(scope="module")
def three_grid(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    return summaries(paper_grid(tmp_path_factory.mktemp("three"), THREE))


@pytest.fixture(scope="module")
def cifar_grid(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    return summaries(paper_grid(tmp_path_factory.mktemp("cifar"), None))


@pytest.fixture(scope="module")
def three_sweep(tmp_path_factory: pytest.TempPathFactory) -> list[RunSummary]:
    return summaries(paper_sweep(tmp_path_factory.mktemp("three_sweep"), THREE))


# --- which data set a run folder trained on ---------------------------------------


def test_run_dataset_reads_env_json_then_spec_json_then_cifar10(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "folder", spec_for("mlp_1x512", "true_labels"), dataset=THREE)
    assert json.loads(folder.env_path.read_text())["dataset"]["num_classes"] == 3
    assert run_dataset(folder) == THREE
    # A known data set: env.json and spec.json agree; without env.json, spec.json says.
    mnist = KNOWN["mnist"]
    named = write_run(tmp_path / "named", spec_for("mlp_1x512", "true_labels"), dataset=mnist)
    assert json.loads(named.spec_path.read_text())["dataset"] == "mnist"
    named.env_path.unlink()
    assert run_dataset(named) == mnist
    # Neither (folders written before runs recorded one): CIFAR-10.
    old = write_run(tmp_path / "old", spec_for("mlp_1x512", "true_labels"))
    assert "dataset" not in json.loads(old.env_path.read_text())
    spec = json.loads(old.spec_path.read_text())
    assert spec.get("dataset") is None
    write_json(old.spec_path, {k: v for k, v in spec.items() if k not in ("dataset", "crop")})
    assert run_dataset(old) == CIFAR10 == KNOWN["cifar10"]
    # An unreadable record is no reason to fail: the next source, or CIFAR-10.
    write_json(old.env_path, {**ENV, "dataset": {"name": "broken", "shape": [1]}})
    assert run_dataset(old) == CIFAR10
    write_json(named.env_path, {**ENV, "dataset": {"name": "x", "classes": ["a"]}})
    assert run_dataset(named) == mnist
    (run,) = load_grid(tmp_path / "folder").runs
    s = run.summary
    assert s.dataset == THREE and s.chance_error == pytest.approx(2 / 3)
    assert s.chance_loss == pytest.approx(math.log(3))


def test_old_folders_read_as_cifar10(tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    runs = summaries(old)
    assert runs and {r.dataset for r in runs} == {CIFAR10}
    report = build_report(runs)
    assert report.datasets == (CIFAR10,)
    md = render_markdown(report)
    assert "- data set: cifar10: 10 classes of 32x32x3 images (chance: 90.00% test error)" in md
    assert "no paper numbers" not in md


def test_first_drop_of_the_loss_is_below_0_9_ln_classes(tmp_path: Path) -> None:
    # The loss starts at ln 3 = 1.10, below CIFAR-10's 0.9 ln 10 = 2.07 from the first
    # row: by CIFAR-10's rule the loss would have "dropped" before the plateau ended.
    spec = spec_for("mlp_1x512", "random_labels")
    write_run(tmp_path, spec, plateau=700, fit_step=1600, dataset=THREE)
    (run,) = load_grid(tmp_path).runs
    s = run.summary
    assert s.start_loss == pytest.approx(start_loss(3)) and start_loss(3) < math.log(3) < START_LOSS
    assert s.first_drop_step is not None and s.first_drop_step > 700
    first_row = int(run.steps[0])
    assert run.train_loss[0] <= START_LOSS and first_row < 700  # CIFAR-10's rule: too early


# --- the report ---------------------------------------------------------------------


def test_test_error_reaches_chance_of_three_classes(
    three_sweep: list[RunSummary],
) -> None:
    c = claim_test_error(three_sweep)
    assert c.verdict == SUPPORTED
    assert "about 66.67% (chance, 3 classes)" in c.claim and "90%" not in c.claim
    assert "64% (p=1)" in c.evidence
    # The same runs judged against CIFAR-10's 90%: 64% is far from chance.
    as_cifar = [dataclasses.replace(r, dataset=CIFAR10) for r in three_sweep]
    assert CIFAR10.chance_error - CHANCE_SLACK > 0.64
    assert claim_test_error(as_cifar).verdict == NOT_SUPPORTED


def test_three_class_model_at_chance_on_true_labels_learned_nothing(tmp_path: Path) -> None:
    # 63% test error on true labels is at chance for 3 classes (not for 10).
    runs = summaries(paper_sweep(tmp_path, THREE, error=lambda p: 0.63 + 0.03 * p))
    c = claim_test_error(runs)
    assert c.verdict == NOT_ENOUGH and "at chance already" in c.evidence
    as_cifar = [dataclasses.replace(r, dataset=CIFAR10) for r in runs]
    assert "at chance already" not in claim_test_error(as_cifar).evidence


def test_slow_start_names_the_data_sets_chance_loss(three_grid: list[RunSummary]) -> None:
    c = claim_slow_start(three_grid)
    assert c.verdict == SUPPORTED
    assert f"{start_loss(3):.2f} = 0.9 ln 3" in c.claim and "ln 10" not in c.claim


def test_table1_and_figure1a_have_no_paper_numbers_for_other_data_sets(
    three_grid: list[RunSummary], cifar_grid: list[RunSummary]
) -> None:
    rows = table1(three_grid)
    assert rows and {t.dataset for t in rows} == {"my_images"}
    for t in rows:
        assert t.test is not None and t.train is not None
        assert (t.paper_train, t.paper_test, t.train_diff, t.test_diff) == (None,) * 4
    assert all(t.paper_test is not None for t in table1(cifar_grid))  # CIFAR-10: beside it
    report = build_report(three_grid, folder="three")
    assert report.figure1a == ()
    md = render_markdown(report)
    assert "- data set: my_images: 3 classes of 20x20x1 images (chance: 66.67% test error" in md
    assert "## Table 1: accuracy (%)\n" in md and "beside the paper" not in md.split("## Table")[1]
    table = md.split("## Table 1")[1].split("\n## ")[0]
    assert "| mlp_1x512 | true | no | no | 2 | 100.00 | - | - | 70.00 | - | - |" in table
    for paper_figure in ("76.07", "52.39", "50.51", "9.86"):  # Table 1's CIFAR-10 numbers
        assert paper_figure not in md
    assert "paper columns: CIFAR-10 only, '-' for my_images" in table
    assert "## Figure 1a" not in md
    assert "all the data set's training and test images" in report.protocol


def test_fit_rule_without_paper_numbers_is_the_default(tmp_path: Path) -> None:
    # MLP 1x512 on random labels at 99.0%: fitted against the paper's 99.34% - 0.5 on
    # CIFAR-10, not against 99.5% on a data set the paper has no figure for.
    for dataset, verdict in ((None, SUPPORTED), (THREE, NOT_SUPPORTED)):
        root = tmp_path / str(dataset and dataset.name)
        write_run(root, paper_spec("mlp_1x512", "true_labels"), test_acc=0.7, dataset=dataset)
        write_run(
            root,
            paper_spec("mlp_1x512", "random_labels"),
            plateau=700,
            fit_step=1600,
            test_acc=1 / 3,
            train_acc=0.99,
            dataset=dataset,
        )
        runs = summaries(root)
        c = claim_fitted(runs)
        assert c.verdict == verdict, c.evidence
    assert {required_train_acc(r) for r in runs} == {FIT_DEFAULT}
    assert f"fit: training accuracy >= {FIT_DEFAULT:g}% (my_images: no paper numbers)" in (
        c.evidence
    )
    assert "needs >= 99.50%" in c.evidence


def test_paper_specific_claims_are_not_judged_without_paper_numbers(tmp_path: Path) -> None:
    for model, test in (("inception", 0.86), ("inception_no_bn", 0.825)):
        write_run(tmp_path, paper_spec(model, "true_labels"), test_acc=test, dataset=THREE)
    runs = summaries(tmp_path)
    c = claim_batchnorm(runs)  # a 3.5-point gap: the paper's 3-4 on CIFAR-10
    assert c.verdict == NOT_ENOUGH and "no paper numbers for my_images" in c.evidence
    assert "85.75" not in c.claim
    early = claim_early_stopping(runs)  # generic: judged on the data set's own runs
    assert early.verdict == SUPPORTED and "on my_images" in early.claim


def test_protocol_deviations_on_other_data_sets() -> None:
    spec = RunSpec(model="mlp_1x512", train_subset=50_000, test_subset=10_000)
    assert protocol_deviations(spec) == ()  # CIFAR-10's whole splits
    assert protocol_deviations(spec, KNOWN["mnist"]) == ("50,000 training images",)
    assert protocol_deviations(RunSpec(model="mlp_1x512", train_subset=600), THREE) == (
        "600 training images",
    )
    assert protocol_deviations(RunSpec(model="mlp_1x512"), THREE) == ()


def test_recorded_split_sizes_decide_whether_a_subset_is_a_deviation(tmp_path: Path) -> None:
    """A preset's subsets on a small folder (24 training, 12 test images): the whole
    data set, not a deviation, once the run recorded its splits' sizes."""
    whole = RunSpec(model="mlp_1x512", train_subset=24, test_subset=250)
    assert protocol_deviations(whole, THREE, (24, 12)) == ()
    part = RunSpec(model="mlp_1x512", train_subset=12, test_subset=6)
    assert protocol_deviations(part, THREE, (24, 12)) == (
        "12 training images",
        "6 test images",
    )
    rd = write_run(tmp_path, whole, dataset=THREE, env={**ENV, "data_images": [24, 12]})
    summary = summarize(rd, whole)
    assert summary.data_images == (24, 12)
    assert run_deviations(summary) == ()


def test_a_grid_of_two_data_sets_is_judged_per_data_set(
    three_grid: list[RunSummary], cifar_grid: list[RunSummary]
) -> None:
    runs = three_grid + cifar_grid
    report = build_report(runs, folder="mixed")
    assert report.datasets == (CIFAR10, THREE)
    assert len(report.claims) == 18
    cifar = {c.claim.removeprefix("[cifar10] "): c for c in report.claims[:9]}
    three = {c.claim.removeprefix("[my_images] "): c for c in report.claims[9:]}
    assert all(c.claim.startswith("[cifar10] ") for c in report.claims[:9])
    assert all(c.claim.startswith("[my_images] ") for c in report.claims[9:])
    assert [c.verdict for c in cifar.values()] == [
        c.verdict for c in build_report(cifar_grid).claims
    ]
    assert [(claim, c.verdict) for claim, c in three.items()] == [
        (c.claim, c.verdict) for c in build_report(three_grid).claims
    ]
    # Slowdowns and Table 1 rows stay within a data set: two seeds each, never four.
    assert {s.dataset for s in slowdowns(runs)} == {"cifar10", "my_images"}
    assert all((s.runs, s.baseline_runs) == (2, 2) for s in slowdowns(runs))
    rows = report.table1
    assert all(t.runs == 2 for t in rows)
    assert {t.dataset for t in rows if t.paper_test is not None} == {"cifar10"}
    md = render_markdown(report)
    assert "| data set | model |" in md and "- data sets: 2, each judged apart" in md
    assert "| my_images | mlp_1x512 | true | no | no | 2 | 100.00 | - | - |" in md
    with pytest.raises(ValueError, match="several data sets"):
        claim_fitted(runs)
    data = json.loads(json.dumps(report_dict(report), allow_nan=False))
    assert [d["name"] for d in data["datasets"]] == ["cifar10", "my_images"]
    assert data["datasets"][1]["chance_error"] == pytest.approx(2 / 3)
    assert data["datasets"][1]["has_paper_numbers"] is False
    assert {r["dataset"] for r in data["runs"]} == {"cifar10", "my_images"}


# --- frames --------------------------------------------------------------------------


def test_frames_have_a_dataset_column(tmp_path: Path) -> None:
    write_run(tmp_path, spec_for("mlp_1x512", "true_labels"), dataset=THREE)
    write_run(tmp_path, spec_for("alexnet", "true_labels"))  # records none: CIFAR-10
    runs = runs_frame(tmp_path).set_index("run_id")
    assert runs.loc["mlp_1x512-true_labels-s0", "dataset"] == "my_images"
    assert runs.loc["mlp_1x512-true_labels-s0", "num_classes"] == 3
    assert runs.loc["mlp_1x512-true_labels-s0", "chance_error"] == pytest.approx(2 / 3)
    assert runs.loc["alexnet-true_labels-s0", "dataset"] == "cifar10"
    rows = metrics_frame(tmp_path)
    assert dict(rows.groupby("run_id")["dataset"].first()) == {
        "alexnet-true_labels-s0": "cifar10",
        "mlp_1x512-true_labels-s0": "my_images",
    }


# --- figures -------------------------------------------------------------------------


def test_figure_1c_chance_line_at_two_thirds_and_names_the_data_set(tmp_path: Path) -> None:
    runs = load_grid(level_sweep(tmp_path, MODELS, dataset=THREE, error=three_error)).runs
    fig = figure_1c(runs)
    assert fig is not None
    ax = fig.axes[0]
    (chance,) = [line for line in ax.get_lines() if str(line.get_label()).startswith("chance")]
    assert np.asarray(chance.get_ydata(), float).tolist() == pytest.approx([2 / 3, 2 / 3])
    assert chance.get_label() == chance_label(THREE) == "chance (66.7%)"
    legend = ax.get_legend()
    assert legend is not None and "chance (66.7%)" in [t.get_text() for t in legend.get_texts()]
    assert fig.get_suptitle() == "my_images: 3 classes of 20x20x1 images"
    a = figure_1a(runs)
    assert a is not None and "my_images" in a.get_suptitle()
    assert a.axes[0].get_ylim()[1] <= 1.05 * 2 * math.log(3) + 1e-9


def test_figure_1c_of_cifar10_keeps_its_90_percent_line(tmp_path: Path) -> None:
    fig = figure_1c(load_grid(level_sweep(tmp_path, MODELS)).runs)
    assert fig is not None
    (chance,) = [line for line in fig.axes[0].get_lines() if line.get_label() == "chance (90%)"]
    assert np.asarray(chance.get_ydata(), float).tolist() == pytest.approx([0.9, 0.9])
    assert fig.get_suptitle().startswith("cifar10: 10 classes")


def test_figures_of_a_grid_of_two_data_sets_go_to_a_folder_each(tmp_path: Path) -> None:
    root = level_sweep(tmp_path / "grid", ("mlp_1x512",), (0.0, 1.0))
    level_sweep(tmp_path / "grid", ("alexnet",), (0.0, 1.0), dataset=THREE, error=three_error)
    runs = load_grid(root).runs
    with pytest.raises(ValueError, match="several data sets"):
        figure_1c(runs)
    written, skipped = write_figures(runs, tmp_path / "figs", formats=("png",))
    names = sorted(str(p.relative_to(tmp_path / "figs")) for p in written)
    assert names == [
        "cifar10/figure1a.png",
        "cifar10/figure1c.png",
        "my_images/figure1a.png",
        "my_images/figure1c.png",
    ]
    assert any(m.startswith("my_images/figure1b") for m in skipped)
    _, skipped = write_figures(runs, tmp_path / "one", model="alexnet", formats=("png",))
    assert "cifar10: no runs of alexnet" in skipped
