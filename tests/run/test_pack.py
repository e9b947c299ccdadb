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
    results = execute_pack(specs, tmp_path / "packed", backend, save_model=False)
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
