"""The GitHub Actions workflow: the same backends as nox, CPU wheels, caches, limits."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[2]


def _workflow() -> dict[str, Any]:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def _noxfile() -> SimpleNamespace:
    """noxfile.py's constants, read without importing nox (not installed in the test venv)."""
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    constants = {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }
    return SimpleNamespace(**constants)


def test_the_matrix_is_noxs_backends_each_with_its_session() -> None:
    jobs = _workflow()["jobs"]
    tests = jobs["tests"]
    assert tests["strategy"]["matrix"]["backend"] == _noxfile().BACKENDS
    assert tests["strategy"]["fail-fast"] is False
    commands = " ".join(step.get("run", "") for step in tests["steps"])
    assert "nox -s \"tests(backend='${{ matrix.backend }}')\"" in commands
    assert "nox -s lint typecheck" in " ".join(s.get("run", "") for s in jobs["checks"]["steps"])


def test_every_job_has_a_timeout_and_a_pip_cache_and_runs_are_not_stacked() -> None:
    workflow = _workflow()
    assert workflow["concurrency"]["cancel-in-progress"] is True
    for name, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 90, name
        python = next(
            s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python")
        )
        assert python["with"]["cache"] == "pip", name
        assert python["with"]["cache-dependency-path"] == "pyproject.toml", name


def test_torchs_cpu_index_only_in_the_torch_job_and_tools_pinned() -> None:
    tests = _workflow()["jobs"]["tests"]
    assert "PIP_EXTRA_INDEX_URL" not in tests.get("env", {})
    index_steps = [s for s in tests["steps"] if "PIP_EXTRA_INDEX_URL" in s.get("run", "")]
    assert len(index_steps) == 1 and index_steps[0]["if"] == "matrix.backend == 'torch'"
    nox = _noxfile()
    assert nox.RUFF.startswith("ruff==") and all("==" in tool for tool in nox.MYPY)
    installs = [
        s["run"]
        for job in _workflow()["jobs"].values()
        for s in job["steps"]
        if "pip install" in s.get("run", "") and "nox" in s["run"]
    ]
    assert installs and all("nox==" in run for run in installs)


def test_real_data_tests_run_there_from_a_cached_download() -> None:
    tests = _workflow()["jobs"]["tests"]
    cached = [s for s in tests["steps"] if s.get("uses", "").startswith("actions/cache")]
    assert cached and cached[0]["with"]["path"] == "~/.keras/datasets"
    assert any("RETHINK_TEST_DATA=" in s.get("run", "") for s in tests["steps"])
    # .ci/run points the same variable at the shared archive.
    assert "RETHINK_TEST_DATA" in (ROOT / ".ci" / "run").read_text()
