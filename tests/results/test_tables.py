"""rethink.results.tables: a Report's header lines and tables, as text."""

from __future__ import annotations

from pathlib import Path

from rethink.results.report import build_report
from rethink.results.summary import RunSummary
from rethink.results.tables import report_header, report_tables, run_columns
from tests.helpers.run_folders import THREE, paper_spec, summaries, write_run


def test_empty_tables_are_left_out_and_the_claims_always_show(
    paper_summaries: list[RunSummary], smoke_summaries: list[RunSummary]
) -> None:
    titles = [t.title for t in report_tables(build_report(paper_summaries, "grid"))]
    assert titles[0] == "Runs" and titles[-1] == "The paper's claims"
    assert "Sources" not in titles and not any("Not the paper's" in t for t in titles)
    smoke = [t.title for t in report_tables(build_report(smoke_summaries, "smoke"))]
    assert not any(t.startswith(("Table 1", "Figure 1a", "Slowdown")) for t in smoke)
    assert "Not the paper's protocol: settings" in smoke
    (claims,) = [t for t in report_tables(build_report([])) if t.rows]
    assert claims.title == "The paper's claims" and len(claims.rows) == 9


def test_runs_table_names_the_protocol_and_the_data_set(
    tmp_path: Path, paper_summaries: list[RunSummary], smoke_summaries: list[RunSummary]
) -> None:
    report = build_report(paper_summaries[:1] + smoke_summaries[:1])
    protocol = dict(run_columns(report))["protocol"]
    assert [protocol(r) for r in report.runs] == ["paper", "off #1"]
    assert "data set" not in dict(run_columns(report))
    write_run(tmp_path, paper_spec("mlp_1x512", "true_labels", stop_at_fit=True), dataset=THREE)
    both = build_report(paper_summaries[:1] + summaries(tmp_path))
    columns = dict(run_columns(both))
    assert [columns["data set"](r) for r in both.runs] == ["cifar10", "my_images"]
    assert [columns["protocol"](r) for r in both.runs] == ["paper", "paper, stop at fit"]
    header = report_header(both)
    assert "data sets: 2, each judged apart" in header
    assert header[-1].startswith("paper: Zhang et al.")
