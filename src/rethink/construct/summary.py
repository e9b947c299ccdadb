"""A construction's numbers as text: the table's title and rows, and the verdict.

    title(result)      # 'Theorem 1 network on cifar10, random_labels, seed 0'
    rows(result)       # [("weights", "552,352 = d + n + 10n", "552,352"), ...]
    verdict(result)    # 'float64: every training label recovered (50,000 of 50,000)'

`result` is what `run_construct` returns (construct.json). Each row is
(quantity, float64 NumPy, float32 Keras); the Keras column is "-" when the
model was not evaluated, and empty for what it shares with float64. Pure
Python: the command line puts these in a Rich table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rethink.base.text import number, percent

COLUMNS = ("quantity", "float64 (NumPy)", "float32 (Keras)")


def title(result: dict[str, Any]) -> str:
    corruption = result["corruption"]
    if corruption == "partial_labels" and result["level"] is not None:
        corruption += f" p={result['level']:g}"
    name = result["dataset"]["name"]
    return f"Theorem 1 network on {name}, {corruption}, seed {result['seed']}"


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(quantity, float64, float32) for every number of the construction."""
    r = result
    keras = "keras_recovered" in r

    def k(key: str, fmt: Callable[[Any], str]) -> str:
        return fmt(r[key]) if keras else "-"

    n, outs = r["n"], r["outputs"]
    weights = (
        f"{number(r['weights'])} = d + n + {outs}n"
        if outs > 1
        else f"{number(r['weights'])} = 2n + d"
    )
    return [
        ("training points n", number(n), ""),
        ("dimensions d", number(r["d"]), ""),
        ("weights", weights, k("keras_weights", number)),
        ("2n + d", number(r["weights_2n_plus_d"]), ""),
        ("smallest projection gap", f"{r['min_gap']:.3g}", ""),
        ("largest |output weight|", f"{r['max_abs_weight']:.3g}", ""),
        ("largest |error| (train)", f"{r['max_error']:.3g}", k("keras_max_error", _g)),
        (
            "labels recovered",
            f"{number(r['recovered'])} / {number(n)}",
            k("keras_recovered", lambda v: f"{number(v)} / {number(n)}"),
        ),
        ("train accuracy", percent(r["train_acc"], 2), k("keras_train_acc", _percent)),
        (
            f"test accuracy ({number(r['n_test'])})",
            percent(r["test_acc"], 2),
            k("keras_test_acc", _percent),
        ),
        (
            "wall time",
            f"{r['total_s']:.1f} s (data {r['load_s']:.1f}, solve {r['construct_s']:.1f}, "
            f"check {r['float64_s']:.1f})",
            f"{r['keras_s']:.1f} s" if keras else "-",
        ),
    ]


def verdict(result: dict[str, Any]) -> str:
    """Whether the float64 network recovers every training label."""
    recovered, n = result["recovered"], result["n"]
    every = "every" if recovered == n else "not every"
    return f"float64: {every} training label recovered ({number(recovered)} of {number(n)})"


def _g(v: Any) -> str:
    return f"{v:.3g}"


def _percent(v: Any) -> str:
    return percent(v, 2)
