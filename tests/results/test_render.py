"""rethink.results.render: a Report as markdown, JSON and Rich tables."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from rethink.results.claims import NOT_ENOUGH, NOT_SUPPORTED, SUPPORTED
from rethink.results.claims.figure1 import MAX_SLOWDOWN
from rethink.results.claims.figure2b import BATCHNORM_GAP_SLACK, EARLY_STOP_MAX_GAIN
from rethink.results.render import render_markdown, render_rich, report_dict
from rethink.results.report import Report, build_report
from rethink.results.summary import RunSummary
from tests.helpers.run_folders import fit_step, paper_spec, summaries, write_run


def _rich_text(report: Report) -> str:
    console = Console(width=250, record=True)
    for part in render_rich(report):
        console.print(part)
    return console.export_text()


def test_report_renders_markdown_json_and_rich(paper_summaries: list[RunSummary]) -> None:
    grid = paper_summaries
    report = build_report(grid, folder="grid_x")
    md = render_markdown(report)
    assert md.startswith("# rethink report: grid_x")
    assert "- protocol: the paper's protocol: 25,000 steps" in md
    assert md.count("| mlp_1x512 | random labels |") >= 2  # runs table and slowdown table
    assert "## Table 1" in md and "76.07" in md  # AlexNet, true labels, no crop, no wd
    assert "Not the paper's protocol" not in md
    assert "| 50.00% (50.00% @ 25,000) |" in md  # final test accuracy (best @ step)
    data = json.loads(json.dumps(report_dict(report), allow_nan=False))
    assert len(data["runs"]) == len(grid)
    assert data["protocol"] == report.protocol and data["rules"]["max_slowdown"] == MAX_SLOWDOWN
    verdicts = {c["claim"].split(" ")[0]: c["verdict"] for c in data["claims"]}
    assert len(data["claims"]) == 9 and set(verdicts.values()) == {SUPPORTED, NOT_ENOUGH}
    assert verdicts["With"] == NOT_ENOUGH  # no run with weight decay or random crop
    assert verdicts["BatchNorm"] == verdicts["Early"] == NOT_ENOUGH  # no Inception runs
    assert data["rules"]["early_stopping_max_gain_points"] == EARLY_STOP_MAX_GAIN
    assert {r["fit"] for r in data["runs"]} == {"fitted"}
    text = _rich_text(report)
    assert "Table 1" in text and "The paper's claims" in text
    assert "protocol: the paper's protocol" in text and "Time to fit grows" in text
    rand = fit_step("mlp_1x512", "random_labels", 0) + fit_step("mlp_1x512", "random_labels", 1)
    ratio = rand / (
        fit_step("mlp_1x512", "true_labels", 0) + fit_step("mlp_1x512", "true_labels", 1)
    )
    assert f"{ratio:.2f}x" in md and f"{ratio:.2f}x" in text


def test_figure_2b_claims_render_in_markdown_json_and_rich(tmp_path: Path) -> None:
    write_run(tmp_path, paper_spec("inception", "true_labels"), test_acc=0.86)
    write_run(
        tmp_path, paper_spec("inception_no_bn", "true_labels"), test_acc=0.825, best_test_acc=0.86
    )
    report = build_report(summaries(tmp_path))
    md = render_markdown(report)
    assert "| BatchNorm changes test accuracy by only 3-4 points" in md
    assert "| Early stopping would not have helped" in md
    assert f"| {SUPPORTED} | measured gap +3.50 points" in md
    assert f"| {NOT_SUPPORTED} | gain = best test accuracy" in md
    data = json.loads(json.dumps(report_dict(report), allow_nan=False))
    verdicts = {c["claim"].split(" ")[0]: c["verdict"] for c in data["claims"]}
    assert verdicts["BatchNorm"] == SUPPORTED and verdicts["Early"] == NOT_SUPPORTED
    assert data["rules"]["batchnorm_gap_paper_points"] == [3.0, 4.0]
    assert data["rules"]["batchnorm_gap_slack_points"] == BATCHNORM_GAP_SLACK
    text = _rich_text(report)
    assert "BatchNorm changes test accuracy" in text and "Early stopping would not" in text
    assert "+3.50 points" in text
