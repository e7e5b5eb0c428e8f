"""Tests for homtrap.birkhoff_decomposition (Birkhoff-von Neumann decomposition)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import homtrap as ht

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def perm_matrix(perm):
    n = len(perm)
    P = np.zeros((n, n))
    P[np.arange(n), perm] = 1.0
    return P


def check_decomposition(M, weights, perms, atol=1e-8):
    n = M.shape[0]
    weights = np.asarray(weights)
    perms = np.asarray(perms)
    k = weights.shape[0]
    assert weights.ndim == 1 and k >= 1
    assert perms.shape == (k, n)
    assert np.issubdtype(perms.dtype, np.integer)
    assert np.all(weights > 0)
    assert weights.sum() == pytest.approx(1.0, abs=1e-9)
    for p in perms:
        np.testing.assert_array_equal(np.sort(p), np.arange(n))
    # a greedy step removes at least one support entry (n*n - n + 1 for exact DSMs)
    assert k <= n * n
    recon = sum(w * perm_matrix(p) for w, p in zip(weights, perms))
    np.testing.assert_allclose(recon, M, atol=atol, rtol=0)
    return weights, perms


@pytest.mark.parametrize("T", [0.05, 0.5, 5.0])
@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_sinkhorn_dsm(n, T):
    M = ht.random_dsm(n, T, rng=10 * n + int(T * 10))
    check_decomposition(M, *ht.birkhoff_decomposition(M))


@given(st.integers(2, 6), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_mixture_of_permutations(n, k, seed):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(k))
    M = sum(wi * perm_matrix(rng.permutation(n)) for wi in w)
    check_decomposition(M, *ht.birkhoff_decomposition(M))


@given(st.integers(2, 6), st.floats(np.log(0.05), np.log(50.0)).map(np.exp), st.integers(0, 2**32 - 1))
def test_random_dsm_property(n, T, seed):
    M = ht.random_dsm(n, T, rng=seed)
    check_decomposition(M, *ht.birkhoff_decomposition(M))


@pytest.mark.parametrize("n", [1, 2, 4, 7])
def test_permutation_input_gives_single_term(n):
    perm = np.random.default_rng(n).permutation(n)
    weights, perms = ht.birkhoff_decomposition(perm_matrix(perm))
    weights, perms = np.asarray(weights), np.asarray(perms)
    assert weights.shape == (1,)
    assert weights[0] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_array_equal(perms[0], perm)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_two_by_two_closed_form(p):
    M = np.array([[p, 1 - p], [1 - p, p]])
    weights, perms = check_decomposition(M, *ht.birkhoff_decomposition(M))
    got = {tuple(q): w for w, q in zip(weights, perms)}
    if p == 0.5:
        assert len(got) == 2
    assert got[(0, 1)] == pytest.approx(p, abs=1e-12)
    assert got[(1, 0)] == pytest.approx(1 - p, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 6])
def test_uniform_barycenter(n):
    J = np.full((n, n), 1.0 / n)
    weights, perms = check_decomposition(J, *ht.birkhoff_decomposition(J))
    # every entry is 1/n, which needs at least n permutations
    assert len(weights) >= n


def test_counterexample_matrix():
    M = np.array([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5], [0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
    weights, perms = check_decomposition(M, *ht.birkhoff_decomposition(M))
    for p in perms:  # only permutations inside the support may appear
        assert np.all(M[np.arange(4), p] > 0)


def test_support_respected_for_sparse_dsm():
    rng = np.random.default_rng(1)
    w = rng.dirichlet(np.ones(3))
    M = sum(wi * perm_matrix(rng.permutation(7)) for wi in w)
    weights, perms = check_decomposition(M, *ht.birkhoff_decomposition(M))
    for p in perms:
        assert np.all(M[np.arange(7), p] > 0)


def test_does_not_mutate_input():
    M = ht.random_dsm(5, 0.5, rng=2)
    copy = M.copy()
    ht.birkhoff_decomposition(M)
    np.testing.assert_array_equal(M, copy)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([[0.5, 0.5], [0.6, 0.4]]),  # columns do not sum to one
        np.array([[1.5, -0.5], [-0.5, 1.5]]),  # negative entries
        np.ones((3, 3)),
    ],
)
def test_rejects_non_doubly_stochastic(bad):
    with pytest.raises(ValueError, match=r"\bM\b"):
        ht.birkhoff_decomposition(bad)


def test_rejects_batched_input():
    with pytest.raises(ValueError, match=r"\bM\b"):
        ht.birkhoff_decomposition(ht.random_dsm(3, 1.0, size=2, rng=3))
