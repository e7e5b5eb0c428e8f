"""Tests of homtrap._birkhoff, the Birkhoff polytope: birkhoff_decomposition (Birkhoff-von Neumann),
uniform_barycenter J/n, marginal_error, is_doubly_stochastic, permutation_matrix, circulant,
entropy, and its random members random_dsm / random_logits (shapes, seeding, consistency); random
Birkhoff mixtures and the Akemann-Ostrand norm free_mixture_norm; block_diagonal.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.linalg import block_diag
from scipy.optimize import minimize_scalar

import homtrap as ht
from _helpers import match_id, perm_matrix, sinkhorn_dsms

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


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
    with pytest.raises(ValueError, match=r"\bM must be doubly stochastic \(entries >= 0, row and column sums 1 within 1e-8\)"):
        ht.birkhoff_decomposition(bad)


def test_rejects_batched_input():
    with pytest.raises(ValueError, match=r"\bM must be a single matrix of shape \(n, n\), got shape \(2, 3, 3\)"):
        ht.birkhoff_decomposition(ht.random_dsm(3, 1.0, size=2, rng=3))


# ---------------------------------------------------------------------------- the barycenter J/n
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_uniform_barycenter_is_centroid_of_permutations(n):
    J = ht.uniform_barycenter(n)
    assert J.shape == (n, n) and J.dtype == np.float64
    np.testing.assert_allclose(J, np.full((n, n), 1 / n), atol=1e-15)
    centroid = sum(perm_matrix(p) for p in itertools.permutations(range(n))) / math.factorial(n)
    np.testing.assert_allclose(J, centroid, atol=1e-14)
    np.testing.assert_allclose(J + ht.centring_projector(n), np.eye(n), atol=1e-15)


# -------------------------------------------------------------------------------- marginal error
def test_marginal_error_independent_computation():
    rng = np.random.default_rng(2)
    A = rng.random((2, 3, 5, 5))
    expected = np.maximum(np.abs(A.sum(-1) - 1).max(-1), np.abs(A.sum(-2) - 1).max(-1))
    got = ht.marginal_error(A)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got, expected, atol=1e-15)


def test_marginal_error_rows_and_columns_both_count():
    M = np.full((3, 3), 1 / 3)
    R = M.copy()
    R[0, :] += 0.01  # rows: first off by 0.03, columns: each off by 0.01
    assert float(ht.marginal_error(R)) == pytest.approx(0.03)
    assert float(ht.marginal_error(R.T)) == pytest.approx(0.03)
    C = M.copy()
    C[:, 1] *= 1.5  # column 1 off by 0.5, rows off by 1/6
    assert float(ht.marginal_error(C)) == pytest.approx(0.5)
    assert float(ht.marginal_error(M)) == pytest.approx(0.0, abs=1e-15)


@given(sinkhorn_dsms())
def test_marginal_error_of_sinkhorn_output_is_small(M):
    assert float(ht.marginal_error(M)) <= 1e-10 + 1e-15


# -------------------------------------------------------------------------- is_doubly_stochastic
def test_is_doubly_stochastic_positive_cases():
    assert bool(ht.is_doubly_stochastic(np.eye(4)))
    assert bool(ht.is_doubly_stochastic(perm_matrix([2, 0, 1])))
    assert bool(ht.is_doubly_stochastic(np.full((5, 5), 0.2)))
    assert bool(ht.is_doubly_stochastic(np.array([[1.0]])))
    assert bool(ht.is_doubly_stochastic(ht.random_dsm(6, 0.3, rng=3)))


def test_is_doubly_stochastic_rejects_negative_entries_with_correct_marginals():
    n = 3
    d = 0.5  # > 1/n, so entries become negative while all marginals stay exactly 1
    M = np.full((n, n), 1 / n)
    M[0, 0] += d
    M[1, 1] += d
    M[0, 1] -= d
    M[1, 0] -= d
    assert float(ht.marginal_error(M)) < 1e-15
    assert M.min() < 0
    assert not bool(ht.is_doubly_stochastic(M))


def test_is_doubly_stochastic_atol():
    M = np.full((4, 4), 0.25)
    M[0, 0] += 1e-6  # marginal error 1e-6
    assert not bool(ht.is_doubly_stochastic(M))
    assert bool(ht.is_doubly_stochastic(M, atol=1e-5))
    N = np.eye(3)
    N[0, 0], N[0, 1], N[1, 1], N[1, 0] = 1 + 1e-7, -1e-7, 1 + 1e-7, -1e-7  # tiny negative entries
    assert not bool(ht.is_doubly_stochastic(N))
    assert bool(ht.is_doubly_stochastic(N, atol=1e-6))


def test_is_doubly_stochastic_batch_and_non_dsm():
    rng = np.random.default_rng(4)
    stack = np.stack([ht.random_dsm(4, 1.0, rng=5), rng.random((4, 4)), np.eye(4)]).reshape(3, 1, 4, 4)
    got = ht.is_doubly_stochastic(stack)
    assert got.shape == (3, 1)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got[:, 0], [True, False, True])
    # row-stochastic but not column-stochastic
    R = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert not bool(ht.is_doubly_stochastic(R))


# ---------------------------------------------------------------------------- permutation_matrix
@pytest.mark.parametrize("n", [1, 2, 5])
def test_permutation_matrix(n):
    rng = np.random.default_rng(n)
    perm = rng.permutation(n)
    P = ht.permutation_matrix(perm)
    assert P.shape == (n, n)
    for i in range(n):
        for j in range(n):
            assert P[i, j] == (1.0 if perm[i] == j else 0.0)
    x = rng.standard_normal(n)
    np.testing.assert_allclose(P @ x, x[perm], atol=0)
    assert bool(ht.is_doubly_stochastic(P))


def test_permutation_matrix_composition_and_inverse():
    rng = np.random.default_rng(6)
    p, q = rng.permutation(6), rng.permutation(6)
    np.testing.assert_array_equal(ht.permutation_matrix(p) @ ht.permutation_matrix(q), ht.permutation_matrix(q[p]))
    np.testing.assert_array_equal(ht.permutation_matrix(np.argsort(p)), ht.permutation_matrix(p).T)


def test_permutation_matrix_accepts_lists_and_tuples():
    np.testing.assert_array_equal(ht.permutation_matrix([1, 2, 0]), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(ht.permutation_matrix((0, 1)), np.eye(2))


# -------------------------------------------------- random members: random_dsm and random_logits
def assert_dsm(M, atol=1e-9):
    assert np.all(np.isfinite(M))
    assert np.all(M >= 0)
    np.testing.assert_allclose(M.sum(axis=-1), 1.0, atol=atol, rtol=0)
    np.testing.assert_allclose(M.sum(axis=-2), 1.0, atol=atol, rtol=0)


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


# ---------------------------------------------------------------------------- circulant_eigenvalues
@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_circulant_eigenvalues_diagonalise_the_circulant(n):
    c = np.random.default_rng(n).dirichlet(np.ones(n), size=3)
    c_hat = ht.circulant_eigenvalues(c)
    assert c_hat.shape == (3, n) and np.iscomplexobj(c_hat)
    idx = np.arange(n)
    F = np.exp(2j * np.pi * np.outer(idx, idx) / n)  # column k is the Fourier mode f_k
    for row, ev in zip(c, c_hat):
        C = ht.circulant(row)
        np.testing.assert_allclose(C @ F, F * ev[None, :], rtol=0, atol=1e-13)  # C f_k = c_hat_k f_k
        # the defining sum, term by term
        np.testing.assert_allclose(ev, [np.sum(row * np.exp(2j * np.pi * idx * k / n)) for k in idx], atol=1e-13)
        if n > 2:  # control: numpy's fft (the other sign) is not the eigenvalue of f_k
            assert not np.allclose(C @ F, F * np.fft.fft(row)[None, :], atol=1e-6)
    np.testing.assert_allclose(c_hat[:, 0], 1, atol=1e-15)  # probability vectors: the mean mode


def test_circulant_eigenvalues_give_sigma2_and_the_comb_kernel():
    """prop-circulant-filter: sigma_2(C) = max_{k != 0} |c_hat_k|; the comb kernel removes the odd modes."""
    n, omega = 16, 0.2
    comb = (1 - omega) / 2 * ((np.arange(n) == 0) + (np.arange(n) == n // 2)) + omega / n
    c_hat = ht.circulant_eigenvalues(comb)
    assert np.abs(c_hat[1::2]).max() <= 1e-15
    np.testing.assert_allclose(c_hat[2::2], 1 - omega, atol=1e-15)
    assert abs(float(ht.sigma2(ht.circulant(comb))) - np.abs(c_hat[1:]).max()) <= 1e-12


def test_circulant_eigenvalues_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\bc must have at least 1 dimension"):
        ht.circulant_eigenvalues(1.0)
    with pytest.raises(TypeError, match=r"\bc must be real, got a complex array"):
        ht.circulant_eigenvalues(np.ones(3, dtype=complex))


# ------------------------------------------------------------------------- circulant and entropy
def test_circulant_and_entropy():
    c = np.array([0.5, 0.3, 0.2])
    C = ht.circulant(c)
    np.testing.assert_array_equal(C, [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.2, 0.5]])
    assert ht.circulant(np.stack([c, c])).shape == (2, 3, 3)
    assert ht.entropy(np.full((4, 4), 0.25)) == pytest.approx(4 * np.log(4))
    assert ht.entropy(np.eye(3)) == 0.0
    with pytest.raises(ValueError, match=r"\bM must be entrywise non-negative"):
        ht.entropy(-np.eye(2))


def test_decomposition_is_a_named_tuple():
    M = 0.25 * perm_matrix([1, 2, 0]) + 0.75 * np.eye(3)
    dec = ht.birkhoff_decomposition(M)
    assert isinstance(dec, ht.BirkhoffDecomposition) and dec._fields == ("weights", "permutations")
    weights, perms = dec
    assert weights is dec.weights and perms is dec.permutations
    np.testing.assert_allclose(sorted(dec.weights), [0.25, 0.75], atol=1e-12)


# ------------------------------------------------------------------ random Birkhoff mixtures
def test_random_birkhoff_mixture_is_the_stated_mixture():
    M, W, perms = ht.random_birkhoff_mixture(6, 3, size=(4, 5), rng=2)
    assert M.shape == (4, 5, 6, 6) and W.shape == (4, 5, 3) and perms.shape == (4, 5, 3, 6)
    assert np.issubdtype(perms.dtype, np.integer)
    for idx in np.ndindex(4, 5):
        rebuilt = sum(w * perm_matrix(p) for w, p in zip(W[idx], perms[idx]))
        np.testing.assert_allclose(M[idx], rebuilt, rtol=0, atol=1e-15)
        for p in perms[idx]:
            np.testing.assert_array_equal(np.sort(p), np.arange(6))
    np.testing.assert_allclose(W.sum(axis=-1), 1, atol=1e-14)
    assert ht.is_doubly_stochastic(M).all()
    one, w1, p1 = ht.random_birkhoff_mixture(6, 3, rng=2)
    assert one.shape == (6, 6) and w1.shape == (3,) and p1.shape == (3, 6)
    np.testing.assert_array_equal(ht.random_birkhoff_mixture(6, 3, size=4, rng=7)[0],
                                  ht.random_birkhoff_mixture(6, 3, size=4, rng=7)[0])


def test_random_birkhoff_mixture_law():
    """Dirichlet(alpha) weights (mean 1/k, E w^2 = (alpha + 1) / (k (k alpha + 1))) and uniform permutations."""
    size, n, k = 20_000, 4, 3
    for alpha in (1.0, 0.2):
        M, W, perms = ht.random_birkhoff_mixture(n, k, size=size, alpha=alpha, rng=11)
        se = W.std() / np.sqrt(size)
        assert np.all(np.abs(W.mean(axis=0) - 1 / k) <= 5 * se)
        m2 = (alpha + 1) / (k * (k * alpha + 1))
        assert abs((W**2).mean() - m2) <= 5 * (W**2).std() / np.sqrt(W.size)
        # control: the second moment of the other alpha is rejected by the same test
        other = 0.2 if alpha == 1.0 else 1.0
        assert not abs((W**2).mean() - (other + 1) / (k * (k * other + 1))) <= 5 * (W**2).std() / np.sqrt(W.size)
    # each permutation of {0, ..., 3} appears with frequency 1/24 (chi-square test)
    codes = (perms[..., 0, :] * 4 ** np.arange(4)).sum(axis=-1)
    counts = np.unique(codes, return_counts=True)[1]
    assert counts.size == 24 and stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(n=0), r"\bn must be >= 1, got 0"),
        (dict(k=0), r"\bk must be >= 1, got 0"),
        (dict(k=2.0), r"\bk must be an integer"),
        (dict(alpha=0.0), r"\balpha must be > 0"),
        (dict(size=0), r"\bsize must be >= 1, got 0"),
        (dict(rng="seed"), r"\brng must be None, an int seed or a numpy.random.Generator"),
    ],
    ids=match_id,
)
def test_random_birkhoff_mixture_bad_input(bad, match):
    kw = dict(n=3, k=2, size=2, rng=0) | bad
    with pytest.raises((ValueError, TypeError), match=match):
        ht.random_birkhoff_mixture(**kw)


def naive_free_mixture_norm(w):
    """The Akemann-Ostrand minimum by scipy's bounded scalar minimiser on [0, 10] (not golden section on [0, 1])."""
    f = lambda t: 2 * t + sum(np.sqrt(t * t + wj * wj) - t for wj in w)  # noqa: E731
    res = minimize_scalar(f, bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-12})
    return min(res.fun, f(0.0))


