"""Theorem 1's depth-2 ReLU network, built and evaluated in NumPy float64.

Zhang et al. (2017), section 4: a network

    f(x) = sum_j w_j * relu(a . x - b_j)

with a direction `a` (d weights), n biases `b` and n output weights `w`
(2n + d weights in all) represents any labelling of n distinct points in d
dimensions. Project every point onto `a` so that the projections z_i are
distinct; sorted, z_(1) < ... < z_(n). Put b_1 below z_(1) and b_j between
z_(j-1) and z_(j). Then A_ij = relu(z_(i) - b_j) is lower triangular with a
positive diagonal, and A w = y has a solution for every y.

    net = construct(x, targets, seed=0)   # x (n, ...) float, targets (n,) or (n, k)
    net.weight_count                      # d + n + n * k (2n + d for one output)
    net(x)                                # float64 outputs (n, k), == targets

The solve is O(n) (after an O(n log n) sort) and never forms the n x n
matrix: subtracting row i from row i + 1 of A w = y leaves

    (z_(i+1) - z_(i)) * S_i + (z_(i+1) - b_(i+1)) * w_(i+1) = y_(i+1) - y_(i)

with S_i = w_1 + ... + w_i the slope of f right of z_(i), so the slopes follow
one another (`solve`). Evaluation is O(log n) per point: the units active at z
are those with b_j < z, a prefix of the sorted biases, so f(z) = z * S_m - T_m
with the prefix sums S_m of w and T_m of w * b (`Network.evaluate`).

The biases sit at a fraction `position` of the way from each projection to the
next (0.5: midpoints, the default), and b_1 as far below z_(1) as b_2 is
(a virtual point one gap below). With k outputs (one-hot targets of k
classes) the hidden layer (a and b) is shared and each output has its own n
weights: d + n + k * n weights.

Pure NumPy; `rethink.construct.layer` holds the same network as a Keras model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Stream tag of the direction's generator, apart from the data pipeline's (1, 2).
_DIRECTION = 4
# Projections are computed this many points at a time (bounds the float64 copy).
_CHUNK = 4096
DEFAULT_DRAWS = 10


class ConstructionError(ValueError):
    """Points that no direction separates (identical points), or bad arguments."""


@dataclass(frozen=True)
class Network:
    """f(x) = relu(flatten(x) . direction - biases) @ weights, all float64.

    `direction` (d,), `biases` (n,) strictly increasing, `weights` (n, k).
    """

    direction: np.ndarray
    biases: np.ndarray
    weights: np.ndarray

    @property
    def n(self) -> int:
        """Hidden units: one per training point."""
        return int(self.biases.shape[0])

    @property
    def d(self) -> int:
        """Input dimensions."""
        return int(self.direction.shape[0])

    @property
    def outputs(self) -> int:
        return int(self.weights.shape[1])

    @property
    def weight_count(self) -> int:
        """d (direction) + n (biases) + n per output (output weights)."""
        return weight_count(self.n, self.d, self.outputs)

    def project(self, x: np.ndarray) -> np.ndarray:
        """The projections a . x of the points x (m, ...) in float64 (m,)."""
        return project(x, self.direction)

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        """f at projections z (m,): float64 (m, k), O(log n) per point, no n x n."""
        z = np.asarray(z, dtype=np.float64)
        active = np.searchsorted(self.biases, z, side="left")  # units with b_j < z
        slope = np.cumsum(self.weights, axis=0)
        offset = np.cumsum(self.weights * self.biases[:, None], axis=0)
        zero = np.zeros((1, self.outputs))
        slope = np.concatenate([zero, slope])
        offset = np.concatenate([zero, offset])
        return z[:, None] * slope[active] - offset[active]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """f at the points x (m, ...): float64 (m, k)."""
        return self.evaluate(self.project(x))

    def dense(self, z: np.ndarray) -> np.ndarray:
        """f at z by the literal sum over all n units: O(n) per point (tests, small n)."""
        z = np.asarray(z, dtype=np.float64)
        hidden = np.maximum(z[:, None] - self.biases[None, :], 0.0)
        return np.asarray(hidden @ self.weights)


@dataclass(frozen=True)
class Construction:
    """A network fitted to n points, and how its direction was found."""

    network: Network
    order: np.ndarray  # the points sorted by projection: network.biases[j] precedes z[order[j]]
    min_gap: float  # the smallest distance between two consecutive sorted projections
    draws: int  # directions drawn until the projections were distinct


def weight_count(n: int, d: int, outputs: int = 1) -> int:
    """Weights of the network for n points in d dimensions: 2n + d for one output.

    The hidden layer (d direction + n biases) is shared by every output; each
    output adds its own n weights.
    """
    return d + n + outputs * n


def draw_direction(d: int, seed: int, draw: int = 0) -> np.ndarray:
    """A unit Gaussian direction in d dimensions, float64, a pure function of (seed, draw)."""
    a = np.random.default_rng([seed, _DIRECTION, draw]).standard_normal(d)
    return np.asarray(a / np.linalg.norm(a))


def project(x: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """flatten(x) . direction in float64, `_CHUNK` points at a time: (m,)."""
    m = len(x)
    flat = np.reshape(x, (m, -1))
    if flat.shape[1] != direction.shape[0]:
        raise ConstructionError(
            f"points have {flat.shape[1]} dimensions, the direction {direction.shape[0]}"
        )
    z = np.empty(m, dtype=np.float64)
    for start in range(0, m, _CHUNK):
        z[start : start + _CHUNK] = flat[start : start + _CHUNK].astype(np.float64) @ direction
    return z


def interleave(z: np.ndarray, position: float = 0.5) -> np.ndarray:
    """Biases for strictly increasing projections z (n,): b_1 < z_1 < b_2 < ... < z_n.

    b_(j+1) = z_j + position * (z_(j+1) - z_j); b_1 = z_1 - (1 - position) * (z_2 - z_1)
    (one unit below z_1 when n = 1). Raises ConstructionError when float64
    cannot put a bias strictly between two projections.
    """
    if not 0.0 < position < 1.0:
        raise ConstructionError(f"bias position must be in (0, 1), got {position}")
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 1 or len(z) == 0:
        raise ConstructionError("need at least one projection")
    gaps = np.diff(z)
    first_gap = gaps[0] if len(gaps) else 1.0
    b = np.empty_like(z)
    b[0] = z[0] - (1.0 - position) * first_gap
    b[1:] = z[:-1] + position * gaps
    if not (np.all(b < z) and np.all(b[1:] > z[:-1])):
        raise ConstructionError("projections too close for a bias to fit between them")
    return b


def solve(z: np.ndarray, b: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The output weights w (n, k) with sum_(j<=i) w_j (z_i - b_j) = y_i, in O(n).

    z (n,) sorted projections, b (n,) interleaved biases, y (n,) or (n, k).
    Forward substitution on differences of consecutive rows: the slope of f on
    the gap right of z_i is S_i = w_1 + ... + w_i; from z_i to b_(i+1) f rises
    by S_i (b_(i+1) - z_i), from b_(i+1) to z_(i+1) by S_(i+1) (z_(i+1) - b_(i+1)), so

        S_1 = y_1 / (z_1 - b_1)
        S_(i+1) = (y_(i+1) - y_i - S_i (b_(i+1) - z_i)) / (z_(i+1) - b_(i+1))

    and w = differences of S. Slopes rather than weights are carried because
    they stay of the size of the steep secants (y_(i+1) - y_i) / gap, while w
    are differences of them.
    """
    z = np.asarray(z, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    targets = np.asarray(y, dtype=np.float64)
    column = targets.ndim == 1
    if column:
        targets = targets[:, None]
    n = len(z)
    if b.shape != (n,) or targets.shape[0] != n:
        raise ConstructionError(f"{n} projections, {b.shape[0]} biases, {targets.shape[0]} targets")
    rise = np.diff(targets, axis=0)  # (n-1, k)
    left = b[1:] - z[:-1]  # b_(i+1) - z_i > 0
    right = z[1:] - b[1:]  # z_(i+1) - b_(i+1) > 0
    slopes = np.empty_like(targets)
    slopes[0] = targets[0] / (z[0] - b[0])
    # One short step per point: a first-order recurrence, sequential by nature.
    s = slopes[0]
    for i in range(n - 1):
        s = (rise[i] - s * left[i]) / right[i]
        slopes[i + 1] = s
    w = np.diff(slopes, axis=0, prepend=np.zeros((1, slopes.shape[1])))
    return w[:, 0] if column else w


def construct(
    x: np.ndarray,
    targets: np.ndarray,
    seed: int = 0,
    position: float = 0.5,
    draws: int = DEFAULT_DRAWS,
    notify: Callable[[str], None] | None = None,
) -> Construction:
    """The network with f(x_i) = targets_i for every point: x (n, ...), targets (n,) or (n, k).

    Draws unit Gaussian directions from `seed` until the n projections are
    distinct enough for float64 to interleave biases (at most `draws`; each
    redraw is reported through `notify`), then solves for the output weights.
    """
    x = np.asarray(x)
    y = np.asarray(targets, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ConstructionError("no points")
    if y.shape[0] != n:
        raise ConstructionError(f"{n} points but {y.shape[0]} targets")
    if y.ndim == 1:
        y = y[:, None]
    d = int(np.prod(x.shape[1:]))
    for draw in range(draws):
        direction = draw_direction(d, seed, draw)
        z = project(x, direction)
        order = np.argsort(z, kind="stable")
        zs = z[order]
        try:
            if n > 1 and not np.all(np.diff(zs) > 0):
                raise ConstructionError("two projections coincide")
            biases = interleave(zs, position)
        except ConstructionError as e:
            if notify is not None:
                notify(f"direction {draw + 1}: {e}; drawing another")
            continue
        weights = solve(zs, biases, y[order])
        min_gap = float(np.min(np.diff(zs))) if n > 1 else float("inf")
        return Construction(Network(direction, biases, weights), order, min_gap, draw + 1)
    same = n - _distinct(x)
    if same:
        raise ConstructionError(
            f"{same} of the {n} points repeat another point exactly: no direction separates them"
        )
    raise ConstructionError(f"no direction of {draws} gave {n} distinct projections")


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    """Labels (n,) -> float64 one-hot targets (n, classes)."""
    labels = np.asarray(labels).reshape(-1)
    return np.asarray(np.eye(classes, dtype=np.float64)[labels])


def _distinct(x: np.ndarray) -> int:
    flat = np.ascontiguousarray(np.reshape(x, (len(x), -1)))
    return len({hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat})
