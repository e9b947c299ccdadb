"""Connecting to a Ray cluster for a grid: `connect` checks that one run fits on a node.

    cluster = connect("10.0.0.1:6379", gpus_per_run=0.5)   # ClusterError: one line, no hang
    cluster.capacity, cluster.describe()                    # runs at once; for the live view
    RayLauncher(cluster)                                    # rethink.grid.ray.launcher

This package is the one that imports Ray, and only inside its functions, when
a grid runs with `--executor ray` (pip install 'rethink-generalization[ray]').
Each run is one Ray task asking for `gpus_per_run` GPUs (a fraction shares a
GPU) and `cpus_per_run` CPUs; `connect` refuses a cluster without a node for
one such run, and an address where nothing answers, naming it within
`CONNECT_TIMEOUT_S`, before `ray.init` (which may wait long) is tried.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from rethink.base.distribution import install_hint

CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = install_hint("ray")


class ClusterError(RuntimeError):
    """The cluster cannot take the grid: Ray missing, unreachable, too small. One line."""


@dataclass(frozen=True)
class Cluster:
    """A connected Ray cluster and what each run asks of it."""

    address: str
    nodes: int
    capacity: int  # runs the cluster holds at once
    gpus_per_run: float
    cpus_per_run: float

    def describe(self) -> str:
        gpus = f"{self.gpus_per_run:g} GPU, " if self.gpus_per_run else ""
        return (
            f"Ray cluster {self.address} ({self.nodes} nodes, {gpus}"
            f"{self.cpus_per_run:g} CPU per run)"
        )


def check_request(gpus_per_run: float | None, cpus_per_run: float) -> None:
    """Reject resource requests Ray cannot grant (ClusterError)."""
    if gpus_per_run is not None and (not math.isfinite(gpus_per_run) or gpus_per_run < 0):
        raise ClusterError(f"--gpus-per-run must be 0 or more, got {gpus_per_run:g}")
    if gpus_per_run is not None and gpus_per_run > 1 and not float(gpus_per_run).is_integer():
        raise ClusterError(
            f"--gpus-per-run {gpus_per_run:g}: above 1 give whole GPUs (fractions share one GPU)"
        )
    if not math.isfinite(cpus_per_run) or cpus_per_run <= 0:
        raise ClusterError(f"--cpus-per-run must be more than 0, got {cpus_per_run:g}")


def runs_per_node(resources: Mapping[str, float], gpus: float, cpus: float) -> int:
    """How many runs asking for `gpus` and `cpus` fit on a node with `resources`."""
    fits = math.floor(resources.get("CPU", 0.0) / cpus + 1e-9)
    if gpus > 0:
        fits = min(fits, math.floor(resources.get("GPU", 0.0) / gpus + 1e-9))
    return max(0, fits)


def connect(address: str | None, gpus_per_run: float | None, cpus_per_run: float = 1.0) -> Cluster:
    """Connect this process to a Ray cluster and check that one run fits on a node.

    `address`: HOST:PORT (the head's GCS port), ray://HOST:PORT (Ray Client), or
    None for $RAY_ADDRESS, else the cluster running on this machine ("auto").
    `gpus_per_run` None: 1 if the cluster has GPUs, else 0.
    """
    check_request(gpus_per_run, cpus_per_run)
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--executor ray needs Ray: {INSTALL_HINT}") from None
    address = address or os.environ.get("RAY_ADDRESS") or "auto"
    if address not in ("auto", "local"):
        _check_reachable(address)
    try:
        ray.init(
            address=address,
            logging_level=logging.ERROR,
            log_to_driver=False,  # worker output goes to worker.log; keep the table clean
            ignore_reinit_error=True,
        )
    except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = "on this machine (start one with `ray start --head`)" if address == "auto" else ""
        raise ClusterError(
            f"cannot connect to the Ray cluster at {address} {where}: {one_line(e)}".replace(
                "  ", " "
            )
        ) from None
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    total = ray.cluster_resources()
    gpus = gpus_per_run if gpus_per_run is not None else (1.0 if total.get("GPU", 0) > 0 else 0.0)
    fits = [runs_per_node(r, gpus, cpus_per_run) for r in nodes]
    if not any(fits):
        biggest: dict[str, float] = max(
            nodes, key=lambda r: (r.get("GPU", 0), r.get("CPU", 0)), default={}
        )
        raise ClusterError(
            f"the Ray cluster at {address} has no node for one run of {gpus:g} GPU and "
            f"{cpus_per_run:g} CPU (largest node: {biggest.get('GPU', 0):g} GPU, "
            f"{biggest.get('CPU', 0):g} CPU; cluster: {total.get('GPU', 0):g} GPU, "
            f"{total.get('CPU', 0):g} CPU); lower --gpus-per-run / --cpus-per-run or add nodes"
        )
    return Cluster(address, len(nodes), sum(fits), gpus, cpus_per_run)


def _check_reachable(address: str) -> None:
    """Fail fast, naming the address, when nothing answers there (ray.init may wait long)."""
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"bad Ray address {address!r}: give HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError) else e.strerror or str(e)
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {why}") from None


def one_line(e: BaseException) -> str:
    """An exception as one short line."""
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    text = lines[0] if lines else ""
    text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return text if len(text) <= 300 else text[:297] + "..."
