"""Section 4, finite-sample expressivity: a depth-2 ReLU network with 2n + d weights
that fits any labelling of n points (Theorem 1), built for CIFAR-10.

    from rethink.construct import construct, measure, weight_count
    built = construct(x, targets, seed=0)       # x (n, ...), targets (n,) or (n, k)
    built.network(x)                            # float64 outputs == targets
    measure(data, seed=0, on_backend=True)      # the numbers `rethink construct` prints

`network` is the construction in NumPy float64 (O(n) solve, O(log n) per
evaluated point, never an n x n matrix); `layer` the same network as a Keras
model (`ProjectedReLU` + a bias-free Dense; imports Keras, so it is not
imported here); `measurement` fits a run's training split and scores the
network on both splits. Importing this package does not import Keras.
"""

from __future__ import annotations

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

__all__ = [
    "OUTPUTS",
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
    "solve",
    "targets_of",
    "weight_count",
]
