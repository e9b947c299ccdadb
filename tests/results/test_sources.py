"""rethink.results.sources: where a report's runs came from (Sources), and where they disagree."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from rethink.results.loading import Grid, load_grids
from rethink.results.render import render_markdown, render_rich, report_dict
from rethink.results.report import Report, build_report
from rethink.results.sources import set_flags, short_commit
from tests.helpers.run_folders import (
    DAY,
    DIGEST,
    PAPER,
    SMOKE,
    T0,
    THREE,
    machine_part,
    spec_for,
    two_copies,
    write_run,
)

OTHER_DIGEST = "9" * 64


def _report(grid: Grid) -> Report:
    return build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)


def test_short_commits_keep_dirty() -> None:
    assert short_commit("0123456789abcdef") == "0123456"
    assert short_commit("0123456789abcdef+dirty") == "0123456+dirty"


def test_sources_section_lists_each_folders_machines_dates_and_commits(
    two_parts: tuple[Path, Path],
) -> None:
    a, b = two_parts
    report = _report(load_grids([a, b]))
    assert report.folder == (str(a), str(b))
    assert report.folder_text == f"2 folders: {a}, {b}"
    one, other = report.sources
    assert (one.folder, one.runs, one.machines) == (str(a), 2, ("gpu-a / NVIDIA H200 / jax",))
    assert (one.dates, one.commits, one.dropped) == ("2026-03-01", ("0123456",), 0)
    assert other.machines == ("gpu-b / NVIDIA H200 / torch", "gpu-b / NVIDIA H200 / jax")
    assert other.dates == "2026-03-03 to 2026-03-04" and other.commits == ("fedcba9", "0123456")
    md = render_markdown(report)
    assert md.startswith(f"# rethink report: 2 folders: {a}, {b}\n")
    assert "## Sources" in md
    assert f"| {a} | 2 | gpu-a / NVIDIA H200 / jax | 2026-03-01 | 0123456 | 0 |" in md
    assert (
        f"| {b} | 3 | gpu-b / NVIDIA H200 / torch, gpu-b / NVIDIA H200 / jax | "
        "2026-03-03 to 2026-03-04 | fedcba9, 0123456 | 0 |"
    ) in md
    # The runs table names each run's folder.
    assert f"| {b} | alexnet | gaussian |" in md and f"| {a} | mlp_1x512 | true labels |" in md
    data = json.loads(json.dumps(report_dict(report), allow_nan=False))
    assert data["folder"] == [str(a), str(b)]
    assert [(s["folder"], s["runs"], s["dates"]) for s in data["sources"]] == [
        (str(a), 2, "2026-03-01"),
        (str(b), 3, "2026-03-03 to 2026-03-04"),
    ]
    assert {(r["run_id"], r["source"]) for r in data["runs"]} >= {("alexnet-gaussian-s0", str(b))}
    console = Console(width=250, record=True)
    for item in render_rich(report):
        console.print(item)
    text = console.export_text()
    assert "Sources" in text and "gpu-a / NVIDIA H200 / jax" in text


def test_one_folder_gets_a_source_line_and_no_source_column(two_parts: tuple[Path, Path]) -> None:
    a, _ = two_parts
    md = render_markdown(_report(load_grids([a])))
    assert md.startswith(f"# rethink report: {a}\n")
    assert (
        f"- source: {a}: 2 runs on gpu-a / NVIDIA H200 / jax (host / device / backend), "
        "started 2026-03-01, rethink 0123456"
    ) in md
    assert "## Sources" not in md and f"| {a} |" not in md


def test_dropped_duplicates_are_counted_and_named(tmp_path: Path) -> None:
    two_copies(tmp_path, T0, T0 + DAY)
    report = _report(load_grids([tmp_path / "A", tmp_path / "B"], prefer="newer"))
    assert [(s.runs, s.dropped) for s in report.sources] == [(0, 1), (1, 0)]
    (note,) = [n for n in report.notes if n.startswith("dropped")]
    assert note == (
        f"dropped as duplicates (prefer newer): 1 run(s) of {tmp_path / 'A'}, the copies in "
        f"{tmp_path / 'B'} kept: alexnet-random_labels-s0"
    )
    assert report_dict(report)["dropped"][0]["kept_source"] == str(tmp_path / "B")


def test_different_data_digests_of_one_data_set_are_flagged(tmp_path: Path) -> None:
    a = machine_part(tmp_path / "jpeg", "mlp_1x512", "gpu-a")
    b = machine_part(
        tmp_path / "official",
        "alexnet",
        "gpu-b",
        data_sha256=OTHER_DIGEST,
        data_source="keras.datasets.cifar10",
    )
    report = _report(load_grids([a, b]))
    (flag,) = report.flags
    assert flag.startswith("cifar10: runs on different copies of the data")
    assert f"sha256 {DIGEST[:12]} (/data/cifar10-jpeg.tar.gz) in {a}" in flag
    assert f"sha256 {OTHER_DIGEST[:12]} (keras.datasets.cifar10) in {b}" in flag
    assert f"flag: {flag}" in report.notes and f"- flag: {flag}" in render_markdown(report)
    assert json.loads(json.dumps(report_dict(report)))["flags"] == [flag]
    # The same digest everywhere (or one unrecorded): no flag.
    c = machine_part(tmp_path / "same", "alexnet", "gpu-c")
    d = machine_part(tmp_path / "unknown", "mlp_3x512", "gpu-d", data_sha256=None)
    assert _report(load_grids([a, c, d])).flags == ()


def test_off_protocol_folders_and_other_data_sets_are_flagged(tmp_path: Path) -> None:
    paper = tmp_path / "paper"
    for corruption in ("true_labels", "random_labels"):
        write_run(paper, spec_for("mlp_1x512", corruption, **PAPER))
    smoke = tmp_path / "smoke"
    write_run(smoke, spec_for("alexnet", "true_labels", **SMOKE))
    mine = tmp_path / "mine"
    write_run(mine, spec_for("alexnet", "true_labels", **PAPER), dataset=THREE)
    runs = [r.summary for r in load_grids([paper, smoke, mine]).runs]
    folders = (str(paper), str(smoke), str(mine))
    flags = set_flags(runs, folders)
    (datasets,) = [f for f in flags if f.startswith("runs of 2 data sets")]
    assert (
        datasets
        == f"runs of 2 data sets, each judged apart: cifar10 in {paper}, {smoke}; my_images in {mine}"
    )
    (protocols,) = [f for f in flags if f.startswith("protocols differ")]
    assert f"{paper}: all 2 on the paper's protocol" in protocols
    assert (
        f"{smoke}: 1 of 1 off the paper's protocol (500 training images, 250 test images"
        in protocols
    )
    # Folders on the same protocol, of the same data set: nothing to flag.
    assert set_flags(runs[:2], folders[:1]) == []
    assert set_flags([r for r in runs if r.source == str(paper)], (str(paper), str(tmp_path))) == []
