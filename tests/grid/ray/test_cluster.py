"""`rethink grid --executor ray`: connecting, the command's errors, a real cluster.

Without a cluster: resource requests, Ray imported only for the ray executor,
and the CLI's one-line errors (Ray missing, unreachable cluster, bad options).
The board and the shipper are tested in test_shipping.py, one attempt on a
node in test_task.py.

With Ray (slow): a head node and a worker node started by
`helpers/ray_cluster.py` in a private network namespace, and real `rethink
run` workers on the shared CIFAR-10 archive: every run completes on both
nodes; too small a cluster is refused; Ctrl-C stops and a resume completes;
killing the worker node mid-run still completes the grid, the killed run
continuing on the head node from its last shipped checkpoint.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rethink.cli as cli
from rethink.grid.ray.cluster import ClusterError, check_request, one_line, runs_per_node
from rethink.grid.ray.task import MARKER
from rethink.run.folder import CHECKPOINT, RunDir
from tests.helpers.backend import current_backend
from tests.helpers.ray_cluster import RayCluster

cli._register()


# ---- without Ray ---------------------------------------------------------------------


def test_resource_requests() -> None:
    assert runs_per_node({"CPU": 8.0, "GPU": 2.0}, gpus=0.5, cpus=1) == 4
    assert runs_per_node({"CPU": 3.0, "GPU": 2.0}, gpus=0.5, cpus=1) == 3
    assert runs_per_node({"CPU": 8.0}, gpus=1, cpus=1) == 0
    assert runs_per_node({"CPU": 1.0}, gpus=0, cpus=2) == 0
    check_request(0.25, 1)
    check_request(2, 4)
    for gpus, cpus in ((1.5, 1), (-1, 1), (0, 0)):
        with pytest.raises(ClusterError):
            check_request(gpus, cpus)


def test_an_error_from_ray_is_told_in_one_short_line() -> None:
    assert one_line(ConnectionError("refused\n  at line 3\n")) == "ConnectionError: refused"
    assert one_line(TimeoutError()) == "TimeoutError"
    long = one_line(RuntimeError("x" * 1000))
    assert len(long) == 300 and long.endswith("...")


def test_ray_is_imported_only_for_the_ray_executor() -> None:
    code = (
        "import sys, rethink.grid.ray.cluster, rethink.grid.ray.launcher, rethink.grid.ray.task, "
        "rethink.grid.ray.shipping, rethink.cli.grid, rethink.grid.executor; "
        "print('ray' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---- the command's errors, without a cluster -------------------------------------------

SMALL = ["grid", "--preset", "smoke", "--models", "mlp_1x512", "--corruptions", "true_labels"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, [*SMALL, *args])
    return result.exit_code, result.output


def test_without_ray_the_error_names_the_extra(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails
    code, out = _invoke("--executor", "ray", "--out", "g", "--address", "10.9.8.7:6379")
    assert code == 2, out
    assert "pip install 'rethink-generalization[ray]'" in out and len(out.strip().splitlines()) == 1
    assert not (work / "g").exists()


def test_an_unreachable_cluster_is_named_quickly(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed")
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    monkeypatch.setenv("RAY_ADDRESS", address)  # the default address
    # Quickly: named by the connection check, before ray.init (which may wait long) is tried.
    monkeypatch.setattr(ray, "init", lambda *a, **kw: pytest.fail("ray.init was tried"))
    code, out = _invoke("--executor", "ray", "--out", "g")
    assert code == 2, out
    assert f"cannot reach the Ray cluster at {address}" in out
    assert len(out.strip().splitlines()) == 1
    assert not (work / "g").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "ray", "--gpus", "0,1"], "give --gpus-per-run"),
        (["--address", "10.0.0.1:6379"], "--address needs --executor ray"),
        (["--cpus-per-run", "2"], "--cpus-per-run needs --executor ray"),
        (["--executor", "ray", "--gpus-per-run", "1.5"], "above 1 give whole GPUs"),
        (["--executor", "ray", "--cpus-per-run", "0"], "--cpus-per-run must be more than 0"),
        (["--executor", "ray", "--address", "nowhere"], "bad Ray address"),
    ],
)
def test_bad_executor_options_are_one_line_exit_2(
    work: Path, args: list[str], message: str
) -> None:
    if "nowhere" in args:
        pytest.importorskip("ray", reason="Ray is not installed")
    code, out = _invoke(*args, "--out", "g")
    assert code == 2, out
    assert message in out and len(out.strip().splitlines()) == 1
    assert not (work / "g").exists()


def test_a_dry_run_needs_no_cluster(work: Path) -> None:
    code, out = _invoke("--executor", "ray", "--address", "10.9.8.7:1", "--dry-run")
    assert code == 0, out
    assert "mlp_1x512-true_labels-s0" in out


# ---- a real two-node cluster -------------------------------------------------------------

LONG = ["--corruptions", "true_labels,random_labels", "--steps", "600"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    c = RayCluster.start()
    try:
        yield c
    finally:
        c.stop()


def _grid(
    cluster: RayCluster, archive: Path, out: Path, *args: str, ship: bool = False
) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "rethink", *SMALL[:5], *args,
        "--data", str(archive), "--out", str(out), "--backend", current_backend(),
        "--executor", "ray", "--address", cluster.address,
    ]  # fmt: skip
    env = cluster.env(RETHINK_RAY_FILES="ship" if ship else "auto")
    return cluster.popen(argv, log=out.parent / f"{out.name}.log", env=env)


def _finish(proc: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> tuple[int, str]:
    try:
        code = proc.wait(timeout=timeout)
    finally:
        proc.kill()
    return code, log.read_text(errors="replace")


def _wait_until(check: Callable[[], object], proc: subprocess.Popen[bytes], log: Path) -> object:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if proc.poll() is not None:
            pytest.fail(f"the grid ended first: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"timed out: {log.read_text(errors='replace')[-3000:]}")


def _env(run_dir: Path) -> dict:
    return RunDir(run_dir).env() or {}


def _mid_run(out: Path, node: str | None = None) -> list[Path]:
    """Runs that are training (a checkpoint here, no result yet), on `node` if given."""
    return [
        d
        for d in sorted(out.glob("*-s0"))
        if (d / CHECKPOINT).exists()
        and not (d / "result.json").exists()
        and (node is None or _env(d).get("node") == node)
    ]


def _metrics_steps(run_dir: Path) -> list[int]:
    return [int(r["step"] or 0) for r in RunDir(run_dir).metrics_rows()]


@pytest.mark.slow
def test_a_smoke_grid_runs_on_both_nodes(
    cluster: RayCluster, cifar_archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "smoke"
    proc = _grid(cluster, cifar_archive, out, "--corruptions", "true_labels,random_labels,shuffled_pixels,random_pixels,gaussian")  # fmt: skip
    code, log = _finish(proc, tmp_path / "smoke.log")
    assert code == 0, log[-3000:]
    runs = sorted(d for d in out.iterdir() if d.is_dir())
    assert len(runs) == 5
    nodes = set()
    for d in runs:
        rd = RunDir(d)
        assert rd.result()["status"] == "completed" and rd.result()["step"] == 40, d
        env = rd.env()
        assert env["backend"] == current_backend()
        assert env["node_ip"] == "127.0.0.1"
        nodes.add(env["node"])
        log_text = (d / "worker.log").read_text()
        assert "rethink grid starts on Ray node 127.0.0.1" in log_text
        assert "in the grid folder" in log_text  # the nodes see the folder: no shipping
        assert not rd.progress_path.exists()
    assert len(nodes) == 2 and cluster.worker_node_id() in nodes
    assert not (out / MARKER).exists()
    assert f"rethink plot {out}" in log


@pytest.mark.slow
def test_a_cluster_too_small_for_one_run_is_refused(
    cluster: RayCluster, cifar_archive: Path, tmp_path: Path
) -> None:
    for args, need in ((["--cpus-per-run", "2"], "0 GPU and 2 CPU"), (["--gpus-per-run", "1"], "1 GPU and 1 CPU")):  # fmt: skip
        out = tmp_path / "small"
        code, log = _finish(_grid(cluster, cifar_archive, out, *args), tmp_path / "small.log", 120)
        assert code == 2, log
        assert f"has no node for one run of {need}" in log and "largest node: 0 GPU, 1 CPU" in log
        assert not out.exists()


@pytest.mark.slow
def test_ctrl_c_stops_the_remote_runs_and_a_resume_completes_them(
    cluster: RayCluster, cifar_archive: Path, tmp_path: Path
) -> None:
    out, log = tmp_path / "stop", tmp_path / "stop.log"
    proc = _grid(cluster, cifar_archive, out, *LONG, ship=True)
    (running, *_) = _wait_until(lambda: _mid_run(out), proc, log)  # type: ignore[misc]
    proc.send_signal(signal.SIGINT)  # to the driver, as a Ctrl-C
    code, text = _finish(proc, log, timeout=120)
    assert code == 130, text[-3000:]
    assert f"rethink grid --resume {out}" in text
    results = {d.name: RunDir(d).result() or {} for d in sorted(out.glob("*-s0"))}
    stopped = results[running.name]  # its worker got the SIGINT and stopped cleanly
    assert stopped["status"] == "stopped" and 0 < stopped["step"] < 600, results
    assert (running / CHECKPOINT).exists()
    # The other run stopped too, or finished first, or never started: nothing failed.
    assert {r.get("status") for r in results.values()} <= {"stopped", "completed", None}

    argv = [sys.executable, "-m", "rethink", "grid", "--resume", str(out), "--executor", "ray",
            "--address", cluster.address]  # fmt: skip
    code, text = _finish(cluster.popen(argv, log=tmp_path / "resume.log"), tmp_path / "resume.log")
    assert code == 0, text[-3000:]
    for d in sorted(out.glob("*-s0")):
        assert RunDir(d).result()["status"] == "completed"
        steps = _metrics_steps(d)
        assert steps == sorted(set(steps)) and steps[-1] == 600
    assert _env(running)["resumed_from_step"] > 0  # from the checkpoint kept at the stop


@pytest.mark.slow
def test_a_dead_node_s_run_continues_elsewhere_from_its_last_checkpoint(
    cluster: RayCluster, cifar_archive: Path, tmp_path: Path
) -> None:
    """Last in this module: the worker node stays dead."""
    out, log = tmp_path / "dead", tmp_path / "dead.log"
    worker = cluster.worker_node_id()
    proc = _grid(cluster, cifar_archive, out, *LONG, ship=True)
    (victim,) = _wait_until(lambda: _mid_run(out, worker), proc, log)  # type: ignore[misc]
    cluster.kill_worker()
    code, text = _finish(proc, log)
    assert code == 0, text[-3000:]
    for d in sorted(out.glob("*-s0")):
        assert RunDir(d).result()["status"] == "completed", d
        steps = _metrics_steps(d)
        assert steps == sorted(set(steps)) and steps[-1] == 600
    env = _env(victim)
    assert env["node"] != worker  # finished on the head node
    assert env["resumed_from_step"] >= 31  # from a shipped checkpoint (an epoch is 31 steps)
    assert (victim / "worker.log").read_text().count("shipping its files back") == 2
