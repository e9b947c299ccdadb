"""One construction: a data set's training split, Theorem 1's network for it, its numbers.

    result = run_construct(ConstructSettings(corruption="random_labels", train_subset=2000))
    result["recovered"] == result["n"]      # every training label, in float64
    write_json(out / "construct.json", result)

Loads the data (`settings.data`, else $RETHINK_DATA or Keras's download),
prepares them exactly as a training run would (`rethink.data.prepare` of the
settings' `DataSpec`), builds and measures the network (`measure`) and adds
what produced the numbers: the settings, the backend of the Keras model, the
data source and its digest, the data set, and the seconds taken. The result
is the flat dict `rethink construct` prints and writes to construct.json.
ConstructionError, one line, for data that cannot be read or do not fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rethink.construct.measurement import measure
from rethink.construct.network import ConstructionError
from rethink.construct.settings import ConstructSettings


def run_construct(
    settings: ConstructSettings, notify: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Build and measure the network for `settings`; `notify` hears of each redrawn
    direction. The keys are `measure`'s and those of the module doc."""
    from rethink.data import load, prepare

    start = time.perf_counter()
    try:
        loaded = load(settings.data, settings.dataset)
        prepared = prepare(settings.data_spec(), loaded.arrays, loaded.dataset)
    except ValueError as e:  # DataError included: missing data, a subset too large
        raise ConstructionError(str(e)) from None
    load_s = time.perf_counter() - start
    result = measure(
        prepared,
        seed=settings.seed,
        outputs=settings.outputs,
        position=settings.position,
        on_backend=settings.on_backend,
        draws=settings.draws,
        notify=notify,
    )
    result.update(
        {
            "corruption": settings.corruption,
            "level": settings.level,
            "seed": settings.seed,
            "train_subset": settings.train_subset,
            "test_subset": settings.test_subset,
            "backend": _backend() if settings.on_backend else None,
            "data": loaded.source or f"keras.datasets.{loaded.dataset.name}",
            "data_sha256": loaded.digest,
            "dataset": loaded.dataset.to_dict(),
            "load_s": load_s,
            "total_s": time.perf_counter() - start,
        }
    )
    return result


def _backend() -> str:
    import keras

    return str(keras.backend.backend())
