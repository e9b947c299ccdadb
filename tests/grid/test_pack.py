"""A grid's packs (`rethink grid --pack`): which runs share a worker, and that it changes no number.

The executor groups queued runs that can share one step (same model and
protocol: `rethink.train.pack.pack_key`) into one attempt, counts a pack as
one of its --jobs, and stops it with one SIGINT; the real worker trains them
as one pack (`rethink run --spec A --spec B ...`), each into its own folder,
with the numbers of the same runs trained one by one.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rethink.grid.executor import Executor
from rethink.grid.launch import Attempt, LocalLauncher, rethink_pack_worker
from rethink.grid.preflight import AUTO_PACK, GridError, pack_for
from rethink.grid.state import GridState, RunState
from rethink.run.folder import RunDir
from rethink.spec import RunSpec
from rethink.train.outcome import Status
from tests.helpers.image_folders import write_image_folder
from tests.helpers.workers import fake_worker

SRC = Path(__file__).resolve().parents[2] / "src"


class Together:
    """One attempt for several fake workers (one per run), as a pack's one process."""

    def __init__(self, attempts: list[Attempt], interrupts: list[int]) -> None:
        self.attempts, self.interrupts = attempts, interrupts

    def poll(self) -> int | None:
        codes = [a.poll() for a in self.attempts]
        return None if None in codes else max(c for c in codes if c is not None)

    def interrupt(self) -> None:
        self.interrupts.append(len(self.attempts))
        for a in self.attempts:
            a.interrupt()

    def kill(self) -> None:
        for a in self.attempts:
            a.kill()

    @property
    def error(self) -> None:
        return None


class PackingLauncher(LocalLauncher):
    """Fake workers, a pack's runs under one attempt; notes each pack's run ids."""

    def __init__(self) -> None:
        super().__init__(fake_worker())
        self.packed: list[list[str]] = []
        self.interrupts: list[int] = []

    @property
    def packs(self) -> bool:
        return True

    def launch_pack(
        self, runs: list[RunState], run_dirs: list[RunDir], state: GridState
    ) -> Attempt:
        self.packed.append([r.run_id for r in runs])
        attempts = [self.launch(r, d, state) for r, d in zip(runs, run_dirs, strict=True)]
        return Together(attempts, self.interrupts)


def _specs() -> list[RunSpec]:
    kw = {"steps": 10, "log_every": 5}
    return [
        RunSpec(model="mlp_1x512", corruption=c, seed=s, **kw)  # type: ignore[arg-type]
        for c in ("true_labels", "random_labels", "gaussian")
        for s in (0, 1)
    ] + [RunSpec(model="alexnet", corruption="random_labels", **kw)]  # type: ignore[arg-type]


def test_runs_of_one_model_and_protocol_share_an_attempt_and_each_ends_as_its_own(
    tmp_path: Path,
) -> None:
    launcher = PackingLauncher()
    specs = _specs()
    state = Executor(tmp_path, specs, backend="jax", jobs=1, launcher=launcher, pack=4).run()
    mlp = [s.run_id for s in specs if s.model == "mlp_1x512"]
    # One job: one pack at a time, each up to 4 runs of one key, in the grid's order.
    assert launcher.packed == [mlp[:4], mlp[4:]]  # the AlexNet run trains alone
    assert all(r.status == Status.COMPLETED for r in state.runs)
    for spec in specs:
        assert RunDir(tmp_path / spec.run_id).result()["status"] == "completed"


def test_a_pack_counts_as_one_job_and_gets_one_interrupt(tmp_path: Path) -> None:
    launcher = PackingLauncher()
    specs = [RunSpec(model="mlp_1x512", corruption="random_labels", seed=s, steps=10**6,
                     log_every=5) for s in range(3)]  # fmt: skip
    executor = Executor(tmp_path, specs, backend="jax", jobs=1, launcher=launcher, pack=3)
    executor.reporter.update = lambda state: (  # type: ignore[method-assign]
        executor.request_stop() if all(r.step > 0 for r in state.runs) else None
    )
    state = executor.run()
    assert launcher.packed == [[s.run_id for s in specs]]  # all three at once, with jobs=1
    assert launcher.interrupts == [3]  # one SIGINT for the pack, reaching its three workers
    assert [r.status for r in state.runs] == [Status.STOPPED] * 3


class Dies:
    """A pack's worker that trained only `attempt`'s run (or none), then was killed."""

    def __init__(self, attempt: Attempt | None) -> None:
        self.attempt = attempt

    def poll(self) -> int | None:
        code = None if self.attempt is None else self.attempt.poll()
        return -9 if self.attempt is None or code is not None else None

    def interrupt(self) -> None:
        pass

    def kill(self) -> None:
        pass

    @property
    def error(self) -> None:
        return None


class DyingChains(PackingLauncher):
    """Its first pack's worker dies after the pack's first `trained` runs (a chain)."""

    def __init__(self, trained: int) -> None:
        super().__init__()
        self.trained = trained

    def launch_pack(
        self, runs: list[RunState], run_dirs: list[RunDir], state: GridState
    ) -> Attempt:
        if self.packed:
            return super().launch_pack(runs, run_dirs, state)
        self.packed.append([r.run_id for r in runs])
        first = self.launch(runs[0], run_dirs[0], state) if self.trained else None
        return Dies(first)


