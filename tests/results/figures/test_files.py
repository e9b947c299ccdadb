"""rethink.results.figures.files: every drawable figure written, PNG and PDF."""

from __future__ import annotations

from pathlib import Path

from rethink.results.figures import (
    ALL_MODELS,
    write_figures,
)
from rethink.results.loading import Run


def test_write_figures_writes_png_and_pdf(tmp_path: Path, grid: tuple[Run, ...]) -> None:
    written, skipped = write_figures(grid, tmp_path / "figs", per_model=True)
    names = sorted(p.name for p in written)
    stems = ["figure1a", "figure1a_alexnet", "figure1a_mlp_1x512", "figure1a_models", "figure1c"]
    assert names == sorted(f"{s}.{f}" for s in stems for f in ("png", "pdf"))
    for p in written:
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG" if p.suffix == ".png" else b"%PDF")
    assert [s.split(":")[0] for s in skipped] == ["figure1b", "figure2b"]
    assert not list((tmp_path / "figs").glob(".*"))  # no temporary files left
    written, _ = write_figures(grid, tmp_path / "mean", model=ALL_MODELS, formats=("png",))
    assert sorted(p.name for p in written) == [
        "figure1a_all.png",
        "figure1a_models.png",
        "figure1c.png",
    ]


def test_write_figures_writes_figure_2b_when_drawable(
    tmp_path: Path, fig2: tuple[Run, ...]
) -> None:
    written, skipped = write_figures(fig2, tmp_path, formats=("png",))
    assert tmp_path / "figure2b.png" in written
    assert not any(s.startswith("figure2b") for s in skipped)
    one = [r for r in fig2 if r.summary.model != "inception"]
    _, skipped = write_figures(one, tmp_path / "b", formats=("pdf",))
    (why,) = [s for s in skipped if s.startswith("figure2b:")]
    assert "inception and inception_no_bn" in why
