"""Run files from a node to the driver (plain Python, no Ray): the shipper, the board,
writing what arrived."""

from __future__ import annotations

from pathlib import Path

import pytest

from rethink.grid.ray.shipping import ProgressBoard, Shipper, apply_files, local_files
from rethink.run.folder import CHECKPOINT, PROGRESS

NODE = {"node_id": "n" * 56, "node_ip": "10.1.2.3", "host": "node-a"}


def files(run_dir: Path) -> set[str]:
    return {p.name for p in run_dir.iterdir()}


def test_the_shipper_sends_progress_often_and_everything_at_a_checkpoint(tmp_path: Path) -> None:
    node, driver = tmp_path / "node", tmp_path / "driver"
    node.mkdir()
    (node / "spec.json").write_text("{}")
    sent: list[dict] = []
    shipper = Shipper(node, sent.append)
    shipper.mark()  # spec.json came from the driver: not sent back

    (node / PROGRESS).write_text('{"step": 1}')
    (node / "metrics.csv").write_text("step\n1\n")
    assert shipper.ship() == {PROGRESS: b'{"step": 1}'}  # the metrics wait for a checkpoint
    assert shipper.ship() == {}  # nothing changed

    (node / CHECKPOINT).write_bytes(b"weights at 31")
    assert set(shipper.ship()) == {CHECKPOINT, "metrics.csv"}

    (node / "result.json").write_text('{"status": "completed"}')
    (node / PROGRESS).unlink()
    final = shipper.ship(everything=True)
    assert final == {"result.json": b'{"status": "completed"}', PROGRESS: None}

    for files in sent:
        apply_files(driver, files)
    assert sorted(p.name for p in driver.iterdir()) == [CHECKPOINT, "metrics.csv", "result.json"]
    assert (driver / CHECKPOINT).read_bytes() == b"weights at 31"


def test_a_failed_send_is_sent_again(tmp_path: Path) -> None:
    (tmp_path / PROGRESS).write_text("{}")
    calls = []

    def flaky(files: dict) -> None:
        calls.append(files)
        if len(calls) == 1:
            raise TimeoutError("board busy")

    shipper = Shipper(tmp_path, flaky)
    with pytest.raises(TimeoutError):
        shipper.ship()
    assert shipper.ship() == {PROGRESS: b"{}"}


def test_apply_files_writes_only_run_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a shipped run file"):
        apply_files(tmp_path / "run", {"../grid.json": b"{}"})
    assert not (tmp_path / "grid.json").exists()


def test_the_board_hands_back_new_files_once_and_the_newest_copy_to_a_retry() -> None:
    board = ProgressBoard()
    board.seed("r", {"spec.json": b"spec", CHECKPOINT: b"ckpt from the driver"})
    version, files, starts = board.changes(0)
    assert (files, starts) == ({}, {})  # the driver's own files are not echoed
    board.started("r", NODE)
    board.put("r", {CHECKPOINT: b"ckpt 31", PROGRESS: b"{}"})
    version, files, starts = board.changes(version)
    assert files == {"r": {CHECKPOINT: b"ckpt 31", PROGRESS: b"{}"}}
    assert starts == {"r": NODE}
    assert board.changes(version)[1:] == ({}, {})
    assert board.checkout("r") == {"spec.json": b"spec", CHECKPOINT: b"ckpt 31", PROGRESS: b"{}"}
    board.put("r", {PROGRESS: None})
    assert PROGRESS not in board.checkout("r")
    board.forget("r")
    assert board.checkout("r") == {}


def test_a_checkpoint_the_worker_removed_is_shipped_as_a_removal(tmp_path: Path) -> None:
    """On Ray without shared storage: the worker of a compact grid removes its checkpoint
    when it finishes, so the task's last shipment removes the driver's copy instead of
    sending the file."""
    node, driver = tmp_path / "node", tmp_path / "driver"
    node.mkdir()
    shipped: list[dict] = []
    shipper = Shipper(node, shipped.append)
    (node / CHECKPOINT).write_bytes(b"weights at 31")
    shipper.ship()  # an epoch's checkpoint, shipped while training
    (node / "result.json").write_text('{"status": "completed"}')
    (node / CHECKPOINT).unlink()  # rethink run --no-keep-checkpoint, once completed
    final = shipper.ship(everything=True)
    assert final[CHECKPOINT] is None
    for sent in shipped:
        apply_files(driver, sent)
    assert files(driver) == {"result.json"}


def test_the_driver_seeds_a_retry_with_its_files_but_no_stale_result(tmp_path: Path) -> None:
    """What the driver hands the board for a task to start from: the run's files, less an
    ended attempt's result.json and progress.json, and nothing that is not a run file."""
    for name in ("spec.json", CHECKPOINT, "metrics.csv", "result.json", PROGRESS, "notes.txt"):
        (tmp_path / name).write_bytes(name.encode())
    assert local_files(tmp_path) == {
        "spec.json": b"spec.json",
        CHECKPOINT: CHECKPOINT.encode(),
        "metrics.csv": b"metrics.csv",
    }
