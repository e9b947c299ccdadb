"""env.json's facts: versions, the source commit, the NVIDIA driver and CUDA versions."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import rethink
from rethink.base import platform as environment
from tests.helpers.backend import current_backend


def _nvidia_smi(folder: Path, monkeypatch: pytest.MonkeyPatch, script: str | None) -> None:
    """PATH with only `folder` (and git) on it, holding a fake nvidia-smi if `script`."""
    folder.mkdir()
    if script is not None:
        tool = folder / "nvidia-smi"
        tool.write_text(script)
        tool.chmod(0o755)
    git = shutil.which("git")
    path = [str(folder)] + ([os.path.dirname(git)] if git else [])
    monkeypatch.setenv("PATH", os.pathsep.join(path))


def test_env_json_names_the_version_and_commit_and_no_cuda_on_a_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras  # noqa: F401  (the backend, as a run has it)

    _nvidia_smi(tmp_path / "bin", monkeypatch, None)
    env = environment.describe_environment(current_backend())
    assert env["rethink_version"] == rethink.__version__
    assert env["cuda"] is None  # no NVIDIA driver here
    root = Path(rethink.__file__).resolve().parents[2]
    if (root / ".git").is_dir() and shutil.which("git"):
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        assert env["rethink_commit"].removesuffix("+dirty") == head
    else:
        assert env["rethink_commit"] is None


def test_cuda_versions_name_the_driver_nvidia_smi_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _nvidia_smi(tmp_path / "bin", monkeypatch, "#!/bin/sh\necho '580.159.04'\n")
    versions = environment.cuda_versions(current_backend())
    assert versions is not None and versions["driver"] == "580.159.04"
    assert set(versions) == {"driver", "cuda", "cudnn"}
    _nvidia_smi(tmp_path / "broken", monkeypatch, "#!/bin/sh\necho 'failed' >&2\nexit 9\n")
    assert environment.cuda_versions(current_backend()) is None
