"""Test, lint and type-check rethink; one test session per Keras backend.

    nox                          # everything: tests on tensorflow, torch, jax; lint; typecheck
    nox -s "tests(backend='jax')" -- -k corruption   # one backend, pytest args after --
    nox -s lint typecheck imports
    nox -s docs                  # the documentation site (mkdocs --strict) and the notebook
    nox -s docs -- --site-dir site   # mkdocs build arguments after --
    nox -s figures               # opt-in: docs/figures/campaign/ from the runs in results/

Each backend gets its own virtualenv with KERAS_BACKEND set (Keras fixes its
backend at import, so backends are never mixed in one process). Which build
of a framework to install can be overridden, e.g. for a CPU-only machine:

    RETHINK_TORCH='torch==2.13.0' RETHINK_TENSORFLOW=tensorflow-cpu nox

(.ci/run does exactly that; without the variables the torch and tensorflow
sessions install the default PyPI builds.)
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "imports", "docs"]
nox.options.reuse_existing_virtualenvs = False

BACKENDS = ["tensorflow", "torch", "jax"]
# Lint and type-check tools pinned: a new release never fails a change that did not touch them.
RUFF = "ruff==0.17.6"
MYPY = ("mypy==2.4.1", "pandas-stubs==3.1.0.261029")
IMPORT_LINTER = "import-linter==2.17"
# What ruff checks (docs/hooks.py alone of docs/: ruff would format the pages' code blocks).
LINTED = ("src", "tests", "examples", "docs/hooks.py", "noxfile.py")
# The documentation: pyproject.toml's `docs` extra (pinned there), the notebooks it executes.
DOCS_EXTRA = ".[docs]"
NOTEBOOKS = ("examples/explore_grid.ipynb",)
# The campaign's kept runs (results/README.md) and where their figures and report go.
RESULTS = "results"
CAMPAIGN_FIGURES = "docs/figures/campaign"


def backend_requirement(backend: str) -> str:
    """The pip requirement for a backend, overridable by RETHINK_<BACKEND>."""
    return os.environ.get(f"RETHINK_{backend.upper()}", backend)


@nox.session
@nox.parametrize("backend", BACKENDS)
def tests(session: nox.Session, backend: str) -> None:
    """Run the test suite on one Keras backend."""
    # The framework first, so the rethink install below finds it satisfied.
    session.install(backend_requirement(backend))
    # Ray's cluster tests run once, in the jax session (they train on any backend).
    session.install("-e", ".[test,ray]" if backend == "jax" else ".[test]")
    session.run(
        "pytest",
        "--timeout=900",
        *session.posargs,
        env={"KERAS_BACKEND": backend, "PYTHONUNBUFFERED": "1"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install(RUFF)
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session
def typecheck(session: nox.Session) -> None:
    """Mypy on the package."""
    session.install(*MYPY, "-e", ".")
    session.run("mypy")


@nox.session
def imports(session: nox.Session) -> None:
    """The import contract (pyproject.toml [tool.importlinter]): layers, no cycles, and no
    backend framework outside the modules that talk to it."""
    session.install(IMPORT_LINTER, "-e", ".")
    session.run("lint-imports")


@nox.session
def docs(session: nox.Session) -> None:
    """The example notebooks, executed (nbmake), then the site, built with `mkdocs build
    --strict` (a broken link or anchor, a page outside the nav or an API reference that
    does not resolve fails). Arguments after -- go to mkdocs build (default: the site in
    the session's temporary folder)."""
    # No backend framework: the notebook reads run folders, the docs read the source.
    session.install("-e", DOCS_EXTRA)
    env = {"MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1"}
    session.run("pytest", "--nbmake", "-p", "no:cacheprovider", "-q", *NOTEBOOKS, env=env)
    site = session.posargs or ["--site-dir", str(Path(session.create_tmp()) / "site")]
    session.run("mkdocs", "build", "--strict", *site, env=env)


@nox.session(default=False)
def figures(session: nox.Session) -> None:
    """Redraw the campaign's figures and report (docs/figures/campaign) from results/."""
    # Parts only: check-* folders repeat runs of a part another way (e.g. packed).
    parts = sorted(p.name for p in Path(RESULTS).glob("part*") if p.is_dir())
    if not parts:
        session.log(f"{RESULTS}/ holds no campaign part yet: nothing to draw")
        return
    session.log(f"parts: {', '.join(parts)}")
    # No backend framework: plot and report read run folders and import no Keras.
    session.install("-e", ".")
    # Every part, named (as `rethink plot 'results/*'` would, without results/README.md).
    folders = [f"{RESULTS}/{name}" for name in parts]
    session.run("rethink", "plot", *folders, "--out", CAMPAIGN_FIGURES, "--per-model")
    session.run("rethink", "report", *folders, "--out", CAMPAIGN_FIGURES)
