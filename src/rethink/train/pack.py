"""Several runs trained as one: a pack, each run in a thread of its own, one step for all.

    outcomes = train_packed([PackedRun(spec, data, observer), ...], should_stop=stop)

The runs of a pack share a model and a protocol (`pack_key`: everything but
the randomization, its level and the seed) and start at the same step (fresh,
or resumed from checkpoints of the same epoch end: a pack checkpoints all its
runs at the same epoch end). Each trains through `rethink.train.loop.train`
exactly as alone — its own tracker, rows, evaluations, checkpoints, outcome —
with a pack member as its stepper (`rethink.train.steppers.lockstep`), so its
numbers equal the run trained alone up to float rounding. JAX and torch: the
pack's step is a `jax.vmap` of the single-run step (`jax_pack`) or a
`torch.func.vmap` of a functional one (`torch_pack`); TensorFlow trains unpacked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rethink.data.pipeline import RunData
from rethink.spec import RunSpec
from rethink.train.checkpoint import Checkpoint
from rethink.train.observer import Observer
from rethink.train.outcome import Outcome
from rethink.train.steppers import Execution
from rethink.train.steppers.lockstep import Lockstep

PACK_BACKENDS = ("jax", "torch")
# What may differ between the runs of a pack: their data's randomization and the seed
# (and `extra`: how steps execute, which the pack decides).
VARYING = ("corruption", "level", "seed", "extra")


class PackError(ValueError):
    """Runs that cannot train as one pack (the message says which setting differs)."""


@dataclass
class PackedRun:
    """One run of a pack: its resolved spec, prepared data, observer and checkpoint."""

    spec: RunSpec
    data: RunData
    observer: Observer | None = None
    resume: Checkpoint | None = None


def pack_key(spec: RunSpec) -> tuple[tuple[str, Any], ...]:
    """What runs of one pack share: every setting but the randomization, its level and
    the seed (the data source included: one set of images, randomized per run)."""
    return tuple(sorted((k, repr(v)) for k, v in spec.to_dict().items() if k not in VARYING))


def check_pack(runs: Sequence[PackedRun], backend: str) -> None:
    """PackError unless `runs` can train as one pack on `backend`."""
    if backend not in PACK_BACKENDS:
        raise PackError(f"packed runs need the jax or torch backend, not {backend}")
    if not runs:
        raise PackError("a pack needs at least one run")
    first = runs[0]
    if not Execution().uses_native(backend, first.spec.precision):
        raise PackError(f"packed runs cannot train in {first.spec.precision} (its loss scaling)")
    key = dict(pack_key(first.spec))
    for run in runs[1:]:
        other = dict(pack_key(run.spec))
        differ = sorted(k for k in key.keys() | other.keys() if key.get(k) != other.get(k))
        if differ:
            raise PackError(
                f"{run.spec.run_id} and {first.spec.run_id} differ in {', '.join(differ)}"
            )
        if run.data.x_train.shape != first.data.x_train.shape:
            raise PackError(f"{run.spec.run_id} trains on images of another shape")
    steps = {r.resume.step if r.resume else 0 for r in runs}
    if len(steps) > 1:
        raise PackError(f"the runs of a pack start at different steps: {sorted(steps)}")


def pack_bytes(runs: Sequence[PackedRun]) -> int:
    """Device bytes a pack's resident data takes (the images each run gathers batches
    from, and labels); the models, optimizer states and activations come on top."""
    from rethink.train.steppers import native_inputs

    return sum(native_inputs(r.data, r.spec)[0].nbytes + r.data.y_train.nbytes for r in runs)


def check_memory(runs: Sequence[PackedRun], free: int | None, margin: float = 1.25) -> None:
    """PackError when the pack's data (with `margin` for the rest) does not fit in the
    `free` device bytes (None: not known, e.g. a CPU, which is not checked)."""
    need = pack_bytes(runs) * margin
    if free is None or need <= free:
        return
    each = need / len(runs)
    fits = max(1, int(free // each))
    raise PackError(
        f"a pack of {len(runs)} runs needs about {need / 2**30:.1f} GiB of device memory "
        f"({each / 2**30:.2f} GiB a run), and the device has {free / 2**30:.1f} GiB free: "
        f"use --pack {fits}"
    )


def train_packed(
    runs: Sequence[PackedRun],
    execution: Execution | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Outcome | BaseException]:
    """Train `runs` (resolved specs) as one pack; each run's Outcome, or the exception
    its training raised (the others go on). PackError before any work if they cannot
    pack. `execution`'s steps per dispatch apply; its loop is the native one."""
    import keras

    from rethink.base.frameworks import free_device_memory
    from rethink.train.loop import train
    from rethink.train.steppers import native_inputs, records_examples

    backend = keras.backend.backend()
    check_pack(runs, backend)
    check_memory(runs, free_device_memory(backend))
    execution = Execution(
        loop="native",
        steps_per_execution=(execution or Execution()).steps_per_execution,
    )
    spec = runs[0].spec
    _, augment, crop = native_inputs(runs[0].data, spec)
    pack: Lockstep
    if backend == "jax":
        from rethink.train.steppers.jax_pack import JaxPack

        pack = JaxPack(len(runs), spec.batch_size, augment, crop, records_examples())
    else:
        from rethink.train.steppers.torch_pack import TorchPack

        pack = TorchPack(
            len(runs), spec.batch_size, augment, crop, records_examples(), log or (lambda _: None)
        )
    results: list[Outcome | BaseException | None] = [None] * len(runs)

    def train_lane(lane: int, run: PackedRun) -> None:
        def member(model: Any, data: RunData, resolved: RunSpec) -> Any:
            x, _, _ = native_inputs(data, resolved)
            return pack.member(lane, model, x, data.y_train)

        try:
            results[lane] = train(
                run.spec,
                run.data,
                run.observer,
                resume=run.resume,
                execution=execution,
                should_stop=should_stop,
                log=log,
                stepper_for=member,
            )
        except BaseException as e:  # this run fails; the pack goes on without it
            results[lane] = e
        finally:
            pack.leave(lane)

    threads = [
        threading.Thread(target=train_lane, args=(i, r), name=f"pack-{r.spec.run_id}")
        for i, r in enumerate(runs)
    ]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(timeout=0.2)  # the main thread stays responsive to signals
    return [
        r if r is not None else RuntimeError("the run's thread ended silently") for r in results
    ]
