"""Section 5 of the paper: kernel interpolation of CIFAR-10, on any Keras backend.

    from rethink.kernel import KernelSettings, run_kernel

    settings = KernelSettings(kernel="gaussian", train_subset=2000, test_subset=1000)
    report = run_kernel(settings, raw)     # raw: rethink.data.load(...).arrays; None: load
    report.results[0].test_error           # fraction, e.g. 0.6
    report.lines(), report.rows()          # what `rethink kernel` prints

A linear model trained by SGD from zero stays in the span of its data, so the
interpolating solution it reaches is alpha with K alpha = Y (K the Gram
matrix, Y one-hot labels): the minimum-norm interpolant. `rethink kernel`
builds K for the Gaussian kernel on pixels (`gaussian`) or a kernel on random
convolutional features (`features`: by default the random-patch network of the
paper's authors' group, ZCA-whitened images, patches as filters, a symmetric
rectifier, average pooling and a Gaussian kernel on the features), solves
(K + lambda I) alpha = Y and reports train and test error, the residual and the
RKHS norm sqrt(trace(alpha^T K alpha)) beside the paper's numbers (`rethink.paper`).

The pieces, each one noun: `settings` (every setting and its default, checked
once), `tiles` (a symmetric matrix kept as its lower square tiles, built block
by block), `gram` (a kernel's training and test tiles), `gaussian` (the
Gaussian kernel on pixels), `stream` (a kernel on features accumulated chunk
by chunk), `whitening` (per-image normalization, ZCA), `patches` (the
filters), `network` (the patch network, `--design patches`), `features`
(rethink's first design, `--design gaussian-filters`), `bandwidth` (a sweep
of the Gaussian bandwidth and its figure), `solve` (a tiled Cholesky
factorization, factorized once for any number of labellings, and its solves), `device`
(float64 support and the memory there is), `budget` (the memory a problem
needs, checked before starting), `experiment` (data, kernel, factorization,
one result per labelling), `report` (the results and what to say about them:
the residual's diagnosis, the table), `figure` (norm and test error against
label noise) and `output` (kernel.json and the figure, written).

No step ever works on a matrix larger than one tile (`--block`, default
4096 rows): this bounds temporaries, and keeps CPU BLAS libraries away from
the single huge products and factorizations that crash some of them
(OpenBLAS 0.3.31 with two threads on a 20,000 x 20,000 float64 matrix).

Importing this package does not import Keras; the functions that compute
import it when called, after the backend was chosen.
"""

from __future__ import annotations

from rethink.kernel.errors import KernelError
from rethink.kernel.experiment import run_kernel
from rethink.kernel.report import KernelReport, KernelResult
from rethink.kernel.settings import KernelSettings

__all__ = ["KernelError", "KernelReport", "KernelResult", "KernelSettings", "run_kernel"]
