"""`rethink grid` through Typer's CliRunner and in subprocesses, with the fake worker.

The fake worker (tests/helpers/fake_worker.py) stands in for `rethink run`, so these
tests check the grid itself: selection, folders, grid.json, the lock, crash
isolation, Ctrl-C and resume after kill -9. The last test runs a real smoke
grid with `rethink run` on the shared CIFAR-10 archive (slow).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink
import rethink.cli as cli
import rethink.cli.grid as grid_cli
import rethink.grid.folder as grid_folder
from rethink.base.backend import BACKENDS, installed
from rethink.base.lock import FolderLock
from rethink.grid.record import read_record
from rethink.grid.spec import expand
from rethink.run.folder import RunDir
from rethink.spec.datasets import CIFAR10_CLASSES
from tests.helpers.image_folders import write_image_folder
from tests.helpers.workers import FAKE_WORKER, calls, fake_worker, snapshot

cli._register()
runner = CliRunner()

SRC = str(Path(rethink.__file__).resolve().parents[1])
# 6 runs of 40 steps: two models x three randomizations of the smoke preset.
SMALL = ["--preset", "smoke", "--models", "mlp_1x512,alexnet", "--corruptions", "true_labels,random_labels", "-c", "gaussian", "--jobs", "2"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_cifar10(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CIFAR-10-like folder with the smoke preset's 500 training images (50 per class)."""
    root = tmp_path_factory.mktemp("data") / "tiny-cifar10"
    return write_image_folder(root, CIFAR10_CLASSES, (32, 32, 3), 50, 1)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_cifar10: Path) -> Path:
    """Runs every test in an empty folder, with the fake worker in place of `rethink run`."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    # `rethink grid` sets KERAS_BACKEND for its workers: restore it after each test.
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", ""))
    if not os.environ["KERAS_BACKEND"]:
        monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setattr(grid_cli, "worker_command", fake_worker())
    # The fake worker reads no data, but the grid checks it first: a small CIFAR-10-like
    # folder in RETHINK_DATA keeps it from downloading.
    monkeypatch.setenv("RETHINK_DATA", str(tiny_cifar10))
    return work


def grid(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli.app, ["grid", *args])
    return result.exit_code, result.output


def test_dry_run_lists_the_runs_and_creates_nothing(fake: Path) -> None:
    code, out = grid("--dry-run")
    assert code == 0, out
    assert "25 runs into output_1" in out
    for spec in expand(grid_cli.PRESETS["paper"]):
        assert spec.run_id in out
    assert list(fake.iterdir()) == []


def test_dry_run_of_a_sweep_with_seeds(fake: Path) -> None:
    code, out = grid("--dry-run", "--preset", "fig1b", "--models", "mlp_1x512", "--seeds", "2")
    assert code == 0, out
    assert "12 runs" in out
    assert "mlp_1x512-partial_labels-p0.6-s1" in out
    assert list(fake.iterdir()) == []


def test_weight_decay_on_the_hidden_dense_layers_reaches_every_run(fake: Path) -> None:
    tutorial = ["--preset", "regularized", "--models", "alexnet,mlp_3x512", "--weight-decay"]
    tutorial += ["0.004", "--weight-decay-layers", "hidden_dense"]
    code, out = grid(*tutorial, "--dry-run")
    assert code == 0, out
    assert "alexnet-random_labels-wd0.004-hd-s0" in out and "mlp_3x512-random_labels" in out
    code, out = grid(*tutorial, "--steps", "6", "--out", "g")
    assert code == 0, out
    for model in ("alexnet", "mlp_3x512"):
        spec = RunDir(fake / "g" / f"{model}-random_labels-wd0.004-hd-s0").spec()
        assert spec is not None and spec.weight_decay_layers == "hidden_dense"
    # Table 1 with it: the variants without weight decay keep their ids and "all".
    code, plain = grid("--preset", "table1", "--models", "mlp_1x512", "--dry-run")
    assert code == 0, plain
    code, out = grid(
        "--preset", "table1", "--models", "mlp_1x512", "--weight-decay-layers", "hidden_dense",
        "--dry-run",
    )  # fmt: skip
    assert code == 0, out
    assert "mlp_1x512-true_labels-wd0.0005-hd-s0" in out and "mlp_1x512-true_labels-s0" in out
    assert out.count("-hd-") == plain.count("-wd") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "resnet"], "unknown model 'resnet'"),
        (["--corruptions", "true_labels,noise"], "unknown corruption 'noise'"),
        (["--models", ""], "no models selected"),
        (["--levels", "0,x"], "bad corruption level 'x'"),
        (["--levels", "0.5,1.5"], "level must be in [0, 1]"),
        (["--seeds", "0"], "at least 1"),
        (["--steps", "0"], "steps must be positive"),
        (["--steps", "5", "--epochs", "1"], "steps or epochs"),
        (["--jobs", "zero"], "bad --jobs 'zero'"),
        (["--gpus", "0,,1"], "bad --gpus"),
        (["--data", "no/such/archive.tar.gz"], "data not found"),
        (["--resume", "not_a_grid"], "not a grid folder"),
        (["--out", "a_file"], "is a file"),
        (["--out", "busy"], "holds no grid"),
        (["--resume", "busy"], "holds no grid"),
        (["--loop", "fast"], "'--loop': Value error, 'fast' is not one of 'auto', 'keras'"),
        (["--torch-compile", "max"], "'--torch-compile': Value error, 'max' is not one of"),
        (["--precision", "int8"], "'int8' is not one of 'float32', 'mixed_bfloat16'"),
        (
            ["--preset", "regularized", "--weight-decay-layers", "hidden_dense"],
            "inception has no hidden dense layer",
        ),
        (["--weight-decay-layers", "hidden_dense"], "no run of this grid has weight decay"),
        (["--weight-decay-layers", "conv"], "'conv' is not one of 'all', 'hidden_dense'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_creates_nothing(
    fake: Path, args: list[str], message: str
) -> None:
    (fake / "a_file").write_text("x")
    (fake / "busy").mkdir()
    (fake / "busy" / "notes.txt").write_text("mine")
    before = sorted(p.name for p in fake.rglob("*"))
    code, out = grid(*args)
    assert code == 2, out
    assert message in out
    assert len(out.strip().splitlines()) == 1
    assert sorted(p.name for p in fake.rglob("*")) == before


def test_a_grid_trains_into_the_next_free_output_folder(fake: Path) -> None:
    (fake / "output_2").mkdir()
    code, out = grid(*SMALL)
    assert code == 0, out
    folder = fake / "output_3"
    rec = read_record(folder)
    assert rec is not None and rec["preset"] == "smoke"
    assert rec["grid"]["models"] == ["alexnet", "mlp_1x512"]
    assert rec["backend"] in BACKENDS
    assert len(rec["runs"]) == 6
    for run_id in rec["runs"]:
        rd = RunDir(folder / run_id)
        assert rd.result()["status"] == "completed"
        assert rd.spec() == next(s for s in expand(grid_cli.PRESETS["smoke"]) if s.run_id == run_id)
        assert len(calls(rd.path)) == 1
    assert "start alexnet-true_labels-s0" in out  # plain lines: no terminal here
    assert "rethink plot output_3" in out


def test_one_failing_run_does_not_stop_the_grid_and_resume_retries_it(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PLAN", json.dumps({"alexnet-random_labels-s0": "crash"}))
    code, out = grid(*SMALL, "--out", "g")
    assert code == 1, out
    failed = RunDir(fake / "g" / "alexnet-random_labels-s0").result()
    assert failed["status"] == "failed" and "exited with code 3" in failed["error"]
    assert "failed alexnet-random_labels-s0" in out and "--resume g" in out
    done = [r for r in read_record(fake / "g")["runs"] if r != "alexnet-random_labels-s0"]
    assert all(RunDir(fake / "g" / r).is_completed() for r in done)
    kept = {r: snapshot(fake / "g" / r) for r in done}

    monkeypatch.delenv("FAKE_PLAN")
    code, out = grid(*SMALL, "--out", "g")  # the same command again resumes
    assert code == 0, out
    assert RunDir(fake / "g" / "alexnet-random_labels-s0").is_completed()
    assert {r: snapshot(fake / "g" / r) for r in done} == kept


def test_a_different_selection_on_an_existing_grid_is_refused(fake: Path) -> None:
    code, out = grid(*SMALL, "--out", "g")
    assert code == 0, out
    before = snapshot(fake / "g")
    code, out = grid(*SMALL, "--out", "g", "--steps", "80")
    assert code == 2 and "holds a different grid" in out and "steps 40" in out
    code, out = grid("--preset", "smoke", "--out", "g")
    assert code == 2 and "holds a different grid" in out
    code, out = grid("--resume", "g", "--models", "alexnet")
    assert code == 2 and "drop --models" in out
    assert snapshot(fake / "g") == before


def test_resume_continues_from_grid_json(fake: Path) -> None:
    code, _ = grid(*SMALL, "--out", "g")
    assert code == 0
    target = fake / "g" / "mlp_1x512-gaussian-s0"
    (target / "result.json").unlink()  # as if it had been interrupted
    code, out = grid("--resume", "g")
    assert code == 0, out
    assert len(calls(target)) == 2
    assert len(calls(fake / "g" / "mlp_1x512-true_labels-s0")) == 1


def test_resume_with_another_backend_is_refused(fake: Path) -> None:
    available = [b for b in BACKENDS if installed(b)]
    if len(available) < 2:
        pytest.skip("needs two installed backends")
    code, _ = grid(*SMALL, "--out", "g", "--backend", available[0])
    assert code == 0
    code, out = grid("--resume", "g", "--backend", available[1])
    assert code == 2 and f"--backend {available[0]}" in out


def test_a_folder_in_use_is_refused_naming_the_holder(fake: Path) -> None:
    code, _ = grid(*SMALL, "--out", "g")
    assert code == 0
    with FolderLock(fake / "g"):
        code, out = grid("--resume", "g")
    assert code == 2
    assert "in use by another rethink grid" in out and f"pid {os.getpid()}" in out


# ---- the grid as a process: Ctrl-C and kill -9 ---------------------------------------

GRID_PROCESS = """
import sys
import rethink.cli.grid as grid_cli
from rethink.cli import _register, app
_register()
script = sys.argv[1]
grid_cli.worker_command = lambda spec, out, backend: [
    sys.executable, script, "--spec", str(spec), "--out", str(out), "--backend", backend, "--resume",
]
app(sys.argv[2:], prog_name="rethink")
"""


def start_grid(work: Path, *args: str, step_s: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC, "FAKE_STEP_S": str(step_s)}
    return subprocess.Popen(
        [sys.executable, "-c", GRID_PROCESS, str(FAKE_WORKER), "grid", *args],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )


def wait_until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def statuses(folder: Path) -> dict[str, str | None]:
    rec = read_record(folder)
    runs = rec["runs"] if rec else []
    return {r: RunDir(folder / r).status() for r in runs}


def mid_grid(folder: Path, evidence: str = "progress.json") -> bool:
    """Two runs completed and another one training (`evidence` written but no result)."""
    found = statuses(folder)
    training = [r for r, s in found.items() if s is None and (folder / r / evidence).exists()]
    return list(found.values()).count("completed") >= 2 and bool(training)


def test_ctrl_c_stops_cleanly_keeps_finished_runs_and_says_how_to_resume(fake: Path) -> None:
    proc = start_grid(fake, *SMALL, "--out", "g", step_s=0.02)
    try:
        wait_until(lambda: mid_grid(fake / "g"))
        proc.send_signal(signal.SIGINT)  # to the grid process only, as a forwarded Ctrl-C
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, out
    assert "rethink grid --resume g" in out
    found = statuses(fake / "g")
    assert "stopped" in found.values()  # the running ones stopped themselves
    assert None in found.values()  # queued runs never started
    assert set(found.values()) <= {"completed", "stopped", None}

    code, out = grid("--resume", "g")
    assert code == 0, out
    assert set(statuses(fake / "g").values()) == {"completed"}


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="workers die with the grid on Linux"
)
def test_after_kill_9_resume_completes_the_grid_without_touching_finished_runs(
    fake: Path,
) -> None:
    proc = start_grid(fake, *SMALL, "--out", "g", step_s=0.02)
    try:
        wait_until(lambda: mid_grid(fake / "g", "checkpoint.npz"))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    before = statuses(fake / "g")
    finished = [r for r, s in before.items() if s == "completed"]
    unfinished = [r for r, s in before.items() if s is None]
    assert finished and unfinished
    kept = {r: snapshot(fake / "g" / r) for r in finished}
    interrupted = [r for r in unfinished if (fake / "g" / r / "checkpoint.npz").exists()]
    assert interrupted  # killed mid-run, after a checkpoint
    # The workers died with the grid: nothing keeps writing into the folder.
    for r in before:
        for call in calls(fake / "g" / r):
            wait_until(lambda pid=call["pid"]: not _alive(pid), timeout=5)

    code, out = grid("--resume", "g")
    assert code == 0, out
    assert set(statuses(fake / "g").values()) == {"completed"}
    assert {r: snapshot(fake / "g" / r) for r in finished} == kept  # bytes and mtimes
    for r in interrupted:
        assert RunDir(fake / "g" / r).result()["resumed_from"] > 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by its killed parent's reaper) counts as dead.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


# ---- the real thing ------------------------------------------------------------------


def _real_run_available() -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "rethink", "run", "--help"],
        env={**os.environ, "PYTHONPATH": SRC},
        capture_output=True,
        timeout=120,
    )
    return probe.returncode == 0


@pytest.mark.slow
def test_real_smoke_grid_on_cifar10_then_plot_and_report(
    cifar_archive: Path, tmp_path: Path
) -> None:
    """The smoke preset's MLP 1x512 row with a real `rethink run` worker on this
    process's backend (on a CPU, the five as one pack: one worker training them one
    after another); then Figure 1 and the report from its folder."""
    if not _real_run_available():
        pytest.skip("`rethink run` is not available")
    out = tmp_path / "smoke"
    proc = subprocess.run(
        [sys.executable, "-m", "rethink", "grid", "--preset", "smoke", "--models", "mlp_1x512",
         "--data", str(cifar_archive), "--out", str(out), "--jobs", "2"],
        env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rec = read_record(out)
    assert rec is not None and len(rec["runs"]) == 5
    for run_id in rec["runs"]:
        rd = RunDir(out / run_id)
        result = rd.result()
        assert result["status"] == "completed", (run_id, result)
        assert result["step"] == rd.spec().steps == 40
        assert (
            rd.env()["backend"] == rec["backend"] == os.environ.get("KERAS_BACKEND", "tensorflow")
        )
        assert len(rd.metrics_rows()) >= 4  # a row every 10 of the 40 steps
        assert rd.checkpoint_path.is_file()
        log = (rd.path / "worker.log").read_text()
        if "packed with" in log:  # its pack's worker.log, in the first run's folder
            log = (out / rd.env()["pack"][0] / "worker.log").read_text()
        assert f"{run_id}: completed at step 40" in log
    assert f"rethink plot {out}" in proc.stdout

    env = {**os.environ, "PYTHONPATH": SRC}
    plot = subprocess.run(
        [sys.executable, "-m", "rethink", "plot", str(out)], env=env, capture_output=True, text=True
    )
    assert plot.returncode == 0, plot.stdout[-2000:] + plot.stderr[-2000:]
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"figure1a.png", "figure1a.pdf"} <= figures
    assert all((out / "figures" / name).stat().st_size > 1000 for name in figures)
    report = subprocess.run(
        [sys.executable, "-m", "rethink", "report", str(out), "--format", "json"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-2000:]
    data = json.loads(report.stdout)
    assert sorted(r["run_id"] for r in data["runs"]) == sorted(rec["runs"])
    assert all(r["status"] == "completed" for r in data["runs"])


def test_engine_options_travel_to_every_run_in_its_spec(fake: Path) -> None:
    code, out = grid(*SMALL, "--out", "g", "--steps-per-execution", "4", "--loop", "keras")
    assert code == 0, out
    specs = [RunDir(p).spec() for p in sorted((fake / "g").iterdir()) if p.is_dir()]
    assert len(specs) == 6
    expected = {"steps_per_execution": 4, "loop": "keras"}
    assert all(s is not None and s.extra == expected for s in specs)


def test_auto_jobs_share_gpus_and_split_cpus() -> None:
    assert grid_folder.auto_jobs(("0",), cpus=64) == grid_folder.JOBS_PER_GPU
    assert grid_folder.auto_jobs(("0", "3"), cpus=2) == 2 * grid_folder.JOBS_PER_GPU
    assert grid_folder.auto_jobs((), cpus=2) == 2
    assert grid_folder.auto_jobs((), cpus=1) == 1


@pytest.mark.parametrize(
    ("visible", "expected"),
    [("0,1", ("0", "1")), ("2", ("2",)), ("", ()), ("-1", ()), (" 1 , 3 ", ("1", "3"))],
)
def test_visible_gpus_honours_cuda_visible_devices(
    monkeypatch: pytest.MonkeyPatch, visible: str, expected: tuple[str, ...]
) -> None:
    from rethink.base.platform import visible_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert visible_gpus() == expected


def test_visible_gpus_counts_nvidia_smi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rethink.base.platform import visible_gpus

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert visible_gpus() == ()  # no nvidia-smi: a CPU machine
    tool = tmp_path / "nvidia-smi"
    tool.write_text(
        "#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: GPU-a)'\necho 'GPU 1: NVIDIA H100 (UUID: GPU-b)'\n"
    )
    tool.chmod(0o755)
    assert visible_gpus() == ("0", "1")
    tool.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert visible_gpus() == ()


def _fake_nvidia_smi(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Two NVIDIA GPUs seen by nvidia-smi (a script on PATH) that no framework here sees."""
    folder.mkdir()
    tool = folder / "nvidia-smi"
    tool.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: a)'\necho 'GPU 1: NVIDIA H100'\n")
    tool.chmod(0o755)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_gpu_unseen_warning_only_for_a_cpu_backend_beside_gpus() -> None:
    from rethink.base.platform import gpu_unseen_warning

    assert gpu_unseen_warning("jax", "CPU", ()) is None  # a CPU machine
    assert gpu_unseen_warning("jax", "NVIDIA H100", ("0",)) is None  # the backend sees it
    line = gpu_unseen_warning("jax", "CPU", ("0", "1"))
    assert line is not None and "\n" not in line
    assert "2 NVIDIA GPU(s) visible" in line and "jax backend" in line
    assert "pip install 'rethink-generalization[jax-cuda12]'" in line
    assert "[tensorflow-cuda]" in (gpu_unseen_warning("tensorflow", "CPU", ("0",)) or "")


