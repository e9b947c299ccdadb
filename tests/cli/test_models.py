"""`rethink models`, `--help` and backend selection through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from rethink.base import backend
from rethink.models import REGISTRY

cli._register()
runner = CliRunner()
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def test_models_table_shows_built_counts_beside_the_papers() -> None:
    result = runner.invoke(cli.app, ["models", "--backend", BACKEND])
    assert result.exit_code == 0, result.output
    for name, count in ((n, m.paper_parameters) for n, m in REGISTRY.items()):
        line = next(line for line in result.output.splitlines() if f" {name} " in line)
        assert line.count(f"{count:,}") == 2  # built == paper


def test_registering_the_cli_commands_imports_no_keras() -> None:
    code = "import sys; from rethink.cli import app, _register; _register(); print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_backend_is_a_one_line_error() -> None:
    result = runner.invoke(cli.app, ["models", "--backend", "theano"])
    assert result.exit_code == 2
    assert "unknown backend 'theano'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_uninstalled_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend, "installed", lambda name: name != "jax")
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    with pytest.raises(backend.BackendError, match=r"pip install 'rethink-generalization\[jax\]'"):
        backend.select("jax")


def test_flag_beats_environment_and_keras_cannot_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    import keras  # noqa: F401  (imported with this process's backend)

    monkeypatch.setenv("KERAS_BACKEND", BACKEND)
    assert backend.select(None) == (BACKEND, "KERAS_BACKEND")
    other = next(b for b in backend.BACKENDS if b != BACKEND)
    monkeypatch.setattr(backend, "installed", lambda name: True)
    with pytest.raises(backend.BackendError, match="already imported"):
        backend.select(other)
    assert backend.select(other, in_process=False) == (other, "--backend")  # for workers only


def test_first_installed_backend_is_chosen_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setattr(backend, "installed", lambda name: name in ("torch", "tensorflow"))
    assert backend.select(None) == ("torch", "first installed")
    assert os.environ["KERAS_BACKEND"] == "torch"
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setattr(backend, "installed", lambda name: False)
    with pytest.raises(backend.BackendError, match="no Keras backend is installed"):
        backend.select(None)


@pytest.mark.requires_backend("jax")
def test_jax_compilation_cache_lives_in_the_rethink_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jax

    monkeypatch.setenv("RETHINK_CACHE", str(tmp_path))
    previous = jax.config.jax_compilation_cache_dir
    try:
        path = backend.enable_compilation_cache("jax")
        assert path == tmp_path / "jax" and path.is_dir()
        assert jax.config.jax_compilation_cache_dir == str(path)
    finally:
        jax.config.update("jax_compilation_cache_dir", previous)
    monkeypatch.setenv("RETHINK_COMPILATION_CACHE", "0")
    assert backend.enable_compilation_cache("jax") is None
    assert backend.enable_compilation_cache("torch") is None
