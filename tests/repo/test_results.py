"""The campaign's runs kept in results/ (results/README.md): they load, plot, report, stay small.

Each folder under results/ is one part of the campaign, a compact copy of a
grid folder (`rethink export --to compact`). docs/results.md's campaign
figures and tables are drawn from them (`nox -s figures`), so a part that
no longer loads, or a checkpoint committed by mistake, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rethink.results.loading import load_grid, load_grids
from rethink.results.render import render_markdown
from rethink.results.report import build_report
from rethink.run.folder import ENV, EXAMPLES, METRICS, RESULT, SPEC

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
FOLDERS = sorted(p for p in RESULTS.glob("*") if p.is_dir())
# The campaign's parts; check-* folders repeat a part's runs another way (results/README.md).
PARTS = [p for p in FOLDERS if p.name.startswith("part")]
NONE_YET = "results/ holds no campaign part yet (results/README.md: how one is added)"
# What a compact copy holds (rethink.results.compact): nothing to resume or reload from.
GRID_FILES = {"grid.json"}
RUN_FILES = {SPEC, ENV, METRICS, RESULT, EXAMPLES}
NEEDED = {SPEC, ENV, METRICS}  # result.json is absent only for an unfinished run
MAX_BYTES_PER_RUN = 100_000  # a paper-length run is about 30 KB, examples.npz apart
MAX_EXAMPLES_BYTES = 1_000_000  # examples.npz, compressed: about 0.25 MB for 50,000 images
NAME = re.compile(r"(part\d+|check)-[a-z0-9]+(-[a-z0-9]+)*")

parts = pytest.mark.parametrize(
    "part",
    FOLDERS or [pytest.param(None, marks=pytest.mark.skip(reason=NONE_YET))],
    ids=[p.name for p in FOLDERS] or ["none"],
)


@parts
def test_a_part_holds_only_result_files_and_stays_small(part: Path) -> None:
    assert NAME.fullmatch(part.name), (
        f"{part.name}: name parts partN-<what>, checks check-<what> (results/README.md)"
    )
    grid = load_grid(part)
    assert grid.runs, f"{part}: no run folders"
    assert not grid.skipped, f"unreadable spec.json in {grid.skipped}"
    run_paths = {Path(r.summary.path) for r in grid.runs}
    for run in run_paths:
        missing = NEEDED - {p.name for p in run.iterdir()}
        assert not missing, f"{run.relative_to(ROOT)}: no {', '.join(sorted(missing))}"
    for path in part.rglob("*"):
        if path.is_file():
            allowed = RUN_FILES if path.parent in run_paths else GRID_FILES
            assert path.name in allowed, (
                f"{path.relative_to(ROOT)} does not belong in a compact copy "
                "(rethink export --to compact keeps only the result files)"
            )
    files = [p for p in part.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files if p.name != EXAMPLES)
    assert size <= MAX_BYTES_PER_RUN * len(grid.runs), f"{part.name}: {size} bytes"
    for p in files:
        if p.name == EXAMPLES:
            assert p.stat().st_size <= MAX_EXAMPLES_BYTES, f"{p}: {p.stat().st_size} bytes"


@parts
def test_a_part_plots_and_reports(part: Path, tmp_path: Path) -> None:
    from rethink.results.figures import write_figures  # matplotlib: only here

    grid = load_grid(part)
    written, _ = write_figures(grid.runs, tmp_path, per_model=True, formats=("png",))
    assert written and all(p.stat().st_size > 0 for p in written)
    report = build_report([r.summary for r in grid.runs], str(part.relative_to(ROOT)))
    assert part.name in render_markdown(report)


@pytest.mark.skipif(not PARTS, reason=NONE_YET)
def test_all_parts_together_hold_each_run_once_and_report() -> None:
    """What `nox -s figures` reads: every part at once. The same run kept in two parts
    would make the docs' numbers depend on which copy was read (DuplicateRunError)."""
    folders = [str(p.relative_to(ROOT)) for p in PARTS]
    grid = load_grids([ROOT / f for f in folders])
    assert not grid.dropped
    report = build_report([r.summary for r in grid.runs], folders, grid.skipped)
    markdown = render_markdown(report)
    assert all(f in markdown for f in folders)
