"""A symmetric matrix kept as the square tiles of its lower triangle, and row blocks.

    blocks = split(n, block)            # [(0, 4096), (4096, 8192), ...]
    tiles = SymTiles.build(blocks, lambda i, j: kernel(x[i], x[j]))  # tiles (i, j), j <= i
    y = tiles.matvec(alpha_blocks)      # K @ alpha, one tile at a time

Tile (i, j), j <= i, is rows blocks[i] by columns blocks[j]; the tiles
above the diagonal are the transposes. Every operation touches one tile at
a time, so no product or temporary is larger than block x block, whatever
n is. Tiles are backend tensors (keras.ops); this module imports Keras only
inside its functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Block = tuple[int, int]  # [start, stop) of a row block
Tensor = Any  # a backend tensor


def dot(a: Tensor, b: Tensor) -> Tensor:
    """a @ b in the tensors' own dtype, with the backend's operator.

    Not `keras.ops.matmul`: Keras's type promotion maps float64 to float32
    on every backend but TensorFlow (`BIT64_TO_BIT32_DTYPE` in Keras 3.15),
    so its matmul of two float64 tensors computes and returns float32 on
    torch. The `@` of torch, JAX and TensorFlow tensors keeps float64.
    """
    return a @ b


def split(n: int, block: int) -> list[Block]:
    """[start, stop) blocks of at most `block` rows covering range(n), as even as can be."""
    if n <= 0 or block <= 0:
        raise ValueError(f"need n > 0 and block > 0, got n={n}, block={block}")
    count = -(-n // block)
    edges = [round(k * n / count) for k in range(count + 1)]
    return [(edges[k], edges[k + 1]) for k in range(count)]


@dataclass
class SymTiles:
    """The lower tiles of a symmetric n x n matrix: `tiles[i][j]` for j <= i."""

    blocks: list[Block]
    tiles: list[list[Tensor]]

    @classmethod
    def build(
        cls,
        blocks: Sequence[Block],
        tile: Callable[[int, int], Tensor],
        step: Callable[[], None] | None = None,
    ) -> SymTiles:
        """Tile (i, j) = tile(i, j) for every j <= i; `step()` after each."""
        rows: list[list[Tensor]] = []
        for i in range(len(blocks)):
            row = []
            for j in range(i + 1):
                row.append(tile(i, j))
                if step is not None:
                    step()
            rows.append(row)
        return cls(list(blocks), rows)

    @property
    def n(self) -> int:
        return self.blocks[-1][1]

    def get(self, i: int, j: int) -> Tensor:
        """Tile (i, j) of the full matrix, above the diagonal too."""
        from keras import ops

        return self.tiles[i][j] if j <= i else ops.transpose(self.tiles[j][i])

    def matvec(self, x: Sequence[Tensor]) -> list[Tensor]:
        """K @ X for X given as row blocks (each (rows, k)); returns row blocks."""
        from keras import ops

        out = []
        for i in range(len(self.blocks)):
            acc = dot(self.tiles[i][0], x[0])
            for j in range(1, len(self.blocks)):
                if j <= i:
                    acc = acc + dot(self.tiles[i][j], x[j])
                else:
                    acc = acc + dot(ops.transpose(self.tiles[j][i]), x[j])
            out.append(acc)
        return out

    def diagonal_mean(self) -> float:
        """The mean of the diagonal (1 for both kernels of rethink, by construction)."""
        from keras import ops

        total = sum(float(ops.convert_to_numpy(ops.sum(ops.diagonal(t[-1])))) for t in self.tiles)
        return total / self.n


def rect_matvec(tiles: Sequence[Sequence[Tensor]], x: Sequence[Tensor]) -> list[Tensor]:
    """A rectangular matrix in tiles (tiles[t][j]: test block t by train block j) @ X."""

    out = []
    for row in tiles:
        acc = dot(row[0], x[0])
        for j in range(1, len(row)):
            acc = acc + dot(row[j], x[j])
        out.append(acc)
    return out
