"""What `rethink kernel --out` writes: kernel.json with every field, the figure of a sweep."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rethink.kernel import KernelReport, KernelResult
from rethink.kernel.output import write_report

Make = Callable[..., KernelReport]
MakeResult = Callable[..., KernelResult]


def test_the_json_always_and_a_figure_only_for_a_sweep(
    tmp_path: Path, make_report: Make, make_result: MakeResult
) -> None:
    single = make_report()
    assert write_report(single, tmp_path / "one") == [tmp_path / "one" / "kernel.json"]
    stored = json.loads((tmp_path / "one" / "kernel.json").read_text())
    assert stored["settings"]["filters"] == 2000 and stored["results"][0]["norm"] == 44.3512
    assert set(stored) == {
        "settings", "backend", "dtype", "dtype_note", "n_train", "n_test", "bandwidth",
        "features", "jitter", "factorizations", "memory", "seconds", "results", "dataset",
        "gamma", "feature_median", "warnings", "state_arrays",
    }  # fmt: skip
    sweep = make_report(results=[make_result(0.0), make_result(0.5), make_result(1.0)])
    paths = write_report(sweep, tmp_path / "sweep")
    assert [p.name for p in paths] == ["kernel.json", "kernel_norm.png", "kernel_norm.pdf"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_the_patch_networks_state_is_saved_beside_the_json(
    tmp_path: Path, make_report: Make
) -> None:
    import numpy as np

    state = {
        "filters": np.ones((3, 6, 6, 3), np.float32),
        "zca_matrix": np.eye(4, dtype=np.float32),
    }
    paths = write_report(make_report(state=state), tmp_path)
    assert [p.name for p in paths] == ["kernel.json", "kernel_features.npz"]
    stored = json.loads((tmp_path / "kernel.json").read_text())
    assert stored["state_file"] == "kernel_features.npz"
    assert stored["state_arrays"] == {"filters": [3, 6, 6, 3], "zca_matrix": [4, 4]}
    with np.load(tmp_path / stored["state_file"]) as saved:
        np.testing.assert_array_equal(saved["zca_matrix"], np.eye(4))
        assert saved["filters"].shape == (3, 6, 6, 3)
