"""A kernel's matrices, in tiles: the training Gram matrix and the test-by-train kernel.

    gram = Gram(train=SymTiles(...), test=[[...]], test_blocks=[...])
    predictions = gram.predict(alpha)       # K_test @ alpha, row blocks of the test set

Both kernels of rethink (`gaussian`, `features`) return a `Gram`; the solve
(`solve`) and the results (`experiment`) only see this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rethink.kernel.tiles import Block, SymTiles, Tensor, rect_matvec


@dataclass
class Gram:
    """K (train x train, lower tiles) and K_test (tiles[t][j]: test block t x train block j)."""

    train: SymTiles
    test: list[list[Tensor]]
    test_blocks: list[Block]

    def fit(self, alpha: Sequence[Tensor]) -> list[Tensor]:
        """K @ alpha: the training predictions (row blocks)."""
        return self.train.matvec(alpha)

    def predict(self, alpha: Sequence[Tensor]) -> list[Tensor]:
        """K_test @ alpha: the test predictions (row blocks)."""
        return rect_matvec(self.test, alpha)
