"""Section 4, finite-sample expressivity: a depth-2 ReLU network with 2n + d weights
that fits any labelling of n points (Theorem 1), built for CIFAR-10.

    from rethink.construct import construct, measure, run_construct, ConstructSettings
    built = construct(x, targets, seed=0)       # x (n, ...), targets (n,) or (n, k)
    built.network(x)                            # float64 outputs == targets
    measure(data, seed=0, on_backend=True)      # the numbers of a prepared data set
    run_construct(ConstructSettings(train_subset=2000))   # load, prepare, measure: construct.json

`network` is the construction in NumPy float64 (O(n) solve, O(log n) per
evaluated point, never an n x n matrix); `layer` the same network as a Keras
model (`ProjectedReLU` + a bias-free Dense; imports Keras, so it is not
imported here); `measurement` fits a run's training split and scores the
network on both splits; `settings` holds every setting of `rethink construct`,
checked once; `experiment` loads and prepares the data of the settings and
measures; `summary` says the numbers as text. Importing this package does not
import Keras.
"""

from __future__ import annotations

from rethink.construct.experiment import run_construct
from rethink.construct.measurement import OUTPUTS, measure, predict, targets_of
from rethink.construct.network import (
    Construction,
    ConstructionError,
    Network,
    construct,
    draw_direction,
    interleave,
    one_hot,
    project,
    solve,
    weight_count,
)
from rethink.construct.settings import ConstructSettings

__all__ = [
    "OUTPUTS",
    "ConstructSettings",
    "Construction",
    "ConstructionError",
    "Network",
    "construct",
    "draw_direction",
    "interleave",
    "measure",
    "one_hot",
    "predict",
    "project",
    "run_construct",
    "solve",
    "targets_of",
    "weight_count",
]