def test_free_mixture_norm_closed_forms_and_oracle():
    assert ht.free_mixture_norm([0.4]) == pytest.approx(0.4, abs=1e-15)  # k = 1: the norm of w u
    np.testing.assert_allclose(ht.free_mixture_norm(np.random.default_rng(0).dirichlet([1, 1], 30)), 1, atol=1e-12)
    for k in (2, 3, 8, 50):
        assert ht.free_mixture_norm(np.full(k, 1 / k)) == pytest.approx(2 * np.sqrt(k - 1) / k, abs=1e-12)
    W = np.random.default_rng(1).dirichlet(np.ones(6), size=(3, 4))
    got = ht.free_mixture_norm(W)
    assert got.shape == (3, 4)
    oracle = np.array([naive_free_mixture_norm(w) for w in W.reshape(-1, 6)]).reshape(3, 4)
    np.testing.assert_allclose(got, oracle, rtol=0, atol=1e-9)
    # control: the mean l2 norm of the weights, a different summary, is rejected by the same comparison
    assert not np.allclose(np.linalg.norm(W, axis=-1), oracle, rtol=0, atol=1e-9)


def test_free_mixture_norm_predicts_sigma2_at_large_n():
    M, W, _ = ht.random_birkhoff_mixture(500, 5, size=4, rng=3)
    assert np.abs(ht.sigma2(M) - ht.free_mixture_norm(W)).max() < 0.05


