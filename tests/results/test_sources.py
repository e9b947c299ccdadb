"""Several folders as one result set: load_grids, duplicates, and the report's Sources and flags."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rethink.results.frames import metrics_frame, runs_frame
from rethink.results.render import render_markdown, render_rich, report_dict
from rethink.results.report import Report, build_report, set_flags
from rethink.results.summary import (
    INCOMPLETE,
    DuplicateRunError,
    Grid,
    load_grid,
    load_grids,
    run_identity,
)
from rethink.spec import RunSpec
from rethink.spec.datasets import Dataset
from tests.helpers.run_folders import DAY, DIGEST, T0, machine_env, spec_for, write_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "grid-0.1"
THREE = Dataset("my_images", ("cat", "dog", "fox"), (20, 20, 1))
OTHER_DIGEST = "9" * 64
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


def part(root: Path, model: str, host: str, started: float = T0, **kw: Any) -> Path:
    """A grid folder of one model's true- and random-label runs, made on `host`."""
    for corruption in ("true_labels", "random_labels"):
        write_run(root, spec_for(model, corruption), env=machine_env(host, started, **kw))
    return root


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """part1 (mlp_1x512 on gpu-a, 1 March) and part2 (alexnet on gpu-b, 3 and 4 March)."""
    root = tmp_path_factory.mktemp("parts")
    a = part(root / "part1", "mlp_1x512", "gpu-a")
    b = part(root / "part2", "alexnet", "gpu-b", T0 + 2 * DAY, backend="torch", commit="fedcba9876")
    write_run(b, spec_for("alexnet", "gaussian"), env=machine_env("gpu-b", T0 + 3 * DAY))
    return a, b


def _report(grid: Grid) -> Report:
    return build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)


# --- loading ------------------------------------------------------------------------


def test_two_folders_load_as_one_set_each_run_with_its_source(two: tuple[Path, Path]) -> None:
    a, b = two
    grid = load_grids([a, b])
    assert grid.sources == (str(a), str(b)) and grid.dropped == () and grid.skipped == ()
    by_id = {r.summary.run_id: r.summary for r in grid.runs}
    assert len(grid.runs) == len(load_grid(a).runs) + len(load_grid(b).runs) == 5
    mlp, alexnet = by_id["mlp_1x512-true_labels-s0"], by_id["alexnet-gaussian-s0"]
    assert (mlp.source, mlp.host, mlp.backend, mlp.started) == (str(a), "gpu-a", "jax", T0)
    assert mlp.rethink_commit == "0123456789abcdef0123456789abcdef01234567"
    assert mlp.data_sha256 == DIGEST and mlp.device == "NVIDIA H200"
    assert (alexnet.source, alexnet.host, alexnet.started) == (str(b), "gpu-b", T0 + 3 * DAY)
    # One folder still loads as it did, its runs knowing their folder.
    assert {r.summary.source for r in load_grid(a).runs} == {str(a)}


