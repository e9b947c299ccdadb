"""Starting workers: the real worker's command, its environment, its process group and
log, its signals, and what its exit says when it wrote no result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rethink.grid.launch import (
    WorkerProcess,
    exit_reason,
    log_tail,
    rethink_worker,
    share_cpus,
    start_worker,
    worker_env,
)


def test_real_worker_command_is_rethink_run_resuming() -> None:
    argv = rethink_worker(Path("g/r/spec.json"), Path("g"), "torch")
    assert argv[:4] == [sys.executable, "-m", "rethink", "run"]
    assert argv[argv.index("--spec") + 1] == str(Path("g/r/spec.json"))
    assert argv[argv.index("--out") + 1] == "g"
    assert argv[argv.index("--backend") + 1] == "torch"
    assert "--resume" in argv and "--quiet" in argv


def test_a_worker_runs_this_rethink_on_its_backend_without_preallocating_gpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = worker_env("torch", {"RETHINK_SAVE_MODEL": "0"})
    assert env["KERAS_BACKEND"] == "torch" and env["RETHINK_SAVE_MODEL"] == "0"
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and env["PYTHONUNBUFFERED"] == "1"
    source = str(Path(__import__("rethink").__file__).resolve().parents[1])
    assert env["PYTHONPATH"].split(os.pathsep) == [source, "/elsewhere"]
    out = subprocess.run(
        [sys.executable, "-c", "import rethink; print(rethink.__file__)"],
        env=env, capture_output=True, text=True, check=True, cwd="/",
    )  # fmt: skip
    assert Path(out.stdout.strip()).resolve().parents[1] == Path(source)


def test_cpu_workers_share_the_cores_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    env: dict[str, str] = {"TF_NUM_INTRAOP_THREADS": "7"}  # the user's choice stands
    share_cpus(env, jobs=4)
    assert env == {"TF_NUM_INTRAOP_THREADS": "7", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    env = {}
    share_cpus(env, jobs=16)
    assert env["OMP_NUM_THREADS"] == "1"


def _read_pid(path: Path, timeout: float = 30.0) -> int:
    """The pid a process wrote to `path`, once it has."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.01)
    return int(path.read_text())


def _ends(pid: int, timeout: float = 10.0) -> bool:
    """Whether process `pid` ends (gone, or a zombie awaiting its reaper) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_worker_leads_its_own_process_group_and_a_kill_reaches_its_children(
    tmp_path: Path,
) -> None:
    child_file = tmp_path / "child.pid"
    script = f"sleep 30 & echo $! > {child_file}; wait"
    proc = start_worker(["sh", "-c", script], dict(os.environ), tmp_path / "worker.log")
    worker = WorkerProcess(proc)
    try:
        assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)
        child = _read_pid(child_file)
        assert os.getpgid(child) == proc.pid
        worker.kill()
        assert proc.wait(timeout=10) == -signal.SIGKILL
        assert _ends(child)
    finally:
        worker.kill()
    assert worker.error is None


def test_a_worker_gets_the_sigint_its_parent_blocks(tmp_path: Path) -> None:
    """A Ray task's process blocks SIGINT, and children inherit the mask."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        proc = start_worker(["sleep", "30"], dict(os.environ), tmp_path / "worker.log")
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    worker = WorkerProcess(proc)
    try:
        worker.interrupt()
        assert proc.wait(timeout=10) == -signal.SIGINT
    finally:
        worker.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """No orphan keeps writing to a folder a resumed grid works on, even after a kill -9."""
    pid_file = tmp_path / "worker.pid"
    code = (
        "import os, time; from pathlib import Path; "
        "from rethink.grid.launch import start_worker; "
        f"p = start_worker(['sleep', '60'], dict(os.environ), Path({str(tmp_path)!r}) / 'w.log'); "
        f"Path({str(pid_file)!r}).write_text(str(p.pid)); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    try:
        worker = _read_pid(pid_file)
        parent.kill()
        parent.wait(timeout=10)
        if not _ends(worker):
            os.kill(worker, signal.SIGKILL)
            pytest.fail("the worker outlived its parent")
    finally:
        parent.kill()


def test_each_attempt_appends_its_header_and_output_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    for word in ("first", "second"):
        proc = start_worker(["sh", "-c", f"echo {word}; echo oops >&2"], dict(os.environ), log)
        assert proc.wait(timeout=10) == 0
    text = log.read_text()
    assert text.count("rethink grid starts: sh -c echo") == 2
    assert text.index("first") < text.index("second")
    assert log_tail(log) == "second | oops"  # the latest attempt only, header left out


def test_log_tail_keeps_the_last_lines_short(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    assert log_tail(log) == ""  # none yet
    log.write_text(
        "\n=== 2024 rethink grid starts: x\n" + "".join(f"line {i}\n\n" for i in range(9))
    )
    assert log_tail(log) == "line 6 | line 7 | line 8"
    log.write_text("x" * 1000)
    assert log_tail(log, limit=50) == "..." + "x" * 50


def test_exit_reason_names_the_signal_and_suspects_memory_for_a_kill() -> None:
    assert exit_reason(-signal.SIGKILL) == (
        "worker killed by SIGKILL (out of memory?) without writing result.json"
    )
    assert exit_reason(-signal.SIGSEGV).startswith("worker killed by SIGSEGV without")
    assert exit_reason(3) == "worker exited with code 3 without writing result.json"
    assert exit_reason(0) == "worker exited 0 without writing result.json"
