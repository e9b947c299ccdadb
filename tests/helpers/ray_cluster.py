"""A real two-node Ray cluster for tests, on loopback only, inside a private network namespace.

    cluster = RayCluster.start()      # pytest.skip with the reason where it cannot run
    try:
        proc = cluster.popen([sys.executable, "-m", "rethink", "grid", "--executor", "ray",
                              "--address", cluster.address, ...])
        cluster.kill_worker()         # the second node dies, as a machine would
    finally:
        cluster.stop()                # no Ray process outlives it

On Linux, Ray gives its nodes the machine's network address even when told
127.0.0.1; in a network namespace that has only loopback (`unshare -n`, then
`ip link set lo up`; needs root, as in CI) it falls back to 127.0.0.1. A
holder process keeps the namespace open; the head node (`ray start --head`),
the worker node (`ray start --address ... --block`) and the commands under
test enter it with `nsenter --net`. Only the network is private: files and
process ids are shared with the test, which reads results on disk and kills
processes directly. Every process started here is in a process group of its
own that `stop` kills (Ray's daemons keep their starter's group), so `ray
stop`, which would stop every Ray on the machine, is never needed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import rethink

SRC = str(Path(rethink.__file__).resolve().parents[1])
PORT = 6379  # free: the namespace is private
NODE_START_S = 120.0  # a node starts in 10-15 s on 2 busy cores; allow for CI


def skip_reason() -> str | None:
    """Why a namespaced Ray cluster cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "Ray cluster tests need Linux network namespaces"
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install 'rethink-generalization[ray]')"
    if not (Path(sys.executable).parent / "ray").is_file():
        return "the `ray` command is not installed beside this Python"
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not available"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        return "network namespaces are not available (`unshare -n true` fails; needs root)"
    return None


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process, from /proc."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name: state, ppid, pgrp
        table.append((int(entry), int(fields[1]), int(fields[2])))
    return table


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for pid, ppid, _ in _processes():
        kids.setdefault(ppid, []).append(pid)
    return kids


def _group(pgid: int) -> list[int]:
    return [pid for pid, _, group in _processes() if group == pgid]


def kill_tree(*roots: int) -> None:
    """SIGKILL the processes of the groups led by `roots`, and all their descendants."""
    kids = _children()
    todo = [p for r in roots for p in (r, *_group(r))]
    doomed: set[int] = set()
    while todo:
        pid = todo.pop()
        if pid not in doomed:
            doomed.add(pid)
            todo.extend(kids.get(pid, []))
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


class RayCluster:
    """A head node and one worker node (1 CPU each) at 127.0.0.1 in a private namespace."""

    def __init__(self, holder: subprocess.Popen[bytes], temp: Path) -> None:
        self.holder = holder
        self.temp = temp
        self.address = f"127.0.0.1:{PORT}"
        self.head: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self._groups: list[int] = [holder.pid]

    @classmethod
    def start(cls, cpus_per_node: int = 1) -> RayCluster:
        reason = skip_reason()
        if reason:
            pytest.skip(reason)
        # Short: Ray's socket paths live below it and must fit in 107 characters.
        temp = Path(tempfile.mkdtemp(prefix="rethink-ray-", dir="/tmp"))
        (temp / "tmp").mkdir()
        holder = subprocess.Popen(
            ["unshare", "-n", "sh", "-c", "ip link set lo up && exec sleep infinity"],
            start_new_session=True,
        )
        cluster = cls(holder, temp)
        try:
            cluster._wait_for_namespace()
            cluster.head = cluster.popen(
                [cluster._ray(), "start", "--head", "--port", str(PORT),
                 "--num-cpus", str(cpus_per_node), "--include-dashboard=false",
                 "--disable-usage-stats", "--temp-dir", str(temp / "ray"),
                 "--object-store-memory", str(100 * 2**20)],
                log=temp / "head.log",
            )  # fmt: skip
            if cluster.head.wait(timeout=NODE_START_S) != 0:
                raise RuntimeError(f"ray start --head failed: {cluster.log('head')}")
            cluster.start_worker(cpus_per_node)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _ray(self) -> str:
        return str(Path(sys.executable).parent / "ray")

    def _wait_for_namespace(self) -> None:
        deadline = time.monotonic() + 20
        ours = os.readlink("/proc/self/ns/net")
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{self.holder.pid}/cmdline").read_bytes()
                if (
                    cmd.startswith(b"sleep")
                    and os.readlink(f"/proc/{self.holder.pid}/ns/net") != ours
                ):
                    return
            if self.holder.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("the network namespace did not come up")

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of the cluster's processes and of commands run in it."""
        env = dict(os.environ)
        env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
            PYTHONUNBUFFERED="1",
            RAY_USAGE_STATS_ENABLED="0",
            # Ray >= 2.52 turns token auth on for `ray start --head` when ~/.ray/auth_token
            # exists, but not for `ray start --address`: the worker then cannot join. The
            # test cluster lives in a private network namespace; no token.
            RAY_AUTH_MODE="disabled",
            TMPDIR=str(self.temp / "tmp"),  # runs' scratch folders, removed by `stop`
            # Notice a dead node within about 2 s instead of 15.
            RAY_health_check_period_ms="500",
            RAY_health_check_timeout_ms="1000",
            RAY_health_check_failure_threshold="3",
        )
        env.update(extra)
        return env

    def popen(
        self, argv: list[str], log: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `argv` inside the namespace, in a new process group that `stop` kills."""
        out = open(log, "ab") if log is not None else subprocess.PIPE  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env or self.env(),
                start_new_session=True,
            )
        finally:
            if log is not None:
                out.close()  # type: ignore[union-attr]
        self._groups.append(proc.pid)
        return proc

    def start_worker(self, cpus: int = 1) -> None:
        """(Re)start the second node and wait until it has joined."""
        log = self.temp / "worker.log"
        log.write_bytes(b"")
        self.worker = self.popen(
            [self._ray(), "start", "--address", self.address, "--num-cpus", str(cpus), "--block"],
            log=log,
        )
        deadline = time.monotonic() + NODE_START_S
        while "Ray runtime started" not in self.log("worker"):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker node did not start: {self.log('worker')}")
            time.sleep(0.2)

    def worker_node_id(self) -> str:
        """The Ray node id of the worker node (from its raylet's command line)."""
        assert self.worker is not None
        for pid in _group(self.worker.pid):
            with contextlib.suppress(OSError):
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                for arg in args:
                    if arg.startswith(b"--node_id="):
                        return arg.split(b"=", 1)[1].decode()
        raise RuntimeError("the worker node's raylet is not running")

    def kill_worker(self) -> None:
        """SIGKILL every process of the worker node at once, as if its machine died."""
        assert self.worker is not None
        kill_tree(self.worker.pid)
        self.worker.wait(timeout=30)

    def log(self, name: str) -> str:
        path = self.temp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        kill_tree(*self._groups)
        for proc in (self.holder, self.head, self.worker):
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
        shutil.rmtree(self.temp, ignore_errors=True)
