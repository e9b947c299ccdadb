"""The bench table: numbers, error notes, partial grids; seconds and bytes as text."""

from __future__ import annotations

from rich.console import Console

from rethink.bench.table import format_bytes, format_seconds, render


def test_render_shows_numbers_errors_and_partial_grids() -> None:
    rows = [
        {
            "backend": "jax",
            "model": "mlp_3x512",
            "precision": "float32",
            "images_per_s": 1234.5,
            "ms_per_step": 103.7,
            "compile_s": 2.0,
            "peak_memory_bytes": 3 << 30,
            "paper_run_s": 2592.5,
            "paper_grid_s": 12962.5,
            "paper_grid_missing": ["alexnet"],
            "error": None,
        },
        {
            "backend": "torch",
            "model": None,
            "precision": None,
            "error": "worker exited with code 1: boom",
        },
    ]
    console = Console(width=160, record=True)
    console.print(render(rows))
    text = console.export_text()
    assert "paper run = 25,000 steps" in text
    assert "1,234" in text and "103.70" in text and "3.00 GiB" in text and "43.2 min" in text
    assert ">=3.6 h*" in text and "without the runs of alexnet" in text
    assert "error (1)" in text and "(1) torch -: worker exited with code 1: boom" in text


def test_seconds_and_bytes_as_text() -> None:
    assert [format_seconds(s) for s in (None, 23.44, 750.0, 3 * 3600.0)] == [
        "-", "23.4 s", "12.5 min", "3.0 h",
    ]  # fmt: skip
    assert [format_bytes(n) for n in (None, 512 << 20, 3 << 30)] == ["-", "512 MiB", "3.00 GiB"]