def test_old_folders_without_machine_facts_still_load(tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    write_run(tmp_path / "bare", spec_for("alexnet", "true_labels"), env=None)  # no env.json
    grid = load_grids([old, tmp_path / "bare"])
    assert len(grid.runs) == 3
    fixture = [r.summary for r in grid.runs if r.summary.source == str(old)]
    assert {s.host for s in fixture} == {"vm"} and all(s.rethink_commit is None for s in fixture)
    assert all(s.started is not None and s.data_sha256 is not None for s in fixture)
    (bare,) = [r.summary for r in grid.runs if r.summary.source == str(tmp_path / "bare")]
    assert (bare.host, bare.started, bare.rethink_commit, bare.data_sha256) == (None,) * 4


def test_the_same_run_in_two_folders_is_an_error_naming_both(tmp_path: Path) -> None:
    spec = spec_for("inception", "true_labels")
    write_run(tmp_path / "A", spec, env=machine_env("gpu-a"))
    write_run(tmp_path / "B", spec, env=machine_env("gpu-b"))
    with pytest.raises(DuplicateRunError) as e:
        load_grids([tmp_path / "A", tmp_path / "B"])
    message = str(e.value)
    assert message == (
        f"run {spec.run_id} is in both {tmp_path / 'A' / spec.run_id} and "
        f"{tmp_path / 'B' / spec.run_id}; pass --prefer newer or --prefer first"
    )
    with pytest.raises(ValueError, match="unknown preference 'last'"):
        load_grids([tmp_path / "A", tmp_path / "B"], prefer="last")


def test_same_run_means_the_same_settings_apart_from_the_data_path(tmp_path: Path) -> None:
    spec = spec_for("inception", "true_labels")
    moved = RunSpec.from_dict({**spec.to_dict(), "data": "/elsewhere/cifar10.tar.gz"})
    noted = RunSpec.from_dict({**spec.to_dict(), "extra": {"note": "second machine"}})
    smoke = spec_for("inception", "true_labels", **SMOKE)
    seed = spec_for("inception", "true_labels", seed=1)
    assert smoke.run_id == spec.run_id

    def identity(i: int, s: RunSpec) -> str:
        (run,) = load_grid(write_run(tmp_path / str(i), s).path.parent).runs
        return run_identity(run.summary)

    ids = [identity(i, s) for i, s in enumerate((spec, moved, noted, smoke, seed))]
    assert ids[0] == ids[1] == ids[2]
    assert len({ids[0], ids[3], ids[4]}) == 3
    # Moved data: the same run, so two folders holding both copies are a duplicate.
    write_run(tmp_path / "A", spec)
    write_run(tmp_path / "B", moved)
    with pytest.raises(DuplicateRunError):
        load_grids([tmp_path / "A", tmp_path / "B"])


def test_a_paper_run_and_a_smoke_run_of_the_same_id_are_two_runs(tmp_path: Path) -> None:
    paper, smoke = tmp_path / "paper", tmp_path / "smoke"
    write_run(paper, spec_for("mlp_1x512", "true_labels", **PAPER))
    write_run(smoke, spec_for("mlp_1x512", "true_labels", **SMOKE))
    grid = load_grids([paper, smoke])
    assert [r.summary.run_id for r in grid.runs] == ["mlp_1x512-true_labels-s0"] * 2
    # The runs table tells them apart by their own settings, not by their shared id.
    md = render_markdown(_report(grid))
    assert f"| {paper} | mlp_1x512 | true labels | 0 | 0 | completed | paper |" in md
    assert f"| {smoke} | mlp_1x512 | true labels | 0 | 0 | completed | off #1 |" in md


def _copies(root: Path, a_started: float, b_started: float, b_finished: bool = True) -> None:
    spec = spec_for("alexnet", "random_labels")
    write_run(root / "A", spec, env=machine_env("gpu-a", a_started), test_acc=0.11)
    stop = None if b_finished else 700
    write_run(root / "B", spec, env=machine_env("gpu-b", b_started), test_acc=0.12, stop_at=stop)


def test_prefer_first_keeps_the_copy_in_the_folder_given_first(tmp_path: Path) -> None:
    _copies(tmp_path, T0, T0 + DAY)
    grid = load_grids([tmp_path / "B", tmp_path / "A"], prefer="first")
    ((kept,), (dropped,)) = grid.runs, grid.dropped
    assert kept.summary.host == "gpu-b" and kept.summary.source == str(tmp_path / "B")
    assert dropped.path == str(tmp_path / "A" / kept.summary.run_id)
    assert (dropped.source, dropped.kept_source) == (str(tmp_path / "A"), str(tmp_path / "B"))
    assert dropped.prefer == "first"


def test_prefer_newer_keeps_the_later_start_ties_the_first(tmp_path: Path) -> None:
    _copies(tmp_path, T0 + DAY, T0)
    for order in (["A", "B"], ["B", "A"]):
        grid = load_grids([tmp_path / x for x in order], prefer="newer")
        assert [r.summary.host for r in grid.runs] == ["gpu-a"]
        assert grid.dropped[0].source == str(tmp_path / "B")
    tie = tmp_path / "tie"
    _copies(tie, T0, T0)
    grid = load_grids([tie / "B", tie / "A"], prefer="newer")
    assert [r.summary.host for r in grid.runs] == ["gpu-b"]


def test_prefer_newer_a_finished_run_beats_a_later_unfinished_one(tmp_path: Path) -> None:
    _copies(tmp_path, T0, T0 + DAY, b_finished=False)
    grid = load_grids([tmp_path / "B", tmp_path / "A"], prefer="newer")
    (kept,) = grid.runs
    assert kept.summary.host == "gpu-a" and kept.summary.status == "completed"
    assert grid.dropped[0].path == str(tmp_path / "B" / kept.summary.run_id)
    # Both unfinished: the later start again.
    both = tmp_path / "both"
    spec = spec_for("alexnet", "random_labels")
    write_run(both / "A", spec, env=machine_env("gpu-a", T0), stop_at=300)
    write_run(both / "B", spec, env=machine_env("gpu-b", T0 + DAY), stop_at=700)
    (kept,) = load_grids([both / "A", both / "B"], prefer="newer").runs
    assert (kept.summary.host, kept.summary.status) == ("gpu-b", INCOMPLETE)


def test_the_same_folder_twice_or_with_its_subfolder_is_no_duplicate(
    two: tuple[Path, Path],
) -> None:
    a, b = two
    root = a.parent
    grid = load_grids([a, a, Path(str(a) + "/"), a / ".." / a.name])
    assert len(grid.runs) == 2 and grid.sources == (str(a),) and grid.dropped == ()
    grid = load_grids([root, b])  # a folder of grids, then one of its grids
    assert len(grid.runs) == 5 and grid.dropped == ()
    assert {r.summary.source for r in grid.runs} == {str(root)}


# --- frames -------------------------------------------------------------------------


def test_frames_over_two_folders_have_a_source_column(two: tuple[Path, Path]) -> None:
    a, b = two
    runs = runs_frame([a, b]).set_index("run_id")
    assert runs.loc["mlp_1x512-random_labels-s0", "source"] == str(a)
    assert runs.loc["alexnet-gaussian-s0", "source"] == str(b)
    assert runs.loc["alexnet-gaussian-s0", "host"] == "gpu-b"
    rows = metrics_frame([str(a), str(b)])
    assert set(rows.groupby("source")["run_id"].nunique().items()) == {(str(a), 2), (str(b), 3)}
    assert list(runs_frame(a)["source"].unique()) == [str(a)]


def test_frames_pass_the_preference_on(tmp_path: Path) -> None:
    _copies(tmp_path, T0, T0 + DAY)
    with pytest.raises(DuplicateRunError):
        runs_frame([tmp_path / "A", tmp_path / "B"])
    runs = runs_frame([tmp_path / "A", tmp_path / "B"], prefer="newer")
    assert list(runs["host"]) == ["gpu-b"]
    rows = metrics_frame([tmp_path / "A", tmp_path / "B"], prefer="first")
    assert set(rows["source"]) == {str(tmp_path / "A")}


# --- the report ---------------------------------------------------------------------


def test_sources_section_lists_each_folders_machines_dates_and_commits(
    two: tuple[Path, Path],
) -> None:
    a, b = two
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


def test_one_folder_gets_a_source_line_and_no_source_column(two: tuple[Path, Path]) -> None:
    a, _ = two
    md = render_markdown(_report(load_grids([a])))
    assert md.startswith(f"# rethink report: {a}\n")
    assert (
        f"- source: {a}: 2 runs on gpu-a / NVIDIA H200 / jax (host / device / backend), "
        "started 2026-03-01, rethink 0123456"
    ) in md
    assert "## Sources" not in md and f"| {a} |" not in md


def test_dropped_duplicates_are_counted_and_named(tmp_path: Path) -> None:
    _copies(tmp_path, T0, T0 + DAY)
    report = _report(load_grids([tmp_path / "A", tmp_path / "B"], prefer="newer"))
    assert [(s.runs, s.dropped) for s in report.sources] == [(0, 1), (1, 0)]
    (note,) = [n for n in report.notes if n.startswith("dropped")]
    assert note == (
        f"dropped as duplicates (prefer newer): 1 run(s) of {tmp_path / 'A'}, the copies in "
        f"{tmp_path / 'B'} kept: alexnet-random_labels-s0"
    )
    assert report_dict(report)["dropped"][0]["kept_source"] == str(tmp_path / "B")


def test_different_data_digests_of_one_data_set_are_flagged(tmp_path: Path) -> None:
    a = part(tmp_path / "jpeg", "mlp_1x512", "gpu-a")
    b = part(
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
    c = part(tmp_path / "same", "alexnet", "gpu-c")
    d = part(tmp_path / "unknown", "mlp_3x512", "gpu-d", data_sha256=None)
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
