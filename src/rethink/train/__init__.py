"""Stage 3, training one run: the paper's protocol on prepared arrays; returns data.

    from rethink.train import train, Execution
    outcome = train(spec, data)                  # data: rethink.data.prepare(spec, raw)
    outcome = train(spec, data, observer, execution=Execution(loop="native"))

`loop` runs the epochs (SGD with momentum, the per-epoch decay, evaluations),
`epochs` one epoch through Keras's `fit()` or a native stepper (`steppers`:
JAX and torch, data resident on the device), `windows` turns per-step losses
into fixed-window metrics rows (pure Python), `checkpoint` saves and restores
the state, `outcome` is how a run ended (the one `Status` vocabulary and
result type), `backend` selects and checks the Keras backend. Nothing here
writes files: that is `rethink.run`'s business.
"""

from rethink.train.checkpoint import Checkpoint, restore, snapshot
from rethink.train.loop import build_model, train
from rethink.train.observer import Observer
from rethink.train.outcome import ENDED, RESULT_FORMAT, RESULT_KEYS, Outcome, Status
from rethink.train.steppers import Execution, ExecutionError

__all__ = [
    "ENDED",
    "RESULT_FORMAT",
    "RESULT_KEYS",
    "Checkpoint",
    "Execution",
    "ExecutionError",
    "Observer",
    "Outcome",
    "Status",
    "build_model",
    "restore",
    "snapshot",
    "train",
]
