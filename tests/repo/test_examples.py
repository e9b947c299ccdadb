"""Every script in examples/ runs, in a tiny setting, so none can rot.

Python scripts run as a user runs them (a subprocess, `RETHINK_EXAMPLE_TINY=1` for the
ones without size flags) on a synthetic CIFAR-10 written here; the shell scripts are
checked with `bash -n`, and a representative part of each runs in its `QUICK=1` mode on
the CPU. The notebooks run in `nox -s docs` (nbmake), which `NOTEBOOKS` in noxfile.py
must list.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.backend import current_backend

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# What each Python example is given, as one command line (DATA: the synthetic CIFAR-10;
# OUT: a fresh folder), and the backend it needs (None: any). A new example needs a row.
PYTHON_EXAMPLES: dict[str, tuple[str, str | None]] = {
    "image_folder_from_cifar10.py": (
        "DATA OUT --classes cat,dog,horse --grey",
        None,
    ),
    "random_labels.py": ("DATA", None),
    "profile_torch_step.py": (
        "OUT --model mlp_1x512 --warmup 1 --steps 2 --batch-size 8",
        "torch",
    ),
    "torch_graph_check.py": (
        "OUT --models mlp_3x512 --steps 4 --profile-steps 1 --batch-size 8 --images 32",
        "torch",
    ),
    # `rethink run` with the example's builder (issue 27); once: tests/cli/test_own_model.py
    # trains models of yours on every backend.
    "own_model.py": (
        "-m rethink run --model ./examples/own_model.py:resnet20 --corruption random_labels"
        " --train-subset 20 --test-subset 20 --steps 1 --batch-size 10 --no-save-model"
        " --data DATA --out OUT",
        "jax",
    ),
}
SHELL_EXAMPLES = ("campaign.sh", "gpu_check.sh")
TRAIN, TEST = 600, 300  # QUICK mode trains on 512 images and tests on 256 (or 500 and 200)


def _synthetic_cifar10(folder: Path) -> Path:
    """folder/cifar-10-batches-py/: random images, TRAIN and TEST of them, every class."""
    rng = np.random.default_rng(0)
    out = folder / "cifar-10-batches-py"
    out.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    sizes = [TRAIN // 5] * 5 + [TEST]
    for name, n in zip(names, sizes, strict=True):
        x = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)  # CHW rows, as the original
        labels = (np.arange(n) % len(CIFAR10_CLASSES)).tolist()
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": x}
        (out / name).write_bytes(pickle.dumps(batch, protocol=2))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _synthetic_cifar10(tmp_path_factory.mktemp("examples-data"))


def _env(**extra: str) -> dict[str, str]:
    """The test's environment with this interpreter first on PATH (the shell scripts call
    `python3`), the backend in use and the tiny setting."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {
        **os.environ,
        "PATH": path,
        "KERAS_BACKEND": current_backend(),
        "RETHINK_EXAMPLE_TINY": "1",
        "MPLBACKEND": "Agg",
        **extra,
    }


