"""`rethink.run.pack.execute_pack` (`rethink run --spec A --spec B`): run folders as alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rethink.run.execute import RunError, execute
from rethink.run.folder import RunDir
from rethink.run.pack import execute_pack
from rethink.spec import RunSpec
from tests.helpers.image_folders import write_image_folder

pytestmark = pytest.mark.requires_backend("jax", "torch")


@pytest.fixture(scope="module")
def backend() -> str:
    import keras

    return str(keras.backend.backend())


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_image_folder(
        tmp_path_factory.mktemp("data") / "shapes", ("a", "b", "c"), (12, 12, 1)
    )


def _spec(data: Path, **kw: object) -> RunSpec:
    base: dict[str, object] = dict(
        model="mlp_1x512", steps=6, batch_size=8, log_every=3, data=str(data), learning_rate=0.01
    )
    return RunSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_runs_of_two_protocols_train_as_two_packs_into_folders_like_executes(
    shapes: Path, tmp_path: Path, backend: str
) -> None:
    specs = [
        _spec(shapes, corruption="random_labels"),
        _spec(shapes, corruption="true_labels", seed=1),
        _spec(shapes, corruption="true_labels", batch_size=4),  # another protocol
    ]
    results = execute_pack(specs, tmp_path / "packed", backend, save_model=False, chain=False)
    assert [code for _, code in results] == [0, 0, 0]
    packs = [RunDir(tmp_path / "packed" / s.run_id).env()["pack"] for s in specs]
    assert packs[0] == packs[1] == [specs[0].run_id, specs[1].run_id]
    assert packs[2] == [specs[2].run_id]
    for spec, (result, _) in zip(specs, results, strict=True):
        alone, _ = execute(spec, tmp_path / "alone", backend, save_model=False)
        assert result["step"] == alone["step"] == 6
        assert result["train_loss"] == pytest.approx(alone["train_loss"], rel=1e-4)
        assert result["test_acc"] == pytest.approx(alone["test_acc"], abs=1e-6)
        got = RunDir(tmp_path / "packed" / spec.run_id).metrics_path.read_text().splitlines()
        want = RunDir(tmp_path / "alone" / spec.run_id).metrics_path.read_text().splitlines()
        assert got[0] == want[0] and len(got) == len(want)


def test_a_finished_run_keeps_its_result_and_bad_input_writes_nothing(
    shapes: Path, tmp_path: Path, backend: str
) -> None:
    done = _spec(shapes, corruption="gaussian")
    first, _ = execute(done, tmp_path, backend, save_model=False)
    fresh = dataclasses.replace(done, seed=4)
    results = execute_pack([done, fresh], tmp_path, backend, resume=True, save_model=False)
    assert results[0][0] == first  # resumed: its result.json, untouched
    assert "pack" not in RunDir(tmp_path / done.run_id).env()
    assert results[1][0]["status"] == "completed"
    with pytest.raises(RunError, match="jax or torch backend"):
        execute_pack([fresh], tmp_path / "t", "tensorflow")
    new = _spec(shapes, seed=9)
    with pytest.raises(RunError, match="already exists"):
        execute_pack([new, fresh], tmp_path, backend)  # `fresh` is there: no --resume
    assert not (tmp_path / new.run_id).exists()
    wrong = dataclasses.replace(new, seed=10, train_subset=10**6)  # more than the data holds
    with pytest.raises(RunError, match="larger than"):
        execute_pack([new, wrong], tmp_path, backend)
    assert not (tmp_path / new.run_id).exists() and not (tmp_path / wrong.run_id).exists()


def test_on_a_cpu_a_pack_is_a_chain_of_runs_trained_as_alone_and_a_stop_ends_it(
    shapes: Path, tmp_path: Path, backend: str
) -> None:
    from tests.helpers.training import Recorder

    specs = [_spec(shapes, corruption=c) for c in ("true_labels", "random_labels", "gaussian")]
    results = execute_pack(specs, tmp_path / "chain", backend, save_model=False)  # a CPU
    assert [code for _, code in results] == [0, 0, 0]
    for spec, (result, _) in zip(specs, results, strict=True):
        env = RunDir(tmp_path / "chain" / spec.run_id).env()
        assert env["pack"] == [s.run_id for s in specs] and env["pack_mode"] == "chain"
        alone, _ = execute(spec, tmp_path / "alone", backend, save_model=False)
        clock = ("wall_seconds", "images_per_s")
        assert {k: v for k, v in result.items() if k not in clock} == {
            k: v for k, v in alone.items() if k not in clock
        }
    # Ctrl-C in the first run: it stops as alone; the others are not started.
    again = [dataclasses.replace(s, seed=5) for s in specs]
    displays = {again[0].run_id: Recorder(interrupt_after_row_step=3)}
    stopped = execute_pack(again, tmp_path / "stop", backend, save_model=False,
                           display_for=lambda spec: displays.get(spec.run_id))  # fmt: skip
    assert [code for _, code in stopped] == [130, 130, 130]
    first = RunDir(tmp_path / "stop" / again[0].run_id)
    assert first.result()["status"] == "stopped" and first.result()["step"] == 3
    for spec, (result, _) in zip(again[1:], stopped[1:], strict=True):
        assert result["step"] == 0 and "before it started" in result["error"]
        assert RunDir(tmp_path / "stop" / spec.run_id).result() is None
        assert not RunDir(tmp_path / "stop" / spec.run_id).metrics_path.exists()


def test_the_pack_mode_is_chain_on_a_cpu_unless_the_environment_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rethink.run.pack import PACK_MODE_ENV, pack_mode

    monkeypatch.delenv(PACK_MODE_ENV, raising=False)
    assert pack_mode(cpu=True) == "chain" and pack_mode(cpu=False) == "vmap"
    monkeypatch.setenv(PACK_MODE_ENV, "vmap")
    assert pack_mode(cpu=True) == "vmap"
    monkeypatch.setenv(PACK_MODE_ENV, "lanes")
    with pytest.raises(RunError, match="bad RETHINK_PACK_MODE='lanes'"):
        pack_mode(cpu=True)
