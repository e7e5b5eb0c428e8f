"""Tests of homtrap._residual (Part V): residual stacks against an explicit loop and the corrected
Proposition 1, and the activations (relu, gelu) with their Lipschitz constants."""

import numpy as np
import pytest

import homtrap as ht


def test_residual_stack_matches_loop_and_corrected_proposition():
    rng = np.random.default_rng(5)
    Ms = ht.random_dsm(16, 0.7, size=6, rng=rng)
    x0 = rng.standard_normal((4, 16)) + 5.0
    tr = ht.residual_stack(x0, Ms, "relu")
    x = x0.copy()
    for ell, M in enumerate(Ms):
        upd = np.maximum(x @ M.T, 0)
        np.testing.assert_allclose(tr.update_norms[:, ell], np.linalg.norm(upd, axis=1))
        # corrected Proposition 1: ||P phi(Mx)|| <= sigma2 ||Px||
        assert np.all(tr.detail_update_norms[:, ell] <= ht.sigma2(M) * np.linalg.norm(ht.detail(x), axis=1) + 1e-12)
        x = x + upd
    np.testing.assert_allclose(tr.states[:, -1], x)
    change = tr.relative_detail_change()
    assert np.all(change <= np.prod(1 + ht.sigma2(Ms)) - 1)


def test_gelu_and_activation_errors():
    z = np.linspace(-5, 5, 100_001)
    slope = np.diff(ht.gelu(z)) / np.diff(z)
    assert 1.1 < slope.max() < 1.2  # not 1-Lipschitz
    with pytest.raises(ValueError, match=r"\bactivation must be one of \['gelu', 'relu', 'tanh'\] or a callable, got 'swish'"):
        ht.residual_stack(np.ones((1, 3)) + np.arange(3), ht.random_dsm(3, 1.0, size=2, rng=0), "swish")
    with pytest.raises(ValueError, match=r"\blayers are 3x3 but x0 has length 4"):
        ht.residual_stack(np.arange(4.0), ht.random_dsm(3, 1.0, size=2, rng=0))


def test_lipschitz_constants():
    z = np.linspace(-8, 8, 400_001)
    fd = np.abs(np.diff(ht.gelu(z)) / np.diff(z)).max()
    assert ht.lipschitz_constant("gelu") == pytest.approx(fd, abs=1e-6)
    assert ht.lipschitz_constant("gelu") == pytest.approx(1.128993, abs=2e-6)
    assert ht.lipschitz_constant("relu") == ht.lipschitz_constant("tanh") == 1.0
    with pytest.raises(ValueError, match=r"\bactivation must be one of \['gelu', 'relu', 'tanh'\], got 'swish'"):
        ht.lipschitz_constant("swish")