def _run(args: list[str], timeout: int = 600, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=ROOT, env=_env(**env), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _noxfile_notebooks() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "NOTEBOOKS" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("noxfile.py has no NOTEBOOKS")


def test_every_example_has_a_tiny_run_here_or_in_the_docs_session() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts == set(PYTHON_EXAMPLES), "give each example in examples/ a row here"
    assert {p.name for p in EXAMPLES.glob("*.sh")} == set(SHELL_EXAMPLES)
    notebooks = {f"examples/{p.name}" for p in EXAMPLES.glob("*.ipynb")}
    assert notebooks and notebooks == set(_noxfile_notebooks())


@pytest.mark.parametrize("script", SHELL_EXAMPLES)
def test_shell_examples_parse(script: str) -> None:
    _run(["bash", "-n", str(EXAMPLES / script)])


def _python_example(script: str, data: Path, out: Path) -> subprocess.CompletedProcess[str]:
    args, backend = PYTHON_EXAMPLES[script]
    if backend and current_backend() != backend:
        pytest.skip(f"{script} needs backend {backend}")
    words = args.split()
    given = [str(data.parent) if a == "DATA" else str(out) if a == "OUT" else a for a in words]
    command = given if given[0] == "-m" else [str(EXAMPLES / script), *given]
    return _run([sys.executable, *command])


def test_image_folder_example_writes_a_folder_rethink_reads(data: Path, tmp_path: Path) -> None:
    from rethink.data import load

    out = tmp_path / "cifar3-grey"
    _python_example("image_folder_from_cifar10.py", data, out)
    loaded = load(str(out))
    assert loaded.dataset.classes == ("cat", "dog", "horse")
    assert loaded.dataset.shape[-1] == 1  # grey
    (_, y_train), (x_test, _) = loaded.arrays
    # RETHINK_EXAMPLE_TINY: at most 20 images of each class in each split.
    assert np.bincount(y_train).tolist() == [20, 20, 20] and len(x_test) == 60


@pytest.mark.slow
def test_random_labels_example_trains_both_labellings(data: Path, tmp_path: Path) -> None:
    done = _python_example("random_labels.py", data, tmp_path)
    lines = [line.split(":")[0].strip() for line in done.stdout.splitlines() if "train acc" in line]
    assert lines == ["true_labels", "random_labels"]


@pytest.mark.slow
@pytest.mark.requires_backend("torch")
def test_profile_torch_step_example_writes_a_trace(data: Path, tmp_path: Path) -> None:
    _python_example("profile_torch_step.py", data, tmp_path)
    assert list(tmp_path.glob("trace-mlp_1x512-*.json.gz"))
    assert list(tmp_path.glob("ops-mlp_1x512-*.txt"))


@pytest.mark.slow
@pytest.mark.requires_backend("torch")
def test_torch_graph_check_example_compares_graph_and_eager(data: Path, tmp_path: Path) -> None:
    _python_example("torch_graph_check.py", data, tmp_path)
    rows = json.loads((tmp_path / "torch-graph-check.json").read_text())
    assert [row["model"] for row in rows] == ["mlp_3x512"]


@pytest.mark.slow
def test_own_model_example_trains_a_run(data: Path, tmp_path: Path) -> None:
    _python_example("own_model.py", data, tmp_path)
    (result,) = tmp_path.glob("*/result.json")
    assert json.loads(result.read_text())["status"] == "completed"


def _step_codes(log: str, marker: str) -> list[str]:
    """The exit codes a script's log reports (`== rc=0 after 3s`, `== grid rc=0 ...`)."""
    return [line.split("rc=")[1].split()[0] for line in log.splitlines() if marker in line]


@pytest.mark.slow
@pytest.mark.requires_backend("jax")  # both scripts train on jax
def test_campaign_part_in_quick_mode(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "campaign"
    rethink = f"{sys.executable} -m rethink"
    _run(
        ["bash", str(EXAMPLES / "campaign.sh"), "part6-seed1", str(out), str(data)],
        QUICK="1",
        PYTHON=sys.executable,
        RETHINK=rethink,
        DEADLINE="400",
    )
    log = (out / "part6-seed1.log").read_text()
    assert _step_codes(log, "== grid rc=") == ["0"], log
    results = [json.loads(p.read_text()) for p in (out / "part6-seed1").glob("*/result.json")]
    assert len(results) == 5 and {r["status"] for r in results} == {"completed"}, log
    assert (out / "part6-seed1.tar.gz").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.requires_backend("jax")
def test_gpu_check_construct_stage_in_quick_mode(data: Path, tmp_path: Path) -> None:
    # The stages that need a GPU or torch (bench, profile, torch-graph) are GPU checks;
    # `construct` runs the script's whole frame (steps, timeouts, log, tarball) on a CPU.
    if shutil.which("timeout") is None:
        pytest.skip("coreutils' timeout is not installed")
    out = tmp_path / "check"
    _run(
        ["bash", str(EXAMPLES / "gpu_check.sh"), str(out), str(data), "construct"],
        QUICK="1",
        RETHINK=f"{sys.executable} -m rethink",
        TMPDIR=str(tmp_path),
    )
    log = (out / "gpu-check.log").read_text()
    assert _step_codes(log, "== rc=") == ["0", "0"], log
    with tarfile.open(out / "gpu-check-construct.tar.gz") as tar:
        names = {Path(name).parent.name for name in tar.getnames() if name.endswith(".json")}
    assert {"construct-true_labels", "construct-random_labels"} <= names
