"""What one kernel experiment found, and what to say about it.

    report = run_kernel(settings, raw)
    report.results[0].test_error      # one KernelResult per labelling
    report.lines()                    # the summary: kernel, sizes, notes, timings
    report.notes()                    # ["note: relative residual 0.02: not an exact solve ..."]
    HEADER, report.rows()             # the table of results, as text

The notes are the diagnosis: a dtype other than the one asked for, a jitter
the factorization needed, and a solve whose relative residual exceeds
`INEXACT` (K ill-conditioned in its dtype), each with what to do about it.
kernel.json is `to_dict()` (`rethink.kernel.output` writes it): the settings
(filters resolved), sizes, dtype, jitter, memory, timings, the data set and
every result. Pure Python.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rethink.base.text import percent

# A relative residual above this is not an exact solve: said in a note.
INEXACT = 1e-3
HEADER = ["labels", "train err", "paper", "test err", "paper", "max resid", "rel resid", "norm"]


@dataclass(frozen=True)
class KernelResult:
    """One labelling's solution; errors are fractions, the norm sqrt(trace(a^T K a))."""

    corruption: str
    level: float | None
    train_error: float
    test_error: float
    residual_max: float  # max |(K + lam I) alpha - Y|
    residual_rel: float  # |(K + lam I) alpha - Y|_F / |Y|_F
    norm: float
    paper_test_error: float | None

    @property
    def labels(self) -> str:
        """The labelling in words: 'true_labels', 'partial_labels p=0.5'."""
        return self.corruption if self.level is None else f"{self.corruption} p={self.level:g}"


@dataclass
class KernelReport:
    """Settings, sizes, numerics and timings, and one result per labelling."""

    settings: dict[str, Any]
    backend: str
    dtype: str
    dtype_note: str | None
    n_train: int
    n_test: int
    bandwidth: float | None
    features: int | None
    jitter: float
    factorizations: int
    memory: str
    seconds: dict[str, float] = field(default_factory=dict)
    results: list[KernelResult] = field(default_factory=list)
    dataset: dict[str, Any] = field(default_factory=dict)  # Dataset.to_dict()
    gamma: float | None = None  # the patch network's Gaussian kernel on its features
    feature_median: float | None = None  # median |phi - phi'|^2 / features (patches)
    warnings: list[str] = field(default_factory=list)  # said as notes (e.g. a rank-deficient ZCA)
    # The patch network's ZCA and filters: written beside kernel.json (STATE_FILE), not in it.
    state: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("state")
        out["state_arrays"] = {k: list(v.shape) for k, v in self.state.items()}
        return out

    @property
    def dataset_name(self) -> str:
        return str(self.dataset.get("name", "cifar10"))

    @property
    def worst_residual(self) -> float:
        """The largest relative residual over the labellings."""
        return max((r.residual_rel for r in self.results), default=0.0)

    def headline(self) -> str:
        """The kernel, the sizes, lambda, backend and dtype, in one line."""
        s = self.settings
        if s["kernel"] == "gaussian":
            what = f"Gaussian kernel, bandwidth {self.bandwidth:.4g}"
        else:
            design = s.get("design", "gaussian-filters")
            patch = s.get("patch") or (6 if design == "patches" else 5)
            on = (
                f"; Gaussian kernel on them, gamma {self.gamma:.4g}"
                if self.gamma is not None
                else "; linear kernel"
            )
            what = (
                f"random features ({design}): {s['filters']} filters {patch}x{patch}, "
                f"{self.features} features{on}"
            )
        return (
            f"{what}; {self.n_train} training and {self.n_test} test images of "
            f"{self.dataset_name}; lambda {s['lam']:g}; {self.backend}, {self.dtype}"
        )

    def notes(self) -> list[str]:
        """What the numerics say about the solve, and what to do; empty when all is well."""
        notes = [f"note: {w}" for w in self.warnings]
        if self.dtype_note:
            notes.append(f"note: {self.dtype_note}")
        if self.jitter:
            notes.append(
                f"note: the factorization needed a jitter of {self.jitter:.3g} on the diagonal "
                f"({self.factorizations} tries); the residual is against K + lambda I"
            )
        worst = self.worst_residual
        if worst > INEXACT:
            remedy = "use float64 or --lam > 0" if self.dtype == "float32" else "use --lam > 0"
            notes.append(
                f"note: relative residual {worst:.2g}: not an exact solve (K is ill-conditioned "
                f"in {self.dtype}); {remedy}"
            )
        return notes

    def timing(self) -> str:
        """The seconds of each stage, and which numbers the paper's are."""
        times = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        paper = (
            "paper: all of CIFAR-10 (50,000 images), 32,000 filters"
            if self.dataset_name == "cifar10"
            else f"no paper numbers for {self.dataset_name}"
        )
        return f"time: {times}; {paper}"

    def lines(self) -> list[str]:
        """The summary printed above the table: headline, notes, timings."""
        return [self.headline(), *self.notes(), self.timing()]

    def rows(self) -> list[list[str]]:
        """One row of text per labelling, in the columns of HEADER."""
        return [
            [
                r.labels,
                percent(r.train_error),
                "0.0%",  # the paper's train error: every kernel solution interpolates
                percent(r.test_error),
                percent(r.paper_test_error),
                f"{r.residual_max:.2e}",
                f"{r.residual_rel:.2e}",
                f"{r.norm:.4g}",
            ]
            for r in self.results
        ]