def test_a_grid_warns_once_when_the_backend_does_not_see_the_gpus(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = os.environ.get("KERAS_BACKEND", "jax")
    _fake_nvidia_smi(monkeypatch, fake.parent / "bin")
    code, out = grid(
        "--preset", "smoke", "--models", "mlp_1x512", "--corruptions", "true_labels",
        "--backend", backend, "--out", "g",
    )  # fmt: skip
    assert code == 0, out
    # The probe ran the real backend in a subprocess: it sees no GPU on this machine.
    assert out.count("warning: 2 NVIDIA GPU(s) visible") == 1
    assert f"the {backend} backend sees none" in out


def test_offline_without_data_the_grid_fails_in_one_line_and_creates_nothing(
    fake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RETHINK_DATA")
    monkeypatch.setenv("KERAS_HOME", str(fake.parent / "keras-home"))  # no cached download
    for proxy in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")  # nothing listens: offline, at once
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    result = runner.invoke(
        cli.app, ["grid", "--preset", "smoke", "--models", "mlp_1x512", "--out", "g"]
    )
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "--data PATH" in error[0] and "RETHINK_DATA=PATH" in error[0]
    assert list(fake.iterdir()) == []  # no grid folder, no run folder


def test_no_save_model_reaches_every_worker_and_does_not_stay_set(fake: Path) -> None:
    before = os.environ.get("RETHINK_SAVE_MODEL")
    code, out = grid(
        "--preset", "smoke", "--models", "mlp_1x512", "--corruptions", "true_labels",
        "--no-save-model", "--out", "g",
    )  # fmt: skip
    assert code == 0, out
    (call,) = calls(fake / "g" / "mlp_1x512-true_labels-s0")
    assert call["env"]["RETHINK_SAVE_MODEL"] == "0"  # `rethink run` reads it as --no-save-model
    assert os.environ.get("RETHINK_SAVE_MODEL") == before


def test_a_compact_grid_keeps_no_checkpoint_or_model_of_a_finished_run(fake: Path) -> None:
    small = ["--preset", "smoke", "--models", "mlp_1x512", "--corruptions", "true_labels,gaussian"]
    code, out = grid(*small, "--compact", "--out", "g")
    assert code == 0, out
    assert read_record(fake / "g")["compact"] is True
    for run_id in ("mlp_1x512-true_labels-s0", "mlp_1x512-gaussian-s0"):
        assert not (fake / "g" / run_id / "checkpoint.npz").exists()
        assert (fake / "g" / run_id / "result.json").exists()
        (call,) = calls(fake / "g" / run_id)
        assert call["env"]["RETHINK_SAVE_MODEL"] == "0"  # implies --no-save-model
    target = fake / "g" / "mlp_1x512-gaussian-s0"
    (target / "result.json").unlink()  # as if it had been interrupted
    code, out = grid("--resume", "g")  # grid.json keeps it compact
    assert code == 0, out
    assert len(calls(target)) == 2 and not (target / "checkpoint.npz").exists()


def test_seeds_listed_and_regularized_rows_only(fake: Path) -> None:
    # Seeds 1 and 2 without 0: a second slot adding seeds to a grid trained before.
    code, out = grid("--dry-run", "--models", "inception", "--seeds", "1,2")
    assert code == 0, out
    assert "10 runs" in out and "inception-gaussian-s2" in out and "-s0" not in out
    # Table 1's regularized rows only: no run without weight decay and crop.
    code, out = grid("--dry-run", "--preset", "table1", "--models", "alexnet", "--no-plain")
    assert code == 0, out
    assert "alexnet-true_labels-wd0.0005-s0" in out and "alexnet-true_labels-aug-s0" in out
    assert "alexnet-true_labels-s0" not in out and "alexnet-random_labels-s0" not in out
    code, out = grid("--dry-run", "--models", "alexnet", "--no-plain")
    assert code == 2 and "--no-plain leaves no run" in out
    code, out = grid("--dry-run", "--seeds", "1,x")
    assert code == 2 and "--seeds takes a count or the seeds" in out
    code, out = grid("--dry-run", "--models", "alexnet", "--seeds", "2-2,4")
    assert code == 0 and "alexnet-gaussian-s2" in out and "alexnet-gaussian-s4" in out
    assert "-s0" not in out and "-s3" not in out
