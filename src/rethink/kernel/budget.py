"""The memory a kernel problem needs, checked before anything is computed.

    need = Budget.of(n=50_000, m=10_000, dims=2352, dtype="float32", block=4096)
    need.check(available=16 * 2**30, where="GPU")   # KernelError, one line, if it does not fit

The estimate counts what is held at the peak of the factorization: K's
lower tiles and the factor's (together n (n + block) numbers, about n^2),
the test kernel (m n), the images on the device (and their whitened
copy and the ZCA matrices for the patch network), one chunk of random
features for every image (in float32 and in the solve's dtype), and a few
block x block temporaries. 50,000 points in float32 need about 11 GB for
K and its factor alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from rethink.kernel.errors import KernelError

ITEMSIZE = {"float64": 8, "float32": 4}
GIB = 2**30


@dataclass(frozen=True)
class Budget:
    """Bytes of each part of a problem (see the module docstring)."""

    n: int
    m: int
    dtype: str
    gram: int
    test: int
    images: int
    features: int
    scratch: int

    @classmethod
    def of(
        cls,
        n: int,
        m: int,
        dims: int,
        dtype: str,
        block: int,
        feature_chunk: int | None = None,
        whitening: bool = False,
    ) -> Budget:
        """`feature_chunk`: features per chunk, None for pixels; `whitening`: a ZCA of
        the images (its dims x dims matrices and a whitened copy of the images)."""
        size = ITEMSIZE[dtype]
        block = min(block, n)
        images = (n + m) * dims * (4 if feature_chunk else size)
        if whitening:
            images += 3 * dims * dims * 8 + (n + m) * dims * 4
        features = (n + m) * feature_chunk * (4 + 2 * size) if feature_chunk else 0
        return cls(
            n=n,
            m=m,
            dtype=dtype,
            gram=n * (n + block) * size,
            test=m * n * size,
            images=images,
            features=features,
            scratch=4 * block * block * size,
        )

    @property
    def total(self) -> int:
        return self.gram + self.test + self.images + self.features + self.scratch

    def describe(self) -> str:
        return (
            f"{self.n} training and {self.m} test points need {self.total / GIB:.1f} GiB "
            f"in {self.dtype} (K and its factor {self.gram / GIB:.1f}, test kernel "
            f"{self.test / GIB:.1f}, images and features {(self.images + self.features) / GIB:.1f})"
        )

    def check(self, available: int, where: str) -> None:
        """Raise KernelError (one line naming the sizes) when the total exceeds `available`."""
        if self.total > available:
            raise KernelError(
                f"too large: {self.describe()}, but {available / GIB:.1f} GiB of {where} "
                "memory is available; use --train-subset/--test-subset or --dtype float32"
            )
