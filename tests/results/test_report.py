"""rethink.results.report: build_report assembles protocol, comparisons, claims and notes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rethink.results.claims import NOT_ENOUGH, SUPPORTED, claim_fitted
from rethink.results.comparisons import table1
from rethink.results.render import render_markdown, report_dict
from rethink.results.report import TRAIN_ACC_NOTE, build_report
from rethink.results.summary import WINDOW_MARK, RunSummary
from tests.helpers.run_folders import paper_spec, summaries, write_run


def test_runs_are_ordered_and_notes_count_them(
    tmp_path: Path, paper_summaries: list[RunSummary]
) -> None:
    write_run(tmp_path, paper_spec("mlp_3x512", "true_labels"), stop_at=300)
    runs = summaries(tmp_path) + list(reversed(paper_summaries))
    report = build_report(runs, "grid_x", skipped=["grid_x/broken"])
    assert report.folder == ("grid_x",) and report.folder_text == "grid_x"
    order = [(r.model, r.corruption, r.seed) for r in report.runs]
    assert order[:3] == [
        ("alexnet", "true_labels", 0),
        ("alexnet", "true_labels", 1),
        ("alexnet", "random_labels", 0),  # CORRUPTIONS' order, then the seed
    ]
    assert order[-1] == ("mlp_3x512", "true_labels", 0)
    assert report.notes[:2] == (
        "21 runs: 20 completed, 1 incomplete",
        "unreadable spec.json, skipped: grid_x/broken",
    )
    assert report.notes[-1] == TRAIN_ACC_NOTE
    assert build_report([]).protocol == "no runs" and build_report([]).folder_text == ""


def test_smoke_grid_is_not_compared_with_the_paper(smoke_summaries: list[RunSummary]) -> None:
    smoke = smoke_summaries
    report = build_report(smoke, folder="smoke")
    assert report.protocol.startswith("not the paper's protocol: 500 training images")
    assert "no comparison with the paper's numbers" in report.protocol
    assert report.table1 == () and report.figure1a == ()
    assert {c.verdict for c in report.claims} == {NOT_ENOUGH}
    assert all("paper's protocol" in c.evidence for c in report.claims)
    (group,) = report.deviations
    assert len(group.run_ids) == len(smoke) and "batch 16" in group.deviations
    md = render_markdown(report)
    assert "- protocol: not the paper's protocol: 500 training images" in md
    assert "## Table 1" not in md and "paper train" not in md and "76.07" not in md
    assert "## Not the paper's protocol: settings" in md
    assert "## Not the paper's protocol: slowdown" in md
    # Every run, its settings row, and each slowdown row (one per run: one seed).
    assert md.count("| off #1 |") == 2 * len(smoke) + 1
    data = report_dict(report)
    assert not data["table1"] and all(r["protocol_deviations"] for r in data["runs"])


def test_mixed_grid_judges_the_protocol_runs_only(
    paper_summaries: list[RunSummary], smoke_summaries: list[RunSummary]
) -> None:
    grid, smoke = paper_summaries, smoke_summaries
    report = build_report(grid + smoke)
    assert f"for {len(grid)} of {len(grid) + len(smoke)} runs" in report.protocol
    assert [t.runs for t in report.table1] == [t.runs for t in table1(grid)]
    by_claim = {c.claim: c.verdict for c in report.claims}
    assert by_claim == {c.claim: c.verdict for c in build_report(grid).claims}
    assert all(
        c.evidence.endswith(f"; {len(smoke)} run(s) not on the paper's protocol left out")
        for c in report.claims
    )


def test_window_mean_is_the_marked_fallback(paper_summaries: list[RunSummary]) -> None:
    """Runs without a training-split evaluation (old folders, runs ended early)."""
    old = [
        dataclasses.replace(r, train_acc=None) if r.model == "alexnet" else r
        for r in paper_summaries
    ]
    assert {r.train_acc_measure for r in old if r.model == "alexnet"} == {"window"}
    rows = {(t.model, t.corruption): t for t in table1(old)}
    assert rows[("alexnet", "true_labels")].train_measure == "window"
    assert rows[("mlp_1x512", "true_labels")].train_measure == "evaluation"
    report = build_report(old)
    md = render_markdown(report)
    assert f"| 100.00% {WINDOW_MARK} |" in md  # an alexnet run
    assert "| 100.00% |" in md  # an mlp run: evaluated
    assert f"| 100.00 {WINDOW_MARK} |" in md  # Table 1, alexnet
    assert "whole training split, inference mode" in md and "running mean" in md
    c = claim_fitted(old)
    assert c.verdict == SUPPORTED and "judged by the window mean" in c.evidence
    data = report_dict(report)
    measures = {(r["model"], r["train_acc_measure"]) for r in data["runs"]}
    assert measures == {("alexnet", "window"), ("mlp_1x512", "evaluation")}
