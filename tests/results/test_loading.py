"""rethink.results.loading: folders -> Runs, several folders as one set, duplicates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rethink.results.loading import (
    DuplicateRunError,
    Grid,
    load_grid,
    load_grids,
    run_dirs,
    run_identity,
)
from rethink.results.render import render_markdown
from rethink.results.report import Report, build_report
from rethink.results.summary import INCOMPLETE
from rethink.spec import RunSpec
from tests.helpers.run_folders import (
    DAY,
    DIGEST,
    PAPER,
    SMOKE,
    T0,
    machine_env,
    spec_for,
    two_copies,
    write_run,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "grid-0.1"


def _report(grid: Grid) -> Report:
    return build_report([r.summary for r in grid.runs], grid.sources, grid.skipped, grid.dropped)


def test_run_dirs_accepts_a_run_folder_and_a_folder_of_grids(tmp_path: Path) -> None:
    a = write_run(tmp_path / "g1", spec_for("mlp_1x512", "true_labels"))
    write_run(tmp_path / "g2", spec_for("mlp_1x512", "gaussian"))
    assert [d.path for d in run_dirs(a.path)] == [a.path]
    assert len(run_dirs(tmp_path)) == 2
    (tmp_path / "g1" / "broken").mkdir()
    (tmp_path / "g1" / "broken" / "spec.json").write_text("{not json")
    grid = load_grid(tmp_path / "g1")
    assert len(grid.runs) == 1 and grid.skipped == (str(tmp_path / "g1" / "broken"),)


def test_two_folders_load_as_one_set_each_run_with_its_source(
    two_parts: tuple[Path, Path],
) -> None:
    a, b = two_parts
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


def test_the_same_run_set_by_epochs_or_by_its_steps_is_one_run(tmp_path: Path) -> None:
    """Identity compares the steps a run trains, counted on its own training images."""
    by_steps = spec_for("mlp_1x512", "true_labels", steps=60)  # 3 epochs of 2,560 images
    by_epochs = spec_for("mlp_1x512", "true_labels", steps=None, epochs=3)
    longer = spec_for("mlp_1x512", "true_labels", steps=None, epochs=4)
    write_run(tmp_path / "a", by_steps)
    ids = []
    for name, spec in (("b", by_epochs), ("c", longer)):
        rd = write_run(tmp_path / name, by_steps)  # the rows; the spec says epochs
        rd.spec_path.write_text(spec.to_json())
    for name in "abc":
        (run,) = load_grid(tmp_path / name).runs
        ids.append(run_identity(run.summary))
    assert ids[0] == ids[1] != ids[2]


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


def test_prefer_first_keeps_the_copy_in_the_folder_given_first(tmp_path: Path) -> None:
    two_copies(tmp_path, T0, T0 + DAY)
    grid = load_grids([tmp_path / "B", tmp_path / "A"], prefer="first")
    ((kept,), (dropped,)) = grid.runs, grid.dropped
    assert kept.summary.host == "gpu-b" and kept.summary.source == str(tmp_path / "B")
    assert dropped.path == str(tmp_path / "A" / kept.summary.run_id)
    assert (dropped.source, dropped.kept_source) == (str(tmp_path / "A"), str(tmp_path / "B"))
    assert dropped.prefer == "first"


def test_prefer_newer_keeps_the_later_start_ties_the_first(tmp_path: Path) -> None:
    two_copies(tmp_path, T0 + DAY, T0)
    for order in (["A", "B"], ["B", "A"]):
        grid = load_grids([tmp_path / x for x in order], prefer="newer")
        assert [r.summary.host for r in grid.runs] == ["gpu-a"]
        assert grid.dropped[0].source == str(tmp_path / "B")
    tie = tmp_path / "tie"
    two_copies(tie, T0, T0)
    grid = load_grids([tie / "B", tie / "A"], prefer="newer")
    assert [r.summary.host for r in grid.runs] == ["gpu-b"]


def test_prefer_newer_a_finished_run_beats_a_later_unfinished_one(tmp_path: Path) -> None:
    two_copies(tmp_path, T0, T0 + DAY, b_finished=False)
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
    two_parts: tuple[Path, Path],
) -> None:
    a, b = two_parts
    root = a.parent
    grid = load_grids([a, a, Path(str(a) + "/"), a / ".." / a.name])
    assert len(grid.runs) == 2 and grid.sources == (str(a),) and grid.dropped == ()
    grid = load_grids([root, b])  # a folder of grids, then one of its grids
    assert len(grid.runs) == 5 and grid.dropped == ()
    assert {r.summary.source for r in grid.runs} == {str(root)}
