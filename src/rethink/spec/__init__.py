"""The spec layer: what a run is, in plain Python (no NumPy, no Keras).

    from rethink.spec import RunSpec, DataSpec
    spec = RunSpec(model="inception", corruption="random_labels")
    spec.run_id            # 'inception-random_labels-s0'

`data` (the data part: randomization, subsets, source, crop), `training` (the
model and protocol), `run` (`RunSpec`: both in one, as spec.json stores it),
`architectures` (the models a run can name: facts, not builders), `datasets`
(the data sets' identities) and `errors` (SpecError). Everything above this
layer describes runs with these.
"""

from rethink.spec.data import AUGMENT_CROPS, CORRUPTIONS, DataSpec, randomization_label
from rethink.spec.errors import SpecError
from rethink.spec.run import RunSpec, validate
from rethink.spec.training import PRECISIONS, SPEC_VERSION, TrainingSpec

__all__ = [
    "AUGMENT_CROPS",
    "CORRUPTIONS",
    "PRECISIONS",
    "SPEC_VERSION",
    "DataSpec",
    "RunSpec",
    "SpecError",
    "TrainingSpec",
    "randomization_label",
    "validate",
]