@pytest.mark.parametrize(
    "bad, match",
    [
        (0.5, r"\bweights must have at least 1 dimension"),
        ([0.5, -0.1], r"\bweights must be non-negative"),
        ([0.7, 0.7], r"\bweights must sum to at most 1"),
        ([np.nan, 0.1], r"\bweights must be finite"),
        (["a"], r"\bweights must be a real numeric array"),
    ],
    ids=match_id,
)
def test_free_mixture_norm_bad_input(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ht.free_mixture_norm(bad)


# ------------------------------------------------------------------------------ block_diagonal
def test_block_diagonal_matches_scipy():
    rng = np.random.default_rng(4)
    blocks = [rng.standard_normal((3, m, m)) for m in (1, 2, 4)]
    M = ht.block_diagonal(blocks)
    assert M.shape == (3, 7, 7)
    for s in range(3):
        np.testing.assert_array_equal(M[s], block_diag(*(b[s] for b in blocks)))
    # doubly-stochastic blocks: a reducible member of B_n with sigma_2 = 1 and the blocks' spectra
    D = ht.block_diagonal([ht.random_dsm(3, rng=1), ht.random_dsm(4, rng=2)])
    assert ht.is_doubly_stochastic(D) and ht.sigma2(D) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize(
    "bad, match",
    [
        ([], r"\bblocks must be a non-empty sequence"),
        (np.eye(2), r"\bblocks must be a non-empty sequence"),
        ([np.eye(2), np.ones((2, 3))], r"\bblocks\[1\] must be square"),
        ([np.eye(2), np.ones((2, 3, 3))], r"\bblocks must share their batch shape"),
        ([np.full((2, 2), np.nan)], r"\bblocks\[0\] must be finite"),
    ],
    ids=match_id,
)
def test_block_diagonal_bad_input(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ht.block_diagonal(bad)


# -------------------------------------------------------------------------- lazy_uniform_layer
@pytest.mark.parametrize("n, s", [(2, 1.0), (3, -0.5), (5, 0.3), (8, 0.0), (8, -1 / 7)])
def test_lazy_uniform_layer_is_doubly_stochastic_with_sigma2_abs_s(n, s):
    M = ht.lazy_uniform_layer(n, s)
    assert M.shape == (n, n) and bool(ht.is_doubly_stochastic(M)) and M.min() >= -1e-15
    assert float(ht.sigma2(M)) == pytest.approx(abs(s), abs=1e-12)
    # every product of L copies leaves |s|^L of the detail, exactly the bound of Part III
    d = ht.power_distances(M, 4)
    np.testing.assert_allclose(d, abs(s) ** np.arange(1, 5), atol=1e-12)
    x = np.random.default_rng(3).standard_normal(n)
    np.testing.assert_allclose(M @ x, x.mean() + s * (x - x.mean()), atol=1e-12)


def test_lazy_uniform_layer_bad_input():
    with pytest.raises(ValueError, match=r"s must lie in \[-1/\(n-1\), 1\] = \[-0.25, 1\]"):
        ht.lazy_uniform_layer(5, -0.3)  # control: just below the range has a negative entry
    assert (-0.3 * np.eye(5) + 1.3 / 5).min() < 0
    with pytest.raises(ValueError, match=r"s must lie in"):
        ht.lazy_uniform_layer(5, 1.01)
    with pytest.raises(ValueError, match=r"s must lie in"):
        ht.lazy_uniform_layer(5, np.nan)
    with pytest.raises(ValueError, match=r"n must be >= 2"):
        ht.lazy_uniform_layer(1, 0.5)
    with pytest.raises(TypeError, match=r"s must be a real number"):
        ht.lazy_uniform_layer(4, "0.5")
