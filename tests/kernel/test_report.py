"""What a kernel report says: the headline, the diagnosis of the solve, the table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rethink.kernel import KernelReport, KernelResult
from rethink.kernel.report import HEADER, INEXACT

Make = Callable[..., KernelReport]
MakeResult = Callable[..., KernelResult]


def test_an_exact_solve_has_no_notes(make_report: Make) -> None:
    report = make_report()
    assert report.notes() == []
    assert report.lines() == [
        "Gaussian kernel, bandwidth 67.5; 300 training and 200 test images of cifar10; "
        "lambda 0; jax, float64",
        "time: data 1.0 s, kernel 0.2 s; paper: all of CIFAR-10 (50,000 images), 32,000 filters",
    ]


def test_the_notes_diagnose_dtype_jitter_and_an_inexact_solve(
    make_report: Make, make_result: MakeResult
) -> None:
    report = make_report(
        dtype="float32",
        dtype_note="jax gives no float64 in this process",
        jitter=1e-6,
        factorizations=2,
        results=[make_result(rel=INEXACT * 20), make_result(rel=1e-9)],
    )
    notes = report.notes()
    assert notes[0] == "note: jax gives no float64 in this process"
    assert "jitter of 1e-06 on the diagonal (2 tries)" in notes[1]
    assert notes[2].startswith("note: relative residual 0.02: not an exact solve")
    assert notes[2].endswith("use float64 or --lam > 0")  # float64 would help
    in_float64 = make_report(results=[make_result(rel=INEXACT * 2)]).notes()
    assert len(in_float64) == 1 and in_float64[0].endswith("in float64); use --lam > 0")
    assert make_report(results=[make_result(rel=INEXACT)]).notes() == []  # at the bound: exact


def test_rows_are_the_table_of_results(make_report: Make, make_result: MakeResult) -> None:
    report = make_report(results=[make_result(0.0), make_result(1.0, paper=None)])
    rows = report.rows()
    assert all(len(row) == len(HEADER) for row in rows)
    assert rows[0] == [
        "partial_labels p=0", "0.0%", "0.0%", "62.5%", "46.0%", "3.00e-12", "1.00e-12", "44.35",
    ]  # fmt: skip
    assert rows[1][0] == "partial_labels p=1" and rows[1][4] == "-"


def test_random_features_and_other_data_sets_say_so(make_report: Make) -> None:
    settings = dict(make_report().settings, kernel="features", design="gaussian-filters", patch=5)
    report = make_report(
        settings=settings, features=8000, bandwidth=None, dataset={"name": "mnist"}
    )
    assert report.headline().startswith(
        "random features (gaussian-filters): 2000 filters 5x5, 8000 features; linear kernel; "
    )
    assert report.timing().endswith("no paper numbers for mnist")
    patches = dict(settings, design="patches", patch=None)
    report = make_report(settings=patches, features=16000, bandwidth=None, gamma=2.5)
    assert report.headline().startswith(
        "random features (patches): 2000 filters 6x6, 16000 features; Gaussian kernel on them, "
        "gamma 2.5; "
    )


@pytest.mark.parametrize("level", [None, 0.4])
def test_labels_name_the_labelling(level: float | None, make_result: MakeResult) -> None:
    expected = "true_labels" if level is None else "partial_labels p=0.4"
    assert make_result(level).labels == expected
