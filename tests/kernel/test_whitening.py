"""Per-image normalization and ZCA whitening: fitted on the training split, applied to both."""

from __future__ import annotations

import numpy as np
import pytest

from rethink.kernel.whitening import Whitening, normalize_images


def _correlated(n: int, d: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    mix = q * np.linspace(5, 50, d)  # correlated, every variance (25 to 2500) far above the bias
    return rng.standard_normal((n, d)) @ mix.T + 3.0


def test_images_are_centred_and_scaled_to_the_norm() -> None:
    x = np.random.default_rng(1).uniform(0, 255, size=(5, 4, 4, 3))
    x[2] = 7.0  # a constant image stays zero, not NaN
    flat = normalize_images(x, norm=55.0)
    assert flat.shape == (5, 48)
    np.testing.assert_allclose(flat.mean(axis=1), 0.0, atol=1e-4)
    norms = np.linalg.norm(flat, axis=1)
    np.testing.assert_allclose(norms[[0, 1, 3, 4]], 55.0, rtol=1e-5)
    assert norms[2] == 0.0


def test_zca_makes_the_training_covariance_the_identity_up_to_the_bias() -> None:
    x = _correlated(4000)
    zca = Whitening.fit(x, bias=0.1, rows=700)  # several chunks
    white = zca.apply(x).astype(np.float64)
    cov = np.cov(white, rowvar=False, bias=True)
    # Exactly C (C + bias I)^-1: eigenvalue e becomes e / (e + bias).
    e = zca.eigenvalues
    assert np.allclose(np.sort(np.linalg.eigvalsh(cov)), np.sort(e / (e + 0.1)), atol=1e-3)
    # With every variance far above the bias, that is the identity.
    assert np.abs(cov - np.eye(12)).max() < 0.02
    np.testing.assert_allclose(white.mean(axis=0), 0.0, atol=1e-3)
    # The matrix is symmetric (ZCA, not PCA): whitening keeps the images' orientation.
    np.testing.assert_allclose(zca.matrix, zca.matrix.T, atol=1e-10)


def test_the_test_split_is_whitened_with_the_training_statistics() -> None:
    train, test = _correlated(3000, seed=2), _correlated(500, seed=2)[::-1] + 1.0
    zca = Whitening.fit(train, bias=0.1)
    expected = (test - train.mean(axis=0)) @ zca.matrix
    np.testing.assert_allclose(zca.apply(test), expected, rtol=1e-4, atol=1e-4)
    # A different fit (on the test split) would whiten differently.
    assert not np.allclose(Whitening.fit(test).matrix, zca.matrix, atol=1e-3)


def test_a_larger_bias_whitens_less() -> None:
    x = _correlated(2000)
    weak = np.cov(Whitening.fit(x, bias=100.0).apply(x), rowvar=False).diagonal()
    strong = np.cov(Whitening.fit(x, bias=0.1).apply(x), rowvar=False).diagonal()
    assert weak.mean() < 0.8 * strong.mean()
    with pytest.raises(ValueError, match="bias must be positive"):
        Whitening.fit(x, bias=0.0)