def test_runs_a_dead_chain_never_reached_train_again_unless_none_of_it_started(
    tmp_path: Path,
) -> None:
    specs = [RunSpec(model="mlp_1x512", corruption="random_labels", seed=s, steps=10,
                     log_every=5) for s in range(3)]  # fmt: skip
    ids = [s.run_id for s in specs]
    launcher = DyingChains(trained=1)
    state = Executor(tmp_path / "a", specs, backend="jax", jobs=1, launcher=launcher, pack=3).run()
    assert launcher.packed == [ids, ids[1:]]  # the two it never reached: in the next pack
    assert [r.status for r in state.runs] == [Status.COMPLETED] * 3
    launcher = DyingChains(trained=0)  # dead before any run started: each run failed, once
    state = Executor(tmp_path / "b", specs, backend="jax", jobs=1, launcher=launcher, pack=3).run()
    assert launcher.packed == [ids]
    assert [r.status for r in state.runs] == [Status.FAILED] * 3
    assert "SIGKILL" in (state.runs[2].result or {}).get("error", "")


def test_pack_off_or_a_launcher_that_cannot_pack_starts_runs_one_by_one(tmp_path: Path) -> None:
    launcher = PackingLauncher()
    Executor(tmp_path / "a", _specs(), backend="jax", launcher=launcher, pack=1).run()
    assert launcher.packed == []
    plain = LocalLauncher(fake_worker())
    assert not plain.packs
    state = Executor(tmp_path / "b", _specs(), backend="jax", launcher=plain, pack=4).run()
    assert all(r.status == Status.COMPLETED for r in state.runs)


def test_pack_option_values() -> None:
    assert pack_for(None, "jax", ("0",)) == AUTO_PACK
    assert pack_for("auto", "torch", ("0",)) == AUTO_PACK
    assert pack_for("auto", "tensorflow", ("0",)) == 1  # no vmapped step
    for backend in ("jax", "torch", "tensorflow"):  # a CPU: runs chained in one worker
        assert pack_for("auto", backend, ()) == AUTO_PACK
    # ... but never fewer chains than workers: 25 runs on 2 jobs, 8 jobs, 25 jobs.
    assert [pack_for("auto", "jax", (), runs=25, jobs=j) for j in (2, 8, 25)] == [5, 3, 1]
    assert pack_for("3", "tensorflow", ()) == 3
    assert pack_for("off", "jax", ("0",)) == 1
    assert pack_for("3", "jax", ()) == 3
    assert pack_for("auto", "jax", ("0",), on_ray=True) == 1
    for value, backend, message in [
        ("0", "jax", "bad --pack '0'"),
        ("many", "jax", "bad --pack 'many'"),
        ("2", "tensorflow", "on a GPU needs --backend jax or torch"),
    ]:
        with pytest.raises(GridError, match=message):
            pack_for(value, backend, ("0",))
    with pytest.raises(GridError, match="--executor local"):
        pack_for("2", "jax", (), on_ray=True)


def test_the_pack_worker_is_rethink_run_with_every_spec() -> None:
    argv = rethink_pack_worker([Path("a/spec.json"), Path("b/spec.json")], Path("g"), "jax")
    assert argv[1:4] == ["-m", "rethink", "run"]
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--spec"] == [
        "a/spec.json",
        "b/spec.json",
    ]
    assert "--resume" in argv and argv[argv.index("--backend") + 1] == "jax"


def _grid(data: Path, out: Path, pack: str, backend: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
        "RETHINK_PACK_MODE": "vmap",  # a CPU would chain the runs: the vmapped step here
    }
    argv = [sys.executable, "-m", "rethink", "grid", "--backend", backend, "--data", str(data),
            "--preset", "smoke", "--models", "mlp_1x512",
            "--corruptions", "true_labels,random_labels,gaussian", "--steps", "12",
            "--batch-size", "8", "--log-every", "4", "--jobs", "1", "--pack", pack,
            "--out", str(out)]  # fmt: skip
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)


def _numbers(path: Path) -> list[list[float]]:
    with path.open() as f:
        rows = list(csv.DictReader(f))
    keys = [k for k in rows[0] if k not in ("seconds", "images_per_s")]  # not the clock
    return [[float(r[k]) if r[k] else np.nan for k in keys] for r in rows]


@pytest.mark.slow
@pytest.mark.requires_backend("jax", "torch")
def test_a_packed_grid_gives_the_numbers_of_the_same_grid_unpacked(tmp_path: Path) -> None:
    import keras

    backend = keras.backend.backend()
    data = write_image_folder(tmp_path / "shapes", ("circle", "square", "cross"), (20, 20, 1))
    packed, alone = tmp_path / "packed", tmp_path / "alone"
    for out, pack in ((packed, "3"), (alone, "off")):
        proc = _grid(data, out, pack, backend)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    runs = sorted(p.name for p in packed.iterdir() if (p / "spec.json").exists())
    assert len(runs) == 3
    for run_id in runs:
        env = RunDir(packed / run_id).env()
        assert sorted(env["pack"]) == runs and env["pack_mode"] == "vmap"  # together
        assert "pack" not in RunDir(alone / run_id).env()
        got, want = (
            _numbers(packed / run_id / "metrics.csv"),
            _numbers(alone / run_id / "metrics.csv"),
        )
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
