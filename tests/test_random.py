"""Tests for homtrap.random_dsm and homtrap.random_logits (shapes, seeding, consistency)."""

import numpy as np
import pytest

import homtrap as ht

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def assert_dsm(M, atol=1e-9):
    assert np.all(np.isfinite(M))
    assert np.all(M >= 0)
    np.testing.assert_allclose(M.sum(axis=-1), 1.0, atol=atol, rtol=0)
    np.testing.assert_allclose(M.sum(axis=-2), 1.0, atol=atol, rtol=0)


# ---------------------------------------------------------------------- shapes
@pytest.mark.parametrize(
    ("size", "batch"), [(None, ()), (5, (5,)), ((2, 3), (2, 3)), ((4,), (4,)), (1, (1,))]
)
@pytest.mark.parametrize("n", [1, 2, 7])
def test_shapes(n, size, batch):
    M = ht.random_dsm(n, 0.5, size=size, rng=0)
    G = ht.random_logits(n, size=size, rng=0)
    assert M.shape == (*batch, n, n)
    assert G.shape == (*batch, n, n)
    assert M.dtype == np.float64 and G.dtype == np.float64
    assert_dsm(M)


@pytest.mark.parametrize("T", [1e-3, 0.1, 1.0, 1e3])
@pytest.mark.parametrize("n", [2, 16])
def test_random_dsm_is_doubly_stochastic_and_positive(n, T):
    M = ht.random_dsm(n, T, size=4, rng=1)
    assert_dsm(M)
    if T >= 0.1:
        assert np.all(M > 0)


# ---------------------------------------------------------------------- seeding
@pytest.mark.parametrize("size", [None, 3, (2, 2)])
def test_same_int_seed_reproduces(size):
    np.testing.assert_array_equal(ht.random_dsm(6, 0.7, size=size, rng=42), ht.random_dsm(6, 0.7, size=size, rng=42))
    np.testing.assert_array_equal(ht.random_logits(6, size=size, rng=42), ht.random_logits(6, size=size, rng=42))


def test_int_seed_equals_generator_with_that_seed():
    """SPEC 7: an int seed means numpy.random.default_rng(seed)."""
    np.testing.assert_array_equal(
        ht.random_dsm(5, 0.3, size=3, rng=7), ht.random_dsm(5, 0.3, size=3, rng=np.random.default_rng(7))
    )
    np.testing.assert_array_equal(
        ht.random_logits(5, size=3, rng=7), ht.random_logits(5, size=3, rng=np.random.default_rng(7))
    )


def test_equivalent_generators_reproduce():
    a = ht.random_dsm(5, 1.0, size=2, rng=np.random.default_rng(123))
    b = ht.random_dsm(5, 1.0, size=2, rng=np.random.default_rng(123))
    np.testing.assert_array_equal(a, b)


def test_different_seeds_differ():
    a = ht.random_dsm(5, 1.0, rng=1)
    b = ht.random_dsm(5, 1.0, rng=2)
    assert not np.allclose(a, b)
    assert not np.allclose(ht.random_logits(5, rng=1), ht.random_logits(5, rng=2))


def test_generator_state_advances():
    g = np.random.default_rng(9)
    a = ht.random_dsm(4, 1.0, rng=g)
    b = ht.random_dsm(4, 1.0, rng=g)
    assert not np.allclose(a, b)


def test_batch_members_differ():
    M = ht.random_dsm(4, 1.0, size=3, rng=10)
    assert not np.allclose(M[0], M[1]) and not np.allclose(M[1], M[2])


def test_rng_none_works():
    M = ht.random_dsm(4, 1.0, rng=None)
    assert_dsm(M)
    assert M.shape == (4, 4)


def test_numpy_integer_seed_and_n():
    np.testing.assert_array_equal(ht.random_dsm(np.int64(4), 1.0, rng=np.int64(5)), ht.random_dsm(4, 1.0, rng=5))


# ------------------------------------------------------------------- consistency
@pytest.mark.parametrize("T", [0.05, 1.0, 30.0])
@pytest.mark.parametrize("size", [None, 4, (2, 3)])
def test_random_dsm_is_sinkhorn_of_random_logits(size, T):
    M = ht.random_dsm(6, T, size=size, rng=3)
    G = ht.random_logits(6, size=size, rng=3)
    np.testing.assert_allclose(M, ht.sinkhorn(G, T), atol=1e-12, rtol=0)


@pytest.mark.parametrize("scale", [0.25, 3.0])
def test_scale_is_passed_to_the_logits(scale):
    M = ht.random_dsm(6, 0.8, size=2, rng=4, scale=scale)
    G = ht.random_logits(6, size=2, rng=4, scale=scale)
    np.testing.assert_allclose(M, ht.sinkhorn(G, 0.8), atol=1e-12, rtol=0)


@pytest.mark.parametrize("scale", [1.0, 0.3, 5.0])
def test_logits_are_centred_gaussian_with_the_given_scale(scale):
    """Fixed seed, so deterministic; tolerances are about 8 standard errors."""
    G = ht.random_logits(64, size=20, rng=5, scale=scale).ravel()  # 81920 draws
    se = 1 / np.sqrt(G.size)
    assert abs(G.mean()) / scale < 8 * se
    assert abs(G.std() / scale - 1) < 8 * se / np.sqrt(2) + 1e-3
    # Gaussian, not e.g. uniform: kurtosis 3, and about 68.3% within one sd
    z = G / scale
    assert abs(np.mean(z**4) - 3) < 0.2
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.01


def test_default_temperature_and_scale():
    np.testing.assert_allclose(ht.random_dsm(5, rng=6), ht.random_dsm(5, 1.0, rng=6, scale=1.0), atol=0)


def test_tol_is_honoured():
    M = ht.random_dsm(8, 0.1, size=5, rng=8, tol=1e-5)
    err = np.maximum(np.abs(M.sum(-1) - 1).max(-1), np.abs(M.sum(-2) - 1).max(-1))
    assert np.all(err <= 1e-5)


def test_high_temperature_random_dsm_is_near_barycenter():
    n, T = 32, 1e3
    M = ht.random_dsm(n, T, size=3, rng=11)
    s2 = np.linalg.svd(M, compute_uv=False)[..., 1]
    # sigma2 ~ 2 / (T sqrt(n)) for Gaussian logits; allow a factor of 3
    assert np.all(s2 < 3 * 2 / (T * np.sqrt(n)))
